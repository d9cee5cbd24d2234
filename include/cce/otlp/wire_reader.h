#pragma once

// OTLP's protobuf encoding read straight into the agent's types, in one pass over the bytes.
//
// libprotobuf first builds its own message tree and the decoder then converts it: two passes and
// an allocation per message, about a fifth of the agent's CPU under a fleet. This reader takes
// the exports Claude Code sends (attributes of every kind; sum, gauge and counted histogram
// points) in one pass, and leaves the rest to libprotobuf by returning nullopt: malformed input,
// groups, a singular message field sent twice (libprotobuf merges those), invalid UTF-8 in a
// string, values nested more than 32 deep. libprotobuf then decides and
// words any error. So whatever this returns is what decoding with libprotobuf returns for the
// same bytes; tests/unit/wire_reader_test.cc holds it to that on recorded and mutated exports.

#include <optional>
#include <string_view>

#include "cce/otlp/types.h"

namespace cce::otlp {

std::optional<MetricsRequest> read_metrics_wire(std::string_view body);
std::optional<LogsRequest> read_logs_wire(std::string_view body);

}  // namespace cce::otlp
