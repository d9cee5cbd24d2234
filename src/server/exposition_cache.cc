#include "cce/server/exposition_cache.h"

#include "cce/server/content_coding.h"

namespace cce::server {

ExpositionCache::ExpositionCache(std::function<std::string()> render, const util::Clock& clock,
                                 std::chrono::milliseconds min_interval)
    : render_(std::move(render)), clock_(clock), min_interval_(min_interval) {}

std::shared_ptr<const std::string> ExpositionCache::get(bool gzip) {
  const util::MonoTime arrived = clock_.monotonic();
  std::lock_guard lock(mu_);
  // Fresh enough: begun after this scrape arrived (it queued behind that rendering), or
  // within min_interval of its arrival.
  const bool fresh = text_ && (started_ > arrived ||
                               (min_interval_.count() > 0 && arrived - started_ < min_interval_));
  if (!fresh) {
    started_ = clock_.monotonic();
    text_ = std::make_shared<const std::string>(render_());
    gzip_.reset();
    ++renders_;
  }
  if (!gzip) return text_;
  if (!gzip_) gzip_ = std::make_shared<const std::string>(gzip_compress(*text_));
  return gzip_;
}

size_t ExpositionCache::renders() const {
  std::lock_guard lock(mu_);
  return renders_;
}

}  // namespace cce::server
