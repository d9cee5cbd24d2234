// Bounds on what clients and the Admin API can make the agent count ([limits]).
#include <doctest/doctest.h>

#include <cmath>

#include "cce/admin/usage_report.h"
#include "cce/usage/ledger.h"
#include "cce/usage/limits.h"
#include "cce/usage/otel_normalizer.h"
#include "ledger_support.h"
#include "test_support.h"

using namespace cce;
using otlp::Attributes;
using usage::ActorId;
using usage::ActorType;
using usage::Quantity;

namespace {

// 2026-11-22T12:00:00Z, the receiving clock in these tests.
const uint64_t kNoonNs = 1795348800000000000ULL;

otlp::MetricsRequest cost_request(double usd, uint64_t time_ns, Attributes attrs) {
  otlp::NumberPoint p;
  p.attributes = std::move(attrs);
  p.start_ns = time_ns - 1000000000ULL;
  p.time_ns = time_ns;
  p.value = usd;
  otlp::Metric m;
  m.name = "claude_code.cost.usage";
  m.kind = otlp::MetricKind::kSum;
  m.temporality = otlp::Temporality::kDelta;
  m.points = {p};
  otlp::MetricsRequest r;
  r.resources.push_back({std::make_shared<const Attributes>(Attributes{}),
                         {otlp::ScopeMetrics{{"com.anthropic.claude_code", "2.1.330"}, {m}}}});
  return r;
}

Attributes dev(const std::string& model = "claude-opus-5") {
  return {{"user.email", std::string("dev@example.com")}, {"model", model}};
}

}  // namespace

TEST_CASE("a value beyond its bound is rejected with the key named, and never added") {
  usage::OtelNormalizer n({}, 3600, 86400);
  auto huge = n.ingest(cost_request(1e308, kNoonNs - 5000000000ULL, dev()), test::fixture_noon());
  CHECK(huge.rejected == 1);
  CHECK(huge.accepted == 0);
  CHECK(huge.observations.empty());
  CHECK(huge.seen_keys.empty());  // a corrected retry of the same point is still accepted
  CHECK(huge.rejection_message.find("limits.max_cost_usd") != std::string::npos);
  CHECK(huge.limit_hits.at("max_cost_usd") == 1);
  auto fine = n.ingest(cost_request(12.5, kNoonNs - 5000000000ULL, dev()), test::fixture_noon());
  CHECK(fine.accepted == 1);
}

TEST_CASE("points dated beyond max_future_skew are rejected; a little ahead is fine") {
  usage::ValueLimits limits;
  limits.max_future_skew = std::chrono::minutes(10);
  usage::OtelNormalizer n({}, 3600, 86400, 400, limits);
  const uint64_t year_2100 = 4102444800000000000ULL;
  auto future = n.ingest(cost_request(1, year_2100, dev()), test::fixture_noon());
  CHECK(future.rejected == 1);
  CHECK(future.rejection_message.find("limits.max_future_skew") != std::string::npos);
  CHECK(future.limit_hits.at("max_future_skew") == 1);
  auto ahead = n.ingest(cost_request(1, kNoonNs + 300000000000ULL, dev()), test::fixture_noon());
  CHECK(ahead.accepted == 1);
}

TEST_CASE("identities are cut to max_label_length before they become actors") {
  usage::OtelNormalizer n({}, 3600, 86400);
  const std::string long_email(10 << 20, 'a');
  auto r = n.ingest(
      cost_request(1, kNoonNs - 1000000000ULL,
                   {{"user.email", long_email + "@example.com"}, {"model", std::string("m")}}),
      test::fixture_noon());
  REQUIRE(r.accepted == 1);
  CHECK(r.observations[0].actor.id.size() == 256);
  CHECK(r.limit_hits.at("max_label_length") == 1);
}

TEST_CASE("UTF-8 is cut on a character boundary") {
  std::string s = "ab\xc3\xa9";  // "abé": é is two bytes
  CHECK(usage::truncate_label(s, 3));
  CHECK(s == "ab");
  std::string t = "abc";
  CHECK_FALSE(usage::truncate_label(t, 3));
}

TEST_CASE("an actor's distinct models beyond the cap fold into __other__, counted") {
  usage::LedgerOptions options;
  options.max_label_values_per_actor = 3;
  usage::Ledger ledger(options);
  std::vector<usage::Observation> obs;
  for (int i = 0; i < 10; ++i) {
    obs.push_back(
        test::ob(test::kDev, test::kToday, Quantity::kCostUsd, "model-" + std::to_string(i), 1));
  }
  auto changes = ledger.stage_otel(obs, {{test::kDev, "", 1}}, test::kToday);
  CHECK(changes.limit_hits.at("max_label_values_per_actor") == 7);
  ledger.apply(changes);
  CHECK(test::total(ledger, test::kDev, Quantity::kCostUsd, "model-0") == 1);
  CHECK(test::total(ledger, test::kDev, Quantity::kCostUsd, "model-2") == 1);
  CHECK(test::total(ledger, test::kDev, Quantity::kCostUsd, "model-3") == -1);
  CHECK(test::total(ledger, test::kDev, Quantity::kCostUsd, "__other__") == 7);
  // Known values keep counting; another actor has its own allowance.
  const ActorId other{ActorType::kUser, "other@example.com"};
  auto more =
      ledger.stage_otel({test::ob(test::kDev, test::kToday, Quantity::kCostUsd, "model-1", 2),
                         test::ob(other, test::kToday, Quantity::kCostUsd, "model-9", 1)},
                        {{test::kDev, "", 2}, {other, "", 2}}, test::kToday);
  CHECK(more.limit_hits.count("max_label_values_per_actor") == 0);
  ledger.apply(more);
  CHECK(test::total(ledger, test::kDev, Quantity::kCostUsd, "model-1") == 3);
  CHECK(test::total(ledger, other, Quantity::kCostUsd, "model-9") == 1);
}

TEST_CASE("the same bounds hold for Admin API records") {
  const std::string page = R"({"data":[{"date":"2026-11-22T00:00:00Z","actor":{"type":"user_actor",
    "email_address":"dev@example.com"},"core_metrics":{"num_sessions":1},"model_breakdown":[{
    "model":"claude-opus-5","tokens":{"input":1},"estimated_cost":{"currency":"USD","amount":1e308}}]},
    {"date":"2026-11-22T00:00:00Z","actor":{"type":"user_actor","email_address":"ok@example.com"},
    "core_metrics":{"num_sessions":1e300}},
    {"date":"2026-11-22T00:00:00Z","actor":{"type":"user_actor","email_address":"fine@example.com"},
    "core_metrics":{"num_sessions":2}}],"has_more":false,"next_page":null})";
  auto parsed = admin::parse_page(page, test::kToday, usage::ValueLimits{});
  REQUIRE(std::holds_alternative<admin::Page>(parsed));
  const auto& p = std::get<admin::Page>(parsed);
  REQUIRE(p.skipped.size() == 2);
  CHECK(p.skipped[0].find("cost_usd 1e+306 is above limits.max_cost_usd") != std::string::npos);
  CHECK(p.skipped[1].find("limits.max_count") != std::string::npos);
  for (const auto& o : p.observations)
    CHECK(o.actor.id == "fine@example.com");
}

TEST_CASE("a day keeps the team it was spent under; __other__ never borrows a team") {
  usage::LedgerOptions options;
  options.max_actors = 1;
  usage::Ledger ledger(options);
  test::otel(ledger, test::kDev, test::kYesterday, Quantity::kCommits, 1, test::kToday, "", "blue");
  test::otel(ledger, test::kDev, test::kToday, Quantity::kCommits, 1, test::kToday, "", "green");
  test::otel(ledger, {ActorType::kUser, "late@example.com"}, test::kToday, Quantity::kCommits, 1,
             test::kToday, "", "red");
  ledger.read([](const usage::Ledger::View& v) {
    const auto& dev = v.actors[0];
    CHECK(dev.otel_team == "green");
    CHECK(v.days.at(test::kYesterday).at(0).otel_team == "blue");
    CHECK(v.days.at(test::kToday).at(0).otel_team == "green");
    REQUIRE(v.actors.size() == 2);
    CHECK(v.actors[1].id.id == "__other__");
    CHECK(v.actors[1].otel_team == "");
    CHECK(v.days.at(test::kToday).at(1).otel_team == "");
  });
}

TEST_CASE("a value carrying the label separator cannot spill into other labels") {
  const auto joined = usage::join_labels({"Bash\x1fsurprise", "true"});
  const auto parts = usage::split_labels(joined);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0] == "Bash surprise");
  CHECK(parts[1] == "true");
}

TEST_CASE("after a rejected jump a cumulative series counts again from there") {
  usage::OtelNormalizer n({}, 3600, 86400);
  auto cumulative = [](double v, uint64_t t) {
    auto r = cost_request(v, t, dev());
    auto& m = r.resources[0].scopes[0].metrics[0];
    m.temporality = otlp::Temporality::kCumulative;
    m.points[0].start_ns = kNoonNs - 3600000000000ULL;
    return r;
  };
  CHECK(n.ingest(cumulative(10, kNoonNs - 30000000000ULL), test::fixture_noon()).accepted == 1);
  CHECK(n.ingest(cumulative(1e9, kNoonNs - 20000000000ULL), test::fixture_noon()).rejected == 1);
  auto next = n.ingest(cumulative(1e9 + 5, kNoonNs - 10000000000ULL), test::fixture_noon());
  CHECK(next.accepted == 1);
  REQUIRE(next.observations.size() == 1);
  CHECK(next.observations[0].value == doctest::Approx(5));
}

TEST_CASE("learned account -> email pairs are bounded") {
  usage::ValueLimits limits;
  limits.max_learned_identities = 1;
  usage::OtelNormalizer n({}, 3600, 86400, 400, limits);
  auto with_account = [](const std::string& email, const std::string& uuid, uint64_t t) {
    return cost_request(
        1, t, {{"user.email", email}, {"user.account_uuid", uuid}, {"model", std::string("m")}});
  };
  auto first = n.ingest(with_account("a@example.com", "uuid-a", kNoonNs - 3000000000ULL),
                        test::fixture_noon());
  CHECK(first.learned_identities.size() == 1);
  auto second = n.ingest(with_account("b@example.com", "uuid-b", kNoonNs - 2000000000ULL),
                         test::fixture_noon());
  CHECK(second.accepted == 1);
  CHECK(second.observations[0].actor.id == "b@example.com");  // this point still counts for b
  CHECK(second.learned_identities.empty());
  CHECK(second.limit_hits.at("max_learned_identities") == 1);
  // The known account keeps resolving to its email.
  auto again = n.ingest(with_account("a@example.com", "uuid-a", kNoonNs - 1000000000ULL),
                        test::fixture_noon());
  CHECK(again.limit_hits.count("max_learned_identities") == 0);
}
