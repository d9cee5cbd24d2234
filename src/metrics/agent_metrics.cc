#include "cce/metrics/agent_metrics.h"

#include "cce/util/build_info.h"

namespace cce::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

AgentMetrics::AgentMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  BuildGauge()
      .Name("claude_code_exporter_build_info")
      .Help("Version and revision of the running agent (always 1).")
      .Register(*registry_)
      .Add({{"version", std::string(util::version())}, {"revision", std::string(util::revision())}})
      .Set(1);
  otlp_requests_ = &BuildCounter()
                        .Name("claude_code_exporter_otlp_requests_total")
                        .Help(
                            "OTLP/HTTP export requests answered, by signal, body encoding and "
                            "HTTP status code.")
                        .Register(*registry_);
  otlp_points_ = &BuildCounter()
                      .Name("claude_code_exporter_otlp_data_points_total")
                      .Help(
                          "OTLP data points and log records received, by what became of "
                          "them: accepted, duplicate (a replay), rejected (invalid), ignored "
                          "(not a Claude Code usage signal).")
                      .Register(*registry_);
  otlp_last_received_ = &BuildGauge()
                             .Name("claude_code_exporter_otlp_last_received_timestamp_seconds")
                             .Help(
                                 "When the last OTLP request of each signal was accepted "
                                 "(Unix time).")
                             .Register(*registry_);
  store_errors_ = &BuildCounter()
                       .Name("claude_code_exporter_store_errors_total")
                       .Help(
                           "Failed writes to the embedded store (the request was answered "
                           "503 and nothing was counted).")
                       .Register(*registry_)
                       .Add({});
  // Known series start at zero, so rate() and alerts see them before the first event.
  for (const char* signal : {"metrics", "logs", "traces"}) {
    for (const char* outcome : {"accepted", "duplicate", "rejected", "ignored"}) {
      otlp_points_->Add({{"signal", signal}, {"outcome", outcome}});
    }
    for (const char* encoding : {"protobuf", "json"}) {
      otlp_requests_->Add({{"signal", signal}, {"encoding", encoding}, {"code", "200"}});
    }
    otlp_last_received_->Add({{"signal", signal}});
  }
}

void AgentMetrics::otlp_request(std::string_view signal, std::string_view encoding, int code) {
  otlp_requests_
      ->Add({{"signal", std::string(signal)},
             {"encoding", std::string(encoding)},
             {"code", std::to_string(code)}})
      .Increment();
}

void AgentMetrics::otlp_points(std::string_view signal, std::string_view outcome, double n) {
  if (n <= 0) return;
  otlp_points_->Add({{"signal", std::string(signal)}, {"outcome", std::string(outcome)}})
      .Increment(n);
}

void AgentMetrics::otlp_received(std::string_view signal, double unix_seconds) {
  otlp_last_received_->Add({{"signal", std::string(signal)}}).Set(unix_seconds);
}

double AgentMetrics::otlp_last_received(std::string_view signal) const {
  return otlp_last_received_->Add({{"signal", std::string(signal)}}).Value();
}

void AgentMetrics::store_error() {
  store_errors_->Increment();
}

}  // namespace cce::metrics
