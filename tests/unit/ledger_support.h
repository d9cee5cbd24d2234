#pragma once

// Building ledgers in tests: one day, one developer, observations from either source.

#include <string>
#include <vector>

#include "cce/usage/ledger.h"

namespace cce::test {

inline const util::Date kToday = *util::Date::parse("2026-11-22");
inline const util::Date kYesterday = kToday - 1;
inline const usage::ActorId kDev{usage::ActorType::kUser, "dev@example.com"};

inline usage::Observation ob(const usage::ActorId& a, util::Date d, usage::Quantity q,
                             std::string labels, double v) {
  return usage::Observation{a, d, q, std::move(labels), v};
}

// One OTel observation, staged and applied; `team` is the team attribute OTel carried.
inline void otel(usage::Ledger& l, const usage::ActorId& a, util::Date d, usage::Quantity q,
                 double v, util::Date today = kToday, std::string labels = "",
                 std::string team = "") {
  l.apply(l.stage_otel({ob(a, d, q, std::move(labels), v)}, {{a, std::move(team), 1}}, today));
}

// One Admin API day, replacing that day's API slice.
inline void api(usage::Ledger& l, util::Date d, std::vector<usage::Observation> rows,
                util::Date today = kToday) {
  l.apply(l.stage_api_day(d, rows, today));
}

// A merged counter's value, or -1 when the ledger has no such series.
inline double total(const usage::Ledger& ledger, const usage::ActorId& actor, usage::Quantity q,
                    const std::string& labels = "") {
  double t = -1;
  ledger.read([&](const usage::Ledger::View& v) {
    for (const auto& [k, val] : v.totals) {
      if (v.actors[k.actor].id == actor && k.key.quantity == q && k.key.labels == labels) t = val;
    }
  });
  return t;
}

}  // namespace cce::test
