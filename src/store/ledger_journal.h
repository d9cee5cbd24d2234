#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cce/store/store.h"

namespace cce::store {

// The ledger rows of group commits not yet folded into their tables. A group commit stores its
// rows as one journal record (a sequential append) instead of one B-tree update per row; the
// rows a fold writes are the latest value of each key, so a cell touched by many commits between
// two folds is written once.
class LedgerJournal {
 public:
  // One record: the ledger rows of a batch (actors, daily values, totals, unit teams).
  static std::string encode(const Batch& batch);
  // Throws StoreError on a record that does not decode (it names what is wrong).
  static LedgerRows decode(std::string_view record);

  // Later rows replace earlier ones with the same key.
  void add(const LedgerRows& rows);
  void add(const Batch& batch);
  bool empty() const;
  void clear();
  size_t row_count() const;

  // Every pending row, each key once (its latest value).
  LedgerRows rows() const;

 private:
  std::unordered_map<std::string, ActorRow> actors_;
  std::unordered_map<std::string, DailyRow> daily_;
  std::unordered_map<std::string, TotalRow> totals_;
  std::unordered_map<std::string, UnitTeamRow> unit_teams_;
};

}  // namespace cce::store
