#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "cce/util/clock.h"

namespace cce::server {

// The /metrics body, rendered once at a time and at most once per `min_interval`: scrapes
// within min_interval of the last rendering share it, scrapes that queued behind a rendering
// share the next one, and the gzip form is made once per rendering. So a second Prometheus, or a
// dashboard polling the endpoint, costs a copy-free send instead of a render. Thread-safe.
class ExpositionCache {
 public:
  ExpositionCache(std::function<std::string()> render, const util::Clock& clock,
                  std::chrono::milliseconds min_interval);

  std::shared_ptr<const std::string> get(bool gzip);
  size_t renders() const;

 private:
  const std::function<std::string()> render_;
  const util::Clock& clock_;
  const std::chrono::milliseconds min_interval_;
  mutable std::mutex mu_;  // one rendering at a time; waiting scrapers then share it
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const std::string> gzip_;
  util::MonoTime started_{};
  size_t renders_ = 0;
};

}  // namespace cce::server
