#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cce/usage/observation.h"

namespace cce::usage {

// Where a stored daily value comes from. kCounted is the ledger's own: the highest merged value
// a (unit, series) has had, which is what the merged counters add up, so they never decrease.
enum class Source : uint8_t { kOtel, kApi, kCounted };
std::string_view to_string(Source s);
std::optional<Source> parse_source(std::string_view s);

struct ActorInfo {
  ActorId id;
  std::string otel_team;      // last team attribute seen on OTel data
  double last_seen_otel = 0;  // unix seconds of the last OTLP data, 0 = never
  double last_seen_api = 0;   // UTC midnight of the newest day with API data, 0 = never
  // The configured organization it belongs to ("" with one organization): the organization
  // whose API reported it last, else the one its OTel organization.id maps to.
  std::string org = {};
};

// (quantity, labels): one series within a unit.
struct QKey {
  Quantity quantity = Quantity::kCostUsd;
  LabelValues labels;
  bool operator==(const QKey&) const = default;
};
struct QKeyHash {
  size_t operator()(const QKey& k) const {
    return std::hash<std::string>()(k.labels) * 31 + static_cast<size_t>(k.quantity);
  }
};
using QCells = std::unordered_map<QKey, double, QKeyHash>;

// (actor, quantity, labels): one counter series.
struct CellKey {
  uint32_t actor = 0;
  QKey key;
  bool operator==(const CellKey&) const = default;
};
struct CellKeyHash {
  size_t operator()(const CellKey& k) const { return QKeyHash()(k.key) ^ (size_t{k.actor} << 20); }
};
using Cells = std::unordered_map<CellKey, double, CellKeyHash>;

// What each source said for one (actor, date), and the high-water merged values.
struct Unit {
  QCells otel;
  QCells api;
  QCells counted;
  // The team the actor's OTel data named on this day (the last one that day); "" when none.
  // The day's spend stays with it when the actor later changes team.
  std::string otel_team;
  // The API source whose rows `api` holds ("" for the Admin API with one organization): only
  // that source's readings of the day replace them.
  std::string api_owner = {};
};

}  // namespace cce::usage
