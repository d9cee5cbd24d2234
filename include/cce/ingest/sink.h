#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cce/otlp/types.h"
#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"

namespace cce::ingest {

// The contracts between the sources (the OTLP routes, the Admin API poller) and the single
// writer that makes their data durable.

// A decoded request handed back with its reply, for the listener's thread to free: its memory
// then returns to the allocator's cache of the thread that allocated it, rather than passing
// through the central lists from the thread that answers.
using SpentRequest = std::variant<std::monostate, otlp::MetricsRequest, otlp::LogsRequest>;

// What became of a decoded request.
struct IngestReply {
  bool stored = true;  // false: could not be committed (the client hears 503 and retries)
  size_t rejected = 0;
  std::string message;  // for the partial-success answer
  SpentRequest spent;
};

// Where decoded OTLP requests go. Implementations call `done` once the data is durable (or
// could not be stored), on a thread of their own: a listener never waits for the store.
class OtlpSink {
 public:
  using Done = std::function<void(IngestReply)>;
  virtual ~OtlpSink() = default;
  virtual void ingest(otlp::MetricsRequest req, Done done) = 0;
  virtual void ingest(otlp::LogsRequest req, Done done) = 0;
  virtual void discarded_spans(size_t n) = 0;
};

// Where the Admin API backfill stands: days from `next` down to `oldest` are still to fetch.
struct BackfillProgress {
  util::Date oldest;
  util::Date next;
  bool done() const { return next < oldest; }
  int remaining() const { return done() ? 0 : next - oldest + 1; }
  std::string serialize() const;
  static std::optional<BackfillProgress> parse(const std::string& s);
};

// Where an organization API source's days go: its backfill progress key, the organization its
// people belong to ("" with one), and the owner of its rows ("" for the Admin API with one
// organization): a source replaces only the rows it owns.
struct ApiDayTarget {
  std::string state_key;
  std::string org;
  std::string owner;
};

// Receives each day fetched from an organization API. Implementations replace the source's
// rows of that day and record its progress in one transaction, and return false when that
// failed (the day is fetched again).
class DaySink {
 public:
  virtual ~DaySink() = default;
  virtual bool replace_api_day(util::Date day, std::vector<usage::Observation> observations,
                               std::optional<BackfillProgress> progress,
                               const ApiDayTarget& target) = 0;
  virtual bool save_progress(const std::string& state_key, const BackfillProgress& progress) = 0;
  virtual std::optional<BackfillProgress> load_progress(const std::string& state_key) = 0;
};

}  // namespace cce::ingest
