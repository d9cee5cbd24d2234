#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cce/admin/client.h"
#include "cce/ingest/sink.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/usage/limits.h"
#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"
#include "cce/util/clock.h"

namespace cce::admin {

struct PollerOptions {
  int backfill_days = 365;
  std::chrono::milliseconds poll_interval{std::chrono::minutes(15)};
  int refresh_days = 3;
  std::chrono::milliseconds min_request_interval{1000};
  std::chrono::milliseconds retry_backoff{1000};
  std::chrono::milliseconds retry_backoff_max{std::chrono::minutes(2)};
  int max_attempts = 8;
  int max_pages_per_day = 1000;  // a day needing more is skipped (a looping cursor)
  std::chrono::milliseconds max_retry_after{std::chrono::minutes(15)};
  usage::ValueLimits limits;  // records beyond them are skipped
};

// Polls the Claude Code usage report: on first start a backfill of backfill_days, newest
// first, resumable; then every poll_interval the last refresh_days again. Runs on its own
// thread; no failure of the API reaches OTLP ingestion or /metrics.
class Poller {
 public:
  Poller(PollerOptions options, ReportClient& client, ingest::DaySink& sink,
         metrics::AgentMetrics& metrics, const util::Clock& clock, std::string secret);
  ~Poller();

  // Runs the loop on its own thread; stop() ends it.
  void start();
  void stop();
  // The loop itself, on the calling thread, until stop() (or, on a ManualClock, until the
  // timeline's end): the timeline tests drive it this way.
  void run();

  // kSkipped: a 400 for that day (not retried); kHalted: the key, organization or endpoint
  // refused (401/403/404/…), the cycle stops; kGaveUp: retries used up.
  enum class DayOutcome { kStored, kSkipped, kHalted, kGaveUp, kStopped };
  // Fetches every page of one day and hands it to the sink (synchronous; used by the loop).
  DayOutcome poll_day(util::Date day, std::optional<ingest::BackfillProgress> progress);

 private:
  struct Fetched;
  Fetched fetch_page(util::Date day, const std::string& cursor);
  bool sleep_for(std::chrono::milliseconds d);  // on the clock; false when stopped
  std::string redact(std::string text) const;

  PollerOptions options_;
  ReportClient& client_;
  ingest::DaySink& sink_;
  metrics::AgentMetrics& metrics_;
  const util::Clock& clock_;
  std::string secret_;

  util::StopSignal stop_;
  std::thread thread_;
  std::optional<util::MonoTime> last_request_;
  util::Date newest_with_data_{INT32_MIN};
};

}  // namespace cce::admin
