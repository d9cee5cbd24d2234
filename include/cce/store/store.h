#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cce/usage/ledger.h"
#include "cce/usage/otel_normalizer.h"

struct sqlite3;

namespace cce::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Synchronous { kNormal, kFull };

// The embedded SQLite store (WAL). Holds the ledger's numbers and the OTLP ingest state so both
// survive a restart. Every write is one transaction.
//
// Thread-safety: one connection, serialized by an internal mutex; in practice only the ingest
// writer and the Admin API poller write, and start-up reads.
class Store {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if needed) and migrates the database. Throws StoreError.
  static std::unique_ptr<Store> open(const std::string& path, Synchronous sync);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;

  // Fills the ledger and the normalizer from what is stored.
  void load(usage::Ledger& ledger, usage::OtelNormalizer& normalizer);
  void load_ledger(usage::Ledger& ledger);
  void load_normalizer(usage::OtelNormalizer& normalizer);

  // Writes the changes of one group of OTLP requests, and the ingest state they moved, in one
  // transaction. Throws StoreError (nothing is written then).
  void write_ingest(const usage::LedgerChanges& changes,
                    const std::vector<const usage::IngestResult*>& results);

  // Writes ledger changes (e.g. one replaced Admin API day) and state values in one
  // transaction. Throws StoreError (nothing is written then).
  void write_changes(const usage::LedgerChanges& changes,
                     const std::vector<std::pair<std::string, std::string>>& state);

  // Drops duplicate-detection keys and cumulative series older than the cut-offs.
  void prune(int64_t seen_before, int64_t series_before);

  // Small key/value state (e.g. backfill progress).
  std::optional<std::string> get_state(const std::string& key);
  void set_state(const std::string& key, const std::string& value);

  // A WAL checkpoint, so the main file holds everything (used at shutdown).
  void checkpoint();

 private:
  explicit Store(sqlite3* db);
  void exec(const char* sql);
  // Runs body in BEGIN IMMEDIATE … COMMIT; rolls back and rethrows if it throws.
  void transaction(const std::function<void()>& body);
  void migrate();

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::store
