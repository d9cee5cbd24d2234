#include "cce/metrics/usage_collector.h"

#include <array>
#include <map>
#include <optional>

namespace cce::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using usage::Quantity;

struct FamilySpec {
  const char* daily;  // merged daily gauge, or nullptr
  const char* total;  // counter
  const char* help_daily;
  const char* help_total;
};

// Per quantity: the family names of docs/metrics.md.
std::optional<FamilySpec> spec(Quantity q) {
  switch (q) {
    case Quantity::kCostUsd:
      return FamilySpec{"claude_code_daily_cost_usd", "claude_code_cost_usd_total",
                        "Estimated cost in USD per UTC day (merged: Admin API where it has the "
                        "day, else OTel).",
                        "Estimated cost in USD, merged over all stored days; never decreases."};
    case Quantity::kTokens:
      return FamilySpec{"claude_code_daily_tokens", "claude_code_tokens_total",
                        "Tokens per UTC day by type (merged).",
                        "Tokens by type, merged over all stored days; never decreases."};
    case Quantity::kSessions:
      return FamilySpec{"claude_code_daily_sessions", "claude_code_sessions_total",
                        "Claude Code sessions started per UTC day (merged).",
                        "Claude Code sessions started, merged; never decreases."};
    case Quantity::kLinesAdded:
      return FamilySpec{"claude_code_daily_lines_added", "claude_code_lines_added_total",
                        "Lines of code added per UTC day (merged).",
                        "Lines of code added, merged; never decreases."};
    case Quantity::kLinesRemoved:
      return FamilySpec{"claude_code_daily_lines_removed", "claude_code_lines_removed_total",
                        "Lines of code removed per UTC day (merged).",
                        "Lines of code removed, merged; never decreases."};
    case Quantity::kCommits:
      return FamilySpec{"claude_code_daily_commits", "claude_code_commits_total",
                        "Git commits made by Claude Code per UTC day (merged).",
                        "Git commits made by Claude Code, merged; never decreases."};
    case Quantity::kPullRequests:
      return FamilySpec{"claude_code_daily_pull_requests", "claude_code_pull_requests_total",
                        "Pull requests created by Claude Code per UTC day (merged).",
                        "Pull requests created by Claude Code, merged; never decreases."};
    case Quantity::kToolDecisions:
      return FamilySpec{"claude_code_daily_tool_decisions", "claude_code_tool_decisions_total",
                        "Edit-tool permission decisions per UTC day (merged).",
                        "Edit-tool permission decisions, merged; never decreases."};
    case Quantity::kActiveTime:
      return FamilySpec{nullptr, "claude_code_active_time_seconds_total", nullptr,
                        "Active time in seconds (OTel): user = typing, cli = tools and model "
                        "responses."};
    case Quantity::kEditDecisions:
      return FamilySpec{nullptr, "claude_code_otel_edit_decisions_total", nullptr,
                        "Edit-tool decisions as OTel reports them, with the file language."};
    case Quantity::kApiRequests:
      return FamilySpec{nullptr, "claude_code_api_requests_total", nullptr,
                        "Model API requests made by Claude Code (OTel api_request events)."};
    case Quantity::kApiErrors:
      return FamilySpec{nullptr, "claude_code_api_errors_total", nullptr,
                        "Model API requests that finally failed (OTel api_error events); "
                        "status_code=\"none\" when no HTTP status was received."};
    case Quantity::kToolResults:
      return FamilySpec{nullptr, "claude_code_tool_results_total", nullptr,
                        "Tool executions by tool and success (OTel tool_result events)."};
    case Quantity::kUserPrompts:
      return FamilySpec{nullptr, "claude_code_user_prompts_total", nullptr,
                        "Prompts submitted by users (OTel user_prompt events)."};
    case Quantity::kPermissionDecisions:
      return FamilySpec{nullptr, "claude_code_permission_decisions_total", nullptr,
                        "Permission decisions for any tool (OTel tool_decision events)."};
    default:
      return std::nullopt;  // histogram parts are rendered separately
  }
}

ClientMetric::Label label(std::string name, std::string value) {
  return ClientMetric::Label{std::move(name), std::move(value)};
}

class Builder {
 public:
  MetricFamily& family(const std::string& name, const char* help, MetricType type) {
    auto it = index_.find(name);
    if (it != index_.end()) return families_[it->second];
    index_[name] = families_.size();
    families_.push_back(MetricFamily{name, help, type, {}});
    return families_.back();
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<MetricFamily> families_;
};

void add_actor_labels(std::vector<ClientMetric::Label>& out, const usage::ActorInfo& a) {
  out.push_back(label("actor", a.id.id));
  out.push_back(label("actor_type", std::string(usage::to_string(a.id.type))));
  out.push_back(label("team", a.otel_team));
}

void add_quantity_labels(std::vector<ClientMetric::Label>& out, const usage::CellKey& key) {
  const auto& names = usage::label_names(key.quantity);
  if (names.empty()) return;
  auto values = usage::split_labels(key.labels);
  for (size_t i = 0; i < names.size(); ++i) {
    out.push_back(label(std::string(names[i]), i < values.size() ? std::string(values[i]) : ""));
  }
}

}  // namespace

UsageCollector::UsageCollector(const usage::Ledger& ledger, const util::Clock& clock,
                               CollectorOptions options)
    : ledger_(ledger), clock_(clock), options_(options) {}

std::vector<MetricFamily> UsageCollector::Collect() const {
  Builder b;
  const util::Date today = util::Date::from_time(clock_.now());
  const util::Date first = today - (options_.daily_window_days - 1);

  // Declare every family up front so they appear (empty) before the first data arrives.
  for (size_t i = 0; i < usage::kQuantityCount; ++i) {
    if (auto s = spec(static_cast<Quantity>(i))) {
      if (s->daily) b.family(s->daily, s->help_daily, MetricType::Gauge);
      b.family(s->total, s->help_total, MetricType::Counter);
    }
  }
  auto& histogram =
      b.family("claude_code_api_request_duration_seconds",
               "Duration of model API requests (OTel api_request events).", MetricType::Histogram);
  auto& today_info =
      b.family("claude_code_exporter_today_info",
               "The current UTC date (always 1); join on date to select today.", MetricType::Gauge);
  {
    ClientMetric m;
    m.label = {label("date", today.str())};
    m.gauge.value = 1;
    today_info.metric.push_back(std::move(m));
  }

  ledger_.read([&](const usage::Ledger::View& view) {
    // Daily gauges: for each (actor, date) in the window the winning source gives every merged
    // quantity.
    for (auto it = view.days.lower_bound(first); it != view.days.end() && it->first <= today;
         ++it) {
      const std::string date = it->first.str();
      const auto& day = it->second;
      std::vector<bool> api_has(view.actors.size(), false);
      for (const auto& [key, value] : day.api)
        api_has[key.actor] = true;
      for (const auto* slice : {&day.api, &day.otel}) {
        const bool is_api = slice == &day.api;
        for (const auto& [key, value] : *slice) {
          if (!usage::is_merged(key.quantity) || api_has[key.actor] != is_api) continue;
          auto s = spec(key.quantity);
          ClientMetric m;
          m.label.push_back(label("date", date));
          add_actor_labels(m.label, view.actors[key.actor]);
          add_quantity_labels(m.label, key);
          m.label.push_back(label("source", is_api ? "api" : "otel"));
          m.gauge.value = value;
          b.family(s->daily, s->help_daily, MetricType::Gauge).metric.push_back(std::move(m));
        }
      }
    }

    // Counters, and the duration histogram summed over actors.
    struct Hist {
      std::map<double, uint64_t> buckets;  // upper bound -> count in that bucket
      double sum = 0;
      uint64_t count = 0;
    };
    std::map<std::string, Hist> hists;
    for (const auto& [key, value] : view.totals) {
      switch (key.quantity) {
        case Quantity::kApiDurationBucket: {
          auto v = usage::split_labels(key.labels);
          double le = v.size() > 1 && v[1] != "+Inf" ? std::stod(std::string(v[1]))
                                                     : std::numeric_limits<double>::infinity();
          hists[std::string(v[0])].buckets[le] += static_cast<uint64_t>(value);
          continue;
        }
        case Quantity::kApiDurationSum:
          hists[key.labels].sum += value;
          continue;
        case Quantity::kApiDurationCount:
          hists[key.labels].count += static_cast<uint64_t>(value);
          continue;
        default:
          break;
      }
      auto s = spec(key.quantity);
      if (!s) continue;
      ClientMetric m;
      add_actor_labels(m.label, view.actors[key.actor]);
      add_quantity_labels(m.label, key);
      m.counter.value = value;
      b.family(s->total, s->help_total, MetricType::Counter).metric.push_back(std::move(m));
    }
    for (const auto& [model, h] : hists) {
      ClientMetric m;
      m.label = {label("model", model)};
      m.histogram.sample_count = h.count;
      m.histogram.sample_sum = h.sum;
      uint64_t cumulative = 0;
      for (double le : usage::duration_buckets()) {
        auto it = h.buckets.find(le);
        if (it != h.buckets.end()) cumulative += it->second;
        m.histogram.bucket.push_back({cumulative, le});
      }
      m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
      histogram.metric.push_back(std::move(m));
    }

    auto& last_seen = b.family("claude_code_exporter_actor_last_seen_timestamp_seconds",
                               "When each actor's data last arrived from each source (Unix "
                               "time); for telemetry-silence alerts.",
                               MetricType::Gauge);
    for (const auto& a : view.actors) {
      for (auto [source, t] : {std::pair{"otel", a.last_seen_otel}, {"api", a.last_seen_api}}) {
        if (t <= 0) continue;
        ClientMetric m;
        m.label = {label("actor", a.id.id), label("source", source)};
        m.gauge.value = t;
        last_seen.metric.push_back(std::move(m));
      }
    }
  });

  auto families = b.take();
  // How many series each family exposes: the first thing to look at when a scrape grows.
  MetricFamily series{"claude_code_exporter_series",
                      "Series exposed per metric family in this scrape.",
                      MetricType::Gauge,
                      {}};
  for (const auto& f : families) {
    ClientMetric m;
    m.label = {label("family", f.name)};
    m.gauge.value = static_cast<double>(f.metric.size());
    series.metric.push_back(std::move(m));
  }
  families.push_back(std::move(series));
  return families;
}

}  // namespace cce::metrics
