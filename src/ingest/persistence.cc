#include "cce/ingest/persistence.h"

#include <spdlog/spdlog.h>

namespace cce::ingest {

store::Batch to_batch(const usage::LedgerChanges& changes) {
  store::Batch b;
  const auto& keys = changes.actor_keys;
  // A change spans a day or two: each date is formatted once, not once per row.
  std::vector<std::pair<util::Date, std::string>> dates;
  auto date_text = [&dates](util::Date d) -> const std::string& {
    for (const auto& [date, text] : dates)
      if (date == d) return text;
    return dates.emplace_back(d, d.str()).second;
  };
  for (const auto& d : changes.days_pruned)
    b.days_deleted.push_back(d.str());
  for (const auto& s : changes.api_slices_replaced) {
    b.api_slices_deleted.emplace_back(s.day.str(), keys.at(s.actor));
    if (!s.owner.empty()) b.api_owners.push_back({s.day.str(), keys.at(s.actor), s.owner});
  }
  for (const auto& a : changes.actors) {
    b.actors.push_back({keys.at(a.index), a.info.otel_team, a.info.last_seen_otel,
                        a.info.last_seen_api, a.info.org});
  }
  for (const auto& d : changes.daily) {
    b.daily.push_back({std::string(usage::to_string(d.source)), date_text(d.date), keys.at(d.actor),
                       std::string(usage::to_string(d.key.quantity)), d.key.labels, d.value});
  }
  for (const auto& u : changes.unit_teams)
    b.unit_teams.push_back({date_text(u.date), keys.at(u.actor), u.team});
  for (const auto& t : changes.totals) {
    b.totals.push_back({keys.at(t.key.actor), std::string(usage::to_string(t.key.key.quantity)),
                        t.key.key.labels, t.value});
  }
  return b;
}

void add_ingest_state(store::Batch& b, const usage::IngestResult& r) {
  for (const auto& [key, st] : r.series_updates)
    b.series.push_back({key, st.start_ns, st.time_ns, st.value, st.seen_at});
  for (uint64_t key : r.seen_keys)
    b.seen.push_back({key, r.received_at});
  for (const auto& [account, email] : r.learned_identities)
    b.identities.push_back({account, email});
}

RestoreReport restore_ledger(const store::LedgerRows& rows, usage::Ledger& ledger) {
  RestoreReport report;
  auto skip = [&](std::string what) {
    ++report.skipped;
    if (report.examples.size() < 5) report.examples.push_back(std::move(what));
  };
  ledger.clear();
  for (const auto& r : rows.actors) {
    ++report.rows;
    auto id = usage::ActorId::from_key(r.actor_key);
    if (!id) {
      skip("actor \"" + r.actor_key + "\": not an actor key");
      continue;
    }
    ledger.restore_actor(
        usage::ActorInfo{*id, r.otel_team, r.last_seen_otel, r.last_seen_api, r.org});
  }
  for (const auto& r : rows.daily) {
    ++report.rows;
    auto source = usage::parse_source(r.source);
    auto date = util::Date::parse(r.date);
    auto id = usage::ActorId::from_key(r.actor_key);
    auto q = usage::parse_quantity(r.quantity);
    if (!source || !date || !id || !q) {
      skip("daily value (" + r.source + ", " + r.date + ", " + r.actor_key + ", " + r.quantity +
           "): unknown source, date, actor or quantity");
      continue;
    }
    ledger.restore_daily(*source, *date, *id, usage::QKey{*q, r.labels}, r.value);
  }
  for (const auto& r : rows.totals) {
    ++report.rows;
    auto id = usage::ActorId::from_key(r.actor_key);
    auto q = usage::parse_quantity(r.quantity);
    if (!id || !q) {
      skip("counter (" + r.actor_key + ", " + r.quantity + "): unknown actor or quantity");
      continue;
    }
    ledger.restore_total(*id, usage::QKey{*q, r.labels}, r.value);
  }
  for (const auto& r : rows.unit_teams) {
    ++report.rows;
    auto date = util::Date::parse(r.date);
    auto id = usage::ActorId::from_key(r.actor_key);
    if (!date || !id) {
      skip("team of (" + r.date + ", " + r.actor_key + "): unknown date or actor");
      continue;
    }
    ledger.restore_unit_team(*date, *id, r.team);
  }
  for (const auto& r : rows.api_owners) {
    ++report.rows;
    auto date = util::Date::parse(r.date);
    auto id = usage::ActorId::from_key(r.actor_key);
    if (!date || !id) {
      skip("API source of (" + r.date + ", " + r.actor_key + "): unknown date or actor");
      continue;
    }
    ledger.restore_api_owner(*date, *id, r.owner);
  }
  return report;
}

void restore_normalizer(const store::IngestStateRows& rows, usage::OtelNormalizer& normalizer) {
  normalizer.clear();
  for (const auto& r : rows.series) {
    normalizer.restore_series(r.series,
                              usage::CumulativeState{r.start_ns, r.time_ns, r.value, r.seen_at});
  }
  for (const auto& r : rows.seen)
    normalizer.restore_seen(r.key, r.seen_at);
  for (const auto& r : rows.identities)
    normalizer.restore_identity(r.account, r.email);
}

void load(store::Store& store, usage::Ledger& ledger, usage::OtelNormalizer& normalizer) {
  const RestoreReport report = restore_ledger(store.read_ledger(), ledger);
  if (report.skipped > 0) {
    // Written by a newer agent, or edited by hand: the rows stay in the file, untouched.
    spdlog::warn("store: {} of {} stored rows could not be read and are left out, e.g. {}",
                 report.skipped, report.rows, report.examples.front());
  }
  load_normalizer(store, normalizer);
}

void load_normalizer(store::Store& store, usage::OtelNormalizer& normalizer) {
  restore_normalizer(store.read_ingest_state(), normalizer);
}

}  // namespace cce::ingest
