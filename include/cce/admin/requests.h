#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "cce/admin/client.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/util/clock.h"

namespace cce::admin {

struct RequestOptions {
  std::chrono::milliseconds min_request_interval{1000};
  std::chrono::milliseconds retry_backoff{1000};
  std::chrono::milliseconds retry_backoff_max{std::chrono::minutes(2)};
  int max_attempts = 8;
  std::chrono::milliseconds max_retry_after{std::chrono::minutes(15)};
};

// The paced, retried requests of one organization API source: at most one request per
// min_request_interval, 429 honoured (retry-after up to max_retry_after), 5xx, no answer and
// unusable 200s retried with capped exponential backoff and jitter. Every request is counted
// in the source's metrics; log lines start with the source's name and never hold the key.
class Requests {
 public:
  Requests(RequestOptions options, metrics::ApiSourceMetrics& metrics, const util::Clock& clock,
           util::StopSignal& stop, std::string name, std::string secret);

  enum class State { kAnswer, kGaveUp, kStopped };
  struct Attempt {
    State state = State::kGaveUp;
    HttpResult result;
  };
  // `check` judges a 200: "" when usable, else why not (logged, counted as malformed, retried).
  using Check = std::function<std::string(const HttpResult&)>;
  // Sends `request` until it yields a usable 200 or a 4xx other than 429 (kAnswer: the source
  // judges it), max_attempts are used up (kGaveUp) or the poller stops (kStopped).
  Attempt get(const std::string& where, const std::function<HttpResult()>& request,
              const Check& check);

  bool sleep_for(std::chrono::milliseconds d);  // on the clock; false when stopped
  std::string redact(std::string text) const;
  metrics::ApiSourceMetrics& metrics() { return metrics_; }
  const std::string& name() const { return name_; }

 private:
  std::chrono::milliseconds backoff(int attempt);

  RequestOptions options_;
  metrics::ApiSourceMetrics& metrics_;
  const util::Clock& clock_;
  util::StopSignal& stop_;
  std::string name_;
  std::string secret_;
  std::optional<util::MonoTime> last_request_;
};

// Guards a walk through cursor pages: at most max_pages, and no cursor twice (a loop).
class CursorWalk {
 public:
  explicit CursorWalk(int max_pages) : max_pages_(max_pages) {}
  // Before each page: "" to go on, else why the walk must stop ("page_limit", "cursor_loop").
  std::string next(const std::string& cursor);
  static std::string describe(const std::string& reason, int max_pages, const char* key);

 private:
  int max_pages_;
  int pages_ = 0;
  std::set<uint64_t> cursors_;  // hashes: a hostile cursor may be long
};

}  // namespace cce::admin
