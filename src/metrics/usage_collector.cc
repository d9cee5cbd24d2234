#include "cce/metrics/usage_collector.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "cce/metrics/text_format.h"
#include "cce/usage/merge.h"

namespace cce::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using usage::Quantity;

using Labels = std::vector<ClientMetric::Label>;

}  // namespace

// Families as they are built: each sample kept as its rendered label text and value (a few
// dozen bytes, where a prometheus-cpp ClientMetric with its label strings takes several
// hundred), so a scrape of 10,000 actors stays small. With `fold` (label transforms that can
// merge actors, e.g. privacy "domain"), samples with identical label sets are summed (or
// max'ed) so the exposition stays valid; without it every sample is distinct by construction
// and the lookup is skipped.
class FamilyBuilder {
 public:
  explicit FamilyBuilder(bool fold) : fold_(fold) {}

  void declare(std::string_view name, std::string_view help, MetricType type) {
    if (index_.count(name)) return;
    index_.emplace(std::string(name), families_.size());
    families_.push_back(Family{std::string(name), std::string(help), type, {}, {}, {}});
  }
  // How a sample meets another with the same labels: kAsBuilt follows `fold`; kSum and kMax
  // always fold (aggregating families, timestamps).
  enum class Combine { kAsBuilt, kSum, kMax };
  void add(std::string_view name, std::string_view help, MetricType type, const Labels& labels,
           double v, Combine combine = Combine::kAsBuilt) {
    declare(name, help, type);
    Family& f = families_[index_.find(name)->second];
    std::string text;
    for (const auto& l : labels)
      append_label(text, l.name, l.value);
    if (!fold_ && combine == Combine::kAsBuilt) {
      f.rows.push_back(Row{std::move(text), v});
      return;
    }
    auto [it, fresh] = f.pos.try_emplace(text, f.rows.size());
    if (fresh) {
      f.rows.push_back(Row{std::move(text), v});
      return;
    }
    double& slot = f.rows[it->second].value;
    slot = combine == Combine::kMax ? std::max(slot, v) : slot + v;
  }
  void histogram(std::string_view name, ClientMetric m) {
    families_[index_.find(name)->second].histograms.push_back(std::move(m));
  }

  // Every family's sample count, then the family of those counts.
  void add_series_family() {
    const char* help = "Series exposed per metric family in this scrape.";
    std::vector<std::pair<std::string, double>> counts;
    for (const auto& f : families_) {
      counts.emplace_back(f.name, static_cast<double>(f.rows.size() + f.histograms.size()));
    }
    declare("claude_code_exporter_series", help, MetricType::Gauge);
    for (const auto& [family, n] : counts)
      add("claude_code_exporter_series", help, MetricType::Gauge, {label("family", family)}, n);
  }

  void write(std::string& out) const {
    // One allocation for the whole text instead of a copy at every doubling.
    size_t size = out.size();
    for (const auto& f : families_) {
      size += f.name.size() * 2 + f.help.size() + 32;
      for (const auto& r : f.rows)
        size += f.name.size() + r.labels.size() + 28;  // braces, a value, the newline
      size += f.histograms.size() * 1024;
    }
    out.reserve(size);
    for (const auto& f : families_) {
      append_family_head(out, f.name, f.help, type_name(f.type));
      for (const auto& r : f.rows)
        append_sample(out, f.name, r.labels, r.value);
      for (const auto& h : f.histograms)
        write_histogram(out, f.name, h);
    }
  }

  std::vector<MetricFamily> families() const {
    std::vector<MetricFamily> out;
    for (const auto& f : families_) {
      MetricFamily mf{f.name, f.help, f.type, {}};
      for (const auto& r : f.rows) {
        ClientMetric m;
        m.label = parse_labels(r.labels);
        (f.type == MetricType::Counter ? m.counter.value : m.gauge.value) = r.value;
        mf.metric.push_back(std::move(m));
      }
      mf.metric.insert(mf.metric.end(), f.histograms.begin(), f.histograms.end());
      out.push_back(std::move(mf));
    }
    return out;
  }

 private:
  struct Row {
    std::string labels;  // rendered: name="value",…
    double value;
  };
  struct Family {
    std::string name;
    std::string help;
    MetricType type;
    std::vector<Row> rows;
    std::unordered_map<std::string, size_t> pos;  // folding only
    std::vector<ClientMetric> histograms;
  };

  static ClientMetric::Label label(std::string name, std::string value) {
    return ClientMetric::Label{std::move(name), std::move(value)};
  }
  static std::string_view type_name(MetricType t) {
    switch (t) {
      case MetricType::Counter:
        return "counter";
      case MetricType::Histogram:
        return "histogram";
      default:
        return "gauge";
    }
  }
  static void write_histogram(std::string& out, const std::string& name, const ClientMetric& m) {
    std::string labels;
    for (const auto& l : m.label)
      append_label(labels, l.name, l.value);
    append_sample(out, name + "_count", labels, static_cast<double>(m.histogram.sample_count));
    append_sample(out, name + "_sum", labels, m.histogram.sample_sum);
    for (const auto& b : m.histogram.bucket) {
      std::string with_le = labels;
      std::string le;
      append_value(le, b.upper_bound);
      append_label(with_le, "le", le);
      append_sample(out, name + "_bucket", with_le, static_cast<double>(b.cumulative_count));
    }
  }
  // The inverse of append_label over a row's text.
  static Labels parse_labels(const std::string& text) {
    Labels out;
    size_t i = 0;
    while (i < text.size()) {
      const size_t eq = text.find('=', i);
      ClientMetric::Label l;
      l.name = text.substr(i, eq - i);
      i = eq + 2;  // past ="
      for (; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          ++i;
          l.value += text[i] == 'n' ? '\n' : text[i];
        } else {
          l.value += text[i];
        }
      }
      i += 2;  // past ",
      out.push_back(std::move(l));
    }
    return out;
  }

  bool fold_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<Family> families_;
};

namespace {

ClientMetric::Label label(std::string name, std::string value) {
  return ClientMetric::Label{std::move(name), std::move(value)};
}

void add_quantity_labels(Labels& out, const usage::QKey& key) {
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
    : ledger_(ledger),
      clock_(clock),
      options_(std::move(options)),
      teams_(options_.team_map),
      labeler_(options_.actor_label, options_.hash_key) {
  for (const auto& [org, map] : options_.org_team_maps)
    org_teams_.emplace(org, usage::TeamResolver(map));
}

std::string UsageCollector::team_of(const usage::ActorInfo& actor) const {
  if (auto it = org_teams_.find(actor.org); it != org_teams_.end()) {
    std::string team = it->second.team(usage::ActorInfo{actor.id, "", 0, 0, actor.org});
    if (!team.empty()) return team;
  }
  return teams_.team(actor);
}

std::vector<MetricFamily> UsageCollector::Collect() const {
  // Only "domain" labels can give two actors one label set ("__other__" is one per type).
  FamilyBuilder b(options_.actor_label == usage::ActorLabelMode::kDomain);
  build(b);
  b.add_series_family();
  return b.families();
}

void UsageCollector::write_text(std::string& out) const {
  FamilyBuilder b(options_.actor_label == usage::ActorLabelMode::kDomain);
  build(b);
  b.add_series_family();
  b.write(out);
}

void UsageCollector::build(FamilyBuilder& b) const {
  const util::Date today = util::Date::from_time(clock_.now());
  const util::Date first = today - (options_.daily_window_days - 1);
  const std::string month = today.str().substr(0, 7);  // "YYYY-MM"
  const util::Date month_start = *util::Date::parse(month + "-01");
  const usage::LedgerOptions& lopts = ledger_.options();

  // Declare every family up front so they appear (empty) before the first data arrives.
  for (const auto& q : usage::kQuantities) {
    if (!q.daily_family.empty()) b.declare(q.daily_family, q.daily_help, MetricType::Gauge);
    if (!q.total_family.empty()) b.declare(q.total_family, q.total_help, MetricType::Counter);
  }
  const char* kGapHelp =
      "OTel value minus Admin API value for each (date, actor) both sources have, in the window.";
  b.declare("claude_code_reconciliation_gap", kGapHelp, MetricType::Gauge);
  b.declare("claude_code_api_request_duration_seconds",
            "Duration of model API requests (OTel api_request events).", MetricType::Histogram);
  const char* kMonthHelp =
      "Estimated cost in USD in the current UTC month so far: the merged daily cost (Admin API "
      "where it has the day, else OTel) summed over the month's days.";
  b.declare("claude_code_month_cost_usd", kMonthHelp, MetricType::Gauge);
  const char* kBudgetHelp = "Configured cost budgets in USD (scope: org, team, user).";
  b.declare("claude_code_budget_usd", kBudgetHelp, MetricType::Gauge);
  for (const auto& budget : options_.budgets) {
    const std::string name = budget.scope == usage::Budget::Scope::kUser
                                 ? labeler_.label_email(budget.name)
                                 : budget.name;
    Labels labels{label("scope", std::string(usage::to_string(budget.scope))), label("name", name),
                  label("period", std::string(usage::to_string(budget.period)))};
    if (options_.org_label && !budget.org.empty()) labels.push_back(label("org", budget.org));
    b.add("claude_code_budget_usd", kBudgetHelp, MetricType::Gauge, std::move(labels), budget.usd);
  }
  const char* kLimitHelp =
      "Members' spend caps per period from the organization's Spend Limits API, in its billing "
      "currency's major unit (never converted); members without a cap have no series.";
  const char* kPeriodSpendHelp =
      "Members' spend so far in the cap's period as the Spend Limits API reports it, in its "
      "billing currency's major unit (0 can mean the reading is unavailable).";
  b.declare("claude_code_spend_limit", kLimitHelp, MetricType::Gauge);
  b.declare("claude_code_spend_limit_period_spend", kPeriodSpendHelp, MetricType::Gauge);
  if (options_.spend_limits) {
    for (const auto& [org, rows] : options_.spend_limits->snapshot()) {
      for (const auto& row : rows) {
        Labels labels{label("actor", labeler_.label(row.actor)), label("period", row.period),
                      label("currency", row.currency)};
        if (options_.org_label) labels.push_back(label("org", org));
        if (row.amount) {
          b.add("claude_code_spend_limit", kLimitHelp, MetricType::Gauge, labels, *row.amount);
        }
        b.add("claude_code_spend_limit_period_spend", kPeriodSpendHelp, MetricType::Gauge, labels,
              row.period_spend);
      }
    }
  }
  const char* kUnpricedHelp =
      "Tokens of models the price table does not know, so their cost cannot be estimated.";
  b.declare("claude_code_exporter_unpriced_model_tokens_total", kUnpricedHelp, MetricType::Counter);
  const char* kPriceHelp =
      "Price in USD per token used for cost estimates, per model in use and token type "
      "(cache_creation at pricing.cache_write_ttl).";
  b.declare("claude_code_model_price_usd_per_token", kPriceHelp, MetricType::Gauge);
  b.add("claude_code_exporter_today_info",
        "The current UTC date (always 1); join on date to select today.", MetricType::Gauge,
        {label("date", today.str())}, 1);

  ledger_.read([&](const usage::Ledger::View& view) {
    // Labels per actor, computed once per scrape.
    std::vector<std::string> actor_label(view.actors.size());
    std::vector<std::string> team(view.actors.size());
    for (size_t i = 0; i < view.actors.size(); ++i) {
      actor_label[i] = labeler_.label(view.actors[i].id);
      team[i] = team_of(view.actors[i]);
    }
    // org, with several organizations.
    auto with_org = [&](uint32_t actor, Labels l) {
      if (options_.org_label) l.push_back(label("org", view.actors[actor].org));
      return l;
    };
    auto who_in = [&](uint32_t actor, const std::string& team_label) {
      return with_org(
          actor,
          Labels{label("actor", actor_label[actor]),
                 label("actor_type", std::string(usage::to_string(view.actors[actor].id.type))),
                 label("team", team_label)});
    };
    auto who = [&](uint32_t actor) { return who_in(actor, team[actor]); };
    // A day keeps the team its OTel data named then (the config map still comes first).
    auto team_on = [&](uint32_t actor, const usage::Unit& unit) {
      const auto& info = view.actors[actor];
      if (unit.otel_team.empty() || unit.otel_team == info.otel_team) return team[actor];
      usage::ActorInfo then = info;
      then.otel_team = unit.otel_team;
      return team_of(then);
    };

    // Daily gauges and the reconciliation gap for the window; the month's cost for every day of
    // the current month (the window may be shorter, and counters cannot give a month-to-date),
    // summed per (actor, team, model) before any labels are built.
    std::map<std::tuple<uint32_t, std::string, std::string>, double> month_cost;
    for (auto it = view.days.lower_bound(std::min(first, month_start));
         it != view.days.end() && it->first <= today; ++it) {
      const std::string date = it->first.str();
      const bool in_window = it->first >= first;
      const bool in_month = it->first >= month_start;
      for (const auto& [actor, unit] : it->second) {
        if (unit.api.empty() && unit.otel.empty()) continue;
        const usage::Source w =
            usage::winner(!unit.api.empty(), !unit.otel.empty(), it->first, today, lopts.merge);
        const usage::QCells merged =
            usage::merged_cells(w == usage::Source::kApi ? unit.api : unit.otel, lopts);
        const std::string day_team = team_on(actor, unit);
        if (in_month) {
          for (const auto& [k, v] : merged) {
            if (k.quantity == Quantity::kCostUsd) month_cost[{actor, day_team, k.labels}] += v;
          }
        }
        if (!in_window) continue;
        for (const auto& [k, v] : merged) {
          const auto& q = usage::info(k.quantity);
          Labels l{label("date", date)};
          auto a = who_in(actor, day_team);
          l.insert(l.end(), a.begin(), a.end());
          add_quantity_labels(l, k);
          l.push_back(label("source", std::string(usage::to_string(w))));
          b.add(q.daily_family, q.daily_help, MetricType::Gauge, std::move(l), v);
        }
        if (unit.api.empty() || unit.otel.empty()) continue;
        std::map<std::string_view, double> gap;
        for (const auto& [k, v] : usage::merged_cells(unit.otel, lopts))
          gap[usage::info(k.quantity).gap] += v;
        for (const auto& [k, v] : usage::merged_cells(unit.api, lopts))
          gap[usage::info(k.quantity).gap] -= v;
        for (const auto& [q, v] : gap) {
          b.add("claude_code_reconciliation_gap", kGapHelp, MetricType::Gauge,
                with_org(actor, {label("date", date), label("actor", actor_label[actor]),
                                 label("quantity", std::string(q))}),
                v);
        }
      }
    }

    for (const auto& [key, v] : month_cost) {
      const auto& [actor, day_team, model] = key;
      Labels l{label("month", month)};
      auto a = who_in(actor, day_team);
      l.insert(l.end(), a.begin(), a.end());
      add_quantity_labels(l, usage::QKey{Quantity::kCostUsd, model});
      b.add("claude_code_month_cost_usd", kMonthHelp, MetricType::Gauge, std::move(l), v);
    }

    // Counters, and the duration histogram summed over actors.
    struct Hist {
      std::map<double, uint64_t> buckets;  // upper bound -> count in that bucket
      double sum = 0;
      uint64_t count = 0;
    };
    std::map<std::string, Hist> hists;
    std::map<std::string, usage::ModelPrice> priced;
    for (const auto& [ck, value] : view.totals) {
      const auto& key = ck.key;
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
      const auto& q = usage::info(key.quantity);
      Labels l = who(ck.actor);
      add_quantity_labels(l, key);
      b.add(q.total_family, q.total_help, MetricType::Counter, std::move(l), value);
      if (key.quantity == Quantity::kTokens) {
        const auto model = std::string(usage::split_labels(key.labels)[0]);
        if (auto price = lopts.prices.find(model)) {
          priced.try_emplace(model, *price);
        } else {
          b.add("claude_code_exporter_unpriced_model_tokens_total", kUnpricedHelp,
                MetricType::Counter, {label("model", model)}, value, FamilyBuilder::Combine::kSum);
        }
      }
    }
    // The prices behind the estimates, per model label in use, so queries can price tokens
    // (e.g. what cache reads saved against uncached input).
    for (const auto& [model, p] : priced) {
      const double write =
          lopts.cache_ttl == usage::CacheTtl::k1h ? p.cache_write_1h : p.cache_write_5m;
      for (auto [type, per_million] : {std::pair{"input", p.input},
                                       {"output", p.output},
                                       {"cache_read", p.cache_read},
                                       {"cache_creation", write}}) {
        b.add("claude_code_model_price_usd_per_token", kPriceHelp, MetricType::Gauge,
              {label("model", model), label("token_type", type)}, per_million / 1e6);
      }
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
      b.histogram("claude_code_api_request_duration_seconds", std::move(m));
    }

    const char* kLastSeenHelp =
        "When each actor's data last arrived from each source (Unix time; for the API, the start "
        "of the newest day with data); for telemetry-silence alerts.";
    b.declare("claude_code_exporter_actor_last_seen_timestamp_seconds", kLastSeenHelp,
              MetricType::Gauge);
    for (size_t i = 0; i < view.actors.size(); ++i) {
      const auto& a = view.actors[i];
      for (auto [source, t] : {std::pair{"otel", a.last_seen_otel}, {"api", a.last_seen_api}}) {
        if (t <= 0) continue;
        b.add("claude_code_exporter_actor_last_seen_timestamp_seconds", kLastSeenHelp,
              MetricType::Gauge,
              with_org(static_cast<uint32_t>(i),
                       {label("actor", actor_label[i]), label("source", source)}),
              t, FamilyBuilder::Combine::kMax);
      }
    }
  });
}

}  // namespace cce::metrics
