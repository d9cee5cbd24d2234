#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cce::metrics {

// The claude_code_exporter_admin_api_* series of one organization API source (label
// api="admin_api" or "enterprise_analytics", and org="<name>" with several organizations).
// Thread-safe.
class ApiSourceMetrics {
 public:
  void request(const std::string& code, double n = 1);  // HTTP status, or "network"
  // reason: rate_limited, server_error, network, deadline, too_large, malformed, auth,
  // client_error, page_limit, cursor_loop, retry_after_capped, cursor_expired,
  // duplicate_organization
  void failure(std::string_view reason, double n = 1);
  void records_skipped(size_t n);
  // Rows that are nobody's: service accounts, members without an email, group rows.
  void non_user_rows(size_t n);
  void success(double unix_seconds);
  void newest_date(double unix_seconds);
  void backfill_remaining(int days);
  double last_success() const { return last_success_->Value(); }
  double newest_date() const { return newest_date_->Value(); }
  double backfill_remaining() const { return backfill_remaining_->Value(); }

 private:
  friend class AgentMetrics;
  prometheus::Labels labels_;  // api, and org when set
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Counter>* failures_ = nullptr;
  prometheus::Counter* records_skipped_ = nullptr;
  prometheus::Counter* non_user_rows_ = nullptr;
  prometheus::Gauge* last_success_ = nullptr;
  prometheus::Gauge* newest_date_ = nullptr;
  prometheus::Gauge* backfill_remaining_ = nullptr;
};

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
  void actor_overflow(size_t observations);
  // Bounds hit, by key ([limits] keys bare, listener bounds as "otlp.<key>"). A zero count
  // creates the series.
  void limit_hits(const std::map<std::string, size_t>& hits);
  void limit_hit(std::string_view key);
  // The OTLP listener's open connections and the request bytes it holds.
  void otlp_connections(double open);
  void otlp_inflight_bytes(double bytes);

  // The series of one organization API source, created (at zero) on first use.
  ApiSourceMetrics& api_source(const std::string& api, const std::string& org = "");

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  // The per-request series, found by index rather than by building a label map each time
  // (nullptr where a combination is not pre-created: Family::Add then).
  static constexpr std::array<std::string_view, 3> kSignals{"metrics", "logs", "traces"};
  static constexpr std::array<std::string_view, 3> kEncodings{"protobuf", "json", "grpc"};
  static constexpr std::array<int, 6> kCodes{200, 400, 401, 413, 415, 503};
  static constexpr std::array<std::string_view, 4> kOutcomes{"accepted", "duplicate", "rejected",
                                                             "ignored"};
  std::array<std::array<std::array<prometheus::Counter*, kCodes.size()>, kEncodings.size()>,
             kSignals.size()>
      request_series_{};
  std::array<std::array<prometheus::Counter*, kOutcomes.size()>, kSignals.size()> point_series_{};
  std::array<prometheus::Gauge*, kSignals.size()> received_series_{};
  prometheus::Family<prometheus::Counter>* otlp_requests_;
  prometheus::Family<prometheus::Counter>* otlp_points_;
  prometheus::Family<prometheus::Gauge>* otlp_last_received_;
  prometheus::Counter* store_errors_;
  prometheus::Counter* actor_overflow_;
  prometheus::Family<prometheus::Counter>* limit_hits_;
  prometheus::Gauge* otlp_connections_;
  prometheus::Gauge* otlp_inflight_bytes_;
  prometheus::Family<prometheus::Counter>* admin_requests_;
  prometheus::Family<prometheus::Counter>* admin_failures_;
  prometheus::Family<prometheus::Counter>* admin_records_skipped_;
  prometheus::Family<prometheus::Counter>* admin_non_user_rows_;
  prometheus::Family<prometheus::Gauge>* admin_last_success_;
  prometheus::Family<prometheus::Gauge>* admin_newest_date_;
  prometheus::Family<prometheus::Gauge>* admin_backfill_remaining_;
  std::mutex sources_mu_;
  std::map<std::string, std::unique_ptr<ApiSourceMetrics>> sources_;
};

}  // namespace cce::metrics
