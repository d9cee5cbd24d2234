#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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
  // Removes and returns up to max_rows pending rows.
  LedgerRows take(size_t max_rows);

 private:
  // Pending rows, each key once, in one open-addressed table: a slot holds 1 + the index of a
  // row in `rows` (0: empty), found by probing from a hash of the row's key. This runs for every
  // row of every group commit: updating a pending row reads a slot and the row, and allocates
  // nothing (a node-based map chased two more pointers per row).
  template <typename Row>
  class Table {
   public:
    // Replaces the pending row with the same key; true when the key is new.
    bool put(Row&& row);
    const std::vector<Row>& rows() const { return rows_; }
    // Moves up to `max` rows into `out`; returns how many.
    size_t take(size_t max, std::vector<Row>& out);
    void clear();

   private:
    size_t home(uint64_t hash) const;
    void grow();
    std::vector<Row> rows_;
    std::vector<uint64_t> hashes_;  // of rows_[i]'s key
    std::vector<uint32_t> slots_;   // a power of two in size, at most half full
  };
  template <typename Rows>
  void add_rows(Rows& rows);  // moves from them

  Table<ActorRow> actors_;
  Table<DailyRow> daily_;
  Table<TotalRow> totals_;
  Table<UnitTeamRow> unit_teams_;
  size_t rows_ = 0;
};

}  // namespace cce::store
