#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cce/otlp/types.h"

namespace cce::otlp {

// Export<Signal>ServiceResponse bodies. With rejected == 0 and an empty message the response is
// the empty message (0 bytes in protobuf, "{}" in JSON), as the specification asks.
std::string export_response(Signal signal, Encoding encoding, int64_t rejected,
                            std::string_view error_message);

// A google.rpc.Status body for 4xx/5xx answers.
std::string status_body(Encoding encoding, int code, std::string_view message);

std::string_view content_type(Encoding encoding);

}  // namespace cce::otlp
