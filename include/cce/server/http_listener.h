#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "cce/config/config.h"
#include "cce/server/elastic_task_queue.h"

namespace cce::server {

// One httplib server on one address, with the connection policy from [http]: an elastic
// worker pool, bounded keep-alive, timeouts, TCP_NODELAY, and no SO_REUSEPORT (a second agent
// on the same port must fail, not share it).
class HttpListener {
 public:
  explicit HttpListener(const config::Config::Http& policy);
  ~HttpListener();

  httplib::Server& server() { return server_; }

  // Binds (port 0 picks a free port) and starts serving on a thread. Throws on bind failure.
  void start(const config::ListenAddress& address);
  int port() const { return port_; }
  // Stops accepting, lets in-flight requests finish, joins.
  void stop();

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cce::server
