#include "cce/ingest/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <iterator>

#include "cce/ingest/persistence.h"
#include "cce/util/thread_name.h"

namespace cce::ingest {

namespace {
constexpr size_t kMaxGroup = 1024;
// Each commit and sync costs about as much as the requests it carries: at 2,000 requests/s,
// gathering for 2 ms made groups of 5 and 10 ms groups of 20, for a fifth less CPU. A client
// alone never waits: gathering starts only once requests come in more than one at a time.
constexpr auto kGather = std::chrono::milliseconds(10);
// How often journaled ledger rows are folded into their tables, and the journal size that folds
// sooner: a fold writes each touched cell once, however many commits touched it. A restart reads
// at most this much journal.
constexpr auto kFoldInterval = std::chrono::seconds(5);
constexpr size_t kMaxJournalBytes = size_t{64} << 20;

template <typename Request>
SpentRequest spend(Request& request) {
  if (auto* m = std::get_if<otlp::MetricsRequest>(&request)) return std::move(*m);
  if (auto* l = std::get_if<otlp::LogsRequest>(&request)) return std::move(*l);
  return {};
}
}  // namespace

Pipeline::Pipeline(store::Store& store, usage::Ledger& ledger, usage::OtelNormalizer& normalizer,
                   metrics::AgentMetrics& metrics, const util::Clock& clock, int retention_days)
    : store_(store),
      ledger_(ledger),
      normalizer_(normalizer),
      metrics_(metrics),
      clock_(clock),
      retention_days_(retention_days) {}

Pipeline::~Pipeline() {
  stop();
}

void Pipeline::start() {
  try {
    store_.probe();
  } catch (const std::exception& e) {
    store_failed("the store does not take writes; OTLP requests are answered 503 until it does", e);
  }
  last_prune_ = clock_.now();
  prune_days(util::Date::from_time(last_prune_));
  answerer_ = std::thread([this] {
    util::name_this_thread("ingest-answer");
    answer_loop();
  });
  writer_ = std::thread([this] {
    util::name_this_thread("ingest-writer");
    run();
  });
}

void Pipeline::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(answer_mu_);
    answers_closed_ = true;
  }
  answer_cv_.notify_all();
  if (answerer_.joinable()) answerer_.join();  // after answering what the writer committed
}

void Pipeline::ingest(otlp::MetricsRequest req, Done done) {
  submit(std::move(req), std::move(done));
}
void Pipeline::ingest(otlp::LogsRequest req, Done done) {
  submit(std::move(req), std::move(done));
}

void Pipeline::discarded_spans(size_t n) {
  metrics_.otlp_points("traces", "ignored", static_cast<double>(n));
  metrics_.otlp_received("traces", util::to_unix_seconds(clock_.now()));
}

bool Pipeline::replace_api_day(util::Date day, std::vector<usage::Observation> observations,
                               std::optional<BackfillProgress> progress,
                               const ApiDayTarget& target) {
  std::promise<bool> stored;
  auto future = stored.get_future();
  submit(ApiDay{day, std::move(observations), progress, target},
         [&stored](IngestReply r) { stored.set_value(r.stored); });
  return future.get();
}

bool Pipeline::save_progress(const std::string& state_key, const BackfillProgress& progress) {
  try {
    store_.set_state(state_key, progress.serialize());
    return true;
  } catch (const std::exception& e) {
    store_failed("could not save the backfill progress", e);
    return false;
  }
}

std::optional<BackfillProgress> Pipeline::load_progress(const std::string& state_key) {
  auto s = store_.get_state(state_key);
  return s ? BackfillProgress::parse(*s) : std::nullopt;
}

void Pipeline::submit(Request request, Done done) {
  {
    std::unique_lock lock(mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(request), std::move(done)});
      // The writer waits for a first request, or for a full group while it gathers: waking it
      // for every request cost a context switch each.
      const bool wake = queue_.size() == 1 || queue_.size() == kMaxGroup;
      lock.unlock();
      if (wake) cv_.notify_one();
      return;
    }
  }
  done(IngestReply{false, 0, "shutting down", {}});
}

void Pipeline::run() {
  for (;;) {
    {
      // At most one committed group waits while the previous ones sync: requests gather
      // meanwhile, so groups stay large under load (each commit has a cost of its own).
      std::unique_lock lock(answer_mu_);
      answers_taken_cv_.wait(lock, [this] { return answers_.empty(); });
    }
    std::vector<Job> group;
    {
      std::unique_lock lock(mu_);
      const auto wait = store_.folding() ? std::chrono::milliseconds(20) : std::chrono::seconds(5);
      cv_.wait_for(lock, wait, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Requests arriving within kGather of the last commit join this group, unless a full
      // group waits already: each commit costs the same however few requests it carries.
      if (last_group_size_ > 1 || queue_.size() > 1) {
        cv_.wait_until(lock, last_group_ + kGather,
                       [this] { return stopping_ || queue_.size() >= kMaxGroup; });
      }
      last_group_ = std::chrono::steady_clock::now();
      group.reserve(std::min(queue_.size(), kMaxGroup));
      while (!queue_.empty() && group.size() < kMaxGroup) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last_group_size_ = group.size();
    }
    const bool idle = group.empty();
    if (!idle) process(group);  // takes the group's jobs
    if (!store_problem().empty()) {
      try {
        store_.probe();
        store_succeeded();
      } catch (const std::exception& e) {
        store_failed("the store still does not take writes", e);
      }
    }
    fold_journal(idle);
    // Housekeeping between groups: forget old duplicate-detection keys and idle series, and
    // drop days past the retention.
    const auto now = clock_.now();
    if (now - last_prune_ > std::chrono::minutes(1)) {
      last_prune_ = now;
      prune_days(util::Date::from_time(now));
      auto cut = normalizer_.prune(now);
      try {
        store_.prune(cut.seen_before, cut.series_before);
      } catch (const std::exception& e) {
        store_failed("pruning failed", e);
      }
    }
  }
}

void Pipeline::fold_journal(bool idle) {
  const auto now = clock_.monotonic();
  const bool due = now - last_fold_ >= kFoldInterval || store_.journal_bytes() >= kMaxJournalBytes;
  // Under load the round advances with each group commit; an idle writer advances it here.
  if (!due && !(idle && store_.folding())) return;
  if (due) last_fold_ = now;
  try {
    store_.fold_some(store::Store::kFoldStepRows);
  } catch (const std::exception& e) {
    store_failed("folding the ledger journal into its tables failed", e);
  }
}

void Pipeline::prune_days(util::Date today) {
  usage::LedgerChanges changes = ledger_.stage_prune(today - (retention_days_ - 1));
  if (changes.empty()) return;
  try {
    store_.write(to_batch(changes));
    store_succeeded();
    ledger_.apply(changes);
    spdlog::info("store: dropped {} day(s) older than {} days (counters keep them)",
                 changes.days_pruned.size(), retention_days_);
  } catch (const std::exception& e) {
    store_failed("dropping old days failed", e);
  }
}

void Pipeline::process_api_day(Job& job) {
  auto& d = std::get<ApiDay>(job.request);
  const util::Date today = util::Date::from_time(clock_.now());
  if (d.day < today - (retention_days_ - 1)) {
    // Older than the store keeps: its counted values are gone, so storing it would count twice.
    job.done(IngestReply{true, 0, {}, {}});
    return;
  }
  usage::LedgerChanges changes =
      ledger_.stage_api_day(d.day, d.observations, today, d.target.org, d.target.owner);
  try {
    store::Batch batch = to_batch(changes);
    if (d.progress) batch.state.emplace_back(d.target.state_key, d.progress->serialize());
    store_.write(std::move(batch));
  } catch (const std::exception& e) {
    store_failed("could not commit API day " + d.day.str(), e);
    job.done(IngestReply{false, 0, {}, {}});
    return;
  }
  apply_committed(changes);
  if (!changes.api_held_by_other.empty()) {
    // The same person and day from two sources would count twice: the first source keeps it.
    spdlog::warn(
        "{}: {}: {} people that another organization API source already reports for this day "
        "were left out (each person and day counts once)",
        d.target.state_key.substr(0, d.target.state_key.rfind('.')), d.day.str(),
        changes.api_held_by_other.size());
  }
  job.done(IngestReply{true, 0, {}, {}});
}

void Pipeline::process(std::vector<Job>& all) {
  // Admin API days are written one by one; OTLP requests as one group. A group's vectors are
  // sized once: growing vectors of hundreds of requests had malloc coalescing in the writer.
  const auto is_api_day = [](const Job& job) {
    return std::holds_alternative<ApiDay>(job.request);
  };
  std::vector<Job> group;
  if (std::none_of(all.begin(), all.end(), is_api_day)) {
    group = std::move(all);
  } else {
    group.reserve(all.size());
    for (auto& job : all) {
      if (is_api_day(job)) {
        process_api_day(job);
      } else {
        group.push_back(std::move(job));
      }
    }
  }
  if (group.empty()) return;
  const auto now = clock_.now();
  std::vector<usage::IngestResult> results;
  results.reserve(group.size());
  size_t observed = 0, touched = 0;
  for (auto& job : group) {
    if (auto* m = std::get_if<otlp::MetricsRequest>(&job.request)) {
      results.push_back(normalizer_.ingest(*m, now));
    } else {
      results.push_back(normalizer_.ingest(std::get<otlp::LogsRequest>(job.request), now));
    }
    observed += results.back().observations.size();
    touched += results.back().actors.size();
  }
  std::vector<usage::Observation> observations;
  observations.reserve(observed);
  std::vector<usage::Ledger::ActorTouch> actors;
  actors.reserve(touched);
  for (auto& r : results) {
    observations.insert(observations.end(), std::make_move_iterator(r.observations.begin()),
                        std::make_move_iterator(r.observations.end()));
    for (const auto& a : r.actors) {
      actors.push_back({a.actor, a.otel_team, util::to_unix_seconds(now), a.otel_org});
    }
  }
  usage::LedgerChanges changes =
      ledger_.stage_otel(observations, actors, util::Date::from_time(now));
  try {
    store::Batch batch = to_batch(changes);
    for (const auto& r : results)
      add_ingest_state(batch, r);
    store_.write(std::move(batch));
  } catch (const std::exception& e) {
    store_failed(
        "could not commit " + std::to_string(group.size()) + " OTLP request(s), answering 503", e);
    try {
      load_normalizer(store_, normalizer_);  // undo the state the failed group moved
    } catch (const std::exception& e2) {
      spdlog::error("store: reloading ingest state failed: {}", e2.what());
    }
    for (auto& job : group)
      job.done(IngestReply{false, 0, {}, {}});
    return;
  }
  apply_committed(changes);
  {
    std::lock_guard lock(answer_mu_);
    answers_.push_back(Committed{std::move(group), std::move(results), std::move(changes), now});
  }
  answer_cv_.notify_one();
}

void Pipeline::answer_loop() {
  for (;;) {
    std::deque<Committed> committed;
    {
      std::unique_lock lock(answer_mu_);
      answer_cv_.wait(lock, [this] { return answers_closed_ || !answers_.empty(); });
      if (answers_.empty()) return;
      committed.swap(answers_);
    }
    answers_taken_cv_.notify_all();
    // One sync makes every group committed so far durable: it overlaps the writer's next group.
    bool durable = true;
    try {
      store_.sync();
    } catch (const std::exception& e) {
      store_failed("could not sync committed OTLP requests to disk, answering 503", e);
      durable = false;
    }
    for (auto& c : committed)
      answer(c, durable);
    // The journal's latest-value-per-row map is kept here, once the clients have their answers.
    store_.absorb();
  }  // the groups' requests are freed here, off the writer
}

void Pipeline::answer(Committed& committed, bool durable) {
  auto& group = committed.jobs;
  for (size_t i = 0; i < group.size(); ++i) {
    if (!durable) {
      group[i].done(IngestReply{false, 0, {}, {}});
      continue;
    }
    const auto& r = committed.results[i];
    metrics_.limit_hits(r.limit_hits);
    const char* signal =
        std::holds_alternative<otlp::MetricsRequest>(group[i].request) ? "metrics" : "logs";
    metrics_.otlp_points(signal, "accepted", static_cast<double>(r.accepted));
    metrics_.otlp_points(signal, "duplicate", static_cast<double>(r.duplicate));
    metrics_.otlp_points(signal, "rejected", static_cast<double>(r.rejected));
    metrics_.otlp_points(signal, "ignored", static_cast<double>(r.ignored));
    metrics_.otlp_received(signal, util::to_unix_seconds(committed.at));
    std::string message;
    if (r.rejected > 0) {
      message = std::to_string(r.rejected) + " rejected: " + r.rejection_message;
    }
    group[i].done(IngestReply{true, r.rejected, std::move(message), spend(group[i].request)});
  }
}

std::string Pipeline::store_problem() const {
  std::lock_guard lock(problem_mu_);
  return problem_;
}

void Pipeline::store_failed(const std::string& what, const std::exception& e) {
  metrics_.store_error();
  size_t held_back = 0;
  bool log = false;
  {
    std::lock_guard lock(problem_mu_);
    problem_ = std::string("store: ") + e.what();
    const auto now = clock_.monotonic();
    if (last_error_log_ == util::MonoTime{} || now - last_error_log_ >= std::chrono::seconds(10)) {
      log = true;
      held_back = errors_held_back_;
      errors_held_back_ = 0;
      last_error_log_ = now;
    } else {
      ++errors_held_back_;
    }
  }
  if (log) {
    spdlog::error("store: {}: {}{}", what, e.what(),
                  held_back ? " (" + std::to_string(held_back) + " more store errors not logged)"
                            : std::string());
  }
}

void Pipeline::store_succeeded() {
  std::lock_guard lock(problem_mu_);
  if (problem_.empty()) return;
  problem_.clear();
  spdlog::info("store: takes writes again");
}

void Pipeline::apply_committed(const usage::LedgerChanges& changes) {
  store_succeeded();
  ledger_.apply(changes);
  metrics_.actor_overflow(changes.overflowed);
  metrics_.limit_hits(changes.limit_hits);
}

}  // namespace cce::ingest
