#pragma once

#include <memory>

#include "cce/config/config.h"
#include "cce/config/web_config.h"
#include "cce/server/inflight_budget.h"
#include "cce/server/otlp_receiver.h"

namespace cce::server {

// OTLP/gRPC (the protocol Claude Code uses with OTEL_EXPORTER_OTLP_PROTOCOL=grpc): the Export
// methods of the metrics, logs and trace services. The request bytes go through the same
// receiver as OTLP/HTTP: same decoder, bearer tokens (the `authorization` metadata), in-flight
// budget, and OK only after the data is durable. Status codes: OK (with
// partial success), INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED (too large),
// UNAVAILABLE (retry: the store failed or the budget is spent), UNIMPLEMENTED (another
// method). gzip is gRPC's own message compression. With the OTLP web config's TLS: the same
// certificate and client-certificate policy (read at start-up).
//
// On gRPC's asynchronous API, each completion queue (otlp.grpc_threads) driven by a thread of
// its own ("otlp-grpc"): a call's read, decode and hand-off happen on that thread, and its
// answer is written by the thread that has it. The callback API cost about 15% more CPU per
// call: every call's end went through gRPC's executor thread, and its callback threads handed
// the poller to each other through a condition variable.
class OtlpGrpcServer {
 public:
  OtlpGrpcServer(const config::WebConfig& web, const OtlpReceiver& receiver,
                 InflightBudget& budget);
  ~OtlpGrpcServer();

  // Binds (port 0 picks a free port) and serves on `threads` completion queues. Throws on
  // bind failure.
  void start(const config::ListenAddress& address, int threads);
  int port() const;
  bool tls() const;
  // Stops accepting; calls in progress are answered first (up to 5 s).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::server
