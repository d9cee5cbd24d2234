#include "cce/otlp/response.h"

#include <nlohmann/json.hpp>

#include "otlp.pb.h"

namespace cce::otlp {

std::string_view content_type(Encoding encoding) {
  return encoding == Encoding::kProtobuf ? "application/x-protobuf" : "application/json";
}

namespace {

template <typename Response>
std::string serialize(const Response& r) {
  std::string out;
  r.SerializeToString(&out);
  return out;
}

}  // namespace

std::string export_response(Signal signal, Encoding encoding, int64_t rejected,
                            std::string_view error_message) {
  const bool partial = rejected != 0 || !error_message.empty();
  if (encoding == Encoding::kJson) {
    if (!partial) return "{}";
    const char* count_key = signal == Signal::kMetrics ? "rejectedDataPoints"
                            : signal == Signal::kLogs  ? "rejectedLogRecords"
                                                       : "rejectedSpans";
    nlohmann::json j;
    // proto3 JSON writes int64 as a string.
    j["partialSuccess"][count_key] = std::to_string(rejected);
    j["partialSuccess"]["errorMessage"] = std::string(error_message);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (!partial) return {};
  switch (signal) {
    case Signal::kMetrics: {
      pb::ExportMetricsServiceResponse r;
      r.mutable_partial_success()->set_rejected_data_points(rejected);
      r.mutable_partial_success()->set_error_message(std::string(error_message));
      return serialize(r);
    }
    case Signal::kLogs: {
      pb::ExportLogsServiceResponse r;
      r.mutable_partial_success()->set_rejected_log_records(rejected);
      r.mutable_partial_success()->set_error_message(std::string(error_message));
      return serialize(r);
    }
    case Signal::kTraces: {
      pb::ExportTraceServiceResponse r;
      r.mutable_partial_success()->set_rejected_spans(rejected);
      r.mutable_partial_success()->set_error_message(std::string(error_message));
      return serialize(r);
    }
  }
  return {};
}

std::string status_body(Encoding encoding, int code, std::string_view message) {
  if (encoding == Encoding::kJson) {
    nlohmann::json j{{"code", code}, {"message", std::string(message)}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  pb::Status s;
  s.set_code(code);
  s.set_message(std::string(message));
  return serialize(s);
}

}  // namespace cce::otlp
