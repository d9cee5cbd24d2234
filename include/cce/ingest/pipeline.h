#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

#include "cce/ingest/sink.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/store/store.h"
#include "cce/usage/ledger.h"
#include "cce/usage/otel_normalizer.h"
#include "cce/util/clock.h"

namespace cce::ingest {

// The one writer of the ledger and the store. The OTLP listeners hand it decoded requests with
// a completion, the Admin API poller hands it fetched days and waits; it normalizes OTLP requests
// in arrival order, writes a group of them in one SQLite transaction (group commit), and only then
// applies them to the in-memory ledger and releases the waiters. If a commit fails, nothing is
// counted, the ingest state is reloaded from the store, and the clients hear 503.
//
// The writer is the one serial step of intake, so what can happen elsewhere does: a second
// thread waits for committed groups to reach the disk (one sync for all that are waiting),
// then answers them (completions and counts), keeps the latest value of their journaled ledger
// rows for the next fold (Store::absorb) and frees their requests; the writer goes on with the
// next group meanwhile.
class Pipeline final : public OtlpSink, public DaySink {
 public:
  Pipeline(store::Store& store, usage::Ledger& ledger, usage::OtelNormalizer& normalizer,
           metrics::AgentMetrics& metrics, const util::Clock& clock, int retention_days);
  ~Pipeline() override;

  void start();
  // Finishes what is queued, then stops the writer.
  void stop();

  void ingest(otlp::MetricsRequest req, Done done) override;
  void ingest(otlp::LogsRequest req, Done done) override;
  void discarded_spans(size_t n) override;

  bool replace_api_day(util::Date day, std::vector<usage::Observation> observations,
                       std::optional<BackfillProgress> progress,
                       const ApiDayTarget& target) override;
  bool save_progress(const std::string& state_key, const BackfillProgress& progress) override;
  std::optional<BackfillProgress> load_progress(const std::string& state_key) override;

  // Empty while the store takes writes; else the last store error (for /readyz). After a
  // failure the writer probes the store every few seconds until it takes writes again.
  std::string store_problem() const;

 private:
  struct ApiDay {
    util::Date day;
    std::vector<usage::Observation> observations;
    std::optional<BackfillProgress> progress;
    ApiDayTarget target;
  };
  using Request = std::variant<otlp::MetricsRequest, otlp::LogsRequest, ApiDay>;
  struct Job {
    Request request;
    Done done;
  };
  void submit(Request request, Done done);
  void process_api_day(Job& job);
  void fold_journal(bool idle);
  void prune_days(util::Date today);
  void run();
  void process(std::vector<Job>& group);
  // A committed group of OTLP requests, handed from the writer to the answer thread.
  struct Committed {
    std::vector<Job> jobs;
    std::vector<usage::IngestResult> results;
    usage::LedgerChanges changes;  // applied; freed with the rest
    util::TimePoint at;
  };
  void answer_loop();
  // durable: false when the sync failed (the clients hear 503 and retry).
  void answer(Committed& committed, bool durable);
  // Counts, records and logs (at most one line per 10 s, with how many were held back).
  void store_failed(const std::string& what, const std::exception& e);
  void store_succeeded();
  // After a commit: the ledger takes the change, and the bounds it hit are counted.
  void apply_committed(const usage::LedgerChanges& changes);

  store::Store& store_;
  usage::Ledger& ledger_;
  usage::OtelNormalizer& normalizer_;
  metrics::AgentMetrics& metrics_;
  const util::Clock& clock_;
  const int retention_days_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread writer_;
  std::mutex answer_mu_;
  std::condition_variable answer_cv_;
  std::condition_variable answers_taken_cv_;
  std::deque<Committed> answers_;
  bool answers_closed_ = false;
  std::thread answerer_;
  util::TimePoint last_prune_{};
  util::MonoTime last_fold_{};
  std::chrono::steady_clock::time_point last_group_{};  // when the writer last took a group
  size_t last_group_size_ = 0;

  mutable std::mutex problem_mu_;
  std::string problem_;
  util::MonoTime last_error_log_{};
  size_t errors_held_back_ = 0;
};

}  // namespace cce::ingest
