#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "cce/usage/otel_normalizer.h"
#include "test_support.h"

using namespace cce;
using otlp::Attribute;
using otlp::Attributes;
using usage::Quantity;

namespace {

const uint64_t kT0 = 1795314293000000000ULL;  // 2026-11-22T02:24:53Z
const std::string kInstall = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Attributes who(std::initializer_list<Attribute> extra = {}) {
  Attributes a{{"user.id", std::string(kInstall)}, {"session.id", std::string("s1")}};
  a.insert(a.end(), extra);
  return a;
}

otlp::MetricsRequest request(const std::string& name, otlp::Temporality t,
                             std::vector<otlp::NumberPoint> points,
                             Attributes resource = {{"service.name", std::string("claude-code")}}) {
  otlp::Metric m;
  m.name = name;
  m.kind = otlp::MetricKind::kSum;
  m.temporality = t;
  m.monotonic = true;
  m.points = std::move(points);
  otlp::MetricsRequest r;
  r.resources.push_back({std::make_shared<const Attributes>(std::move(resource)),
                         {otlp::ScopeMetrics{{"com.anthropic.claude_code", "2.1.330"}, {m}}}});
  return r;
}

otlp::NumberPoint point(double v, uint64_t start, uint64_t end, Attributes attrs = who()) {
  otlp::NumberPoint p;
  p.attributes = std::move(attrs);
  p.start_ns = start;
  p.time_ns = end;
  p.value = v;
  return p;
}

double total(const usage::IngestResult& r, Quantity q) {
  double t = 0;
  for (const auto& o : r.observations) {
    if (o.quantity == q) t += o.value;
  }
  return t;
}

usage::OtelNormalizer normalizer(usage::IdentityConfig id = {}) {
  return usage::OtelNormalizer(id, 3600, 86400);
}

const auto kNow = test::fixture_noon();
constexpr auto kDelta = otlp::Temporality::kDelta;
constexpr auto kCumulative = otlp::Temporality::kCumulative;

}  // namespace

TEST_CASE("delta points are added; a replayed point counts once") {
  auto n = normalizer();
  auto req = request("claude_code.commit.count", kDelta,
                     {point(1, kT0, kT0 + 1000), point(2, kT0 + 1000, kT0 + 2000)});
  auto r1 = n.ingest(req, kNow);
  CHECK(total(r1, Quantity::kCommits) == 3);
  CHECK(r1.accepted == 2);
  auto r2 = n.ingest(req, kNow);  // the exporter retried after a 503
  CHECK(total(r2, Quantity::kCommits) == 0);
  CHECK(r2.duplicate == 2);
  CHECK(r2.accepted == 0);
}

TEST_CASE("cumulative series become deltas, with resets and retries") {
  auto n = normalizer();
  const std::string name = "claude_code.session.count";
  CHECK(total(n.ingest(request(name, kCumulative, {point(2, kT0, kT0 + 10)}), kNow),
              Quantity::kSessions) == 2);
  CHECK(total(n.ingest(request(name, kCumulative, {point(5, kT0, kT0 + 20)}), kNow),
              Quantity::kSessions) == 3);
  // The same point again (a retry): nothing new.
  auto retry = n.ingest(request(name, kCumulative, {point(5, kT0, kT0 + 20)}), kNow);
  CHECK(total(retry, Quantity::kSessions) == 0);
  CHECK(retry.duplicate == 1);
  // A smaller value at the same start: the process restarted its counter.
  CHECK(total(n.ingest(request(name, kCumulative, {point(1, kT0, kT0 + 30)}), kNow),
              Quantity::kSessions) == 1);
  // A new start time: a new series life; its whole value is new.
  CHECK(total(n.ingest(request(name, kCumulative, {point(4, kT0 + 100, kT0 + 110)}), kNow),
              Quantity::kSessions) == 4);
  // A late point from before that reset is not counted again.
  auto late = n.ingest(request(name, kCumulative, {point(9, kT0, kT0 + 40)}), kNow);
  CHECK(total(late, Quantity::kSessions) == 0);
  CHECK(late.duplicate == 1);
  // Never negative, whatever the order.
  for (const auto& o : late.observations)
    CHECK(o.value >= 0);
}

TEST_CASE("series are told apart by attributes, resource and metric") {
  auto n = normalizer();
  auto a = point(3, kT0, kT0 + 10, who({{"type", std::string("added")}}));
  auto b = point(3, kT0, kT0 + 10, who({{"type", std::string("removed")}}));
  auto r = n.ingest(request("claude_code.lines_of_code.count", kCumulative, {a, b}), kNow);
  CHECK(total(r, Quantity::kLinesAdded) == 3);
  CHECK(total(r, Quantity::kLinesRemoved) == 3);
  // Attribute order does not make a new series.
  Attributes reordered(a.attributes.rbegin(), a.attributes.rend());
  auto r2 = n.ingest(
      request("claude_code.lines_of_code.count", kCumulative, {point(4, kT0, kT0 + 20, reordered)}),
      kNow);
  CHECK(total(r2, Quantity::kLinesAdded) == 1);
}

TEST_CASE("invalid points are rejected with a reason; others are ignored") {
  auto n = normalizer();
  auto nan = point(std::nan(""), kT0, kT0 + 1);
  auto neg = point(-1, kT0, kT0 + 2);
  auto novalue = point(0, kT0, kT0 + 3);
  novalue.value.reset();
  auto anonymous = point(1, kT0, kT0 + 4, {{"session.id", std::string("s")}});
  auto r =
      n.ingest(request("claude_code.commit.count", kDelta, {nan, neg, novalue, anonymous}), kNow);
  CHECK(r.rejected == 4);
  CHECK(r.accepted == 0);
  CHECK(r.rejection_message.find("claude_code.commit.count") != std::string::npos);

  auto flagged = point(1, kT0, kT0 + 5);
  flagged.flags = 1;  // no recorded value
  auto r2 = n.ingest(request("claude_code.commit.count", kDelta, {flagged}), kNow);
  CHECK(r2.ignored == 1);
  auto r3 = n.ingest(request("some.other.metric", kDelta, {point(1, kT0, kT0 + 6)}), kNow);
  CHECK(r3.ignored == 1);
  auto r4 = n.ingest(request("claude_code.commit.count", otlp::Temporality::kUnspecified,
                             {point(1, kT0, kT0 + 7)}),
                     kNow);
  CHECK(r4.rejected == 1);
  CHECK(r4.rejection_message.find("temporality") != std::string::npos);
}

TEST_CASE("names and values are mapped onto the contract's labels") {
  auto n = normalizer();
  auto tokens = n.ingest(request("claude_code.token.usage", kDelta,
                                 {point(10, kT0, kT0 + 1,
                                        who({{"type", std::string("cacheRead")},
                                             {"model", std::string("claude-opus-4-6[1m]")}}))}),
                         kNow);
  REQUIRE(tokens.observations.size() == 1);
  CHECK(tokens.observations[0].labels == usage::join_labels({"claude-opus-4-6", "cache_read"}));
  CHECK(tokens.observations[0].date.str() == "2026-11-22");

  // The 2025 attribute name `tool` with MultiEdit.
  auto legacy = n.ingest(
      request(
          "claude_code.code_edit_tool.decision", kDelta,
          {point(1, kT0, kT0 + 2,
                 who({{"tool", std::string("MultiEdit")}, {"decision", std::string("reject")}}))}),
      kNow);
  REQUIRE(legacy.observations.size() == 2);
  CHECK(legacy.observations[0].quantity == Quantity::kToolDecisions);
  CHECK(legacy.observations[0].labels == usage::join_labels({"multi_edit", "rejected"}));
  CHECK(legacy.observations[1].labels == usage::join_labels({"multi_edit", "rejected", "unknown"}));

  auto agents =
      n.ingest(request("claude_code.session.count", kDelta,
                       {point(1, kT0, kT0 + 3, who({{"start_type", std::string("agents_view")}}))}),
               kNow);
  CHECK(total(agents, Quantity::kSessions) == 0);
}

TEST_CASE("identity resolution order") {
  usage::IdentityConfig cfg;
  cfg.attributes = {"enduser.id"};
  cfg.aliases = {{"acct-alias", "Carol@Example.com"}};
  usage::IdentityResolver r(cfg);
  const Attributes none;

  auto email = r.resolve({{"user.email", std::string("Dev@Example.com")},
                          {"user.account_uuid", std::string("uuid-1")},
                          {"user.id", std::string(kInstall)}},
                         none);
  REQUIRE(email);
  CHECK(email->actor.type == usage::ActorType::kUser);
  CHECK(email->actor.id == "dev@example.com");
  REQUIRE(email->learned);
  r.remember(email->learned->first, email->learned->second);

  // Later points of the same account without an email resolve to the learned email.
  auto learned = r.resolve({{"user.account_uuid", std::string("uuid-1")}}, none);
  CHECK(learned->actor.id == "dev@example.com");

  auto configured = r.resolve({{"user.id", std::string(kInstall)}},
                              {{"enduser.id", std::string("Erin@Example.com")}});
  CHECK(configured->actor.id == "erin@example.com");

  auto alias = r.resolve({{"user.account_id", std::string("acct-alias")}}, none);
  CHECK(alias->actor.id == "carol@example.com");

  auto account = r.resolve(
      {{"user.account_id", std::string("user_01X")}, {"user.id", std::string(kInstall)}}, none);
  CHECK(account->actor.type == usage::ActorType::kAccount);
  CHECK(account->actor.id == "user_01X");

  auto install = r.resolve({{"user.id", std::string(kInstall)}}, none);
  CHECK(install->actor.type == usage::ActorType::kInstall);
  CHECK(install->actor.id == kInstall);

  CHECK_FALSE(r.resolve({{"session.id", std::string("s")}}, none));

  // Team: allow-listed attributes in order, point before resource.
  auto team = r.resolve({{"user.id", std::string("x")}, {"department", std::string("eng")}},
                        {{"team.id", std::string("platform")}});
  CHECK(team->otel_team == "platform");
}

namespace {
otlp::LogsRequest events(std::vector<otlp::LogRecord> records) {
  otlp::LogsRequest r;
  r.resources.push_back(
      {std::make_shared<const Attributes>(),
       {otlp::ScopeLogs{{"com.anthropic.claude_code.events", "2.1.330"}, std::move(records)}}});
  return r;
}
otlp::LogRecord event(std::string body, Attributes attrs, uint64_t t = kT0) {
  otlp::LogRecord rec;
  rec.time_ns = t;
  rec.observed_ns = t;
  rec.body = std::move(body);
  rec.attributes = who();
  rec.attributes.insert(rec.attributes.end(), attrs.begin(), attrs.end());
  return rec;
}
}  // namespace

TEST_CASE("events: names from event.name, body or event_name; numbers as strings") {
  auto n = normalizer();
  auto api = event("claude_code.api_request", {{"event.name", std::string("api_request")},
                                               {"model", std::string("claude-opus-5")},
                                               {"duration_ms", std::string("1500")}});
  auto err = event("claude_code.api_error",
                   {{"model", std::string("claude-opus-5")}, {"status_code", std::string("529")}},
                   kT0 + 1);
  auto neterr = event("", {{"model", std::string("claude-opus-5")}}, kT0 + 2);
  neterr.event_name = "claude_code.api_error";
  auto tool =
      event("claude_code.tool_result",
            {{"tool_name", std::string("Bash")}, {"success", std::string("false")}}, kT0 + 3);
  auto other = event("claude_code.plugin_loaded", {}, kT0 + 4);
  auto r = n.ingest(events({api, err, neterr, tool, other}), kNow);
  CHECK(r.accepted == 4);
  CHECK(r.ignored == 1);
  CHECK(total(r, Quantity::kApiRequests) == 1);
  CHECK(total(r, Quantity::kApiDurationSum) == doctest::Approx(1.5));
  std::map<std::string, double> errors;
  for (const auto& o : r.observations) {
    if (o.quantity == Quantity::kApiErrors) errors[o.labels] += o.value;
    if (o.quantity == Quantity::kApiDurationBucket)
      CHECK(o.labels == usage::join_labels({"claude-opus-5", "2.5"}));
    if (o.quantity == Quantity::kToolResults)
      CHECK(o.labels == usage::join_labels({"Bash", "false"}));
  }
  CHECK(errors[usage::join_labels({"claude-opus-5", "529"})] == 1);
  CHECK(errors[usage::join_labels({"claude-opus-5", "none"})] == 1);
  // The same records again count once.
  auto again = n.ingest(events({api, err, neterr, tool}), kNow);
  CHECK(again.duplicate == 4);
  CHECK(again.observations.empty());
}

TEST_CASE("events fall back to observed time, then event.timestamp, for the day") {
  auto n = normalizer();
  auto rec = event("claude_code.user_prompt",
                   {{"event.timestamp", std::string("2026-11-20T23:59:59.000Z")}}, 0);
  rec.observed_ns = 0;
  auto r = n.ingest(events({rec}), kNow);
  REQUIRE(r.observations.size() == 1);
  CHECK(r.observations[0].date.str() == "2026-11-20");
}

TEST_CASE("pruning forgets old duplicate keys and idle series") {
  auto n = normalizer();
  n.ingest(request("claude_code.commit.count", kDelta, {point(1, kT0, kT0 + 1)}), kNow);
  n.ingest(request("claude_code.commit.count", kCumulative, {point(1, kT0, kT0 + 1)}), kNow);
  CHECK(n.seen_count() == 1);
  CHECK(n.series_count() == 1);
  n.prune(kNow + std::chrono::minutes(30));
  CHECK(n.seen_count() == 1);
  n.prune(kNow + std::chrono::hours(2));
  CHECK(n.seen_count() == 0);
  CHECK(n.series_count() == 1);
  n.prune(kNow + std::chrono::hours(25));
  CHECK(n.series_count() == 0);
}
