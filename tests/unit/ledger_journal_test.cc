// The journal's table of pending rows, directly: every key once, with its latest value, through
// growth, takes from the middle of a fold round, and puts after them.
#include "src/store/ledger_journal.h"

#include <doctest/doctest.h>

#include <map>
#include <random>

using namespace cce;

namespace {

store::DailyRow daily(int key, double value) {
  return {"otel",
          "2026-11-24",
          "actor-" + std::to_string(key % 97),
          "cost",
          "model\x1f" + std::to_string(key),
          value};
}

std::string key_of(const store::DailyRow& r) {
  return r.actor_key + "/" + r.labels;
}

}  // namespace

TEST_CASE("ledger journal: each key once with its latest value, through takes and puts") {
  store::LedgerJournal journal;
  std::map<std::string, double> expected;  // what is pending, by key
  std::mt19937_64 rng(20261124);
  for (int round = 0; round < 60; ++round) {
    store::LedgerRows rows;
    for (int i = 0; i < 500; ++i) {
      const int key = static_cast<int>(rng() % 3000);
      const double value = static_cast<double>(round * 1000 + i);
      rows.daily.push_back(daily(key, value));
      expected[key_of(rows.daily.back())] = value;
    }
    journal.add(std::move(rows));
    // Every pending key appears once, with the value of its last put.
    const auto pending = journal.rows().daily;
    REQUIRE(pending.size() == expected.size());
    for (const auto& r : pending)
      CHECK(expected.at(key_of(r)) == r.value);
    if (round % 2 == 1) {  // a fold step takes some rows
      auto taken = journal.take(300).daily;
      CHECK(taken.size() == std::min<size_t>(300, expected.size()));
      for (const auto& r : taken) {
        REQUIRE(expected.count(key_of(r)) == 1);
        CHECK(expected.at(key_of(r)) == r.value);
        expected.erase(key_of(r));
      }
      // Every key still pending is found again: an update, not a second row.
      store::LedgerRows again;
      for (const auto& r : journal.rows().daily) {
        again.daily.push_back(r);
        again.daily.back().value += 0.5;
        expected[key_of(r)] = again.daily.back().value;
      }
      journal.add(std::move(again));
      REQUIRE(journal.rows().daily.size() == expected.size());
    }
  }
  // The round's end: everything comes out once, and the journal is empty.
  auto rest = journal.take(1'000'000).daily;
  CHECK(rest.size() == expected.size());
  for (const auto& r : rest)
    CHECK(expected.at(key_of(r)) == r.value);
  CHECK(journal.empty());
  CHECK(journal.rows().daily.empty());
}
