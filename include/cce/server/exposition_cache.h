#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cce/metrics/snapshot.h"
#include "cce/util/clock.h"

namespace cce::server {

// A /metrics answer: the rendering, streamed out as text, and for scrapes that take gzip its
// compressed text (made once per rendering, a few % of the text's size).
struct ExpositionBody {
  std::shared_ptr<const metrics::Snapshot> snapshot;
  std::shared_ptr<const std::string> gzip;  // null unless asked for
};

// The /metrics rendering, made once at a time and at most once per `min_interval`: scrapes
// within min_interval of the last rendering share it, scrapes that queued behind a rendering
// share the next one, and the gzip form is made once per rendering. So a second Prometheus, or a
// dashboard polling the endpoint, costs a send instead of a render. The whole text is never
// held: a rendering is a compact snapshot, and plain scrapes stream text from it. Renderings
// are made on one thread of the cache's own, so their memory is reused from one malloc arena
// instead of staying behind in the arena of every listener thread that ever rendered.
// Thread-safe.
class ExpositionCache {
 public:
  ExpositionCache(std::function<metrics::Snapshot()> render, const util::Clock& clock,
                  std::chrono::milliseconds min_interval);
  ~ExpositionCache();
  ExpositionCache(const ExpositionCache&) = delete;
  ExpositionCache& operator=(const ExpositionCache&) = delete;

  ExpositionBody get(bool gzip);
  size_t renders() const;

 private:
  const std::function<metrics::Snapshot()> render_;
  const util::Clock& clock_;
  const std::chrono::milliseconds min_interval_;
  mutable std::mutex mu_;  // one rendering at a time; waiting scrapers then share it
  std::shared_ptr<const metrics::Snapshot> snapshot_;
  std::shared_ptr<const std::string> gzip_;
  util::MonoTime started_{};
  size_t renders_ = 0;

  // Runs `job` on the rendering thread and waits for it (callers hold mu_: one job at a time).
  void on_render_thread(const std::function<void()>& job);
  std::mutex job_mu_;
  std::condition_variable job_cv_;
  const std::function<void()>* job_ = nullptr;
  std::exception_ptr job_error_;
  bool job_done_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cce::server
