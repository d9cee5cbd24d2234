#include "src/store/ledger_journal.h"

#include <cstring>

namespace cce::store {
namespace {

enum Tag : uint8_t { kActor = 1, kDaily = 2, kTotal = 3, kUnitTeam = 4 };

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

// A map key for a row's identity: length-prefixed, so no separator can occur in a value.
std::string key_of(std::initializer_list<std::string_view> parts) {
  std::string k;
  for (auto p : parts)
    put(k, p);
  return k;
}

template <typename Row>
void add_rows(std::unordered_map<std::string, ActorRow>& actors,
              std::unordered_map<std::string, DailyRow>& daily,
              std::unordered_map<std::string, TotalRow>& totals,
              std::unordered_map<std::string, UnitTeamRow>& unit_teams, const Row& rows) {
  for (const auto& a : rows.actors)
    actors[a.actor_key] = a;
  for (const auto& d : rows.daily)
    daily[key_of({d.source, d.date, d.actor_key, d.quantity, d.labels})] = d;
  for (const auto& t : rows.totals)
    totals[key_of({t.actor_key, t.quantity, t.labels})] = t;
  for (const auto& u : rows.unit_teams)
    unit_teams[key_of({u.date, u.actor_key})] = u;
}

}  // namespace

std::string LedgerJournal::encode(const Batch& b) {
  std::string out;
  for (const auto& a : b.actors) {
    out.push_back(kActor);
    put(out, a.actor_key);
    put(out, a.otel_team);
    put(out, a.last_seen_otel);
    put(out, a.last_seen_api);
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
    switch (r.tag()) {
      case kActor: {
        ActorRow a;
        a.actor_key = r.str();
        a.otel_team = r.str();
        a.last_seen_otel = r.real();
        a.last_seen_api = r.real();
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

void LedgerJournal::add(const LedgerRows& rows) {
  add_rows(actors_, daily_, totals_, unit_teams_, rows);
}
void LedgerJournal::add(const Batch& batch) {
  add_rows(actors_, daily_, totals_, unit_teams_, batch);
}

bool LedgerJournal::empty() const {
  return actors_.empty() && daily_.empty() && totals_.empty() && unit_teams_.empty();
}

void LedgerJournal::clear() {
  actors_.clear();
  daily_.clear();
  totals_.clear();
  unit_teams_.clear();
}

size_t LedgerJournal::row_count() const {
  return actors_.size() + daily_.size() + totals_.size() + unit_teams_.size();
}

LedgerRows LedgerJournal::rows() const {
  LedgerRows out;
  for (const auto& [k, v] : actors_)
    out.actors.push_back(v);
  for (const auto& [k, v] : daily_)
    out.daily.push_back(v);
  for (const auto& [k, v] : totals_)
    out.totals.push_back(v);
  for (const auto& [k, v] : unit_teams_)
    out.unit_teams.push_back(v);
  return out;
}

}  // namespace cce::store
