#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "cce/otlp/types.h"
#include "cce/usage/identity.h"
#include "cce/usage/limits.h"
#include "cce/usage/observation.h"
#include "cce/util/clock.h"

namespace cce::usage {

// Last point seen of a cumulative series.
struct CumulativeState {
  uint64_t start_ns = 0;
  uint64_t time_ns = 0;
  double value = 0;
  int64_t seen_at = 0;  // unix seconds (receipt), for expiry
};

// What one OTLP request turned into, and the state it changed (to persist with it).
struct IngestResult {
  std::vector<Observation> observations;
  struct ActorSeen {
    ActorId actor;
    std::string otel_team;
    std::string otel_org;
  };
  std::vector<ActorSeen> actors;
  std::vector<std::pair<uint64_t, CumulativeState>> series_updates;
  std::vector<uint64_t> seen_keys;  // delta points and log records now known
  std::vector<std::pair<std::string, std::string>> learned_identities;

  int64_t received_at = 0;  // unix seconds

  size_t accepted = 0;
  size_t duplicate = 0;
  size_t rejected = 0;
  size_t ignored = 0;
  std::string rejection_message;             // the first reason, for the partial-success answer
  std::map<std::string, size_t> limit_hits;  // by [limits] key
};

// Turns decoded OTLP metrics and log events into Observations: resolves identity, converts
// cumulative series to deltas (with reset detection), drops replayed points, maps Claude Code's
// names onto ours. Holds the state that needs (series, seen points, learned identities); the
// caller persists what each IngestResult reports. Not thread-safe: one ingest thread owns it.
class OtelNormalizer {
 public:
  // Points dated more than retention_days before the day they are received are rejected: the
  // store no longer holds that day, so counting it again could count it twice.
  // Points beyond `limits` (value, future timestamp) are rejected; identities are truncated.
  OtelNormalizer(IdentityConfig identity, int64_t dedupe_window_seconds, int64_t series_ttl_seconds,
                 int retention_days = 400, ValueLimits limits = {});

  IngestResult ingest(const otlp::MetricsRequest& req, util::TimePoint received);
  IngestResult ingest(const otlp::LogsRequest& req, util::TimePoint received);

  // Restoring state from the store at start-up.
  void restore_series(uint64_t key, const CumulativeState& s) { cumulative_[key] = s; }
  void restore_seen(uint64_t key, int64_t seen_at) { seen_[key] = seen_at; }
  void restore_identity(const std::string& account, const std::string& email) {
    identities_.remember(account, email);
  }
  void clear();

  // Forgets seen keys older than the dedupe window and series idle beyond their TTL.
  // Returns the cut-offs (unix seconds) so the store can prune the same way.
  struct PruneCutoffs {
    int64_t seen_before;
    int64_t series_before;
  };
  PruneCutoffs prune(util::TimePoint now);

  size_t series_count() const { return cumulative_.size(); }
  size_t seen_count() const { return seen_.size(); }

 private:
  void ingest_point(const otlp::Metric& metric, const otlp::NumberPoint& point,
                    const otlp::Attributes& resource, uint64_t series_base, int64_t received_s,
                    int64_t received_ns, IngestResult& out);
  void ingest_record(const otlp::LogRecord& rec, const otlp::Attributes& resource,
                     uint64_t resource_hash, const otlp::Scope& scope, int64_t received_s,
                     int64_t received_ns, IngestResult& out);
  void note_actor(const IdentityResolver::Resolved& who, IngestResult& out);
  bool in_future(int64_t when_ns, int64_t received_ns) const;
  // False (and the point rejected) when an observation exceeds its bound.
  bool within_bounds(const std::vector<Observation>& observations, const std::string& what,
                     IngestResult& out) const;
  void bound_identity(IdentityResolver::Resolved& who, IngestResult& out) const;

  ValueLimits limits_;

  IdentityConfig identity_config_;
  IdentityResolver identities_;
  int64_t dedupe_window_s_;
  int64_t series_ttl_s_;
  int retention_days_;
  std::unordered_map<uint64_t, CumulativeState> cumulative_;
  std::unordered_map<uint64_t, int64_t> seen_;  // key -> receipt time (unix seconds)
};

}  // namespace cce::usage
