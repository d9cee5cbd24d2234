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

using Combine = SnapshotBuilder::Combine;

// A rendered label fragment: `name="value",…` in order.
std::string labels_text(std::initializer_list<std::pair<std::string_view, std::string_view>> l) {
  std::string out;
  for (const auto& [name, value] : l)
    append_label(out, name, value);
  return out;
}

// The labels a quantity's series carry (model, token_type, …), rendered.
std::string quantity_labels(const usage::QKey& key) {
  std::string out;
  const auto& names = usage::label_names(key.quantity);
  if (names.empty()) return out;
  auto values = usage::split_labels(key.labels);
  for (size_t i = 0; i < names.size(); ++i)
    append_label(out, names[i], i < values.size() ? values[i] : std::string_view());
  return out;
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
  return snapshot().families();
}

Snapshot UsageCollector::snapshot(std::string head) const {
  // Only "domain" labels can give two actors one label set ("__other__" is one per type).
  SnapshotBuilder b(options_.actor_label == usage::ActorLabelMode::kDomain);
  b.set_prefix(std::move(head));
  build(b);
  b.add_series_family();
  return std::move(b).finish();
}

void UsageCollector::build(SnapshotBuilder& b) const {
  const util::Date today = util::Date::from_time(clock_.now());
  const util::Date first = today - (options_.daily_window_days - 1);
  const std::string month = today.str().substr(0, 7);  // "YYYY-MM"
  const util::Date month_start = *util::Date::parse(month + "-01");
  const usage::LedgerOptions& lopts = ledger_.options();

  // Declare every family up front so they appear (empty) before the first data arrives.
  // A quantity's families; kNone where it has none (OTel-only quantities have no daily gauge).
  constexpr SnapshotBuilder::Family kNone = ~SnapshotBuilder::Family{0};
  std::vector<SnapshotBuilder::Family> daily_family(usage::kQuantities.size(), kNone);
  std::vector<SnapshotBuilder::Family> total_family(usage::kQuantities.size(), kNone);
  for (size_t i = 0; i < usage::kQuantities.size(); ++i) {
    const auto& q = usage::kQuantities[i];
    if (!q.daily_family.empty())
      daily_family[i] = b.declare(q.daily_family, q.daily_help, MetricType::Gauge);
    if (!q.total_family.empty())
      total_family[i] = b.declare(q.total_family, q.total_help, MetricType::Counter);
  }
  const auto gap_family = b.declare(
      "claude_code_reconciliation_gap",
      "OTel value minus Admin API value for each (date, actor) both sources have, in the window.",
      MetricType::Gauge);
  const auto duration_family =
      b.declare("claude_code_api_request_duration_seconds",
                "Duration of model API requests (OTel api_request events).", MetricType::Histogram);
  const auto month_family = b.declare(
      "claude_code_month_cost_usd",
      "Estimated cost in USD in the current UTC month so far: the merged daily cost (Admin API "
      "where it has the day, else OTel) summed over the month's days.",
      MetricType::Gauge);
  const auto budget_family =
      b.declare("claude_code_budget_usd",
                "Configured cost budgets in USD (scope: org, team, user).", MetricType::Gauge);
  for (const auto& budget : options_.budgets) {
    const std::string name = budget.scope == usage::Budget::Scope::kUser
                                 ? labeler_.label_email(budget.name)
                                 : budget.name;
    std::string labels = labels_text({{"scope", usage::to_string(budget.scope)},
                                      {"name", name},
                                      {"period", usage::to_string(budget.period)}});
    if (options_.org_label && !budget.org.empty()) append_label(labels, "org", budget.org);
    b.add(budget_family, {b.fragment(labels)}, budget.usd);
  }
  const auto limit_family = b.declare(
      "claude_code_spend_limit",
      "Members' spend caps per period from the organization's Spend Limits API, in its billing "
      "currency's major unit (never converted); members without a cap have no series.",
      MetricType::Gauge);
  const auto period_spend_family = b.declare(
      "claude_code_spend_limit_period_spend",
      "Members' spend so far in the cap's period as the Spend Limits API reports it, in its "
      "billing currency's major unit (0 can mean the reading is unavailable).",
      MetricType::Gauge);
  if (options_.spend_limits) {
    for (const auto& [org, rows] : options_.spend_limits->snapshot()) {
      for (const auto& row : rows) {
        std::string labels = labels_text({{"actor", labeler_.label(row.actor)},
                                          {"period", row.period},
                                          {"currency", row.currency}});
        if (options_.org_label) append_label(labels, "org", org);
        const uint32_t id = b.fragment(labels);
        if (row.amount) b.add(limit_family, {id}, *row.amount);
        b.add(period_spend_family, {id}, row.period_spend);
      }
    }
  }
  const auto unpriced_family = b.declare(
      "claude_code_exporter_unpriced_model_tokens_total",
      "Tokens of models the price table does not know, so their cost cannot be estimated.",
      MetricType::Counter);
  const auto price_family =
      b.declare("claude_code_model_price_usd_per_token",
                "Price in USD per token used for cost estimates, per model in use and token type "
                "(cache_creation at pricing.cache_write_ttl).",
                MetricType::Gauge);
  b.add(b.declare("claude_code_exporter_today_info",
                  "The current UTC date (always 1); join on date to select today.",
                  MetricType::Gauge),
        {b.fragment(labels_text({{"date", today.str()}}))}, 1);

  ledger_.read([&](const usage::Ledger::View& view) {
    // Label fragments per actor, made once per scrape: `actor=…,actor_type=…,team=…[,org=…]`
    // (who), `actor=…` alone, and `org=…` (0 with one organization).
    struct ActorFragments {
      std::string team;
      uint32_t who = 0, actor = 0, org = 0;
    };
    std::vector<ActorFragments> actor_frags(view.actors.size());
    auto who_text = [&](size_t i, const std::string& label, std::string_view team) {
      std::string text = labels_text({{"actor", label},
                                      {"actor_type", usage::to_string(view.actors[i].id.type)},
                                      {"team", team}});
      if (options_.org_label) append_label(text, "org", view.actors[i].org);
      return text;
    };
    for (size_t i = 0; i < view.actors.size(); ++i) {
      auto& f = actor_frags[i];
      const std::string label = labeler_.label(view.actors[i].id);
      f.team = team_of(view.actors[i]);
      f.who = b.fragment(who_text(i, label, f.team));
      f.actor = b.fragment(labels_text({{"actor", label}}));
      if (options_.org_label) f.org = b.fragment(labels_text({{"org", view.actors[i].org}}));
    }
    // A day keeps the team its OTel data named then (the config map still comes first).
    auto team_on = [&](uint32_t actor, const usage::Unit& unit) {
      const auto& info = view.actors[actor];
      if (unit.otel_team.empty() || unit.otel_team == info.otel_team) {
        return actor_frags[actor].team;
      }
      usage::ActorInfo then = info;
      then.otel_team = unit.otel_team;
      return team_of(then);
    };
    auto who_in = [&](uint32_t actor, const std::string& team) {
      if (team == actor_frags[actor].team) return actor_frags[actor].who;
      return b.fragment(who_text(actor, labeler_.label(view.actors[actor].id), team));
    };
    std::unordered_map<usage::QKey, uint32_t, usage::QKeyHash> quantity_frags;
    auto quantity_fragment = [&](const usage::QKey& key) {
      auto [it, fresh] = quantity_frags.try_emplace(key, 0);
      if (fresh) it->second = b.fragment(quantity_labels(key));
      return it->second;
    };
    std::map<std::string_view, uint32_t> gap_frags;
    uint32_t source_frags[3] = {};
    for (auto s : {usage::Source::kOtel, usage::Source::kApi, usage::Source::kCounted})
      source_frags[static_cast<size_t>(s)] =
          b.fragment(labels_text({{"source", usage::to_string(s)}}));

    // Daily gauges and the reconciliation gap for the window; the month's cost for every day of
    // the current month (the window may be shorter, and counters cannot give a month-to-date),
    // summed per (actor, day's labels, model) before any labels are built.
    std::map<std::tuple<uint32_t, std::string, std::string>, double> month_cost;
    for (auto it = view.days.lower_bound(std::min(first, month_start));
         it != view.days.end() && it->first <= today; ++it) {
      const uint32_t date = b.fragment(labels_text({{"date", it->first.str()}}));
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
        const uint32_t who = who_in(actor, day_team);
        const uint32_t source = source_frags[static_cast<size_t>(w)];
        for (const auto& [k, v] : merged) {
          const auto family = daily_family[static_cast<size_t>(k.quantity)];
          if (family != kNone) b.add(family, {date, who, quantity_fragment(k), source}, v);
        }
        if (unit.api.empty() || unit.otel.empty()) continue;
        std::map<std::string_view, double> gap;
        for (const auto& [k, v] : usage::merged_cells(unit.otel, lopts))
          gap[usage::info(k.quantity).gap] += v;
        for (const auto& [k, v] : usage::merged_cells(unit.api, lopts))
          gap[usage::info(k.quantity).gap] -= v;
        for (const auto& [q, v] : gap) {
          auto [g, fresh] = gap_frags.try_emplace(q, 0);
          if (fresh) g->second = b.fragment(labels_text({{"quantity", q}}));
          b.add(gap_family, {date, actor_frags[actor].actor, g->second, actor_frags[actor].org}, v);
        }
      }
    }

    const uint32_t month_label = b.fragment(labels_text({{"month", month}}));
    for (const auto& [key, v] : month_cost) {
      const auto& [actor, day_team, model] = key;
      b.add(month_family,
            {month_label, who_in(actor, day_team),
             quantity_fragment(usage::QKey{Quantity::kCostUsd, model})},
            v);
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
      const auto family = total_family[static_cast<size_t>(key.quantity)];
      if (family != kNone)
        b.add(family, {actor_frags[ck.actor].who, quantity_fragment(key)}, value);
      if (key.quantity == Quantity::kTokens) {
        const auto model = std::string(usage::split_labels(key.labels)[0]);
        if (auto price = lopts.prices.find(model)) {
          priced.try_emplace(model, *price);
        } else {
          b.add(unpriced_family, {b.fragment(labels_text({{"model", model}}))}, value,
                Combine::kSum);
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
        b.add(price_family, {b.fragment(labels_text({{"model", model}, {"token_type", type}}))},
              per_million / 1e6);
      }
    }
    for (const auto& [model, h] : hists) {
      ClientMetric m;
      m.label = {ClientMetric::Label{"model", model}};
      m.histogram.sample_count = h.count;
      m.histogram.sample_sum = h.sum;
      uint64_t cumulative = 0;
      for (double le : usage::duration_buckets()) {
        auto it = h.buckets.find(le);
        if (it != h.buckets.end()) cumulative += it->second;
        m.histogram.bucket.push_back({cumulative, le});
      }
      m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
      b.histogram(duration_family, std::move(m));
    }

    const auto last_seen_family = b.declare(
        "claude_code_exporter_actor_last_seen_timestamp_seconds",
        "When each actor's data last arrived from each source (Unix time; for the API, the start "
        "of the newest day with data); for telemetry-silence alerts.",
        MetricType::Gauge);
    for (size_t i = 0; i < view.actors.size(); ++i) {
      const auto& a = view.actors[i];
      for (auto [s, t] : {std::pair{usage::Source::kOtel, a.last_seen_otel},
                          {usage::Source::kApi, a.last_seen_api}}) {
        if (t <= 0) continue;
        b.add(last_seen_family,
              {actor_frags[i].actor, source_frags[static_cast<size_t>(s)], actor_frags[i].org}, t,
              Combine::kMax);
      }
    }
  });
}

}  // namespace cce::metrics
