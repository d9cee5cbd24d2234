#pragma once

#include <string>
#include <vector>

#include "cce/store/store.h"
#include "cce/usage/ledger.h"
#include "cce/usage/otel_normalizer.h"

namespace cce::ingest {

// Between the ledger and normalizer on one side and the store's plain rows on the other.

// The rows for a ledger change (absolutes, ready to be written before they are applied).
store::Batch to_batch(const usage::LedgerChanges& changes);
// Adds the ingest state one OTLP request moved (series, seen keys, learned identities).
void add_ingest_state(store::Batch& batch, const usage::IngestResult& result);

// Rows that could not be read back (an unknown quantity, a bad date or actor key): kept in the
// store, left out of the ledger, and reported.
struct RestoreReport {
  size_t rows = 0;
  size_t skipped = 0;
  std::vector<std::string> examples;  // the first few, for the log
};
RestoreReport restore_ledger(const store::LedgerRows& rows, usage::Ledger& ledger);
void restore_normalizer(const store::IngestStateRows& rows, usage::OtelNormalizer& normalizer);

// Reads the store into both (start-up, and after a failed commit); logs skipped rows.
void load(store::Store& store, usage::Ledger& ledger, usage::OtelNormalizer& normalizer);
void load_normalizer(store::Store& store, usage::OtelNormalizer& normalizer);

}  // namespace cce::ingest
