#include "cce/usage/ledger.h"

#include <mutex>

namespace cce::usage {

std::string_view to_string(Source s) {
  return s == Source::kOtel ? "otel" : "api";
}

uint32_t Ledger::intern(const ActorId& actor) {
  auto key = actor.key();
  auto it = actor_index_.find(key);
  if (it != actor_index_.end()) return it->second;
  const auto index = static_cast<uint32_t>(actors_.size());
  actors_.push_back(ActorInfo{actor, {}, 0, 0});
  actor_index_.emplace(std::move(key), index);
  return index;
}

double Ledger::get(const Cells& cells, const CellKey& key) const {
  auto it = cells.find(key);
  return it == cells.end() ? 0.0 : it->second;
}

LedgerChanges Ledger::stage_otel(const std::vector<Observation>& obs,
                                 const std::vector<ActorTouch>& actors) {
  LedgerChanges changes;
  std::unique_lock lock(mu_);
  // Accumulate per cell first, so one staging covers many observations of the same cell.
  struct DailyKeyHash {
    size_t operator()(const std::pair<int32_t, CellKey>& k) const {
      return CellKeyHash()(k.second) * 31 + static_cast<size_t>(k.first);
    }
  };
  std::unordered_map<std::pair<int32_t, CellKey>, size_t, DailyKeyHash> daily_pos;
  std::unordered_map<CellKey, size_t, CellKeyHash> total_pos;
  for (const auto& o : obs) {
    CellKey key{intern(o.actor), o.quantity, o.labels};
    auto [dit, dnew] = daily_pos.try_emplace({o.date.days, key}, changes.daily.size());
    if (dnew) {
      auto day_it = days_.find(o.date);
      const double current = day_it == days_.end() ? 0.0 : get(day_it->second.otel, key);
      changes.daily.push_back({Source::kOtel, o.date, key, current + o.value});
    } else {
      changes.daily[dit->second].value += o.value;
    }
    auto [tit, tnew] = total_pos.try_emplace(std::move(key), changes.totals.size());
    if (tnew) {
      changes.totals.push_back({tit->first, get(totals_, tit->first) + o.value});
    } else {
      changes.totals[tit->second].value += o.value;
    }
  }
  for (const auto& a : actors) {
    const uint32_t index = intern(a.actor);
    ActorInfo info = actors_[index];
    info.otel_team = a.otel_team;
    if (a.seen_at > info.last_seen_otel) info.last_seen_otel = a.seen_at;
    changes.actors.push_back({index, std::move(info)});
  }
  return changes;
}

LedgerChanges Ledger::stage_api_day(util::Date day, const std::vector<Observation>& obs) {
  LedgerChanges changes;
  changes.api_days_replaced.push_back(day);
  std::unique_lock lock(mu_);
  std::unordered_map<CellKey, size_t, CellKeyHash> pos;
  std::map<uint32_t, bool> touched;
  for (const auto& o : obs) {
    CellKey key{intern(o.actor), o.quantity, o.labels};
    touched[key.actor] = true;
    auto [it, fresh] = pos.try_emplace(key, changes.daily.size());
    if (fresh) {
      changes.daily.push_back({Source::kApi, day, std::move(key), o.value});
    } else {
      changes.daily[it->second].value += o.value;
    }
  }
  for (const auto& [index, unused] : touched) {
    ActorInfo info = actors_[index];
    // For the API "last seen" is the newest day with data: the API has no finer time.
    info.last_seen_api = std::max(info.last_seen_api, static_cast<double>(day.unix_seconds()));
    changes.actors.push_back({index, std::move(info)});
  }
  return changes;
}

void Ledger::apply(const LedgerChanges& changes) {
  std::unique_lock lock(mu_);
  for (const auto& d : changes.api_days_replaced) {
    if (auto it = days_.find(d); it != days_.end()) it->second.api.clear();
  }
  for (const auto& d : changes.daily) {
    auto& day = days_[d.date];
    (d.source == Source::kOtel ? day.otel : day.api)[d.key] = d.value;
  }
  for (const auto& t : changes.totals)
    totals_[t.key] = t.value;
  for (const auto& a : changes.actors)
    actors_[a.index] = a.info;
}

void Ledger::restore_actor(const ActorInfo& info) {
  std::unique_lock lock(mu_);
  actors_[intern(info.id)] = info;
}

void Ledger::restore_daily(Source source, util::Date date, const ActorId& actor, Quantity q,
                           const LabelValues& labels, double value) {
  std::unique_lock lock(mu_);
  auto& day = days_[date];
  (source == Source::kOtel ? day.otel : day.api)[CellKey{intern(actor), q, labels}] = value;
}

void Ledger::restore_total(const ActorId& actor, Quantity q, const LabelValues& labels,
                           double value) {
  std::unique_lock lock(mu_);
  totals_[CellKey{intern(actor), q, labels}] = value;
}

void Ledger::clear() {
  std::unique_lock lock(mu_);
  actors_.clear();
  actor_index_.clear();
  days_.clear();
  totals_.clear();
}

void Ledger::read(const std::function<void(const View&)>& fn) const {
  std::shared_lock lock(mu_);
  fn(View{actors_, days_, totals_});
}

size_t Ledger::actor_count() const {
  std::shared_lock lock(mu_);
  return actors_.size();
}

}  // namespace cce::usage
