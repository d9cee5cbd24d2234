// The precedence rule and the monotonic merged counters, at the ledger (pure) level.
#include <doctest/doctest.h>

#include <map>

#include "cce/admin/usage_report.h"
#include "cce/ingest/persistence.h"
#include "cce/usage/ledger.h"
#include "cce/usage/otel_normalizer.h"
#include "cce/usage/pricing.h"
#include "ledger_support.h"
#include "test_support.h"

using namespace cce;
using test::api;
using test::kDev;
using test::kToday;
using test::kYesterday;
using test::ob;
using test::otel;
using test::total;
using usage::ActorId;
using usage::ActorType;
using usage::Quantity;
using usage::Source;

namespace {

struct Merged {
  Source source = Source::kOtel;
  std::map<std::string, double> values;  // "quantity labels" -> value
  bool present = false;
};

Merged merged(const usage::Ledger& ledger, const ActorId& actor, util::Date date,
              util::Date today) {
  Merged out;
  ledger.read([&](const usage::Ledger::View& v) {
    auto d = v.days.find(date);
    if (d == v.days.end()) return;
    for (const auto& [index, unit] : d->second) {
      if (!(v.actors[index].id == actor) || (unit.api.empty() && unit.otel.empty())) continue;
      out.present = true;
      out.source =
          usage::winner(!unit.api.empty(), !unit.otel.empty(), date, today, ledger.options().merge);
      for (const auto& [k, val] : usage::merged_cells(
               out.source == Source::kApi ? unit.api : unit.otel, ledger.options())) {
        out.values[std::string(usage::to_string(k.quantity)) + " " + k.labels] = val;
      }
    }
  });
  return out;
}

}  // namespace

TEST_CASE("the precedence rule, case by case") {
  struct Case {
    const char* name;
    bool otel_for_today;
    util::Date date;
    std::vector<std::pair<char, double>>
        steps;  // 'o' = OTel adds sessions, 'a' = API day says sessions
    Source want_source;
    double want_sessions;
    double want_total;
  };
  const std::vector<Case> cases = {
      {"API only", false, kYesterday, {{'a', 3}}, Source::kApi, 3, 3},
      {"OTel only", false, kYesterday, {{'o', 2}}, Source::kOtel, 2, 2},
      {"both: the API wins", false, kYesterday, {{'o', 2}, {'a', 3}}, Source::kApi, 3, 3},
      {"API row later than OTel, lower: API shown, counter keeps OTel's high",
       false,
       kYesterday,
       {{'o', 5}, {'a', 3}},
       Source::kApi,
       3,
       5},
      {"OTel arriving after the API changes nothing",
       false,
       kYesterday,
       {{'a', 3}, {'o', 5}, {'o', 1}},
       Source::kApi,
       3,
       3},
      {"otel_for_today off: today the API wins",
       false,
       kToday,
       {{'a', 3}, {'o', 5}},
       Source::kApi,
       3,
       3},
      {"otel_for_today on: today OTel wins",
       true,
       kToday,
       {{'a', 3}, {'o', 5}},
       Source::kOtel,
       5,
       5},
      {"otel_for_today on: not for yesterday",
       true,
       kYesterday,
       {{'a', 3}, {'o', 5}},
       Source::kApi,
       3,
       3},
      {"otel_for_today on: today without OTel data uses the API",
       true,
       kToday,
       {{'a', 3}},
       Source::kApi,
       3,
       3},
      {"API revised down then up: the counter follows only up",
       false,
       kYesterday,
       {{'a', 4}, {'a', 2}, {'a', 6}},
       Source::kApi,
       6,
       6},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    usage::LedgerOptions options;
    options.merge.otel_for_today = c.otel_for_today;
    usage::Ledger ledger(options);
    double otel_sum = 0;
    for (auto [kind, v] : c.steps) {
      if (kind == 'o') {
        otel(ledger, kDev, c.date, Quantity::kSessions, v);
        otel_sum += v;
      } else {
        api(ledger, c.date, {ob(kDev, c.date, Quantity::kSessions, "", v)});
      }
    }
    auto m = merged(ledger, kDev, c.date, kToday);
    REQUIRE(m.present);
    CHECK(m.source == c.want_source);
    CHECK(m.values["sessions "] == c.want_sessions);
    CHECK(total(ledger, kDev, Quantity::kSessions) == c.want_total);
  }
}

TEST_CASE("when the API wins, every merged quantity comes from it, even ones OTel alone has") {
  usage::Ledger ledger;
  otel(ledger, kDev, kYesterday, Quantity::kTokens, 100, kToday,
       usage::join_labels({"claude-opus-5", "input"}));
  otel(ledger, kDev, kYesterday, Quantity::kActiveTime, 30, kToday, "cli");
  api(ledger, kYesterday, {ob(kDev, kYesterday, Quantity::kSessions, "", 1)});
  auto m = merged(ledger, kDev, kYesterday, kToday);
  CHECK(m.source == Source::kApi);
  CHECK(m.values.count("tokens claude-opus-5\x1finput") == 0);
  // OTel-only quantities are not merged: they stay OTel's.
  CHECK(total(ledger, kDev, Quantity::kActiveTime, "cli") == 30);
  // The counter keeps the tokens OTel reported before the API took over.
  CHECK(total(ledger, kDev, Quantity::kTokens, usage::join_labels({"claude-opus-5", "input"})) ==
        100);
}

TEST_CASE("API key actors and OTel identities never merge; emails match across case") {
  // The same string as an API key name and as an OTel install id: two actors.
  usage::Ledger ledger;
  const ActorId key{ActorType::kApiKey, "ci-pipeline"};
  const ActorId install{ActorType::kInstall, "ci-pipeline"};
  api(ledger, kYesterday, {ob(key, kYesterday, Quantity::kSessions, "", 7)});
  otel(ledger, install, kYesterday, Quantity::kSessions, 2);
  CHECK(merged(ledger, key, kYesterday, kToday).values["sessions "] == 7);
  CHECK(merged(ledger, install, kYesterday, kToday).values["sessions "] == 2);
  CHECK(merged(ledger, install, kYesterday, kToday).source == Source::kOtel);

  // Mixed-case emails: the Admin API's "Dev@Example.COM" and OTel's "DEV@example.com".
  auto page = admin::parse_page(R"({"data":[{"date":"2026-11-21","actor":{"type":"user_actor",
      "email_address":"Dev@Example.COM"},"core_metrics":{"num_sessions":3}}],"has_more":false})",
                                kYesterday);
  const auto& api_obs = std::get<admin::Page>(page).observations;
  usage::IdentityResolver resolver({});
  auto otel_who = resolver.resolve({{"user.email", std::string("DEV@example.com")}}, {});
  REQUIRE(otel_who);
  CHECK(api_obs.at(0).actor == otel_who->actor);
  CHECK(otel_who->actor == kDev);
}

TEST_CASE("cost is estimated from tokens where a source gives none; unpriced models are not") {
  usage::Ledger ledger;
  api(ledger, kYesterday,
      {ob(kDev, kYesterday, Quantity::kTokens, usage::join_labels({"claude-opus-5", "input"}), 1e6),
       ob(kDev, kYesterday, Quantity::kTokens, usage::join_labels({"claude-opus-5", "output"}),
          1e6),
       ob(kDev, kYesterday, Quantity::kTokens, usage::join_labels({"claude-opus-5", "cache_read"}),
          1e6),
       ob(kDev, kYesterday, Quantity::kTokens,
          usage::join_labels({"claude-opus-5", "cache_creation"}), 1e6),
       ob(kDev, kYesterday, Quantity::kTokens, usage::join_labels({"claude-unknown-9", "input"}),
          1e6)});
  auto m = merged(ledger, kDev, kYesterday, kToday);
  // 5 + 25 + 0.5 + 6.25 (5-minute writes) USD.
  CHECK(m.values["cost_usd claude-opus-5"] == doctest::Approx(36.75));
  CHECK(m.values.count("cost_usd claude-unknown-9") == 0);
  CHECK(total(ledger, kDev, Quantity::kCostUsd, "claude-opus-5") == doctest::Approx(36.75));

  auto prices = usage::PriceTable::defaults();
  CHECK(prices.find("claude-haiku-4-5-20251001")->input == 1);
  CHECK(prices.find("claude-sonnet-4-5-20990101")->output == 15);  // dated id -> alias
  CHECK_FALSE(prices.find("claude-opus-5-5"));
  CHECK(usage::PriceTable::cost(*prices.find("claude-sonnet-5"), 0, 0, 0, 1e6,
                                usage::CacheTtl::k1h) == 4);
}

TEST_CASE("counters never decrease: revisions, pruning and a reload") {
  test::TempDir dir;
  std::vector<double> seen;
  auto store = store::Store::open(dir.file("m.db"), store::Synchronous::kNormal);
  usage::Ledger ledger;
  usage::OtelNormalizer n({}, 3600, 86400);
  auto step = [&](usage::LedgerChanges ch) {
    store->write(ingest::to_batch(ch));
    ledger.apply(ch);
    seen.push_back(total(ledger, kDev, Quantity::kCostUsd, "claude-opus-5"));
  };
  auto cost = [&](util::Date d, double usd) {
    return ob(kDev, d, Quantity::kCostUsd, "claude-opus-5", usd);
  };
  step(ledger.stage_otel({cost(kYesterday, 2.0)}, {{kDev, "", 1}}, kToday));  // 2
  step(ledger.stage_api_day(kYesterday, {cost(kYesterday, 1.5)}, kToday));    // API lower: 2
  step(ledger.stage_api_day(kYesterday, {cost(kYesterday, 3.0)}, kToday));    // revised up: 3
  step(ledger.stage_api_day(kYesterday, {}, kToday));                     // API row gone: OTel 2: 3
  step(ledger.stage_otel({cost(kToday, 1.0)}, {{kDev, "", 1}}, kToday));  // + today: 4
  // Reload from the store: the same counter.
  usage::Ledger reloaded;
  ingest::load(*store, reloaded, n);
  seen.push_back(total(reloaded, kDev, Quantity::kCostUsd, "claude-opus-5"));
  // Yesterday leaves the retention window: the counter keeps it.
  auto pruned = reloaded.stage_prune(kToday);
  CHECK(pruned.days_pruned.size() == 1);
  store->write(ingest::to_batch(pruned));
  reloaded.apply(pruned);
  seen.push_back(total(reloaded, kDev, Quantity::kCostUsd, "claude-opus-5"));
  usage::Ledger again;
  ingest::load(*store, again, n);
  seen.push_back(total(again, kDev, Quantity::kCostUsd, "claude-opus-5"));
  const std::vector<double> want = {2, 2, 3, 3, 4, 4, 4, 4};
  REQUIRE(seen.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(seen[i] == doctest::Approx(want[i]));
    if (i) CHECK(seen[i] >= seen[i - 1]);
  }
}

TEST_CASE("the cardinality guard folds new actors into __other__") {
  usage::LedgerOptions options;
  options.max_actors = 3;
  usage::Ledger ledger(options);
  std::vector<usage::Observation> obs;
  for (int i = 0; i < 10; ++i) {
    obs.push_back(ob({ActorType::kUser, "u" + std::to_string(i) + "@example.com"}, kYesterday,
                     Quantity::kSessions, "", 1));
  }
  auto ch = ledger.stage_otel(obs, {}, kToday);
  CHECK(ch.overflowed == 7);
  ledger.apply(ch);
  CHECK(ledger.actor_count() == 4);  // three users and "__other__"
  CHECK(merged(ledger, {ActorType::kUser, "__other__"}, kYesterday, kToday).values["sessions "] ==
        7);
}

TEST_CASE("staging has no side effects: a change never applied leaves no actors behind") {
  usage::LedgerOptions options;
  options.max_actors = 2;
  usage::Ledger ledger(options);
  const usage::ActorId a{usage::ActorType::kUser, "a@example.com"};
  const usage::ActorId b{usage::ActorType::kUser, "b@example.com"};
  const usage::ActorId c{usage::ActorType::kUser, "c@example.com"};
  // A commit that failed: staged, never applied.
  auto failed = ledger.stage_otel(
      {ob(a, kToday, Quantity::kCommits, "", 1), ob(b, kToday, Quantity::kCommits, "", 1)},
      {{a, "", 1}, {b, "", 1}}, kToday);
  CHECK(failed.new_actors.size() == 2);
  CHECK(ledger.actor_count() == 0);
  // The retry of another client's data: c is a real actor, not folded into "__other__".
  auto ok = ledger.stage_otel({ob(c, kToday, Quantity::kCommits, "", 3)}, {{c, "", 1}}, kToday);
  CHECK(ok.overflowed == 0);
  ledger.apply(ok);
  CHECK(ledger.actor_count() == 1);
  CHECK(total(ledger, c, Quantity::kCommits, "") == 3);
  // Within one change the guard still counts the actors it introduces.
  auto many = ledger.stage_otel(
      {ob(a, kToday, Quantity::kCommits, "", 1), ob(b, kToday, Quantity::kCommits, "", 1)},
      {{a, "", 1}, {b, "", 1}}, kToday);
  CHECK(many.overflowed == 1);
  ledger.apply(many);
  CHECK(ledger.actor_count() == 3);  // c, a and "__other__" (which the guard never folds)
  CHECK(total(ledger, {usage::ActorType::kUser, usage::Ledger::kOverflowActor}, Quantity::kCommits,
              "") == 1);
}

TEST_CASE("a unit's cells: one per key, found by key, kept in key order") {
  usage::QCells cells;
  const usage::QKey input{Quantity::kTokens, "claude-opus-5\x1finput"};
  const usage::QKey output{Quantity::kTokens, "claude-opus-5\x1foutput"};
  const usage::QKey cost{Quantity::kCostUsd, "claude-opus-5"};
  for (int i = 0; i < 50; ++i)
    cells[usage::QKey{Quantity::kToolResults, "t" + std::to_string(49 - i)}] = i;
  CHECK(cells.emplace(output, 2).second);
  CHECK(cells.emplace(input, 1).second);
  CHECK_FALSE(cells.emplace(input, 9).second);  // never overwrites
  cells[cost] += 0.5;
  cells[cost] += 0.25;
  CHECK(cells.size() == 53);
  CHECK(cells.find(input)->second == 1);
  CHECK(cells.find(cost)->second == 0.75);
  CHECK(cells.count(usage::QKey{Quantity::kTokens, "claude-opus-5"}) == 0);
  CHECK(cells.find(usage::QKey{Quantity::kToolResults, "t7"})->second == 42);
  CHECK(std::is_sorted(cells.begin(), cells.end(), [](const auto& a, const auto& b) {
    return usage::QKeyLess()(a.first, b.first);
  }));
  CHECK(cells.erase(output) == 1);
  CHECK(cells.erase(output) == 0);
  CHECK(cells.find(output) == cells.end());
  // Equal when the same cells were put in any order.
  usage::QCells again;
  for (auto it = cells.end(); it != cells.begin();) {
    --it;
    again[it->first] = it->second;
  }
  CHECK(again == cells);
  again[input] = 2;
  CHECK_FALSE(again == cells);
}
