#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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
struct QKeyLess {
  bool operator()(const QKey& a, const QKey& b) const {
    return a.quantity != b.quantity ? a.quantity < b.quantity : a.labels < b.labels;
  }
};

// One unit's cells, by key. A unit has a few dozen at most, so a sorted vector takes about half
// the memory of a hash map (no nodes, no buckets) with lookups as fast at this size; with tens of
// thousands of units that is most of the ledger. Iterates in key order.
class QCells {
 public:
  using value_type = std::pair<QKey, double>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  iterator begin() { return cells_.begin(); }
  iterator end() { return cells_.end(); }
  const_iterator begin() const { return cells_.begin(); }
  const_iterator end() const { return cells_.end(); }
  size_t size() const { return cells_.size(); }
  bool empty() const { return cells_.empty(); }
  void clear() { cells_.clear(); }

  iterator find(const QKey& k) { return find(cells_, k); }
  const_iterator find(const QKey& k) const { return find(cells_, k); }
  size_t count(const QKey& k) const { return find(k) != end() ? 1 : 0; }
  // Inserts (k, v) unless k is there; the cell either way, and whether it was inserted.
  std::pair<iterator, bool> emplace(QKey k, double v) {
    auto it = lower_bound(cells_, k);
    if (it != cells_.end() && it->first == k) return {it, false};
    if (cells_.size() == cells_.capacity()) {
      // Grow by half, not double: units are many and most stop growing early.
      const size_t at = static_cast<size_t>(it - cells_.begin());
      cells_.reserve(cells_.size() + cells_.size() / 2 + 2);
      it = cells_.begin() + static_cast<std::ptrdiff_t>(at);
    }
    return {cells_.emplace(it, std::move(k), v), true};
  }
  std::pair<iterator, bool> try_emplace(QKey k, double v = 0) { return emplace(std::move(k), v); }
  double& operator[](const QKey& k) { return emplace(k, 0).first->second; }
  size_t erase(const QKey& k) {
    auto it = find(k);
    if (it == cells_.end()) return 0;
    cells_.erase(it);
    return 1;
  }
  bool operator==(const QCells&) const = default;

 private:
  template <typename Cells>
  static auto lower_bound(Cells& cells, const QKey& k) -> decltype(cells.begin()) {
    return std::lower_bound(
        cells.begin(), cells.end(), k,
        [](const value_type& c, const QKey& key) { return QKeyLess()(c.first, key); });
  }
  template <typename Cells>
  static auto find(Cells& cells, const QKey& k) -> decltype(cells.begin()) {
    auto it = lower_bound(cells, k);
    return it != cells.end() && it->first == k ? it : cells.end();
  }
  std::vector<value_type> cells_;
};

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
