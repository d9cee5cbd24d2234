// The collector: what a ledger looks like as Prometheus families.
#include <doctest/doctest.h>

#include <map>

#include <prometheus/text_serializer.h>

#include "cce/metrics/usage_collector.h"
#include "cce/usage/ledger.h"
#include "ledger_support.h"
#include "test_support.h"

using namespace cce;
using test::api;
using test::kDev;
using test::kToday;
using test::kYesterday;
using test::ob;
using test::otel;
using usage::ActorId;
using usage::ActorType;
using usage::Quantity;

namespace {

using Sample = std::map<std::string, std::string>;  // labels, plus "value"

// Every sample of one family, labels by name.
std::vector<std::pair<Sample, double>> samples(const metrics::UsageCollector& c,
                                               const std::string& family) {
  std::vector<std::pair<Sample, double>> out;
  for (const auto& f : c.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      Sample l;
      for (const auto& x : m.label)
        l[x.name] = x.value;
      out.emplace_back(l,
                       f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value);
    }
  }
  return out;
}

util::ManualClock clock_at_today() {
  return util::ManualClock(util::TimePoint(std::chrono::seconds(kToday.unix_seconds() + 3600)));
}

}  // namespace

TEST_CASE("the month's cost sums the merged daily cost over the current month only") {
  usage::Ledger ledger;
  const auto api_cost = [&](util::Date d, double usd) {
    api(ledger, d, {ob(kDev, d, Quantity::kCostUsd, "claude-opus-5", usd)});
  };
  api_cost(*util::Date::parse("2026-10-31"), 100);  // last month: not counted
  api_cost(*util::Date::parse("2026-11-01"), 10);   // outside the 3-day window
  otel(ledger, kDev, kYesterday, Quantity::kCostUsd, 2, kToday, "claude-opus-5");
  otel(ledger, kDev, kToday, Quantity::kCostUsd, 5, kToday, "claude-opus-5");
  api_cost(kToday, 3);  // the API wins today: 3, not 5

  util::ManualClock clock(util::TimePoint(std::chrono::seconds(kToday.unix_seconds() + 3600)));
  metrics::UsageCollector collector(ledger, clock, metrics::CollectorOptions{});
  double month = -1;
  int series = 0;
  for (const auto& f : collector.Collect()) {
    if (f.name != "claude_code_month_cost_usd") continue;
    for (const auto& m : f.metric) {
      ++series;
      std::map<std::string, std::string> l;
      for (const auto& x : m.label)
        l[x.name] = x.value;
      CHECK(l["month"] == "2026-11");
      CHECK(l["actor"] == "dev@example.com");
      CHECK(l["model"] == "claude-opus-5");
      month = m.gauge.value;
    }
  }
  CHECK(series == 1);
  CHECK(month == doctest::Approx(10 + 2 + 3));
}

TEST_CASE("prices are exposed per token for the models in use, and only for priced ones") {
  usage::Ledger ledger;
  api(ledger, kToday,
      {ob(kDev, kToday, Quantity::kTokens, usage::join_labels({"claude-opus-5", "input"}), 10),
       ob(kDev, kToday, Quantity::kTokens, usage::join_labels({"claude-unknown-9", "input"}), 10)});
  util::ManualClock clock(util::TimePoint(std::chrono::seconds(kToday.unix_seconds() + 3600)));
  metrics::UsageCollector collector(ledger, clock, metrics::CollectorOptions{});
  std::map<std::string, double> price;  // "model token_type" -> USD per token
  for (const auto& f : collector.Collect()) {
    if (f.name != "claude_code_model_price_usd_per_token") continue;
    for (const auto& m : f.metric)
      price[m.label[0].value + " " + m.label[1].value] = m.gauge.value;
  }
  CHECK(price.size() == 4);
  CHECK(price["claude-opus-5 input"] == doctest::Approx(5e-6));
  CHECK(price["claude-opus-5 output"] == doctest::Approx(25e-6));
  CHECK(price["claude-opus-5 cache_read"] == doctest::Approx(0.5e-6));
  CHECK(price["claude-opus-5 cache_creation"] == doctest::Approx(6.25e-6));  // 5-minute writes
}

TEST_CASE("daily gauges cover the window and name the winning source; counters have no date") {
  usage::Ledger ledger;
  otel(ledger, kDev, kToday - 3, Quantity::kCommits, 7);  // outside a 3-day window
  otel(ledger, kDev, kYesterday, Quantity::kCommits, 2);
  api(ledger, kYesterday, {ob(kDev, kYesterday, Quantity::kCommits, "", 1)});
  otel(ledger, kDev, kToday, Quantity::kCommits, 4);
  auto clock = clock_at_today();
  metrics::UsageCollector collector(ledger, clock, {});
  std::map<std::string, std::pair<std::string, double>> daily;  // date -> source, value
  for (const auto& [l, v] : samples(collector, "claude_code_daily_commits"))
    daily[l.at("date")] = {l.at("source"), v};
  CHECK(daily.size() == 2);
  CHECK(daily["2026-11-21"] == std::pair<std::string, double>{"api", 1});
  CHECK(daily["2026-11-22"] == std::pair<std::string, double>{"otel", 4});
  const auto total = samples(collector, "claude_code_commits_total");
  REQUIRE(total.size() == 1);
  CHECK(total[0].first.count("date") == 0);
  CHECK(total[0].second == 7 + 2 + 4);  // the API's lower figure for yesterday is absorbed
}

TEST_CASE("the reconciliation gap is OTel minus API, only where both sources have the day") {
  usage::Ledger ledger;
  const ActorId other{ActorType::kUser, "other@example.com"};
  otel(ledger, kDev, kYesterday, Quantity::kSessions, 5);
  api(ledger, kYesterday,
      {ob(kDev, kYesterday, Quantity::kSessions, "", 3),
       ob(other, kYesterday, Quantity::kSessions, "", 9)});
  auto clock = clock_at_today();
  metrics::UsageCollector collector(ledger, clock, {});
  const auto gap = samples(collector, "claude_code_reconciliation_gap");
  REQUIRE(gap.size() == 1);
  CHECK(gap[0].first.at("actor") == "dev@example.com");
  CHECK(gap[0].first.at("quantity") == "sessions");
  CHECK(gap[0].second == 2);
}

TEST_CASE("budgets are exposed with scope, name and period; user names go through the labeler") {
  usage::Ledger ledger;
  auto clock = clock_at_today();
  metrics::CollectorOptions options;
  options.actor_label = usage::ActorLabelMode::kDomain;
  options.budgets = {
      {usage::Budget::Scope::kOrg, "org", usage::Budget::Period::kDay, 100},
      {usage::Budget::Scope::kTeam, "research", usage::Budget::Period::kMonth, 900},
      {usage::Budget::Scope::kUser, "alice@example.com", usage::Budget::Period::kDay, 5}};
  metrics::UsageCollector collector(ledger, clock, options);
  std::map<std::string, double> budgets;
  for (const auto& [l, v] : samples(collector, "claude_code_budget_usd"))
    budgets[l.at("scope") + "/" + l.at("name") + "/" + l.at("period")] = v;
  CHECK(budgets == std::map<std::string, double>{{"org/org/day", 100},
                                                 {"team/research/month", 900},
                                                 {"user/example.com/day", 5}});
}

TEST_CASE("domain labels fold users into one series per domain, summed") {
  usage::Ledger ledger;
  otel(ledger, {ActorType::kUser, "a@example.com"}, kToday, Quantity::kCommits, 1);
  otel(ledger, {ActorType::kUser, "b@example.com"}, kToday, Quantity::kCommits, 2);
  otel(ledger, {ActorType::kUser, "c@other.org"}, kToday, Quantity::kCommits, 4);
  auto clock = clock_at_today();
  metrics::CollectorOptions options;
  options.actor_label = usage::ActorLabelMode::kDomain;
  metrics::UsageCollector collector(ledger, clock, options);
  std::map<std::string, double> by_actor;
  for (const auto& [l, v] : samples(collector, "claude_code_commits_total"))
    by_actor[l.at("actor")] += v;
  CHECK(by_actor == std::map<std::string, double>{{"example.com", 3}, {"other.org", 4}});
  CHECK(samples(collector, "claude_code_commits_total").size() == 2);  // no duplicate series
}

TEST_CASE("teams come from the map first, else from OTel; the series count is exposed") {
  usage::Ledger ledger;
  otel(ledger, kDev, kToday, Quantity::kCommits, 1, kToday, "", "from-otel");
  otel(ledger, {ActorType::kUser, "r@research.example.com"}, kToday, Quantity::kCommits, 1, kToday,
       "", "from-otel");
  auto clock = clock_at_today();
  metrics::CollectorOptions options;
  options.team_map = {{"*@research.example.com", "research"}};
  metrics::UsageCollector collector(ledger, clock, options);
  std::map<std::string, std::string> team;
  for (const auto& [l, v] : samples(collector, "claude_code_commits_total"))
    team[l.at("actor")] = l.at("team");
  CHECK(team["dev@example.com"] == "from-otel");
  CHECK(team["r@research.example.com"] == "research");
  double commits_series = -1;
  for (const auto& [l, v] : samples(collector, "claude_code_exporter_series")) {
    if (l.at("family") == "claude_code_commits_total") commits_series = v;
  }
  CHECK(commits_series == 2);
}

TEST_CASE("after a team change, past days keep their team in the daily gauges; counters follow") {
  usage::Ledger ledger;
  otel(ledger, kDev, kYesterday, Quantity::kCostUsd, 2, kToday, "claude-opus-5", "blue");
  otel(ledger, kDev, kToday, Quantity::kCostUsd, 3, kToday, "claude-opus-5", "green");
  auto clock = clock_at_today();
  metrics::UsageCollector collector(ledger, clock, {});
  std::map<std::string, std::string> team_of_day;
  for (const auto& [l, v] : samples(collector, "claude_code_daily_cost_usd"))
    team_of_day[l.at("date")] = l.at("team");
  CHECK(team_of_day["2026-11-21"] == "blue");
  CHECK(team_of_day["2026-11-22"] == "green");
  std::map<std::string, double> month_by_team;
  for (const auto& [l, v] : samples(collector, "claude_code_month_cost_usd"))
    month_by_team[l.at("team")] += v;
  CHECK(month_by_team == std::map<std::string, double>{{"blue", 2}, {"green", 3}});
  const auto counter = samples(collector, "claude_code_cost_usd_total");
  REQUIRE(counter.size() == 1);
  CHECK(counter[0].first.at("team") == "green");
  CHECK(counter[0].second == 5);
}

TEST_CASE("the text written for /metrics equals prometheus-cpp's serialization of Collect()") {
  for (auto mode : {usage::ActorLabelMode::kEmail, usage::ActorLabelMode::kDomain}) {
    usage::Ledger ledger;
    // Values that need escaping, several actors of one domain (folded in "domain" mode), the
    // API and OTel on one day, the duration histogram, fractional and huge values.
    const ActorId odd{ActorType::kUser, "o\"dd\\name\n@example.com"};
    const ActorId other{ActorType::kUser, "other@example.com"};
    for (const auto& who : {kDev, odd, other}) {
      otel(ledger, who, kToday, Quantity::kCostUsd, 1.0 / 3, kToday, "claude-opus-5");
      otel(ledger, who, kYesterday, Quantity::kTokens, 1e15 + 1, kToday, "claude-opus-5\x1finput");
      otel(ledger, who, kToday, Quantity::kApiDurationBucket, 2, kToday,
           "claude-opus-5\x1f"
           "2.5");
      otel(ledger, who, kToday, Quantity::kApiDurationSum, 3.75, kToday, "claude-opus-5");
      otel(ledger, who, kToday, Quantity::kApiDurationCount, 2, kToday, "claude-opus-5");
    }
    api(ledger, kToday, {ob(kDev, kToday, Quantity::kCostUsd, "claude-opus-5", 0.1)});
    const auto clock = clock_at_today();
    metrics::CollectorOptions options;
    options.actor_label = mode;
    options.budgets.push_back(usage::Budget{usage::Budget::Scope::kTeam, "plat\"form",
                                            usage::Budget::Period::kMonth, 1e3});
    metrics::UsageCollector collector(ledger, clock, options);
    const std::string text = collector.snapshot().text();
    CHECK(text == prometheus::TextSerializer().Serialize(collector.Collect()));
    CHECK(text.find("claude_code_api_request_duration_seconds_bucket{") != std::string::npos);
    const bool escaped_email = text.find("o\\\"dd\\\\name\\n@example.com") != std::string::npos;
    CHECK(escaped_email == (mode == usage::ActorLabelMode::kEmail));
  }
}
