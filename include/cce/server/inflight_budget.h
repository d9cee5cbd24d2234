#pragma once

#include <atomic>
#include <cstddef>

namespace cce::server {

// The request bytes all OTLP listeners may hold at once (bodies, decompressed, until their
// data is stored). A request that cannot take its bytes is answered 503 with Retry-After,
// which exporters retry, so a burst costs latency, not memory. Thread-safe.
class InflightBudget {
 public:
  explicit InflightBudget(size_t limit) : limit_(limit) {}
  bool take(size_t n) {
    size_t cur = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - cur) return false;
    } while (!used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    return true;
  }
  void give_back(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace cce::server
