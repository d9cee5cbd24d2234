// The Enterprise Analytics source: its pages parse into the same observations as the Admin API
// report, and on a fake timeline a day counts only once /users, cost and usage all have it.
#include <doctest/doctest.h>

#include <deque>
#include <map>

#include "cce/admin/analytics_report.h"
#include "cce/admin/analytics_source.h"
#include "cce/admin/organizations.h"
#include "cce/admin/poller.h"
#include "cce/admin/spend_limits_poll.h"
#include "cce/config/config.h"
#include "test_support.h"

using namespace cce;
using namespace std::chrono_literals;
using usage::Quantity;

namespace {

const util::Date kDay = *util::Date::parse("2026-11-20");

const auto sums = test::observation_sums;

std::string users_body(const std::string& email, int sessions, const char* next = nullptr) {
  return R"({"data":[{"user":{"id":"user_1","email_address":")" + email +
         R"(","type":"user"},"claude_code_metrics":{"core_metrics":{"commit_count":2,)"
         R"("pull_request_count":1,"distinct_session_count":)" +
         std::to_string(sessions) +
         R"(,"lines_of_code":{"added_count":30,"removed_count":4}},"tool_actions":{)"
         R"("edit_tool":{"accepted_count":5,"rejected_count":1},)"
         R"("multi_edit_tool":{"accepted_count":0,"rejected_count":0},)"
         R"("notebook_edit_tool":{"accepted_count":0,"rejected_count":0},)"
         R"("write_tool":{"accepted_count":2,"rejected_count":0}}},"chat_metrics":{}}],)"
         R"("next_page":)" +
         (next ? "\"" + std::string(next) + "\"" : "null") + "}";
}

std::string cost_body(const std::string& email, const char* amount,
                      const char* refreshed = "2026-11-22T08:00:00Z") {
  return R"({"data":[{"actor":{"type":"user_actor","user_id":"user_1","email":")" + email +
         R"("},"model":"claude-sonnet-5","amount":")" + amount +
         R"(","currency":"USD","starting_at":"2026-11-20T00:00:00Z"}],"has_more":false,)"
         R"("next_page":null,"data_refreshed_at":")" +
         refreshed + R"(","organization_id":"org_1"})";
}

const char* kUsageBody =
    R"({"data":[{"actor":{"type":"user_actor","user_id":"user_1","email_address":"a@example.com"},)"
    R"("model":"claude-sonnet-5","uncached_input_tokens":100,"output_tokens":20,)"
    R"("cache_read_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":7,)"
    R"("ephemeral_1h_input_tokens":3}}],"has_more":false,"next_page":null,)"
    R"("data_refreshed_at":"2026-11-22T08:00:00Z","organization_id":"org_1"})";

}  // namespace

TEST_CASE("/users rows become engagement observations; rows without a user are counted apart") {
  const std::string body =
      R"({"data":[{"user":{"id":"user_1","email_address":"Dev@Example.com"},)"
      R"("claude_code_metrics":{"core_metrics":{"commit_count":2,"pull_request_count":1,)"
      R"("distinct_session_count":null,"lines_of_code":{"added_count":30,"removed_count":4},)"
      R"("some_new_field":7},"tool_actions":{"edit_tool":{"accepted_count":5,"rejected_count":1},)"
      R"("write_tool":{"accepted_count":2,"rejected_count":0}}}},)"
      R"({"user":null,"rbac_group_id":"g1","claude_code_metrics":{}},)"
      R"({"user":{"id":"user_2","email_address":"b@example.com"},)"
      R"("claude_code_metrics":{"core_metrics":{"commit_count":-1}}}],"next_page":"p2"})";
  auto parsed = admin::parse_users_page(body, kDay);
  REQUIRE(std::holds_alternative<admin::UsersPage>(parsed));
  const auto& page = std::get<admin::UsersPage>(parsed);
  CHECK(page.records == 3);
  CHECK(page.non_user_rows == 1);
  REQUIRE(page.skipped.size() == 1);
  CHECK(page.skipped[0] == "row 2: claude_code_metrics.core_metrics.commit_count is negative");
  CHECK(page.next_page == "p2");
  auto s = sums(page.observations);
  CHECK(s["user:dev@example.com sessions "] == 0);  // null distinct count: none known
  CHECK(s["user:dev@example.com commits "] == 2);
  CHECK(s["user:dev@example.com pull_requests "] == 1);
  CHECK(s["user:dev@example.com lines_added "] == 30);
  CHECK(s["user:dev@example.com lines_removed "] == 4);
  CHECK(s["user:dev@example.com tool_decisions edit/accepted"] == 5);
  CHECK(s["user:dev@example.com tool_decisions write/accepted"] == 2);
  for (const auto& o : page.observations)
    CHECK(o.date == kDay);
}

TEST_CASE("cost and usage rows: decimal cents, both email fields, non-user actors skipped") {
  const std::string cost =
      R"({"data":[)"
      R"({"actor":{"type":"user_actor","email":"a@example.com"},"model":"claude-opus-4-6[1m]",)"
      R"("amount":"41280.500000","currency":"USD"},)"
      R"({"actor":{"type":"user_actor","email_address":"A@example.com","email":"x@y"},)"
      R"("model":"claude-opus-4-6","amount":"0.25","currency":"USD"},)"
      R"({"actor":{"type":"service_account_actor","service_account_id":"sa_1"},"amount":"5"},)"
      R"({"actor":{"type":"user_actor","email":null,"deleted":true},"amount":"5"},)"
      R"({"actor":{"type":"user_actor","email":"c@example.com"},"amount":"12abc"},)"
      R"({"actor":{"type":"user_actor","email":"c@example.com"},"amount":"1","currency":"EUR"}],)"
      R"("has_more":true,"next_page":"n","organization_id":"org_9",)"
      R"("data_refreshed_at":"2026-11-21T04:00:00Z"})";
  auto parsed = admin::parse_report_page(cost, admin::ReportKind::kCost, kDay);
  REQUIRE(std::holds_alternative<admin::ReportPage>(parsed));
  const auto& page = std::get<admin::ReportPage>(parsed);
  CHECK(page.has_more);
  CHECK(page.organization_id == "org_9");
  REQUIRE(page.data_refreshed_at);
  CHECK(page.non_user_rows == 2);
  REQUIRE(page.skipped.size() == 2);
  CHECK(page.skipped[0] == "row 4: .amount \"12abc\" is not a non-negative decimal");
  CHECK(page.skipped[1] == "row 5: currency is EUR, not USD");
  auto s = sums(page.observations);
  CHECK(s["user:a@example.com cost_usd claude-opus-4-6"] == doctest::Approx(412.8075));

  auto usage = admin::parse_report_page(kUsageBody, admin::ReportKind::kUsage, kDay);
  REQUIRE(std::holds_alternative<admin::ReportPage>(usage));
  auto t = sums(std::get<admin::ReportPage>(usage).observations);
  CHECK(t["user:a@example.com tokens claude-sonnet-5/input"] == 100);
  CHECK(t["user:a@example.com tokens claude-sonnet-5/output"] == 20);
  CHECK(t["user:a@example.com tokens claude-sonnet-5/cache_read"] == 300);
  CHECK(t["user:a@example.com tokens claude-sonnet-5/cache_creation"] == 10);

  CHECK(std::holds_alternative<admin::PageError>(
      admin::parse_report_page(R"({"data":[]})", admin::ReportKind::kCost, kDay)));
  CHECK(std::holds_alternative<admin::PageError>(admin::parse_users_page("<html>", kDay)));
}

TEST_CASE("a \"not available yet\" 400 names the latest day before the one asked for") {
  const auto asked = *util::Date::parse("2026-11-22");
  CHECK(admin::latest_available_day(
            R"({"type":"error","error":{"type":"invalid_request_error","message":"Data for )"
            R"(2026-11-22 is not available yet. The latest available date is 2026-11-20."}})",
            asked) == util::Date::parse("2026-11-20"));
  CHECK(admin::latest_available_day(
            R"j({"error":{"message":"latest available: 2026-11-19 (asked 2026-11-22)"}})j",
            asked) == util::Date::parse("2026-11-19"));
  CHECK_FALSE(admin::latest_available_day(
      R"({"type":"error","error":{"type":"invalid_request_error","message":"bad limit"}})", asked));
  CHECK_FALSE(admin::latest_available_day(
      R"({"error":{"message":"date 2026-11-22 must not be in the future"}})", asked));
}

namespace {

// Answers per (endpoint, date) from a script, else from `fallback`; records the requests.
class ScriptedApi final : public admin::ApiGetter {
 public:
  admin::HttpResult get(const std::string& path, const admin::QueryParams& params) override {
    std::string endpoint = path.substr(path.rfind('/') + 1);
    std::string day, cursor;
    for (const auto& [k, v] : params) {
      if (k == "date" || k == "starting_at") day = v.substr(0, 10);
      if (k == "page") cursor = v;
    }
    asked.push_back(endpoint + " " + day + (cursor.empty() ? "" : " " + cursor));
    auto& q = script[endpoint + " " + day];
    if (!q.empty()) {
      auto r = q.front();
      q.pop_front();
      return r;
    }
    return fallback(endpoint, day);
  }
  static admin::HttpResult ok(std::string body) { return {200, std::move(body), {}, {}}; }
  static admin::HttpResult status(int code, std::string message = "y") {
    return {
        code, R"({"type":"error","error":{"type":"x","message":")" + message + R"("}})", {}, {}};
  }
  std::vector<std::string> asked;
  std::map<std::string, std::deque<admin::HttpResult>> script;
  std::function<admin::HttpResult(const std::string&, const std::string&)> fallback =
      [](const std::string& endpoint, const std::string& day) {
        if (day > "2026-11-20") {
          return status(400, "Data for " + day + " is not available yet; latest: 2026-11-20");
        }
        if (endpoint == "users") return ok(users_body("a@example.com", 3));
        if (endpoint == "user_cost_report") return ok(cost_body("a@example.com", "150"));
        return ok(kUsageBody);
      };
};

class MemorySink final : public ingest::DaySink {
 public:
  bool replace_api_day(util::Date day, std::vector<usage::Observation> obs,
                       std::optional<ingest::BackfillProgress> p,
                       const ingest::ApiDayTarget& target) override {
    const std::string& key = target.state_key;
    CHECK(key == "enterprise_analytics.backfill");
    stored[day] = sums(obs);
    if (p) progress = p;
    return true;
  }
  bool save_progress(const std::string&, const ingest::BackfillProgress& p) override {
    progress = p;
    return true;
  }
  std::optional<ingest::BackfillProgress> load_progress(const std::string&) override {
    return progress;
  }
  std::map<util::Date, std::map<std::string, double>> stored;
  std::optional<ingest::BackfillProgress> progress;
};

struct Timeline {
  Timeline() : start(*util::parse_time_point("2026-11-22T12:00:00Z")), clock(start) {
    options.backfill_days = 4;
    options.refresh_days = 3;
    options.poll_interval = 1h;
    options.requests.min_request_interval = 1s;
    options.requests.max_attempts = 3;
  }
  void run_for(std::chrono::seconds d, admin::OrganizationClaims* claims = nullptr) {
    clock.end_at(start + d);
    admin::AnalyticsSource source(api, 100, {});
    admin::Poller poller("enterprise_analytics", options, source, sink,
                         metrics.api_source("enterprise_analytics"), clock, "sk-ant-api01-secret",
                         claims);
    poller.run();
  }
  util::TimePoint start;
  util::ManualClock clock;
  ScriptedApi api;
  MemorySink sink;
  metrics::AgentMetrics metrics;
  admin::PollerOptions options;
};

}  // namespace

TEST_CASE("timeline: a day counts once all three endpoints have it; unfinished days wait") {
  Timeline t;
  t.run_for(30min);
  // 2026-11-22 is refused as not ready (naming 2026-11-20): 2026-11-21 is not even asked.
  CHECK(t.api.asked == std::vector<std::string>{
                           "users 2026-11-22", "users 2026-11-20", "user_cost_report 2026-11-20",
                           "user_usage_report 2026-11-20", "users 2026-11-19",
                           "user_cost_report 2026-11-19", "user_usage_report 2026-11-19"});
  REQUIRE(t.sink.stored.size() == 2);
  auto& day = t.sink.stored[kDay];
  CHECK(day["user:a@example.com cost_usd claude-sonnet-5"] == 1.5);
  CHECK(day["user:a@example.com sessions "] == 3);
  CHECK(day["user:a@example.com tokens claude-sonnet-5/cache_creation"] == 10);
  REQUIRE(t.sink.progress);
  CHECK(t.sink.progress->done());

  // A later refresh finds 2026-11-21 finished.
  Timeline later;
  later.sink.progress = ingest::BackfillProgress{kDay - 2, kDay - 3};  // backfill done
  later.api.fallback = [](const std::string& endpoint, const std::string&) {
    if (endpoint == "users") return ScriptedApi::ok(users_body("a@example.com", 1));
    if (endpoint == "user_cost_report") {
      return ScriptedApi::ok(cost_body("a@example.com", "10", "2026-11-22T09:00:00Z"));
    }
    return ScriptedApi::ok(kUsageBody);
  };
  later.api.script["user_cost_report 2026-11-22"] = {
      ScriptedApi::ok(cost_body("a@example.com", "10"))};  // exported up to 08:00 today
  later.run_for(10min);
  CHECK(later.sink.stored.count(*util::Date::parse("2026-11-21")) == 1);
  CHECK(later.sink.stored.count(*util::Date::parse("2026-11-22")) == 0);  // not complete yet
}

TEST_CASE("timeline: an expired cursor restarts the report, at most kMaxRestarts times") {
  Timeline t;
  t.options.backfill_days = 1;
  t.clock.set(*util::parse_time_point("2026-11-20T23:00:00Z"));
  t.start = t.clock.now();
  t.api.fallback = [](const std::string& endpoint, const std::string&) {
    if (endpoint == "users") return ScriptedApi::ok(users_body("a@example.com", 1));
    return ScriptedApi::ok(kUsageBody);
  };
  auto first = ScriptedApi::ok(
      R"({"data":[],"has_more":true,"next_page":"c2","data_refreshed_at":"2026-11-22T00:00:00Z"})");
  t.api.script["user_cost_report 2026-11-20"] = {first, ScriptedApi::status(410), first,
                                                 ScriptedApi::ok(cost_body("a@example.com", "7"))};
  t.run_for(5min);
  CHECK(t.sink.stored[kDay]["user:a@example.com cost_usd claude-sonnet-5"] == 0.07);
  CHECK(t.metrics.api_source("enterprise_analytics").last_success() > 0);

  Timeline always;
  always.options.backfill_days = 1;
  always.clock.set(*util::parse_time_point("2026-11-20T23:00:00Z"));
  always.start = always.clock.now();
  always.api.fallback = [&](const std::string& endpoint, const std::string&) {
    if (endpoint == "users") return ScriptedApi::ok(users_body("a@example.com", 1));
    return always.api.asked.back().find(" c2") != std::string::npos ? ScriptedApi::status(410)
                                                                    : first;
  };
  always.run_for(5min);
  CHECK(always.sink.stored.empty());
  size_t cost_requests = 0;
  for (const auto& a : always.api.asked)
    cost_requests += a.rfind("user_cost_report", 0) == 0;
  CHECK(cost_requests == 2 * admin::AnalyticsSource::kMaxRestarts);
}

TEST_CASE("timeline: 401, 403 and 404 halt the cycle without retries and name the scope") {
  for (int code : {401, 403, 404}) {
    CAPTURE(code);
    Timeline t;
    t.sink.progress = ingest::BackfillProgress{kDay - 2, kDay - 3};
    t.api.fallback = [&](const std::string&, const std::string&) {
      return ScriptedApi::status(code);
    };
    t.run_for(30min);
    CHECK(t.api.asked == std::vector<std::string>{"users 2026-11-22"});
    CHECK(t.sink.stored.empty());
  }
}

TEST_CASE("timeline: people with no Claude Code activity that day are left to OTel") {
  Timeline t;
  t.options.backfill_days = 1;
  t.clock.set(*util::parse_time_point("2026-11-20T23:00:00Z"));
  t.start = t.clock.now();
  t.api.fallback = [](const std::string& endpoint, const std::string&) {
    if (endpoint == "users") return ScriptedApi::ok(users_body("idle@example.com", 0));
    if (endpoint == "user_cost_report") return ScriptedApi::ok(cost_body("a@example.com", "0"));
    return ScriptedApi::ok(R"({"data":[],"has_more":false,"next_page":null})");
  };
  // idle@ has commits and lines in users_body: make a truly idle row.
  t.api.script["users 2026-11-20"] = {ScriptedApi::ok(
      R"({"data":[{"user":{"email_address":"idle@example.com"},"claude_code_metrics":{}},)"
      R"({"user":{"email_address":"b@example.com"},"claude_code_metrics":{"core_metrics":)"
      R"({"commit_count":1}}}],"next_page":null})")};
  t.run_for(5min);
  const auto& day = t.sink.stored[kDay];
  for (const auto& [key, v] : day) {
    CAPTURE(key);
    CHECK(key.rfind("user:b@example.com ", 0) == 0);
  }
  CHECK(day.at("user:b@example.com commits ") == 1);
}

TEST_CASE("a second source reporting an organization already counted is paused") {
  admin::OrganizationClaims claims;
  CHECK(claims.claim("admin_api", "org_1").empty());
  CHECK(claims.claim("admin_api", "org_1").empty());
  const std::string same = claims.claim("enterprise_analytics", "org_1");
  CHECK(same.find("reports the same organization (org_1) as admin_api") != std::string::npos);
  CHECK(same.find("Enable only one") != std::string::npos);
  CHECK(claims.claim("enterprise_analytics", "org_2").find("as an [[organizations]] entry") !=
        std::string::npos);

  // With several organizations configured, only the same organization twice is refused.
  admin::OrganizationClaims several(false);
  CHECK(several.claim("a/admin_api", "org_1").empty());
  CHECK(several.claim("b/enterprise_analytics", "org_2").empty());
  CHECK(several.claim("c/enterprise_analytics", "org_2").find("as b/enterprise_analytics") !=
        std::string::npos);

  Timeline t;
  t.options.backfill_days = 4;
  t.run_for(10min, &claims);  // its pages say org_1
  CHECK(t.sink.stored.empty());
  CHECK(t.api.asked.size() == 4);  // the not-ready day, then one whole day: no more
  CHECK(t.metrics.api_source("enterprise_analytics").backfill_remaining() == 2);
}

TEST_CASE("keys: each kind where the other belongs is refused, naming where it goes") {
  auto refused = [](const char* env_name, const char* key) {
    auto c = config::parse("", "t");
    try {
      config::apply_environment(c, [&](const char* name) -> const char* {
        return std::string(name) == env_name ? key : nullptr;
      });
    } catch (const config::ConfigError& e) {
      const std::string msg = e.what();
      CHECK(msg.find(std::string(key).substr(14)) == std::string::npos);  // never the key
      return msg;
    }
    return std::string();
  };
  const std::string in_admin = refused("ANTHROPIC_ADMIN_API_KEY", "sk-ant-api01-abcdefsecret");
  CHECK(in_admin.find("ANTHROPIC_ADMIN_API_KEY holds a claude.ai Enterprise key") == 0);
  CHECK(in_admin.find("belongs in [enterprise_analytics]") != std::string::npos);
  CHECK(in_admin.find("Settings → Admin keys") != std::string::npos);
  const std::string in_analytics =
      refused("ANTHROPIC_ANALYTICS_API_KEY", "sk-ant-admin01-abcdefsecret");
  CHECK(in_analytics.find("ANTHROPIC_ANALYTICS_API_KEY holds an Admin API key") == 0);
  CHECK(in_analytics.find("belongs in [admin_api]") != std::string::npos);
  CHECK(in_analytics.find("claude.ai → Organization settings → API") != std::string::npos);
  CHECK(
      refused("ANTHROPIC_ANALYTICS_API_KEY", "sk-ant-api03-abcdefsecret").find("regular API key") !=
      std::string::npos);
  CHECK(refused("ANTHROPIC_ANALYTICS_API_KEY", "sk-ant-api01-abcdefsecret").empty());
}

TEST_CASE("spend caps: minor units to the currency's major unit, null = no cap, never converted") {
  const std::string body =
      R"({"data":[)"
      R"({"actor":{"type":"user_actor","user_id":"u1","email_address":"Ana@example.com"},)"
      R"("amount":"50000","currency":"USD","period":"monthly","period_to_date_spend":"31402.5",)"
      R"("source":{"type":"seat_tier","seat_tier":"enterprise_standard"}},)"
      R"({"actor":{"type":"user_actor","user_id":"u2","email_address":"bo@example.com"},)"
      R"("amount":null,"currency":"JPY","period":"monthly","period_to_date_spend":"1200"},)"
      R"({"actor":{"type":"scoped_api_key_actor","scoped_api_key_id":"k1"},"amount":"1",)"
      R"("currency":"USD","period":"monthly","period_to_date_spend":"0"},)"
      R"({"actor":{"type":"user_actor","email_address":"c@example.com"},"amount":"-5",)"
      R"("currency":"KWD","period":"monthly","period_to_date_spend":"0"},)"
      R"({"actor":{"type":"user_actor","email_address":"d@example.com"},"amount":"1500",)"
      R"("currency":"KWD","period":"weekly","period_to_date_spend":"250"}],"next_page":"p2"})";
  auto parsed = admin::parse_spend_limits_page(body);
  REQUIRE(std::holds_alternative<admin::SpendLimitsPage>(parsed));
  const auto& page = std::get<admin::SpendLimitsPage>(parsed);
  CHECK(page.next_page == "p2");
  CHECK(page.non_user_rows == 1);
  REQUIRE(page.skipped.size() == 1);
  CHECK(page.skipped[0] == "row 3: amount is negative");
  REQUIRE(page.rows.size() == 3);
  CHECK(page.rows[0].actor.id == "ana@example.com");
  CHECK(page.rows[0].amount == 500.0);
  CHECK(page.rows[0].period_spend == doctest::Approx(314.025));
  CHECK_FALSE(page.rows[1].amount);
  CHECK(page.rows[1].currency == "JPY");
  CHECK(page.rows[1].period_spend == 1200);  // yen have no minor unit
  CHECK(page.rows[2].amount == 1.5);         // dinar: thousandths
  CHECK(page.rows[2].period == "weekly");
  CHECK(usage::currency_exponent("EUR") == 2);
}

TEST_CASE("timeline: a refresh covers refresh_days finished days, however long the lag") {
  Timeline t;
  t.options.refresh_days = 2;
  t.sink.progress = ingest::BackfillProgress{kDay - 2, kDay - 3};  // backfill done
  t.run_for(10min);
  // 2026-11-22 is refused naming 2026-11-20; 2026-11-21 is skipped; two finished days follow.
  CHECK(t.api.asked == std::vector<std::string>{
                           "users 2026-11-22", "users 2026-11-20", "user_cost_report 2026-11-20",
                           "user_usage_report 2026-11-20", "users 2026-11-19",
                           "user_cost_report 2026-11-19", "user_usage_report 2026-11-19"});
  CHECK(t.sink.stored.size() == 2);
}
