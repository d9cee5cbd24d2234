#pragma once

#include <prometheus/collectable.h>

#include <string>
#include <vector>

namespace cce::metrics {

// Collects and serializes in the Prometheus text format (0.0.4).
std::string render_text(const std::vector<const prometheus::Collectable*>& collectables);

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace cce::metrics
