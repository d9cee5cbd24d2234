#include "src/store/ledger_journal.h"

#include <algorithm>
#include <bit>
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

template <typename Row>
size_t LedgerJournal::Table<Row>::home(uint64_t hash) const {
  // Fibonacci hashing: the product's top bits, which every bit of the hash reaches.
  return static_cast<size_t>((hash * 0x9e3779b97f4a7c15ULL) >>
                             (64 - std::countr_zero(slots_.size())));
}

template <typename Row>
void LedgerJournal::Table<Row>::grow() {
  slots_.assign(std::max<size_t>(64, slots_.size() * 2), 0);
  const size_t mask = slots_.size() - 1;
  for (size_t r = 0; r < rows_.size(); ++r) {
    size_t i = home(hashes_[r]);
    while (slots_[i] != 0)
      i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(r + 1);
  }
}

template <typename Row>
bool LedgerJournal::Table<Row>::put(Row&& row) {
  if ((rows_.size() + 1) * 2 > slots_.size()) grow();
  const uint64_t hash = hash_of(row);
  const size_t mask = slots_.size() - 1;
  for (size_t i = home(hash);; i = (i + 1) & mask) {
    const uint32_t slot = slots_[i];
    if (slot == 0) {
      slots_[i] = static_cast<uint32_t>(rows_.size() + 1);
      rows_.push_back(std::move(row));
      hashes_.push_back(hash);
      return true;
    }
    if (hashes_[slot - 1] == hash && key_of(rows_[slot - 1]) == key_of(row)) {
      rows_[slot - 1] = std::move(row);
      return false;
    }
  }
}

template <typename Row>
size_t LedgerJournal::Table<Row>::take(size_t max, std::vector<Row>& out) {
  const size_t n = std::min(max, rows_.size());
  const size_t mask = slots_.size() - 1;
  for (size_t taken = 0; taken < n; ++taken) {
    // The last row goes, so no other row's index changes.
    const size_t r = rows_.size() - 1;
    size_t i = home(hashes_[r]);
    while (slots_[i] != r + 1)
      i = (i + 1) & mask;
    // Rows leave in the reverse of the order they came in (a grow re-inserts them in order),
    // so no row later in this probe run got there past this one: emptying the slot is enough.
    slots_[i] = 0;
    out.push_back(std::move(rows_[r]));
    rows_.pop_back();
    hashes_.pop_back();
  }
  if (rows_.empty()) clear();  // a fold round's end: the memory goes too
  return n;
}

template <typename Row>
void LedgerJournal::Table<Row>::clear() {
  rows_ = {};
  hashes_ = {};
  slots_ = {};
}

template <typename Rows>
void LedgerJournal::add_rows(Rows& rows) {
  auto put_all = [this](auto& table, auto& from) {
    for (auto& r : from)
      rows_ += table.put(std::move(r));
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
  out.actors = actors_.rows();
  out.daily = daily_.rows();
  out.totals = totals_.rows();
  out.unit_teams = unit_teams_.rows();
  return out;
}

LedgerRows LedgerJournal::take(size_t max_rows) {
  LedgerRows out;
  size_t n = actors_.take(max_rows, out.actors);
  n += daily_.take(max_rows - n, out.daily);
  n += totals_.take(max_rows - n, out.totals);
  n += unit_teams_.take(max_rows - n, out.unit_teams);
  rows_ -= n;
  return out;
}

}  // namespace cce::store
