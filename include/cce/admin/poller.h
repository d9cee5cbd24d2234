#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "cce/admin/day_source.h"
#include "cce/admin/organizations.h"
#include "cce/admin/requests.h"
#include "cce/ingest/sink.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/util/civil_date.h"
#include "cce/util/clock.h"

namespace cce::admin {

struct PollerOptions {
  int backfill_days = 365;
  std::optional<util::Date> backfill_floor;  // no day before it is fetched (the API has none)
  std::chrono::milliseconds poll_interval{std::chrono::minutes(15)};
  int refresh_days = 3;
  RequestOptions requests;
};

// Polls one organization API source: on first start a backfill of backfill_days, newest
// first, resumable; then every poll_interval the last refresh_days again. Runs on its own
// thread; no failure of the API reaches OTLP ingestion or /metrics.
class Poller {
 public:
  // `name` ("admin_api", or "<organization>/<source>"): log prefix, backfill state key
  // ("<name>.backfill") and claimant. `org`, `owner`: as ingest::ApiDayTarget.
  Poller(std::string name, PollerOptions options, DaySource& source, ingest::DaySink& sink,
         metrics::ApiSourceMetrics& metrics, const util::Clock& clock, std::string secret,
         OrganizationClaims* claims = nullptr, std::string org = "", std::string owner = "");
  ~Poller();

  // Runs the loop on its own thread; stop() ends it.
  void start();
  void stop();
  // The loop itself, on the calling thread, until stop() (or, on a ManualClock, until the
  // timeline's end): the timeline tests drive it this way.
  void run();

  // The most days a refresh looks back past days the API has not finished.
  static constexpr int kMaxLagDays = 31 + 7;

  // A task run on the poller's thread every `interval` (the first time at once), through the
  // same paced requests (the APIs' rate limits are per organization); it returns false to stop
  // being run. Set before start().
  void add_task(std::chrono::milliseconds interval, std::function<bool(Requests&)> task);

  // Fetches one day and hands it to the sink (synchronous; used by the loop).
  DayOutcome poll_day(util::Date day, std::optional<ingest::BackfillProgress> progress);

 private:
  const std::string& state_key() const { return target_.state_key; }

  std::string name_;
  ingest::ApiDayTarget target_;
  PollerOptions options_;
  DaySource& source_;
  ingest::DaySink& sink_;
  metrics::ApiSourceMetrics& metrics_;
  const util::Clock& clock_;
  OrganizationClaims* claims_;

  util::StopSignal stop_;
  Requests requests_;
  std::thread thread_;
  util::Date newest_with_data_{INT32_MIN};
  // The newest day the API said it has finished (from a "not yet" answer); later days are not
  // asked for again until the next cycle.
  std::optional<util::Date> latest_available_;
  bool paused_ = false;
  std::chrono::milliseconds task_interval_{0};
  std::function<bool(Requests&)>
      task_;  // this source reports an organization another source already counts
};

}  // namespace cce::admin
