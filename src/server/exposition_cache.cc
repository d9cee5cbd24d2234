#include "cce/server/exposition_cache.h"

#include "cce/server/content_coding.h"
#include "cce/util/thread_name.h"

namespace cce::server {

ExpositionCache::ExpositionCache(std::function<metrics::Snapshot()> render,
                                 const util::Clock& clock, std::chrono::milliseconds min_interval)
    : render_(std::move(render)), clock_(clock), min_interval_(min_interval) {
  thread_ = std::thread([this] {
    util::name_this_thread("metrics-render");
    std::unique_lock lock(job_mu_);
    for (;;) {
      job_cv_.wait(lock, [&] { return job_ || stopping_; });
      if (!job_) return;
      try {
        (*job_)();
      } catch (...) {
        job_error_ = std::current_exception();
      }
      job_ = nullptr;
      job_done_ = true;
      job_cv_.notify_all();
    }
  });
}

ExpositionCache::~ExpositionCache() {
  {
    std::lock_guard lock(job_mu_);
    stopping_ = true;
  }
  job_cv_.notify_all();
  thread_.join();
}

void ExpositionCache::on_render_thread(const std::function<void()>& job) {
  std::unique_lock lock(job_mu_);
  job_ = &job;
  job_done_ = false;
  job_error_ = nullptr;
  job_cv_.notify_all();
  job_cv_.wait(lock, [&] { return job_done_; });
  if (job_error_) std::rethrow_exception(job_error_);
}

ExpositionBody ExpositionCache::get(bool gzip) {
  const util::MonoTime arrived = clock_.monotonic();
  std::lock_guard lock(mu_);
  // Fresh enough: begun after this scrape arrived (it queued behind that rendering), or
  // within min_interval of its arrival.
  const bool fresh =
      snapshot_ &&
      (started_ > arrived || (min_interval_.count() > 0 && arrived - started_ < min_interval_));
  if (!fresh) {
    started_ = clock_.monotonic();
    // Let the old rendering go first (scrapes still sending it keep their own reference).
    snapshot_.reset();
    gzip_.reset();
    on_render_thread([&] { snapshot_ = std::make_shared<const metrics::Snapshot>(render_()); });
    ++renders_;
  }
  if (!gzip) return {snapshot_, nullptr};
  if (!gzip_) {
    on_render_thread([&] {
      GzipWriter w;
      snapshot_->write([&](std::string_view piece) {
        w.write(piece);
        return true;
      });
      gzip_ = std::make_shared<const std::string>(std::move(w).finish());
    });
  }
  return {snapshot_, gzip_};
}

size_t ExpositionCache::renders() const {
  std::lock_guard lock(mu_);
  return renders_;
}

}  // namespace cce::server
