#include "cce/admin/poller.h"

#include <spdlog/spdlog.h>

#include "cce/util/thread_name.h"

namespace cce::admin {

using ingest::BackfillProgress;

Poller::Poller(std::string name, PollerOptions options, DaySource& source, ingest::DaySink& sink,
               metrics::ApiSourceMetrics& metrics, const util::Clock& clock, std::string secret,
               OrganizationClaims* claims, std::string org, std::string owner)
    : name_(std::move(name)),
      target_{name_ + ".backfill", std::move(org), std::move(owner)},
      options_(options),
      source_(source),
      sink_(sink),
      metrics_(metrics),
      clock_(clock),
      claims_(claims),
      requests_(options.requests, metrics, clock, stop_, name_, std::move(secret)) {}

Poller::~Poller() {
  stop();
}

void Poller::start() {
  thread_ = std::thread([this] {
    util::name_this_thread("poll-" + name_);
    run();
  });
}

void Poller::stop() {
  stop_.request();
  if (thread_.joinable()) thread_.join();
}

void Poller::add_task(std::chrono::milliseconds interval, std::function<bool(Requests&)> task) {
  task_interval_ = interval;
  task_ = std::move(task);
}

DayOutcome Poller::poll_day(util::Date day, std::optional<BackfillProgress> progress) {
  if (paused_) return DayOutcome::kHalted;
  DayFetch f = source_.fetch_day(day, requests_);
  switch (f.outcome) {
    case DayOutcome::kStored:
      break;
    case DayOutcome::kSkipped:
    case DayOutcome::kNotYet:
      // A day the API refuses or has not finished must not stall the backfill behind it (the
      // refresh cycles ask for the recent ones again).
      if (f.outcome == DayOutcome::kNotYet && f.latest_available) {
        latest_available_ = f.latest_available;
      }
      if (progress) sink_.save_progress(state_key(), *progress);
      return f.outcome;
    default:
      return f.outcome;
  }
  if (claims_ && !f.organization_id.empty()) {
    if (std::string why = claims_->claim(name_, f.organization_id); !why.empty()) {
      paused_ = true;
      metrics_.failure("duplicate_organization");
      spdlog::error("{}: {}", name_, why);
      return DayOutcome::kHalted;
    }
  }
  const bool has_data = !f.observations.empty();
  if (!sink_.replace_api_day(day, std::move(f.observations), progress, target_)) {
    return DayOutcome::kGaveUp;
  }
  metrics_.success(util::to_unix_seconds(clock_.now()));
  if (has_data && day > newest_with_data_) {
    newest_with_data_ = day;
    metrics_.newest_date(static_cast<double>(day.unix_seconds()));
  }
  return DayOutcome::kStored;
}

void Poller::run() {
  const util::Date today = util::Date::from_time(clock_.now());
  std::optional<BackfillProgress> progress = sink_.load_progress(state_key());
  const bool resumed = progress.has_value();
  if (!progress) {
    util::Date oldest = today - (options_.backfill_days - 1);
    if (options_.backfill_floor && oldest < *options_.backfill_floor) {
      oldest = *options_.backfill_floor;
    }
    progress = BackfillProgress{oldest, today};
    spdlog::info("{}: backfilling {} days ({} to {}), newest first", name_, progress->remaining(),
                 progress->oldest.str(), progress->next.str());
  } else if (!progress->done()) {
    spdlog::info("{}: resuming the backfill at {} ({} days to go)", name_, progress->next.str(),
                 progress->remaining());
  }
  metrics_.backfill_remaining(progress->remaining());
  const int total = progress->remaining();
  const auto backfill_started = clock_.monotonic();
  int done_this_run = 0;

  // A resumed agent first refreshes the recent days (they went stale while it was down); a new
  // backfill starts with them anyway.
  auto next_refresh =
      clock_.monotonic() + (resumed ? std::chrono::milliseconds(0) : options_.poll_interval);
  auto backfill_paused_until = util::MonoTime{};
  auto next_task = clock_.monotonic();

  while (true) {
    if (stop_.requested() || paused_) return;
    const auto now = clock_.monotonic();
    if (now >= next_refresh) {
      const util::Date current = util::Date::from_time(clock_.now());
      latest_available_.reset();  // a new cycle asks again
      // The last refresh_days days the API has finished: days it has not finished yet do not
      // count (they are asked for again next cycle), so a lag never shrinks the window.
      for (int i = 0, polled = 0; polled < options_.refresh_days && i <= kMaxLagDays; ++i) {
        const util::Date day = current - i;
        if (latest_available_ && day > *latest_available_) continue;  // known to be not ready
        auto outcome = poll_day(day, std::nullopt);
        if (outcome == DayOutcome::kStopped) return;
        if (outcome == DayOutcome::kHalted || outcome == DayOutcome::kGaveUp) break;
        if (outcome != DayOutcome::kNotYet) ++polled;
      }
      next_refresh = clock_.monotonic() + options_.poll_interval;
      continue;
    }
    if (task_ && now >= next_task) {
      if (!task_(requests_)) task_ = nullptr;
      next_task = clock_.monotonic() + task_interval_;
      continue;
    }
    if (!progress->done() && now >= backfill_paused_until) {
      BackfillProgress after{progress->oldest, progress->next - 1};
      DayOutcome outcome;
      if (latest_available_ && progress->next > *latest_available_) {
        // Known to be not ready yet: the refresh cycles will fetch it.
        outcome = DayOutcome::kNotYet;
        sink_.save_progress(state_key(), after);
      } else {
        outcome = poll_day(progress->next, after);
      }
      if (outcome == DayOutcome::kStopped) return;
      if (outcome == DayOutcome::kStored || outcome == DayOutcome::kSkipped ||
          outcome == DayOutcome::kNotYet) {
        progress = after;
        ++done_this_run;
        metrics_.backfill_remaining(progress->remaining());
        if (progress->done() || done_this_run % 10 == 0) {
          const double elapsed =
              std::chrono::duration<double>(clock_.monotonic() - backfill_started).count();
          const double eta = done_this_run ? elapsed / done_this_run * progress->remaining() : 0;
          spdlog::info("{}: backfill {}/{} days, at {}, ETA {:.0f} s", name_,
                       total - progress->remaining(), total, progress->next.str(), eta);
        }
      } else {
        backfill_paused_until = clock_.monotonic() + options_.poll_interval;
      }
      continue;
    }
    auto until = next_refresh;
    if (!progress->done() && backfill_paused_until < until) until = backfill_paused_until;
    if (task_ && next_task < until) until = next_task;
    if (!clock_.sleep_until(until, stop_)) return;
  }
}

}  // namespace cce::admin
