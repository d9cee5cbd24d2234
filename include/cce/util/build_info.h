#pragma once

#include <string_view>

namespace cce::util {

std::string_view version();     // e.g. "0.1.0"
std::string_view revision();    // short git revision at build time, or "unknown"
std::string_view user_agent();  // "claude-code-exporter/0.1.0"

}  // namespace cce::util
