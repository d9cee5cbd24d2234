#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cce/usage/ledger_types.h"
#include "cce/usage/limits.h"
#include "cce/usage/merge.h"
#include "cce/usage/observation.h"
#include "cce/usage/pricing.h"
#include "cce/util/civil_date.h"

namespace cce::usage {

struct LedgerOptions {
  MergeOptions merge;
  PriceTable prices = PriceTable::defaults();
  CacheTtl cache_ttl = CacheTtl::k5m;
  size_t max_actors = 10000;  // beyond it, new actors are folded into actor "__other__"
  // Label values and actor ids are cut to this length; beyond this many distinct values of a
  // capped label (limits.h) an actor's further values are folded into "__other__".
  size_t max_label_length = 256;
  size_t max_label_values_per_actor = 100;
  // OTel organization.id -> configured organization, for actors no organization API reports.
  std::map<std::string, std::string> org_by_otel_id;
};

// Absolute values after a change, ready to be persisted and then applied.
struct LedgerChanges {
  struct Daily {
    Source source;
    util::Date date;
    uint32_t actor;
    QKey key;
    double value;
  };
  struct Total {
    CellKey key;
    double value;
  };
  struct Actor {
    uint32_t index;
    ActorInfo info;
  };
  struct UnitTeam {
    util::Date date;
    uint32_t actor;
    std::string team;
  };
  std::vector<Daily> daily;
  std::vector<Total> totals;
  std::vector<Actor> actors;
  std::vector<UnitTeam> unit_teams;
  // Actors this change introduces, with the index each gets when it is applied.
  std::vector<std::pair<uint32_t, ActorId>> new_actors;
  // Days whose whole Admin API slice is replaced by the kApi `daily` cells.
  // (day, actor) whose API slice is replaced, and the source that holds it from then on.
  struct ApiSlice {
    util::Date day;
    uint32_t actor;
    std::string owner;
  };
  std::vector<ApiSlice> api_slices_replaced;
  // People another source already reports for that day: their rows were left out.
  std::vector<uint32_t> api_held_by_other;
  // Days dropped from the store (retention); the counters keep what they counted.
  std::vector<util::Date> days_pruned;
  size_t overflowed = 0;  // observations folded into "__other__" by the cardinality guard
  std::map<std::string, size_t> limit_hits;  // label truncations and folds, by [limits] key
  // Storage key (ActorId::key()) of every actor index referenced above.
  std::unordered_map<uint32_t, std::string> actor_keys;
  bool empty() const {
    return daily.empty() && totals.empty() && actors.empty() && unit_teams.empty() &&
           new_actors.empty() && api_slices_replaced.empty() && days_pruned.empty();
  }
};

// The merged quantities of one unit from the winning source's cells: only quantities both
// sources report, plus an estimated cost for models with tokens but no cost (priced models).
QCells merged_cells(const QCells& slice, const LedgerOptions& options);

// Usage per (UTC date, actor): what each source said, and the merged counters. In memory; the
// store holds the same numbers, always written as absolutes computed here, so a reload
// reproduces them bit for bit.
//
// Merged counters: for every (unit, series) the ledger keeps the highest merged value it has
// had ("counted"); a counter is the sum of those over all days, so a downward revision (the API
// replacing a higher OTel figure) is absorbed and counters never decrease, even when old days
// are pruned.
//
// Staging has no side effects: a change that is never applied (its commit failed) leaves the
// ledger as it was. Changes must be applied in the order they were staged.
//
// Thread-safety: stage/apply/restore come from the single writer thread; read() and
// options() may be called from any thread.
class Ledger {
 public:
  explicit Ledger(LedgerOptions options = {});

  struct ActorTouch {
    ActorId actor;
    std::string otel_team;
    double seen_at;
    std::string otel_org = {};  // organization.id on its data
  };
  // What adding these OTel observations changes. `today` decides merge.otel_for_today.
  LedgerChanges stage_otel(const std::vector<Observation>& obs,
                           const std::vector<ActorTouch>& actors, util::Date today);
  // Replaces the API slices source `owner` holds for one day; rows of the same series are summed,
  // and the actors it reports belong to organization `org` ("" with one) from then on. A
  // person whose day another source already holds is left out (api_held_by_other): two sources
  // never overwrite or double each other.
  LedgerChanges stage_api_day(util::Date day, const std::vector<Observation>& obs, util::Date today,
                              const std::string& org = "", const std::string& owner = "");
  // Drops every day before `oldest_kept`.
  LedgerChanges stage_prune(util::Date oldest_kept) const;
  void apply(const LedgerChanges& changes);

  // Start-up restore from the store (the cardinality guard does not apply).
  void restore_actor(const ActorInfo& info);
  void restore_daily(Source source, util::Date date, const ActorId& actor, const QKey& key,
                     double value);
  void restore_total(const ActorId& actor, const QKey& key, double value);
  void restore_unit_team(util::Date date, const ActorId& actor, const std::string& team);
  void restore_api_owner(util::Date date, const ActorId& actor, const std::string& owner);
  void clear();

  struct View {
    const std::vector<ActorInfo>& actors;
    const std::map<util::Date, std::unordered_map<uint32_t, Unit>>& days;
    const Cells& totals;
  };
  // Runs fn with a consistent read-only view, under a shared lock.
  void read(const std::function<void(const View&)>& fn) const;

  const LedgerOptions& options() const { return options_; }
  size_t actor_count() const;
  // What an actor or label value beyond a bound is folded into.
  static constexpr const char* kOther = "__other__";
  static constexpr const char* kOverflowActor = kOther;

 private:
  // A (day, actor) as a change sees it: the cells it moves are its own; the rest is read from
  // the applied unit (copying whole units cost more than the change itself).
  struct StagedUnit {
    const Unit* base = nullptr;  // the applied unit, if there is one
    QCells otel_moved;           // OTel cells this change moves, at their new values
    std::optional<QCells> api;   // set when the change replaces the API slice
    const QCells& api_cells() const { return api ? *api : base ? base->api : empty(); }
    bool has_otel() const { return !otel_moved.empty() || (base && !base->otel.empty()); }
    // An OTel cell's value after the change (0 when it has none), and whether it has one.
    double otel_value(const QKey& k) const;
    bool has_otel_cell(const QKey& k) const;
    QCells otel_cells() const;  // the whole OTel slice after the change
    const QCells& counted() const { return base ? base->counted : empty(); }
    std::string_view otel_team() const { return base ? base->otel_team : std::string_view(); }
    static const QCells& empty() {
      static const QCells kEmpty;
      return kEmpty;
    }
  };
  using Overlay = std::map<std::pair<util::Date, uint32_t>, StagedUnit>;
  uint32_t intern(const ActorId& actor);  // restore only (no guard); mu_ held
  // The index an actor has, or will have once `changes` is applied (then recorded in
  // changes.new_actors); applies the cardinality guard.
  uint32_t stage_actor(const ActorId& actor, LedgerChanges& changes,
                       std::unordered_map<std::string, uint32_t>& pending,
                       bool count_overflow) const;
  ActorInfo staged_info(uint32_t index, const LedgerChanges& changes) const;
  // Bounds (limits.h) applied while staging, the same for both sources.
  using PendingValues = std::map<std::pair<uint32_t, std::string_view>, std::set<std::string>>;
  ActorId bounded(ActorId actor, LedgerChanges& changes) const;
  LabelValues bound_labels(uint32_t actor, Quantity q, const LabelValues& labels,
                           LedgerChanges& changes, PendingValues& pending) const;
  void note_label_values(uint32_t actor, const QKey& key);  // mu_ held
  // Recomputes the merged values of the touched units and records counted/total changes.
  void stage_merge(const Overlay& touched, util::Date today, LedgerChanges& changes,
                   std::unordered_map<CellKey, size_t, CellKeyHash>& total_pos) const;
  const Unit* unit(util::Date date, uint32_t actor) const;
  void fill_actor_keys(LedgerChanges& changes) const;  // mu_ held

  LedgerOptions options_;
  mutable std::shared_mutex mu_;
  std::vector<ActorInfo> actors_;
  std::unordered_map<std::string, uint32_t> actor_index_;  // ActorId::key() -> index
  std::map<util::Date, std::unordered_map<uint32_t, Unit>> days_;
  Cells totals_;
  // Per actor, the distinct values of each capped label it has.
  std::unordered_map<uint32_t,
                     std::unordered_map<std::string_view, std::unordered_set<std::string>>>
      label_values_;
};

}  // namespace cce::usage
