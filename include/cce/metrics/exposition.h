#pragma once

#include <prometheus/registry.h>

#include <string>

#include "cce/metrics/snapshot.h"
#include "cce/metrics/usage_collector.h"

namespace cce::metrics {

// The /metrics body in the Prometheus text format (0.0.4): the agent's own metrics, then the
// usage families, as one snapshot that is streamed out as text.
Snapshot render(const prometheus::Registry& agent, const UsageCollector& usage);

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace cce::metrics
