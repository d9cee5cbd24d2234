#include <doctest/doctest.h>

#include <set>

#include "cce/metrics/usage_collector.h"
#include "cce/usage/quantity.h"
#include "test_support.h"

using namespace cce;

TEST_CASE("every quantity round-trips through its storage name and has distinct names") {
  std::set<std::string_view> names, families;
  for (const auto& q : usage::kQuantities) {
    CAPTURE(q.name);
    CHECK(usage::parse_quantity(q.name) == q.quantity);
    CHECK(names.insert(q.name).second);
    for (auto f : {q.daily_family, q.total_family}) {
      if (!f.empty()) CHECK(families.insert(f).second);
    }
    for (auto l : usage::label_names(q.quantity)) {
      CHECK_FALSE(l.empty());
      CHECK(l != "actor");  // the collector adds who; a quantity only says what
    }
  }
  CHECK_FALSE(usage::parse_quantity("kCount_"));
  CHECK_FALSE(usage::parse_quantity(""));
}

TEST_CASE("every family in the quantity table is exposed, with its help, before any data") {
  usage::Ledger ledger;
  util::ManualClock clock(test::fixture_noon());
  metrics::UsageCollector collector(ledger, clock, {});
  std::map<std::string, std::string> exposed;
  for (const auto& f : collector.Collect())
    exposed[f.name] = f.help;
  for (const auto& q : usage::kQuantities) {
    CAPTURE(q.name);
    if (!q.daily_family.empty()) CHECK(exposed[std::string(q.daily_family)] == q.daily_help);
    if (!q.total_family.empty()) CHECK(exposed[std::string(q.total_family)] == q.total_help);
  }
  CHECK(exposed.count("claude_code_api_request_duration_seconds") == 1);
}
