#include "cce/metrics/agent_metrics.h"

#include <algorithm>

#include "cce/usage/limits.h"
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
                            "OTLP export requests answered, by signal, body encoding "
                            "(protobuf, json; grpc for OTLP/gRPC) and HTTP status code (for "
                            "gRPC its HTTP equivalent: 200 OK, 400 INVALID_ARGUMENT, 401 "
                            "UNAUTHENTICATED, 413 RESOURCE_EXHAUSTED, 503 UNAVAILABLE).")
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
  actor_overflow_ = &BuildCounter()
                         .Name("claude_code_exporter_actor_overflow_observations_total")
                         .Help(
                             "Observations of new actors beyond limits.max_actors, counted under "
                             "actor=\"__other__\".")
                         .Register(*registry_)
                         .Add({});
  limit_hits_ = &BuildCounter()
                     .Name("claude_code_exporter_limit_hits_total")
                     .Help(
                         "Values held to a bound of [limits], by its key: points rejected "
                         "(max_cost_usd, max_tokens, max_count, max_future_skew), label values "
                         "cut (max_label_length) or folded into \"__other__\" "
                         "(max_label_values_per_actor); and the OTLP listener's bounds "
                         "(otlp.max_connections, otlp.max_connections_per_address: connections "
                         "closed; otlp.max_inflight_bytes: requests answered 503).")
                     .Register(*registry_);
  for (auto key :
       {usage::kLimitCost, usage::kLimitTokens, usage::kLimitCount, usage::kLimitFutureSkew,
        usage::kLimitLabelLength, usage::kLimitLabelValues, usage::kLimitLearnedIdentities}) {
    limit_hits_->Add({{"limit", std::string(key)}});
  }
  otlp_connections_ = &BuildGauge()
                           .Name("claude_code_exporter_otlp_open_connections")
                           .Help("Connections open on the OTLP/HTTP listener.")
                           .Register(*registry_)
                           .Add({});
  otlp_inflight_bytes_ = &BuildGauge()
                              .Name("claude_code_exporter_otlp_inflight_bytes")
                              .Help(
                                  "Request body bytes the OTLP listeners hold (after "
                                  "decompression) until their data is stored; bounded by "
                                  "otlp.max_inflight_bytes.")
                              .Register(*registry_)
                              .Add({});
  // One set of families for every organization API source, told apart by `api`.
  admin_requests_ = &BuildCounter()
                         .Name("claude_code_exporter_admin_api_requests_total")
                         .Help(
                             "Organization API requests made, by source (api: admin_api, "
                             "enterprise_analytics) and HTTP status code (\"network\": no "
                             "answer).")
                         .Register(*registry_);
  admin_failures_ = &BuildCounter()
                         .Name("claude_code_exporter_admin_api_failures_total")
                         .Help(
                             "Organization API requests that failed, and days skipped, by "
                             "source and reason (docs/metrics.md lists them).")
                         .Register(*registry_);
  admin_records_skipped_ = &BuildCounter()
                                .Name("claude_code_exporter_admin_api_records_skipped_total")
                                .Help(
                                    "Organization API records that did not fit the schema and "
                                    "were skipped (the rest of their page was kept).")
                                .Register(*registry_);
  admin_non_user_rows_ = &BuildCounter()
                              .Name("claude_code_exporter_admin_api_non_user_rows_total")
                              .Help(
                                  "Organization API rows that are nobody's (service accounts, "
                                  "members without an email, group rows): skipped.")
                              .Register(*registry_);
  admin_last_success_ = &BuildGauge()
                             .Name("claude_code_exporter_admin_api_last_success_timestamp_seconds")
                             .Help(
                                 "When a day was last fetched from the organization API "
                                 "completely (Unix time; 0 = never).")
                             .Register(*registry_);
  admin_newest_date_ = &BuildGauge()
                            .Name("claude_code_exporter_admin_api_newest_date_timestamp_seconds")
                            .Help(
                                "Start (UTC midnight) of the newest day the organization API "
                                "returned data for (Unix time; 0 = none yet).")
                            .Register(*registry_);
  admin_backfill_remaining_ =
      &BuildGauge()
           .Name("claude_code_exporter_admin_api_backfill_dates_remaining")
           .Help(
               "UTC dates of organization API history still to fetch (the backfill; 0 when "
               "complete).")
           .Register(*registry_);
  // Known series start at zero, so rate() and alerts see them before the first event.
  for (size_t s = 0; s < kSignals.size(); ++s) {
    const std::string signal(kSignals[s]);
    for (size_t o = 0; o < kOutcomes.size(); ++o) {
      point_series_[s][o] =
          &otlp_points_->Add({{"signal", signal}, {"outcome", std::string(kOutcomes[o])}});
    }
    // The refusals too: an alert's increase() misses the request that creates a series.
    for (size_t e = 0; e < kEncodings.size(); ++e) {
      for (size_t c = 0; c < kCodes.size(); ++c) {
        request_series_[s][e][c] = &otlp_requests_->Add({{"signal", signal},
                                                         {"encoding", std::string(kEncodings[e])},
                                                         {"code", std::to_string(kCodes[c])}});
      }
    }
    received_series_[s] = &otlp_last_received_->Add({{"signal", signal}});
  }
}

namespace {
template <typename T, size_t N>
size_t index_of(const std::array<T, N>& values, const T& v) {
  return static_cast<size_t>(std::find(values.begin(), values.end(), v) - values.begin());
}
}  // namespace

void AgentMetrics::otlp_request(std::string_view signal, std::string_view encoding, int code) {
  const size_t s = index_of(kSignals, signal), e = index_of(kEncodings, encoding),
               c = index_of(kCodes, code);
  if (s < kSignals.size() && e < kEncodings.size() && c < kCodes.size()) {
    request_series_[s][e][c]->Increment();
    return;
  }
  otlp_requests_
      ->Add({{"signal", std::string(signal)},
             {"encoding", std::string(encoding)},
             {"code", std::to_string(code)}})
      .Increment();
}

void AgentMetrics::otlp_points(std::string_view signal, std::string_view outcome, double n) {
  if (n <= 0) return;
  const size_t s = index_of(kSignals, signal), o = index_of(kOutcomes, outcome);
  if (s < kSignals.size() && o < kOutcomes.size()) {
    point_series_[s][o]->Increment(n);
    return;
  }
  otlp_points_->Add({{"signal", std::string(signal)}, {"outcome", std::string(outcome)}})
      .Increment(n);
}

void AgentMetrics::otlp_received(std::string_view signal, double unix_seconds) {
  if (const size_t s = index_of(kSignals, signal); s < kSignals.size()) {
    received_series_[s]->Set(unix_seconds);
    return;
  }
  otlp_last_received_->Add({{"signal", std::string(signal)}}).Set(unix_seconds);
}

double AgentMetrics::otlp_last_received(std::string_view signal) const {
  return otlp_last_received_->Add({{"signal", std::string(signal)}}).Value();
}

void AgentMetrics::store_error() {
  store_errors_->Increment();
}

ApiSourceMetrics& AgentMetrics::api_source(const std::string& api, const std::string& org) {
  std::lock_guard lock(sources_mu_);
  auto& slot = sources_[api + '\x1f' + org];
  if (slot) return *slot;
  slot = std::make_unique<ApiSourceMetrics>();
  auto& m = *slot;
  prometheus::Labels labels{{"api", api}};
  if (!org.empty()) labels.emplace("org", org);
  m.labels_ = labels;
  m.requests_ = admin_requests_;
  m.failures_ = admin_failures_;
  m.records_skipped_ = &admin_records_skipped_->Add(labels);
  m.non_user_rows_ = &admin_non_user_rows_->Add(labels);
  m.last_success_ = &admin_last_success_->Add(labels);
  m.newest_date_ = &admin_newest_date_->Add(labels);
  m.backfill_remaining_ = &admin_backfill_remaining_->Add(labels);
  // The common answers start at zero: dashboards and alerts find the series before the first
  // poll has finished.
  for (const char* reason :
       {"rate_limited", "server_error", "network", "malformed", "auth", "client_error"}) {
    m.failure(reason, 0);
  }
  for (const char* code : {"200", "401", "429", "500", "network"})
    m.request(code, 0);
  return m;
}

void ApiSourceMetrics::request(const std::string& code, double n) {
  auto labels = labels_;
  labels.emplace("code", code);
  requests_->Add(labels).Increment(n);
}

void ApiSourceMetrics::failure(std::string_view reason, double n) {
  auto labels = labels_;
  labels.emplace("reason", std::string(reason));
  failures_->Add(labels).Increment(n);
}

void ApiSourceMetrics::records_skipped(size_t n) {
  if (n) records_skipped_->Increment(static_cast<double>(n));
}

void ApiSourceMetrics::non_user_rows(size_t n) {
  if (n) non_user_rows_->Increment(static_cast<double>(n));
}

void ApiSourceMetrics::success(double t) {
  last_success_->Set(t);
}

void ApiSourceMetrics::newest_date(double t) {
  newest_date_->Set(t);
}

void ApiSourceMetrics::backfill_remaining(int days) {
  backfill_remaining_->Set(days);
}

void AgentMetrics::actor_overflow(size_t observations) {
  if (observations) actor_overflow_->Increment(static_cast<double>(observations));
}

void AgentMetrics::limit_hits(const std::map<std::string, size_t>& hits) {
  for (const auto& [key, n] : hits)
    limit_hits_->Add({{"limit", key}}).Increment(static_cast<double>(n));
}

void AgentMetrics::limit_hit(std::string_view key) {
  limit_hits_->Add({{"limit", std::string(key)}}).Increment();
}

void AgentMetrics::otlp_connections(double open) {
  otlp_connections_->Set(open);
}

void AgentMetrics::otlp_inflight_bytes(double bytes) {
  otlp_inflight_bytes_->Set(bytes);
}

}  // namespace cce::metrics
