#include "cce/admin/requests.h"

#include <spdlog/spdlog.h>

#include <random>

#include "cce/admin/usage_report.h"
#include "cce/util/duration.h"
#include "cce/util/hash.h"

namespace cce::admin {

Requests::Requests(RequestOptions options, metrics::ApiSourceMetrics& metrics,
                   const util::Clock& clock, util::StopSignal& stop, std::string name,
                   std::string secret)
    : options_(options),
      metrics_(metrics),
      clock_(clock),
      stop_(stop),
      name_(std::move(name)),
      secret_(std::move(secret)) {}

bool Requests::sleep_for(std::chrono::milliseconds d) {
  return clock_.sleep_for(d, stop_);
}

std::string Requests::redact(std::string text) const {
  if (secret_.empty()) return text;
  for (size_t pos; (pos = text.find(secret_)) != std::string::npos;) {
    text.replace(pos, secret_.size(), "<redacted>");
  }
  return text;
}

std::chrono::milliseconds Requests::backoff(int attempt) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  // Capped exponential backoff with jitter (50-100% of the step).
  auto step = options_.retry_backoff * (int64_t{1} << std::min(attempt, 20));
  step = std::min<std::chrono::milliseconds>(step, options_.retry_backoff_max);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(step.count()) * jitter(rng)));
}

Requests::Attempt Requests::get(const std::string& where,
                                const std::function<HttpResult()>& request, const Check& check) {
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    // Politeness between any two requests (the APIs' rate limits are per organization).
    if (last_request_ &&
        !clock_.sleep_until(*last_request_ + options_.min_request_interval, stop_)) {
      return {State::kStopped, {}};
    }
    if (stop_.requested()) return {State::kStopped, {}};
    last_request_ = clock_.monotonic();
    HttpResult r = request();
    metrics_.request(r.status == 0 ? "network" : std::to_string(r.status));
    const bool last = attempt + 1 == options_.max_attempts;
    std::chrono::milliseconds wait = backoff(attempt);
    auto then = [&] {
      return last ? std::string() : ", retrying in " + std::to_string(wait.count()) + " ms";
    };

    if (r.status == 200) {
      const std::string problem = check(r);
      if (problem.empty()) return {State::kAnswer, std::move(r)};
      metrics_.failure("malformed");
      spdlog::warn("{}: {}: malformed response{}: {}", name_, where, then(), redact(problem));
    } else if (r.status == 429) {
      metrics_.failure("rate_limited");
      if (r.retry_after_seconds) {
        const double asked = std::min(*r.retry_after_seconds, 1e9);
        wait = std::chrono::milliseconds(static_cast<int64_t>(asked * 1000));
        if (wait > options_.max_retry_after) {
          // A server must not be able to stop polling for a year with one header.
          metrics_.failure("retry_after_capped");
          spdlog::warn(
              "{}: {}: retry-after of {:.0f} s is above {}.max_retry_after ({}); waiting that "
              "long instead",
              name_, where, asked, name_, util::format_duration(options_.max_retry_after));
          wait = options_.max_retry_after;
        }
      }
      spdlog::warn("{}: {}: rate limited (429){}", name_, where, then());
    } else if (r.status == 0 || r.status >= 500) {
      metrics_.failure(r.status == 0 ? r.reason : "server_error");
      spdlog::warn("{}: {}: {}{}", name_, where,
                   r.status == 0 ? "no answer (" + r.error + ")"
                                 : std::to_string(r.status) + " " + redact(error_summary(r.body)),
                   then());
    } else {
      return {State::kAnswer, std::move(r)};  // another 4xx: the source knows what it means
    }
    if (!last && !sleep_for(wait)) return {State::kStopped, {}};
  }
  spdlog::error("{}: {}: giving up after {} attempts; the day is fetched again next cycle", name_,
                where, options_.max_attempts);
  return {State::kGaveUp, {}};
}

std::string CursorWalk::next(const std::string& cursor) {
  if (++pages_ > max_pages_) return "page_limit";
  if (!cursor.empty() && !cursors_.insert(util::Hasher().add(cursor).digest()).second) {
    return "cursor_loop";
  }
  return "";
}

std::string CursorWalk::describe(const std::string& reason, int max_pages, const char* key) {
  if (reason == "page_limit") {
    return "more than " + std::to_string(max_pages) + " pages (" + key + ")";
  }
  return "the API returned a next_page cursor it had returned before (the cursor loops)";
}

}  // namespace cce::admin
