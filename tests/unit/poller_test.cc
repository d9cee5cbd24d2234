// The Admin API poller on a fake timeline: a ManualClock whose sleeps jump ahead, a scripted
// client that records what was asked and when, and an in-memory sink. Each test runs the loop
// until the timeline ends and asserts what was requested and stored.
#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <map>
#include <set>

#include "cce/admin/poller.h"
#include "cce/admin/usage_report_source.h"
#include "test_support.h"

using namespace cce;
using namespace std::chrono_literals;

namespace {

util::Date date(const char* s) {
  return *util::Date::parse(s);
}

std::string page_json(util::Date day, const std::string& email, int sessions, bool has_more,
                      const std::string& next = "") {
  return R"({"data":[{"date":")" + day.str() +
         R"(T00:00:00Z","actor":{"type":"user_actor","email_address":")" + email +
         R"("},"core_metrics":{"num_sessions":)" + std::to_string(sessions) +
         R"(,"lines_of_code":{"added":0,"removed":0},"commits_by_claude_code":0,)"
         R"("pull_requests_by_claude_code":0},"tool_actions":{},"model_breakdown":[]}],)"
         R"("has_more":)" +
         (has_more ? "true" : "false") + R"(,"next_page":)" +
         (has_more ? "\"" + next + "\"" : "null") + "}";
}

struct Request {
  double at;  // seconds since the start of the timeline
  util::Date day;
  std::string cursor;
};

// Answers from a script: each call pops the next scripted answer for that day, else `fallback`.
class FakeClient final : public admin::ApiGetter {
 public:
  FakeClient(const util::ManualClock& clock, util::TimePoint start)
      : clock_(clock), start_(start) {}
  admin::HttpResult get(const std::string& path, const admin::QueryParams& params) override {
    CHECK(path == admin::UsageReportSource::kPath);
    util::Date day;
    std::string cursor;
    for (const auto& [k, v] : params) {
      if (k == "starting_at") day = *util::Date::parse(v);
      if (k == "page") cursor = v;
    }
    requests.push_back({std::chrono::duration<double>(clock_.now() - start_).count(), day, cursor});
    auto& q = script[day];
    if (!q.empty()) {
      auto r = q.front();
      q.pop_front();
      return r;
    }
    return fallback(day, cursor);
  }
  static admin::HttpResult ok(std::string body) { return {200, std::move(body), {}, {}}; }
  static admin::HttpResult status(int code, std::optional<double> retry_after = {}) {
    return {code, R"({"type":"error","error":{"type":"x","message":"y"}})", retry_after, {}};
  }

  std::vector<Request> requests;
  std::map<util::Date, std::deque<admin::HttpResult>> script;
  std::function<admin::HttpResult(util::Date, const std::string&)> fallback =
      [](util::Date day, const std::string&) {
        return ok(page_json(day, "a@example.com", 1, false));
      };

 private:
  const util::ManualClock& clock_;
  util::TimePoint start_;
};

class FakeSink final : public ingest::DaySink {
 public:
  bool replace_api_day(util::Date day, std::vector<usage::Observation> observations,
                       std::optional<ingest::BackfillProgress> p,
                       const ingest::ApiDayTarget& target) override {
    const std::string& key = target.state_key;
    CHECK(key == "admin_api.backfill");
    stored.push_back(day);
    std::set<std::string> actors;
    for (const auto& o : observations)
      actors.insert(o.actor.key());
    rows[day] = actors.size();
    if (p) progress = p;
    return true;
  }
  bool save_progress(const std::string& key, const ingest::BackfillProgress& p) override {
    CHECK(key == "admin_api.backfill");
    progress = p;
    return true;
  }
  std::optional<ingest::BackfillProgress> load_progress(const std::string& key) override {
    CHECK(key == "admin_api.backfill");
    return progress;
  }

  std::vector<util::Date> stored;
  std::map<util::Date, size_t> rows;  // actors stored per day
  std::optional<ingest::BackfillProgress> progress;
};

struct Timeline {
  explicit Timeline(const char* start_at = "2026-11-22T12:00:00Z")
      : start(*util::parse_time_point(start_at)), clock(start), client(clock, start) {
    options.backfill_days = 3;
    options.poll_interval = 15min;
    options.refresh_days = 3;
    options.requests.min_request_interval = 1s;
    options.requests.retry_backoff = 1s;
    options.requests.retry_backoff_max = 2min;
    options.requests.max_attempts = 4;
  }
  // A backfill that finished earlier: the poller only refreshes.
  void backfill_done() {
    const auto today = util::Date::from_time(start);
    sink.progress = ingest::BackfillProgress{today - 10, today - 11};
  }
  void run_for(std::chrono::seconds d) {
    clock.end_at(start + d);
    admin::UsageReportSource source(client, max_pages_per_day, {});
    admin::Poller poller("admin_api", options, source, sink, metrics.api_source("admin_api"), clock,
                         "sk-ant-admin01-secret");
    poller.run();
  }
  // The days asked for in one refresh cycle, by its start time.
  std::map<double, std::vector<util::Date>> cycles() const {
    std::map<double, std::vector<util::Date>> out;
    double cycle = -1;
    for (const auto& r : client.requests) {
      if (cycle < 0 || r.at - cycle > 60) cycle = r.at;
      out[cycle].push_back(r.day);
    }
    return out;
  }

  util::TimePoint start;
  util::ManualClock clock;
  FakeClient client;
  FakeSink sink;
  metrics::AgentMetrics metrics;
  admin::PollerOptions options;
  int max_pages_per_day = 1000;
};

}  // namespace

TEST_CASE("timeline: the last refresh_days are polled every poll_interval, newest first") {
  Timeline t;
  t.backfill_done();
  t.run_for(1h);
  const auto cycles = t.cycles();
  // A resumed agent refreshes at once, then every 15 minutes (plus the 1 s request spacing).
  REQUIRE(cycles.size() == 4);
  std::vector<double> starts;
  for (const auto& [at, days] : cycles) {
    starts.push_back(at);
    CHECK(days ==
          std::vector<util::Date>{date("2026-11-22"), date("2026-11-21"), date("2026-11-20")});
  }
  CHECK(starts[0] == 0);
  for (size_t i = 1; i < starts.size(); ++i) {
    CAPTURE(i);
    CHECK(starts[i] - starts[i - 1] == doctest::Approx(15 * 60 + 2).epsilon(0.001));
  }
  // Requests within a cycle are min_request_interval apart.
  CHECK(t.client.requests[1].at - t.client.requests[0].at == doctest::Approx(1));
  CHECK(t.sink.stored.size() == 12);
}

TEST_CASE("timeline: errors back off exponentially with jitter; retry-after is honoured") {
  Timeline t;
  t.backfill_done();
  const auto today = date("2026-11-22");
  t.client.script[today] = {FakeClient::status(500), FakeClient::status(503),
                            FakeClient::status(429, 30.0),
                            FakeClient::ok(page_json(today, "a@example.com", 2, false))};
  t.run_for(5min);
  REQUIRE(t.client.requests.size() >= 4);
  const auto& r = t.client.requests;
  for (int i = 0; i < 4; ++i)
    CHECK(r[static_cast<size_t>(i)].day == today);
  // Backoff steps 1 s, 2 s (each 50-100 %, at least min_request_interval after the last).
  CHECK(r[1].at - r[0].at >= 1.0);
  CHECK(r[1].at - r[0].at <= 1.0 + 1e-9);
  CHECK(r[2].at - r[1].at >= 1.0);
  CHECK(r[2].at - r[1].at <= 2.0 + 1e-9);
  // The 429 said 30 s: exactly that, not the backoff.
  CHECK(r[3].at - r[2].at == doctest::Approx(30));
  CHECK(t.sink.stored.front() == today);
  CHECK(t.sink.rows[today] == 1);
}

TEST_CASE("timeline: retries are bounded by max_attempts; the day is fetched again next cycle") {
  Timeline t;
  t.backfill_done();
  const auto today = date("2026-11-22");
  t.client.fallback = [](util::Date, const std::string&) { return FakeClient::status(500); };
  t.run_for(20min);
  const auto cycles = t.cycles();
  REQUIRE(cycles.size() == 2);
  // max_attempts = 4 for the newest day, then the cycle stops (the others would fail alike).
  CHECK(cycles.begin()->second == std::vector<util::Date>(4, today));
  CHECK(t.sink.stored.empty());
}

TEST_CASE("timeline: 401 pauses polling until the next cycle, then it resumes") {
  Timeline t;
  t.backfill_done();
  const auto today = date("2026-11-22");
  t.client.script[today] = {FakeClient::status(401)};
  t.run_for(16min);
  const auto cycles = t.cycles();
  REQUIRE(cycles.size() == 2);
  CHECK(cycles.begin()->second == std::vector<util::Date>{today});  // not retried, no other day
  CHECK(std::next(cycles.begin())->first == doctest::Approx(15 * 60));
  CHECK(std::next(cycles.begin())->second.size() == 3);
  CHECK(t.sink.stored.size() == 3);
}

TEST_CASE("timeline: at UTC midnight the refresh moves on to the new day") {
  Timeline t("2026-11-22T23:50:00Z");
  t.backfill_done();
  t.run_for(20min);
  const auto cycles = t.cycles();
  REQUIRE(cycles.size() == 2);
  CHECK(cycles.begin()->second ==
        std::vector<util::Date>{date("2026-11-22"), date("2026-11-21"), date("2026-11-20")});
  CHECK(std::next(cycles.begin())->second ==
        std::vector<util::Date>{date("2026-11-23"), date("2026-11-22"), date("2026-11-21")});
}

TEST_CASE("timeline: a new backfill walks newest first, page by page, and records progress") {
  Timeline t;
  t.options.backfill_days = 4;
  const auto today = date("2026-11-22");
  t.client.script[today - 1] = {
      FakeClient::ok(page_json(today - 1, "a@example.com", 1, true, "c2")),
      FakeClient::ok(page_json(today - 1, "b@example.com", 1, false))};
  t.run_for(10min);
  std::vector<std::pair<util::Date, std::string>> asked;
  for (const auto& r : t.client.requests)
    asked.emplace_back(r.day, r.cursor);
  CHECK(asked ==
        std::vector<std::pair<util::Date, std::string>>{
            {today, ""}, {today - 1, ""}, {today - 1, "c2"}, {today - 2, ""}, {today - 3, ""}});
  CHECK(t.sink.stored == std::vector<util::Date>{today, today - 1, today - 2, today - 3});
  CHECK(t.sink.rows[today - 1] == 2);  // both pages of the day, stored together
  REQUIRE(t.sink.progress);
  CHECK(t.sink.progress->done());
}

TEST_CASE("timeline: a restarted agent refreshes first, then resumes the backfill where it was") {
  Timeline t;
  const auto today = date("2026-11-22");
  t.sink.progress = ingest::BackfillProgress{today - 9, today - 5};
  t.run_for(10min);
  std::vector<util::Date> asked;
  for (const auto& r : t.client.requests)
    asked.push_back(r.day);
  CHECK(asked == std::vector<util::Date>{today, today - 1, today - 2, today - 5, today - 6,
                                         today - 7, today - 8, today - 9});
  REQUIRE(t.sink.progress);
  CHECK(t.sink.progress->done());
}

TEST_CASE("timeline: a 400 for one backfill day skips it; the backfill goes on") {
  Timeline t;
  t.options.backfill_days = 3;
  const auto today = date("2026-11-22");
  t.client.script[today - 1] = {FakeClient::status(400)};
  t.run_for(5min);
  CHECK(t.sink.stored == std::vector<util::Date>{today, today - 2});
  REQUIRE(t.sink.progress);
  CHECK(t.sink.progress->done());
}

TEST_CASE("timeline: a retry-after beyond max_retry_after is capped") {
  Timeline t;
  t.backfill_done();
  t.options.requests.max_retry_after = 2min;
  const auto today = date("2026-11-22");
  t.client.script[today] = {FakeClient::status(429, 31536000.0)};
  t.run_for(10min);
  REQUIRE(t.client.requests.size() >= 2);
  CHECK(t.client.requests[1].at - t.client.requests[0].at == doctest::Approx(120));
  CHECK(t.sink.stored.front() == today);
}

TEST_CASE("timeline: a cursor that loops skips the day, and the poller goes on to the next") {
  Timeline t;
  t.backfill_done();
  const auto today = date("2026-11-22");
  t.client.script[today] = {FakeClient::ok(page_json(today, "a@example.com", 1, true, "same")),
                            FakeClient::ok(page_json(today, "a@example.com", 1, true, "same"))};
  t.run_for(1min);
  std::vector<std::pair<util::Date, std::string>> asked;
  for (const auto& r : t.client.requests)
    asked.emplace_back(r.day, r.cursor);
  CHECK(asked == std::vector<std::pair<util::Date, std::string>>{
                     {today, ""}, {today, "same"}, {today - 1, ""}, {today - 2, ""}});
  CHECK(t.sink.stored == std::vector<util::Date>{today - 1, today - 2});
}

TEST_CASE("timeline: a day needing more than max_pages_per_day pages is skipped") {
  Timeline t;
  t.backfill_done();
  t.max_pages_per_day = 3;
  const auto today = date("2026-11-22");
  int n = 0;
  t.client.fallback = [&](util::Date day, const std::string&) {
    if (day != today) return FakeClient::ok(page_json(day, "a@example.com", 1, false));
    return FakeClient::ok(page_json(day, "a@example.com", 1, true, "c" + std::to_string(++n)));
  };
  t.run_for(1min);
  size_t today_requests = 0;
  for (const auto& r : t.client.requests)
    today_requests += r.day == today;
  CHECK(today_requests == 3);
  CHECK(t.sink.stored == std::vector<util::Date>{today - 1, today - 2});
}
