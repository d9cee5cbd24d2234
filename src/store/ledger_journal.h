#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  // Their rows are moved in.
  void add(LedgerRows&& rows);
  void add(Batch&& batch);
  bool empty() const;
  void clear();

  // Every pending row, each key once (its latest value).
  LedgerRows rows() const;
  // Removes and returns about max_rows pending rows (whole buckets; at least one if any).
  LedgerRows take(size_t max_rows);

 private:
  // Rows by a hash of their key; rows whose keys share a hash sit in one bucket. Updating a row
  // already pending allocates nothing (this runs for every row of every group commit).
  template <typename Row>
  using ByKey = std::unordered_map<uint64_t, std::vector<Row>>;
  template <typename Rows>
  void add_rows(Rows& rows);  // moves from them

  ByKey<ActorRow> actors_;
  ByKey<DailyRow> daily_;
  ByKey<TotalRow> totals_;
  ByKey<UnitTeamRow> unit_teams_;
  size_t rows_ = 0;
};

}  // namespace cce::store
