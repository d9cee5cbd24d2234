#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "cce/otlp/types.h"

namespace cce::otlp {

// A decode failure: the message is meant for the client (it goes into the 400 response).
struct DecodeError {
  std::string message;
};

template <typename T>
using Decoded = std::variant<T, DecodeError>;

// Pure functions; safe to call from any thread. Bodies are already decompressed.
Decoded<MetricsRequest> decode_metrics(std::string_view body, Encoding encoding);
Decoded<LogsRequest> decode_logs(std::string_view body, Encoding encoding);
Decoded<TracesRequest> decode_traces(std::string_view body, Encoding encoding);

// The same with libprotobuf alone. decode_* read the protobuf encoding with the wire reader
// (wire_reader.h) where it can; these are the reference it answers to.
Decoded<MetricsRequest> decode_metrics_with_libprotobuf(std::string_view body, Encoding encoding);
Decoded<LogsRequest> decode_logs_with_libprotobuf(std::string_view body, Encoding encoding);

}  // namespace cce::otlp
