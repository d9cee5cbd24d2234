#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cce::util {

// Parses Prometheus-style durations: "1s", "500ms", "15m", "1h30m", "7d". Zero is "0s" or "0".
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace cce::util
