#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <string>

namespace cce::metrics {

// The agent's own claude_code_exporter_* metrics that are events (counters) rather than views
// of the ledger. Thread-safe (prometheus-cpp metrics are atomic).
class AgentMetrics {
 public:
  AgentMetrics();

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> registry_ptr() { return registry_; }

  void otlp_request(std::string_view signal, std::string_view encoding, int code);
  // outcome: accepted | duplicate | rejected | ignored
  void otlp_points(std::string_view signal, std::string_view outcome, double n);
  void otlp_received(std::string_view signal, double unix_seconds);
  double otlp_last_received(std::string_view signal) const;
  void store_error();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* otlp_requests_;
  prometheus::Family<prometheus::Counter>* otlp_points_;
  prometheus::Family<prometheus::Gauge>* otlp_last_received_;
  prometheus::Counter* store_errors_;
};

}  // namespace cce::metrics
