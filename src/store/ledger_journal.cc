#include "src/store/ledger_journal.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <iterator>
#include <string_view>
#include <tuple>
#include <utility>

namespace cce::store {
namespace {

// kActor rows were written before actors had an organization; kActorOrg rows carry it.
enum Tag : uint8_t { kActor = 1, kDaily = 2, kTotal = 3, kUnitTeam = 4, kActorOrg = 5 };

void put(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(s);
}
void put(std::string& out, double v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool done() const { return pos_ == in_.size(); }
  uint8_t tag() {
    need(1);
    return static_cast<uint8_t>(in_[pos_++]);
  }
  std::string str() {
    uint32_t n = 0;
    need(sizeof n);
    std::memcpy(&n, in_.data() + pos_, sizeof n);
    pos_ += sizeof n;
    need(n);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  double real() {
    double v = 0;
    need(sizeof v);
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }

 private:
  void need(size_t n) const {
    if (in_.size() - pos_ < n) {
      throw StoreError("ledger journal record is cut short at byte " + std::to_string(pos_));
    }
  }
  std::string_view in_;
  size_t pos_ = 0;
};

// A row's identity: the columns of its table's primary key.
auto key_of(const ActorRow& r) {
  return std::tie(r.actor_key);
}
auto key_of(const DailyRow& r) {
  return std::tie(r.source, r.date, r.actor_key, r.quantity, r.labels);
}
auto key_of(const TotalRow& r) {
  return std::tie(r.actor_key, r.quantity, r.labels);
}
auto key_of(const UnitTeamRow& r) {
  return std::tie(r.date, r.actor_key);
}

// In memory only (never stored), so the library's word-at-a-time string hash will do.
template <typename Row>
uint64_t hash_of(const Row& r) {
  uint64_t h = 0;
  std::apply(
      [&](const auto&... part) {
        ((h = (h ^ std::hash<std::string_view>{}(part)) * 0x9e3779b97f4a7c15ULL), ...);
      },
      key_of(r));
  return h;
}

template <typename Row, typename From>
size_t put_row(std::unordered_map<uint64_t, std::vector<Row>>& by_key, From&& row) {
  auto& bucket = by_key[hash_of(row)];
  for (auto& r : bucket) {
    if (key_of(r) == key_of(row)) {
      r = std::forward<From>(row);
      return 0;
    }
  }
  bucket.push_back(std::forward<From>(row));
  return 1;
}

template <typename Row>
void append_rows(const std::unordered_map<uint64_t, std::vector<Row>>& by_key,
                 std::vector<Row>& out) {
  for (const auto& [h, bucket] : by_key)
    out.insert(out.end(), bucket.begin(), bucket.end());
}

template <typename Row>
size_t take_rows(std::unordered_map<uint64_t, std::vector<Row>>& by_key, size_t max_rows,
                 std::vector<Row>& out) {
  size_t n = 0;
  for (auto it = by_key.begin(); it != by_key.end() && n < max_rows;) {
    n += it->second.size();
    out.insert(out.end(), std::make_move_iterator(it->second.begin()),
               std::make_move_iterator(it->second.end()));
    it = by_key.erase(it);
  }
  return n;
}

}  // namespace

std::string LedgerJournal::encode(const Batch& b) {
  std::string out;
  for (const auto& a : b.actors) {
    out.push_back(kActorOrg);
    put(out, a.actor_key);
    put(out, a.otel_team);
    put(out, a.last_seen_otel);
    put(out, a.last_seen_api);
    put(out, a.org);
  }
  for (const auto& d : b.daily) {
    out.push_back(kDaily);
    for (const auto* s : {&d.source, &d.date, &d.actor_key, &d.quantity, &d.labels})
      put(out, *s);
    put(out, d.value);
  }
  for (const auto& t : b.totals) {
    out.push_back(kTotal);
    put(out, t.actor_key);
    put(out, t.quantity);
    put(out, t.labels);
    put(out, t.value);
  }
  for (const auto& u : b.unit_teams) {
    out.push_back(kUnitTeam);
    put(out, u.date);
    put(out, u.actor_key);
    put(out, u.team);
  }
  return out;
}

LedgerRows LedgerJournal::decode(std::string_view record) {
  LedgerRows rows;
  Reader r(record);
  while (!r.done()) {
    const uint8_t tag = r.tag();
    switch (tag) {
      case kActor:
      case kActorOrg: {
        const bool with_org = tag == kActorOrg;
        ActorRow a;
        a.actor_key = r.str();
        a.otel_team = r.str();
        a.last_seen_otel = r.real();
        a.last_seen_api = r.real();
        if (with_org) a.org = r.str();
        rows.actors.push_back(std::move(a));
        break;
      }
      case kDaily: {
        DailyRow d;
        d.source = r.str();
        d.date = r.str();
        d.actor_key = r.str();
        d.quantity = r.str();
        d.labels = r.str();
        d.value = r.real();
        rows.daily.push_back(std::move(d));
        break;
      }
      case kTotal: {
        TotalRow t;
        t.actor_key = r.str();
        t.quantity = r.str();
        t.labels = r.str();
        t.value = r.real();
        rows.totals.push_back(std::move(t));
        break;
      }
      case kUnitTeam: {
        UnitTeamRow u;
        u.date = r.str();
        u.actor_key = r.str();
        u.team = r.str();
        rows.unit_teams.push_back(std::move(u));
        break;
      }
      default:
        throw StoreError("ledger journal record has an unknown row kind");
    }
  }
  return rows;
}

template <typename Rows>
void LedgerJournal::add_rows(Rows& rows) {
  auto put_all = [this](auto& by_key, auto& from) {
    for (auto& r : from)
      rows_ += put_row(by_key, std::move(r));
  };
  put_all(actors_, rows.actors);
  put_all(daily_, rows.daily);
  put_all(totals_, rows.totals);
  put_all(unit_teams_, rows.unit_teams);
}

void LedgerJournal::add(LedgerRows&& rows) {
  add_rows(rows);
}
void LedgerJournal::add(Batch&& batch) {
  add_rows(batch);
}

bool LedgerJournal::empty() const {
  return rows_ == 0;
}

void LedgerJournal::clear() {
  actors_.clear();
  daily_.clear();
  totals_.clear();
  unit_teams_.clear();
  rows_ = 0;
}

LedgerRows LedgerJournal::rows() const {
  LedgerRows out;
  append_rows(actors_, out.actors);
  append_rows(daily_, out.daily);
  append_rows(totals_, out.totals);
  append_rows(unit_teams_, out.unit_teams);
  return out;
}

LedgerRows LedgerJournal::take(size_t max_rows) {
  LedgerRows out;
  size_t n = take_rows(actors_, max_rows, out.actors);
  n += take_rows(daily_, max_rows - std::min(n, max_rows), out.daily);
  n += take_rows(totals_, max_rows - std::min(n, max_rows), out.totals);
  n += take_rows(unit_teams_, max_rows - std::min(n, max_rows), out.unit_teams);
  rows_ -= n;
  return out;
}

}  // namespace cce::store
