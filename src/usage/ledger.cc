#include "cce/usage/ledger.h"

#include <array>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_set>

namespace cce::usage {

std::string_view to_string(Source s) {
  switch (s) {
    case Source::kOtel:
      return "otel";
    case Source::kApi:
      return "api";
    case Source::kCounted:
      return "counted";
  }
  return "otel";
}

std::optional<Source> parse_source(std::string_view s) {
  if (s == "otel") return Source::kOtel;
  if (s == "api") return Source::kApi;
  if (s == "counted") return Source::kCounted;
  return std::nullopt;
}

QCells merged_cells(const QCells& slice, const LedgerOptions& options) {
  QCells out;
  std::map<std::string, std::array<double, 4>> tokens;  // model -> input, output, read, write
  std::set<std::string> costed;
  for (const auto& [k, v] : slice) {
    if (!is_merged(k.quantity)) continue;
    out.emplace(k, v);
    if (k.quantity == Quantity::kCostUsd) {
      costed.insert(k.labels);
    } else if (k.quantity == Quantity::kTokens) {
      auto parts = split_labels(k.labels);
      if (parts.size() != 2) continue;
      auto& t = tokens[std::string(parts[0])];
      if (parts[1] == "input")
        t[0] += v;
      else if (parts[1] == "output")
        t[1] += v;
      else if (parts[1] == "cache_read")
        t[2] += v;
      else if (parts[1] == "cache_creation")
        t[3] += v;
    }
  }
  // A source that gave tokens but no cost for a model: estimate it from the price table.
  for (const auto& [model, t] : tokens) {
    if (costed.count(model)) continue;
    if (auto price = options.prices.find(model)) {
      out[QKey{Quantity::kCostUsd, model}] =
          PriceTable::cost(*price, t[0], t[1], t[2], t[3], options.cache_ttl);
    }
  }
  return out;
}

Ledger::Ledger(LedgerOptions options) : options_(std::move(options)) {}

uint32_t Ledger::intern(const ActorId& actor) {
  auto key = actor.key();
  if (auto it = actor_index_.find(key); it != actor_index_.end()) return it->second;
  const auto index = static_cast<uint32_t>(actors_.size());
  actors_.push_back(ActorInfo{actor, {}, 0, 0, {}});
  actor_index_.emplace(std::move(key), index);
  return index;
}

uint32_t Ledger::stage_actor(const ActorId& actor, LedgerChanges& changes,
                             std::unordered_map<std::string, uint32_t>& pending,
                             bool count_overflow) const {
  auto key = actor.key();
  if (auto it = actor_index_.find(key); it != actor_index_.end()) return it->second;
  if (auto it = pending.find(key); it != pending.end()) return it->second;
  if (actors_.size() + pending.size() >= options_.max_actors && actor.id != kOverflowActor) {
    // The cardinality guard: fold into one actor per type instead of growing without bound.
    if (count_overflow) ++changes.overflowed;
    return stage_actor(ActorId{actor.type, kOverflowActor}, changes, pending, false);
  }
  // A new actor exists only once the change is applied: a change that is never committed
  // leaves no trace (and takes no place under max_actors).
  const auto index = static_cast<uint32_t>(actors_.size() + pending.size());
  changes.new_actors.push_back({index, actor});
  pending.emplace(std::move(key), index);
  return index;
}

ActorInfo Ledger::staged_info(uint32_t index, const LedgerChanges& changes) const {
  if (index < actors_.size()) return actors_[index];
  for (const auto& [i, id] : changes.new_actors) {
    if (i == index) return ActorInfo{id, {}, 0, 0, {}};
  }
  return {};
}

ActorId Ledger::bounded(ActorId actor, LedgerChanges& changes) const {
  if (truncate_label(actor.id, options_.max_label_length))
    ++changes.limit_hits[std::string(kLimitLabelLength)];
  return actor;
}

LabelValues Ledger::bound_labels(uint32_t actor, Quantity q, const LabelValues& labels,
                                 LedgerChanges& changes, PendingValues& pending) const {
  const auto names = label_names(q);
  if (names.empty()) return labels;
  std::vector<std::string> values;
  for (auto v : split_labels(labels))
    values.emplace_back(v);
  bool changed = false;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    std::string& v = values[i];
    if (truncate_label(v, options_.max_label_length)) {
      ++changes.limit_hits[std::string(kLimitLabelLength)];
      changed = true;
    }
    if (!is_capped_label(names[i]) || v == kOther) continue;
    const std::unordered_set<std::string>* known = nullptr;
    if (auto a = label_values_.find(actor); a != label_values_.end()) {
      if (auto l = a->second.find(names[i]); l != a->second.end()) known = &l->second;
    }
    if (known && known->count(v)) continue;
    auto& staged = pending[{actor, names[i]}];
    if (staged.count(v)) continue;
    if ((known ? known->size() : 0) + staged.size() >= options_.max_label_values_per_actor) {
      v = kOther;  // one more distinct value than allowed: folded, and counted
      ++changes.limit_hits[std::string(kLimitLabelValues)];
      changed = true;
      continue;
    }
    staged.insert(v);
  }
  return changed ? join_labels(values) : labels;
}

void Ledger::note_label_values(uint32_t actor, const QKey& key) {
  const auto names = label_names(key.quantity);
  if (names.empty()) return;
  const auto values = split_labels(key.labels);
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (is_capped_label(names[i]) && values[i] != kOther)
      label_values_[actor][names[i]].emplace(values[i]);
  }
}

const Unit* Ledger::unit(util::Date date, uint32_t actor) const {
  auto d = days_.find(date);
  if (d == days_.end()) return nullptr;
  auto u = d->second.find(actor);
  return u == d->second.end() ? nullptr : &u->second;
}

void Ledger::fill_actor_keys(LedgerChanges& changes) const {
  auto note = [&](uint32_t index) {
    if (!changes.actor_keys.count(index))
      changes.actor_keys[index] = staged_info(index, changes).id.key();
  };
  for (const auto& d : changes.daily)
    note(d.actor);
  for (const auto& t : changes.totals)
    note(t.key.actor);
  for (const auto& a : changes.actors)
    note(a.index);
  for (const auto& u : changes.unit_teams)
    note(u.actor);
  for (const auto& s : changes.api_slices_replaced)
    note(s.actor);
}

double Ledger::StagedUnit::otel_value(const QKey& k) const {
  if (auto it = otel_moved.find(k); it != otel_moved.end()) return it->second;
  if (!base) return 0.0;
  auto it = base->otel.find(k);
  return it == base->otel.end() ? 0.0 : it->second;
}

bool Ledger::StagedUnit::has_otel_cell(const QKey& k) const {
  return otel_moved.count(k) || (base && base->otel.count(k));
}

QCells Ledger::StagedUnit::otel_cells() const {
  QCells all = base ? base->otel : QCells{};
  for (const auto& [k, v] : otel_moved)
    all[k] = v;
  return all;
}

void Ledger::stage_merge(const Overlay& touched, util::Date today, LedgerChanges& changes,
                         std::unordered_map<CellKey, size_t, CellKeyHash>& total_pos) const {
  for (const auto& [at, u] : touched) {
    const auto& [date, actor] = at;
    const QCells& counted_cells = u.counted();
    // A merged value above the highest the series had moves its counter by the difference; a
    // downward revision is absorbed.
    auto count = [&](const QKey& k, double v) {
      auto it = counted_cells.find(k);
      const double counted = it == counted_cells.end() ? 0.0 : it->second;
      if (!(v > counted)) return;
      changes.daily.push_back({Source::kCounted, date, actor, k, v});
      CellKey ck{actor, k};
      auto [pos, fresh] = total_pos.try_emplace(ck, changes.totals.size());
      if (fresh) {
        auto t = totals_.find(ck);
        changes.totals.push_back({ck, (t == totals_.end() ? 0.0 : t->second) + (v - counted)});
      } else {
        changes.totals[pos->second].value += v - counted;
      }
    };
    if (!u.api && u.api_cells().empty()) {
      // OTel wins a unit without API rows, before and after this change, so every merged value
      // the unit had is counted already: only the moved cells, and the estimated cost of a
      // model whose tokens moved, can move a counter. (The same values merged_cells gives.)
      std::set<std::string_view> models;
      for (const auto& [k, v] : u.otel_moved) {
        if (!is_merged(k.quantity)) continue;
        count(k, v);
        if (k.quantity != Quantity::kTokens) continue;
        if (auto parts = split_labels(k.labels); parts.size() == 2) models.insert(parts[0]);
      }
      for (std::string_view model : models) {
        QKey cost{Quantity::kCostUsd, std::string(model)};
        if (u.has_otel_cell(cost)) continue;  // its own cost, counted as a moved cell
        auto price = options_.prices.find(cost.labels);
        if (!price) continue;
        auto tokens = [&](std::string_view type) {
          return u.otel_value(QKey{Quantity::kTokens, join_labels({model, type})});
        };
        count(cost,
              PriceTable::cost(*price, tokens("input"), tokens("output"), tokens("cache_read"),
                               tokens("cache_creation"), options_.cache_ttl));
      }
      continue;
    }
    const Source w = winner(!u.api_cells().empty(), u.has_otel(), date, today, options_.merge);
    for (const auto& [k, v] :
         merged_cells(w == Source::kApi ? u.api_cells() : u.otel_cells(), options_))
      count(k, v);
  }
}

LedgerChanges Ledger::stage_otel(const std::vector<Observation>& obs,
                                 const std::vector<ActorTouch>& actors, util::Date today) {
  LedgerChanges changes;
  std::shared_lock lock(mu_);
  Overlay touched;
  std::unordered_map<CellKey, size_t, CellKeyHash> total_pos;
  std::unordered_map<std::string, uint32_t> pending;
  PendingValues pending_values;
  for (const auto& o : obs) {
    const uint32_t actor = stage_actor(bounded(o.actor, changes), changes, pending, true);
    auto [it, fresh] = touched.try_emplace({o.date, actor});
    StagedUnit& u = it->second;
    if (fresh) u.base = unit(o.date, actor);
    QKey k{o.quantity, bound_labels(actor, o.quantity, o.labels, changes, pending_values)};
    auto cell = u.otel_moved.find(k);
    if (cell == u.otel_moved.end()) {
      const double before = u.otel_value(k);  // the base's
      cell = u.otel_moved.emplace(std::move(k), before).first;
    }
    cell->second += o.value;
    if (!is_merged(o.quantity)) {
      // OTel-only counters: the running sum.
      CellKey ck{actor, cell->first};
      auto [pos, new_total] = total_pos.try_emplace(ck, changes.totals.size());
      if (new_total) {
        auto t = totals_.find(ck);
        changes.totals.push_back({ck, (t == totals_.end() ? 0.0 : t->second) + o.value});
      } else {
        changes.totals[pos->second].value += o.value;
      }
    }
  }
  for (const auto& [at, u] : touched) {
    for (const auto& [k, v] : u.otel_moved)
      changes.daily.push_back({Source::kOtel, at.first, at.second, k, v});
  }
  stage_merge(touched, today, changes, total_pos);
  std::unordered_map<uint32_t, std::string> team_of;
  for (const auto& a : actors) {
    const ActorId id = bounded(a.actor, changes);
    const uint32_t index = stage_actor(id, changes, pending, false);
    ActorInfo info = staged_info(index, changes);
    // The folded actor has no team of its own: it never borrows one of the actors it holds.
    if (info.id == id) {
      info.otel_team = a.otel_team;
      truncate_label(info.otel_team, options_.max_label_length);
      team_of[index] = info.otel_team;
      // An organization API's word on membership stands; OTel only fills it in.
      if (auto o = options_.org_by_otel_id.find(a.otel_org);
          info.org.empty() && !a.otel_org.empty() && o != options_.org_by_otel_id.end()) {
        info.org = o->second;
      }
    }
    if (a.seen_at > info.last_seen_otel) info.last_seen_otel = a.seen_at;
    changes.actors.push_back({index, std::move(info)});
  }
  // Each day touched keeps the team its data came with.
  for (const auto& [at, u] : touched) {
    auto t = team_of.find(at.second);
    if (t == team_of.end() || u.otel_team() == t->second) continue;
    changes.unit_teams.push_back({at.first, at.second, t->second});
  }
  fill_actor_keys(changes);
  return changes;
}

LedgerChanges Ledger::stage_api_day(util::Date day, const std::vector<Observation>& obs,
                                    util::Date today, const std::string& org,
                                    const std::string& owner) {
  LedgerChanges changes;
  std::shared_lock lock(mu_);
  Overlay touched;
  std::unordered_map<std::string, uint32_t> pending;
  PendingValues pending_values;
  // Every slice this source holds that day is touched: it is replaced (maybe by nothing).
  // Other sources' slices stay.
  if (auto d = days_.find(day); d != days_.end()) {
    for (const auto& [actor, u] : d->second) {
      if (u.api.empty() || u.api_owner != owner) continue;
      StagedUnit replaced;
      replaced.base = &u;
      replaced.api.emplace();
      touched.emplace(std::pair{day, actor}, std::move(replaced));
    }
  }
  std::set<uint32_t> seen;
  std::set<uint32_t> held_by_other;
  for (const auto& o : obs) {
    const uint32_t actor = stage_actor(bounded(o.actor, changes), changes, pending, true);
    auto it = touched.find({day, actor});
    if (it == touched.end()) {
      // Its applied unit has no rows of this source that day (those were all touched above);
      // rows of another source stay theirs.
      const Unit* base = unit(day, actor);
      if (base && !base->api.empty()) {
        held_by_other.insert(actor);
        continue;
      }
      it = touched.try_emplace({day, actor}).first;
      it->second.base = base;
      it->second.api.emplace();
    }
    (*it->second.api)[QKey{
        o.quantity, bound_labels(actor, o.quantity, o.labels, changes, pending_values)}] += o.value;
    seen.insert(actor);
  }
  changes.api_held_by_other.assign(held_by_other.begin(), held_by_other.end());
  for (const auto& [at, u] : touched) {
    changes.api_slices_replaced.push_back({day, at.second, owner});
    for (const auto& [k, v] : *u.api)
      changes.daily.push_back({Source::kApi, day, at.second, k, v});
  }
  std::unordered_map<CellKey, size_t, CellKeyHash> total_pos;
  stage_merge(touched, today, changes, total_pos);
  for (uint32_t index : seen) {
    ActorInfo info = staged_info(index, changes);
    // For the API "last seen" is the newest day with data: the API has no finer time.
    info.last_seen_api = std::max(info.last_seen_api, static_cast<double>(day.unix_seconds()));
    info.org = org;
    changes.actors.push_back({index, std::move(info)});
  }
  fill_actor_keys(changes);
  return changes;
}

LedgerChanges Ledger::stage_prune(util::Date oldest_kept) const {
  LedgerChanges changes;
  std::shared_lock lock(mu_);
  for (auto it = days_.begin(); it != days_.end() && it->first < oldest_kept; ++it) {
    changes.days_pruned.push_back(it->first);
  }
  return changes;
}

void Ledger::apply(const LedgerChanges& changes) {
  std::unique_lock lock(mu_);
  for (const auto& [index, id] : changes.new_actors) {
    // Changes apply in the order they were staged (one writer), so indices line up.
    if (index != actors_.size()) throw std::logic_error("ledger: changes applied out of order");
    actors_.push_back(ActorInfo{id, {}, 0, 0, {}});
    actor_index_.emplace(id.key(), index);
  }
  for (const auto& d : changes.days_pruned)
    days_.erase(d);
  for (const auto& s : changes.api_slices_replaced) {
    Unit& u = days_[s.day][s.actor];
    u.api.clear();
    u.api_owner = s.owner;
  }
  for (const auto& d : changes.daily) {
    note_label_values(d.actor, d.key);
    Unit& u = days_[d.date][d.actor];
    (d.source == Source::kOtel  ? u.otel
     : d.source == Source::kApi ? u.api
                                : u.counted)[d.key] = d.value;
  }
  for (const auto& t : changes.totals)
    totals_[t.key] = t.value;
  for (const auto& u : changes.unit_teams)
    days_[u.date][u.actor].otel_team = u.team;
  for (const auto& a : changes.actors)
    actors_[a.index] = a.info;
}

void Ledger::restore_actor(const ActorInfo& info) {
  std::unique_lock lock(mu_);
  actors_[intern(info.id)] = info;
}

void Ledger::restore_daily(Source source, util::Date date, const ActorId& actor, const QKey& key,
                           double value) {
  std::unique_lock lock(mu_);
  const uint32_t index = intern(actor);
  note_label_values(index, key);
  Unit& u = days_[date][index];
  (source == Source::kOtel ? u.otel : source == Source::kApi ? u.api : u.counted)[key] = value;
}

void Ledger::restore_total(const ActorId& actor, const QKey& key, double value) {
  std::unique_lock lock(mu_);
  const uint32_t index = intern(actor);
  note_label_values(index, key);
  totals_[CellKey{index, key}] = value;
}

void Ledger::restore_unit_team(util::Date date, const ActorId& actor, const std::string& team) {
  std::unique_lock lock(mu_);
  days_[date][intern(actor)].otel_team = team;
}

void Ledger::restore_api_owner(util::Date date, const ActorId& actor, const std::string& owner) {
  std::unique_lock lock(mu_);
  days_[date][intern(actor)].api_owner = owner;
}

void Ledger::clear() {
  std::unique_lock lock(mu_);
  actors_.clear();
  actor_index_.clear();
  label_values_.clear();
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
