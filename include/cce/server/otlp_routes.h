#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "cce/ingest/sink.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/otlp/types.h"

namespace cce::server {

struct OtlpRouteOptions {
  size_t max_body_bytes = 64u << 20;
  std::vector<std::string> auth_tokens;  // empty: no authentication
};

// POST /v1/metrics, /v1/logs, /v1/traces per the OTLP/HTTP specification: protobuf or JSON,
// gzip, chunked; 400 undecodable, 401 unauthenticated, 413 too large (after decompression),
// 415 unsupported type or encoding; responses in the request's content type.
void mount_otlp_routes(httplib::Server& server, ingest::OtlpSink& sink,
                       metrics::AgentMetrics& metrics, OtlpRouteOptions options);

// Constant-time equality, for secrets.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace cce::server
