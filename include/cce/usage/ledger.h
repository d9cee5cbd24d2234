#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"

namespace cce::usage {

enum class Source : uint8_t { kOtel, kApi };
std::string_view to_string(Source s);

struct ActorInfo {
  ActorId id;
  std::string otel_team;      // last team attribute seen on OTel data
  double last_seen_otel = 0;  // unix seconds of the last OTLP data, 0 = never
  double last_seen_api = 0;
};

// (actor, quantity, labels): one series of a family, for one day or for a total.
struct CellKey {
  uint32_t actor = 0;
  Quantity quantity = Quantity::kCostUsd;
  LabelValues labels;
  bool operator==(const CellKey&) const = default;
};
struct CellKeyHash {
  size_t operator()(const CellKey& k) const {
    return std::hash<std::string>()(k.labels) ^ (size_t{k.actor} << 8) ^
           static_cast<size_t>(k.quantity);
  }
};
using Cells = std::unordered_map<CellKey, double, CellKeyHash>;

// Absolute values after a change, ready to be persisted and then applied.
struct LedgerChanges {
  struct Daily {
    Source source;
    util::Date date;
    CellKey key;
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
  std::vector<Daily> daily;
  std::vector<Total> totals;
  std::vector<Actor> actors;
  // Days whose whole Admin API slice is replaced by the `daily` cells of source kApi.
  std::vector<util::Date> api_days_replaced;
  bool empty() const {
    return daily.empty() && totals.empty() && actors.empty() && api_days_replaced.empty();
  }
};

// Usage per (actor, UTC date, source), plus the running counter totals. In memory; the store
// holds the same numbers. Values are always set as absolutes computed here, so a reload from
// the store reproduces them bit for bit.
//
// Thread-safety: stage/apply/restore come from the single writer thread; read() may be called
// from any thread.
class Ledger {
 public:
  // Computes what adding these observations changes. Interns unseen actors.
  struct ActorTouch {
    ActorId actor;
    std::string otel_team;
    double seen_at;
  };
  LedgerChanges stage_otel(const std::vector<Observation>& obs,
                           const std::vector<ActorTouch>& actors);
  // Replaces the Admin API slice of one day: rows of the same (actor, quantity, labels) are
  // summed.
  LedgerChanges stage_api_day(util::Date day, const std::vector<Observation>& obs);
  void apply(const LedgerChanges& changes);

  // Start-up restore from the store.
  void restore_actor(const ActorInfo& info);
  void restore_daily(Source source, util::Date date, const ActorId& actor, Quantity q,
                     const LabelValues& labels, double value);
  void restore_total(const ActorId& actor, Quantity q, const LabelValues& labels, double value);
  void clear();

  struct Day {
    Cells otel;
    Cells api;
  };
  struct View {
    const std::vector<ActorInfo>& actors;
    const std::map<util::Date, Day>& days;
    const Cells& totals;
  };
  // Runs fn with a consistent read-only view, under a shared lock.
  void read(const std::function<void(const View&)>& fn) const;

  size_t actor_count() const;

 private:
  uint32_t intern(const ActorId& actor);  // requires mu_ held exclusively
  double get(const Cells& cells, const CellKey& key) const;

  mutable std::shared_mutex mu_;
  std::vector<ActorInfo> actors_;
  std::unordered_map<std::string, uint32_t> actor_index_;  // ActorId::key() -> index
  std::map<util::Date, Day> days_;
  Cells totals_;
};

}  // namespace cce::usage
