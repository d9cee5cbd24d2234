#pragma once

#include <atomic>
#include <cstddef>
#include <string_view>

#include "cce/metrics/agent_metrics.h"

namespace cce::server {

// The request bytes all OTLP listeners may hold at once (bodies, decompressed, until their
// data is stored). A request that cannot take its bytes is answered 503 with Retry-After,
// which exporters retry, so a burst costs latency, not memory. Every change shows in
// claude_code_exporter_otlp_inflight_bytes, every refusal in limit_hits_total. Thread-safe.
class InflightBudget {
 public:
  static constexpr std::string_view kLimitKey = "otlp.max_inflight_bytes";
  // The refusal's message, whichever listener answers it.
  static constexpr std::string_view kRefusal =
      "the agent holds otlp.max_inflight_bytes of requests; retry shortly";

  InflightBudget(size_t limit, metrics::AgentMetrics& metrics) : limit_(limit), metrics_(metrics) {
    metrics_.limit_hits({{std::string(kLimitKey), 0}});
  }

  // Takes n bytes, or counts the refusal and returns false.
  bool take(size_t n) {
    size_t cur = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - cur) {
        metrics_.limit_hit(kLimitKey);
        return false;
      }
    } while (!used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    metrics_.otlp_inflight_bytes(static_cast<double>(cur + n));
    return true;
  }
  void give_back(size_t n) {
    if (n == 0) return;
    const size_t left = used_.fetch_sub(n, std::memory_order_relaxed) - n;
    metrics_.otlp_inflight_bytes(static_cast<double>(left));
  }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  metrics::AgentMetrics& metrics_;
  std::atomic<size_t> used_{0};
};

}  // namespace cce::server
