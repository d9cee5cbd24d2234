#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cce/store/options.h"

struct sqlite3;

namespace cce::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The store's rows, as plain values: the store knows tables, not what the numbers mean. The
// ingest module converts between these and the ledger and normalizer.
struct ActorRow {
  std::string actor_key;  // "<actor_type>:<actor>"
  std::string otel_team;
  double last_seen_otel = 0;
  double last_seen_api = 0;
  std::string org = {};  // the configured organization ("" with one)
};
struct DailyRow {
  std::string source;  // otel | api | counted
  std::string date;    // YYYY-MM-DD (UTC)
  std::string actor_key;
  std::string quantity;
  std::string labels;  // label values joined by 0x1f
  double value = 0;
};
struct TotalRow {
  std::string actor_key;
  std::string quantity;
  std::string labels;
  double value = 0;
};
struct UnitTeamRow {
  std::string date;
  std::string actor_key;
  std::string team;
};
// The API source holding a (day, actor)'s API rows, when it is not the default one.
struct ApiOwnerRow {
  std::string date;
  std::string actor_key;
  std::string owner;
};
struct SeriesRow {
  uint64_t series = 0;
  uint64_t start_ns = 0;
  uint64_t time_ns = 0;
  double value = 0;
  int64_t seen_at = 0;
};
struct SeenRow {
  uint64_t key = 0;
  int64_t seen_at = 0;
};
struct IdentityRow {
  std::string account;
  std::string email;
};

// What the ledger is made of.
struct LedgerRows {
  std::vector<ActorRow> actors;
  std::vector<DailyRow> daily;
  std::vector<TotalRow> totals;
  std::vector<UnitTeamRow> unit_teams;
  std::vector<ApiOwnerRow> api_owners;
};
// What OTLP duplicate detection and cumulative conversion need.
struct IngestStateRows {
  std::vector<SeriesRow> series;
  std::vector<SeenRow> seen;
  std::vector<IdentityRow> identities;
};

// One transaction's worth of writes, applied in this order: deletions, then upserts.
struct Batch {
  std::vector<std::string> days_deleted;  // every source
  // (date, actor_key) whose organization API rows are replaced.
  std::vector<std::pair<std::string, std::string>> api_slices_deleted;
  std::vector<ApiOwnerRow> api_owners;  // written after the deletions
  std::vector<ActorRow> actors;
  std::vector<DailyRow> daily;
  std::vector<TotalRow> totals;
  std::vector<UnitTeamRow> unit_teams;
  std::vector<SeriesRow> series;
  std::vector<SeenRow> seen;
  std::vector<IdentityRow> identities;
  std::vector<std::pair<std::string, std::string>> state;
};

// The embedded SQLite store (WAL). Holds the ledger's numbers and the OTLP ingest state so both
// survive a restart. Every write is one transaction.
//
// Thread-safety: one connection, serialized by an internal mutex; in practice only the ingest
// writer writes, and start-up reads.
class Store {
 public:
  // The schema this agent writes: the number of migrations it knows.
  static int latest_schema_version();

  // Opens (creating if needed) and migrates the database. Throws StoreError.
  static std::unique_ptr<Store> open(const std::string& path, Synchronous sync);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;

  LedgerRows read_ledger();
  IngestStateRows read_ingest_state();

  // Writes the batch in one transaction. Throws StoreError (nothing is written then).
  // The ledger rows of a batch without deletions go to the journal as one record and reach
  // their tables in a later fold round; reads see them either way. While a round runs, each
  // such write also carries kFoldStepRows of it. A batch with deletions folds everything first.
  void write(Batch batch);  // by value: the journal keeps its rows without copying them

  static constexpr size_t kFoldStepRows = 1024;
  // Makes every committed write durable when the store was opened with Synchronous::kFull (a
  // sync of the write-ahead log; one covers every commit before it); commits themselves do not
  // wait for the disk. May run beside write(). Throws StoreError.
  void sync();
  // Adds the ledger rows of committed writes to the in-memory journal, which keeps the latest
  // value of each row for the next fold round. May run beside write(), and is best run there:
  // it costs a hash lookup per row. Whatever reads or folds the journal does it first anyway.
  void absorb();
  // Starts a fold round if none runs (the journal so far, the latest value of each row), and
  // writes up to max_rows of it in one transaction, with the next few records of a folded round
  // deleted. Throws StoreError (the round stays then).
  void fold_some(size_t max_rows);
  // Writes every journaled row into its table and empties the journal, in one transaction.
  void fold();
  // Whether a fold round is under way, or the records of a folded one are still being deleted.
  bool folding() const;
  // The bytes of journal records written since the last round began.
  size_t journal_bytes() const;

  // Drops duplicate-detection keys and cumulative series older than the cut-offs.
  void prune(int64_t seen_before, int64_t series_before);

  // Small key/value state (e.g. backfill progress).
  std::optional<std::string> get_state(const std::string& key);
  void set_state(const std::string& key, const std::string& value);

  // A small write in its own transaction: throws StoreError when the store cannot take writes
  // (read-only file or file system, full disk), naming the file and the OS error.
  void probe();

  // A WAL checkpoint, so the main file holds everything (used at shutdown).
  void checkpoint();

 private:
  explicit Store(sqlite3* db);
  void exec(const char* sql);
  // Runs body in BEGIN IMMEDIATE … COMMIT; rolls back and rethrows if it throws.
  void transaction(const std::function<void()>& body);
  void migrate();
  void load_journal();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::store
