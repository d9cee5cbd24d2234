#pragma once

#include <chrono>
#include <memory>

#include "cce/config/config.h"
#include "cce/config/web_config.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/server/inflight_budget.h"
#include "cce/server/otlp_receiver.h"

namespace cce::server {

struct OtlpListenerOptions {
  int threads = 2;
  int backlog = 4096;
  size_t max_connections = 16384;
  size_t max_connections_per_address = 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  size_t max_header_bytes = 16u << 10;
  bool tcp_nodelay = true;
};

// The OTLP/HTTP listener: event-driven (Boost.Beast on Asio), so the tens of thousands of
// mostly idle keep-alive connections a fleet of Claude Code processes holds cost a socket each,
// not a thread. Per request: one deadline for headers and body together; authentication,
// content type and declared length checked before the body is read; body bytes held against
// the shared in-flight budget (503 + Retry-After when spent); the answer written only after
// the data is durable. Connections beyond max_connections, or beyond
// max_connections_per_address from one client address, are closed at once. With a web config:
// HTTPS (certificates reloaded like the metrics listener's) and basic authentication.
class OtlpHttpServer {
 public:
  OtlpHttpServer(OtlpListenerOptions options, const config::WebConfig& web,
                 const OtlpReceiver& receiver, InflightBudget& budget,
                 metrics::AgentMetrics& metrics);
  ~OtlpHttpServer();

  // Binds (port 0 picks a free port) and starts the threads. Throws on bind failure.
  void start(const config::ListenAddress& address);
  int port() const;
  bool tls() const;
  void reload_tls();
  // Stops accepting, lets requests in progress be answered (up to write_timeout), joins.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::server
