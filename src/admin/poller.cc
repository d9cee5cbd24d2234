#include "cce/admin/poller.h"

#include <spdlog/spdlog.h>

#include <random>
#include <set>

#include "cce/admin/usage_report.h"
#include "cce/util/duration.h"
#include "cce/util/hash.h"

namespace cce::admin {

using ingest::BackfillProgress;

struct Poller::Fetched {
  std::optional<Page> page;
  DayOutcome failure = DayOutcome::kGaveUp;
};

Poller::Poller(PollerOptions options, ReportClient& client, ingest::DaySink& sink,
               metrics::AgentMetrics& metrics, const util::Clock& clock, std::string secret)
    : options_(options),
      client_(client),
      sink_(sink),
      metrics_(metrics),
      clock_(clock),
      secret_(std::move(secret)) {}

Poller::~Poller() {
  stop();
}

void Poller::start() {
  thread_ = std::thread([this] { run(); });
}

void Poller::stop() {
  stop_.request();
  if (thread_.joinable()) thread_.join();
}

bool Poller::sleep_for(std::chrono::milliseconds d) {
  return clock_.sleep_for(d, stop_);
}

std::string Poller::redact(std::string text) const {
  if (secret_.empty()) return text;
  for (size_t pos; (pos = text.find(secret_)) != std::string::npos;) {
    text.replace(pos, secret_.size(), "<redacted>");
  }
  return text;
}

Poller::Fetched Poller::fetch_page(util::Date day, const std::string& cursor) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  auto backoff = [&](int attempt) {
    // Capped exponential backoff with jitter (50-100% of the step).
    auto step = options_.retry_backoff * (int64_t{1} << std::min(attempt, 20));
    step = std::min<std::chrono::milliseconds>(step, options_.retry_backoff_max);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(step.count()) * jitter(rng)));
  };
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    // Politeness between any two requests.
    if (last_request_ &&
        !clock_.sleep_until(*last_request_ + options_.min_request_interval, stop_)) {
      return {std::nullopt, DayOutcome::kStopped};
    }
    if (stop_.requested()) return {std::nullopt, DayOutcome::kStopped};
    last_request_ = clock_.monotonic();
    HttpResult r = client_.fetch(day, cursor);
    metrics_.admin_request(r.status == 0 ? "network" : std::to_string(r.status));
    const std::string where = day.str() + (cursor.empty() ? "" : " (next page)");
    const bool last = attempt + 1 == options_.max_attempts;
    std::chrono::milliseconds wait = backoff(attempt);
    auto then = [&] {
      return last ? std::string() : ", retrying in " + std::to_string(wait.count()) + " ms";
    };

    if (r.status == 200) {
      auto parsed = parse_page(r.body, day, options_.limits);
      if (auto* page = std::get_if<Page>(&parsed)) {
        for (const auto& s : page->skipped) {
          spdlog::warn("admin_api: {}: skipped {}", where, redact(s));
        }
        metrics_.admin_records_skipped(page->skipped.size());
        return {std::move(*page), DayOutcome::kStored};
      }
      metrics_.admin_failure("malformed");
      spdlog::warn("admin_api: {}: malformed response{}: {}", where, then(),
                   redact(std::get<PageError>(parsed).message));
    } else if (r.status == 429) {
      metrics_.admin_failure("rate_limited");
      if (r.retry_after_seconds) {
        const double asked = std::min(*r.retry_after_seconds, 1e9);
        wait = std::chrono::milliseconds(static_cast<int64_t>(asked * 1000));
        if (wait > options_.max_retry_after) {
          // A server must not be able to stop polling for a year with one header.
          metrics_.admin_failure("retry_after_capped");
          spdlog::warn(
              "admin_api: {}: retry-after of {:.0f} s is above admin_api.max_retry_after "
              "({}); waiting that long instead",
              where, asked, util::format_duration(options_.max_retry_after));
          wait = options_.max_retry_after;
        }
      }
      spdlog::warn("admin_api: {}: rate limited (429){}", where, then());
    } else if (r.status == 0 || r.status >= 500) {
      metrics_.admin_failure(r.status == 0 ? r.reason : "server_error");
      spdlog::warn("admin_api: {}: {}{}", where,
                   r.status == 0 ? "no answer (" + r.error + ")"
                                 : std::to_string(r.status) + " " + redact(error_summary(r.body)),
                   then());
    } else if (r.status == 400) {
      // Bad parameters for this day (e.g. a date the API does not serve): skip the day.
      metrics_.admin_failure("client_error");
      spdlog::error("admin_api: {}: 400 {}; the day is skipped", where,
                    redact(error_summary(r.body)));
      return {std::nullopt, DayOutcome::kSkipped};
    } else {
      // 401, 403, 402, 404 and other 4xx concern the key, the organization or the endpoint,
      // not this day: every request would fail alike, so the cycle stops here.
      const bool auth = r.status == 401 || r.status == 403;
      metrics_.admin_failure(auth ? "auth" : "client_error");
      const char* why =
          r.status == 401   ? "the Admin API key is wrong, revoked or expired"
          : r.status == 403 ? "the key lacks admin rights (an Admin key, sk-ant-admin…, is "
                              "required) or the organization cannot use this endpoint"
          : r.status == 404 ? "the endpoint is not available for this organization (or "
                              "admin_api.base_url is wrong)"
          : r.status == 402 ? "the organization has a billing problem"
                            : "the request was refused";
      spdlog::error("admin_api: {} {}: {}; polling pauses until the next cycle", r.status,
                    redact(error_summary(r.body)), why);
      return {std::nullopt, DayOutcome::kHalted};
    }
    if (!last && !sleep_for(wait)) {
      return {std::nullopt, DayOutcome::kStopped};
    }
  }
  spdlog::error("admin_api: {}: giving up after {} attempts; the day is fetched again next cycle",
                day.str(), options_.max_attempts);
  return {std::nullopt, DayOutcome::kGaveUp};
}

Poller::DayOutcome Poller::poll_day(util::Date day, std::optional<BackfillProgress> progress) {
  std::vector<usage::Observation> observations;
  std::string cursor;
  std::set<uint64_t> cursors;  // hashes: a hostile cursor may be long
  auto skip_day = [&](const char* reason, const std::string& why) {
    // The API is misbehaving for this day: skip it (a refresh tries it again next cycle) so
    // the days behind it are not held up.
    metrics_.admin_failure(reason);
    spdlog::error("admin_api: {}: {}; the day is skipped", day.str(), why);
    if (progress) sink_.save_progress(*progress);
    return DayOutcome::kSkipped;
  };
  for (int pages = 0;; ++pages) {
    if (pages >= options_.max_pages_per_day) {
      return skip_day("page_limit", "more than " + std::to_string(options_.max_pages_per_day) +
                                        " pages (admin_api.max_pages_per_day)");
    }
    Fetched f = fetch_page(day, cursor);
    if (!f.page) {
      // A permanent client error on one day must not stall the backfill behind it.
      if (f.failure == DayOutcome::kSkipped && progress) sink_.save_progress(*progress);
      return f.failure;
    }
    auto& obs = f.page->observations;
    observations.insert(observations.end(), std::make_move_iterator(obs.begin()),
                        std::make_move_iterator(obs.end()));
    if (!f.page->has_more) break;
    cursor = *f.page->next_page;
    if (!cursors.insert(util::Hasher().add(cursor).digest()).second) {
      return skip_day("cursor_loop",
                      "the API returned a next_page cursor it had returned before "
                      "(the cursor loops)");
    }
  }
  const bool has_data = !observations.empty();
  if (!sink_.replace_api_day(day, std::move(observations), progress)) return DayOutcome::kGaveUp;
  metrics_.admin_success(util::to_unix_seconds(clock_.now()));
  if (has_data && day > newest_with_data_) {
    newest_with_data_ = day;
    metrics_.admin_newest_date(static_cast<double>(day.unix_seconds()));
  }
  return DayOutcome::kStored;
}

void Poller::run() {
  const util::Date today = util::Date::from_time(clock_.now());
  std::optional<BackfillProgress> progress = sink_.load_progress();
  const bool resumed = progress.has_value();
  if (!progress) {
    progress = BackfillProgress{today - (options_.backfill_days - 1), today};
    spdlog::info("admin_api: backfilling {} days ({} to {}), newest first", options_.backfill_days,
                 progress->oldest.str(), progress->next.str());
  } else if (!progress->done()) {
    spdlog::info("admin_api: resuming the backfill at {} ({} days to go)", progress->next.str(),
                 progress->remaining());
  }
  metrics_.admin_backfill_remaining(progress->remaining());
  const int total = progress->remaining();
  const auto backfill_started = clock_.monotonic();
  int done_this_run = 0;

  // A resumed agent first refreshes the recent days (they went stale while it was down); a new
  // backfill starts with them anyway.
  auto next_refresh =
      clock_.monotonic() + (resumed ? std::chrono::milliseconds(0) : options_.poll_interval);
  auto backfill_paused_until = util::MonoTime{};

  while (true) {
    if (stop_.requested()) return;
    const auto now = clock_.monotonic();
    if (now >= next_refresh) {
      const util::Date current = util::Date::from_time(clock_.now());
      for (int i = 0; i < options_.refresh_days; ++i) {
        auto outcome = poll_day(current - i, std::nullopt);
        if (outcome == DayOutcome::kStopped) return;
        if (outcome == DayOutcome::kHalted || outcome == DayOutcome::kGaveUp) break;
      }
      next_refresh = clock_.monotonic() + options_.poll_interval;
      continue;
    }
    if (!progress->done() && now >= backfill_paused_until) {
      BackfillProgress after{progress->oldest, progress->next - 1};
      auto outcome = poll_day(progress->next, after);
      if (outcome == DayOutcome::kStopped) return;
      if (outcome == DayOutcome::kStored || outcome == DayOutcome::kSkipped) {
        progress = after;
        ++done_this_run;
        metrics_.admin_backfill_remaining(progress->remaining());
        if (progress->done() || done_this_run % 10 == 0) {
          const double elapsed =
              std::chrono::duration<double>(clock_.monotonic() - backfill_started).count();
          const double eta = done_this_run ? elapsed / done_this_run * progress->remaining() : 0;
          spdlog::info("admin_api: backfill {}/{} days, at {}, ETA {:.0f} s",
                       total - progress->remaining(), total, progress->next.str(), eta);
        }
      } else {
        backfill_paused_until = clock_.monotonic() + options_.poll_interval;
      }
      continue;
    }
    auto until = next_refresh;
    if (!progress->done() && backfill_paused_until < until) until = backfill_paused_until;
    if (!clock_.sleep_until(until, stop_)) return;
  }
}

}  // namespace cce::admin
