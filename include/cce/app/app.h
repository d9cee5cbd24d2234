#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cce/config/config.h"
#include "cce/util/clock.h"

namespace cce::app {

// The whole agent, wired: store, ledger, OTLP ingest, collectors and listeners. main() runs
// one; tests start one in-process on port 0.
class App {
 public:
  App(config::Config config, std::shared_ptr<const util::Clock> clock);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Opens the store, loads it, binds the listeners. Throws std::exception with a message fit
  // for the operator.
  void start();
  // Graceful: stops accepting, finishes in-flight requests, commits, checkpoints the store.
  void stop();

  // Loads the listeners' TLS certificates again (SIGHUP); they also reload when the files change.
  void reload_tls();

  int otlp_port() const;
  int grpc_port() const;
  int metrics_port() const;

 private:
  void start_api_polling();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::app
