#include <doctest/doctest.h>

#include <map>

#include "cce/admin/poller.h"
#include "cce/admin/usage_report.h"
#include "cce/config/config.h"
#include "cce/usage/ledger.h"
#include "test_support.h"

using namespace cce;
using usage::Quantity;

namespace {

const util::Date kDay = *util::Date::parse("2026-11-20");

const auto sums = test::observation_sums;

admin::Page page(const std::string& file) {
  auto parsed = admin::parse_page(test::read_file(test::testdata("admin-api/" + file)), kDay);
  REQUIRE(std::holds_alternative<admin::Page>(parsed));
  return std::get<admin::Page>(parsed);
}

}  // namespace

TEST_CASE("the example pages parse, and a day's rows sum per actor") {
  auto p1 = page("2026-11-20.page1.json");
  auto p2 = page("2026-11-20.page2.json");
  CHECK(p1.has_more);
  REQUIRE(p1.next_page);
  CHECK_FALSE(p2.has_more);
  CHECK(p1.skipped.empty());
  CHECK(p2.skipped.empty());
  std::vector<usage::Observation> all = p1.observations;
  all.insert(all.end(), p2.observations.begin(), p2.observations.end());
  auto s = sums(all);
  // The README of the example pages gives the day's sums.
  CHECK(s["user:alice@example.com sessions "] == 4);
  CHECK(s["user:alice@example.com lines_added "] == 160);
  CHECK(s["user:alice@example.com lines_removed "] == 17);
  CHECK(s["user:alice@example.com commits "] == 3);
  CHECK(s["user:alice@example.com pull_requests "] == 1);
  double alice_cost = 0, bob_cost = 0, ci_cost = 0;
  for (const auto& [k, v] : s) {
    if (k.rfind("user:alice@example.com cost_usd", 0) == 0) alice_cost += v;
    if (k.rfind("user:bob@example.com cost_usd", 0) == 0) bob_cost += v;
    if (k.rfind("api_key:ci-pipeline cost_usd", 0) == 0) ci_cost += v;
  }
  CHECK(alice_cost == doctest::Approx(2.305).epsilon(1e-12));
  CHECK(bob_cost == doctest::Approx(0.12).epsilon(1e-12));
  CHECK(ci_cost == doctest::Approx(5.43).epsilon(1e-12));
  // Mixed case email is lower-cased; the unknown tool key keeps its name.
  bool future_tool = false;
  for (const auto& o : all) {
    CHECK(o.actor.id != "Bob@Example.com");
    if (o.quantity == Quantity::kToolDecisions && o.labels.rfind("some_future", 0) == 0)
      future_tool = true;
  }
  CHECK(future_tool);
}

TEST_CASE("records that do not fit are skipped with their position; the page is kept") {
  const std::string body = R"({"data":[
    {"date":"2026-11-20","actor":{"type":"user_actor","email_address":"a@example.com"},
     "core_metrics":{"num_sessions":1},"tool_actions":{},"model_breakdown":[]},
    {"date":"2026-11-20T00:00:00Z","actor":{"type":"user_actor"},"core_metrics":{}},
    {"date":"2026-11-20","actor":{"type":"api_actor","api_key_name":"k"},
     "core_metrics":{"num_sessions":"two"}},
    {"date":"2026-11-19","actor":{"type":"api_actor","api_key_name":"k"},"core_metrics":{}},
    {"date":"2026-11-20T00:00:00Z","actor":{"type":"api_actor","api_key_name":"k"},
     "core_metrics":{"num_sessions":2,"lines_of_code":{"added":5}},
     "model_breakdown":[{"model":"claude-opus-4-6[1m]","tokens":{"input":10},
                         "estimated_cost":{"amount":12.5,"currency":"USD"}}]}
  ],"has_more":false,"next_page":null})";
  auto parsed = admin::parse_page(body, kDay);
  REQUIRE(std::holds_alternative<admin::Page>(parsed));
  const auto& p = std::get<admin::Page>(parsed);
  CHECK(p.records == 5);
  REQUIRE(p.skipped.size() == 3);
  CHECK(p.skipped[0].find("record 1: actor.email_address is missing") == 0);
  CHECK(p.skipped[1].find("record 2: core_metrics.num_sessions is not a number") == 0);
  CHECK(p.skipped[2].find("record 3: date 2026-11-19 is not the requested day") == 0);
  auto s = sums(p.observations);
  CHECK(s["api_key:k sessions "] == 2);
  CHECK(s["api_key:k cost_usd claude-opus-4-6"] == doctest::Approx(0.125));
  CHECK(s["user:a@example.com sessions "] == 1);
}

TEST_CASE("a body that is not a usage report is a page error") {
  CHECK(std::holds_alternative<admin::PageError>(admin::parse_page("<html>oops</html>", kDay)));
  CHECK(std::holds_alternative<admin::PageError>(admin::parse_page(R"({"data":[]})", kDay)));
  CHECK(std::holds_alternative<admin::PageError>(
      admin::parse_page(R"({"data":[],"has_more":true,"next_page":null})", kDay)));
  CHECK(
      admin::error_summary(
          R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"})") ==
      "rate_limit_error: slow down (request_id req_1)");
}

TEST_CASE("backfill progress round-trips") {
  ingest::BackfillProgress p{*util::Date::parse("2025-11-23"), *util::Date::parse("2026-10-01")};
  auto back = ingest::BackfillProgress::parse(p.serialize());
  REQUIRE(back);
  CHECK(back->oldest == p.oldest);
  CHECK(back->next == p.next);
  CHECK(p.remaining() == 313);
  CHECK(ingest::BackfillProgress{p.oldest, p.oldest - 1}.done());
}

TEST_CASE("an API day replaces that day's slice; rows of an actor are summed") {
  usage::Ledger ledger;
  auto obs = [](const char* who, double sessions) {
    return usage::Observation{
        {usage::ActorType::kUser, who}, kDay, Quantity::kSessions, "", sessions};
  };
  ledger.apply(ledger.stage_api_day(
      kDay, {obs("a@example.com", 1), obs("a@example.com", 2), obs("b@example.com", 5)}, kDay));
  ledger.apply(ledger.stage_api_day(kDay, {obs("a@example.com", 4)}, kDay));
  ledger.read([](const usage::Ledger::View& v) {
    const auto& units = v.days.at(kDay);
    int with_api = 0;
    for (const auto& [actor, u] : units) {
      if (u.api.empty()) continue;
      ++with_api;
      CHECK(v.actors[actor].id.id == "a@example.com");
      CHECK(u.api.begin()->second == 4);
    }
    CHECK(with_api == 1);
    CHECK(v.actors[0].last_seen_api == kDay.unix_seconds());
  });
}

TEST_CASE("a regular API key where the Admin key belongs is refused, naming both") {
  auto c = config::parse("", "t");
  auto env = [](const char* name) -> const char* {
    return std::string(name) == "ANTHROPIC_ADMIN_API_KEY" ? "sk-ant-api03-abcdefsecret" : nullptr;
  };
  try {
    config::apply_environment(c, env);
    FAIL("expected a ConfigError");
  } catch (const config::ConfigError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("ANTHROPIC_ADMIN_API_KEY holds a regular API key (sk-ant-api…)") == 0);
    CHECK(msg.find("Admin API key (sk-ant-admin…)") != std::string::npos);
    CHECK(msg.find("Settings → Admin keys") != std::string::npos);
    CHECK(msg.find("abcdefsecret") == std::string::npos);
  }
  auto ok = config::parse("", "t");
  config::apply_environment(ok, [](const char* name) -> const char* {
    return std::string(name) == "ANTHROPIC_ADMIN_API_KEY" ? " sk-ant-admin01-xyz\n" : nullptr;
  });
  CHECK(ok.admin_api.key == "sk-ant-admin01-xyz");
  CHECK(ok.admin_api.polling());
  CHECK(config::to_toml(ok).find("sk-ant-admin01-xyz") == std::string::npos);
}
