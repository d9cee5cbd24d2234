#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cce/config/config.h"
#include "cce/config/web_config.h"
#include "cce/server/basic_auth.h"
#include "cce/server/elastic_task_queue.h"
#include "cce/server/tls.h"

namespace cce::server {

// One httplib server on one address, with the connection policy from [http]: an elastic
// worker pool, bounded keep-alive, timeouts, TCP_NODELAY, and no SO_REUSEPORT (a second agent
// on the same port must fail, not share it). With a web config: HTTPS (certificates reloaded
// on change or reload_tls()) and basic authentication on every path but `open_paths`.
class HttpListener {
 public:
  HttpListener(const config::Config::Http& policy, const config::WebConfig& web = {},
               std::vector<std::string> open_paths = {});
  ~HttpListener();

  httplib::Server& server() { return *server_; }
  bool tls() const { return certs_ != nullptr; }
  // Loads the certificate and key again (SIGHUP).
  void reload_tls();

  // Binds (port 0 picks a free port) and starts serving on a thread. Throws on bind failure.
  void start(const config::ListenAddress& address);
  int port() const { return port_; }
  // Stops accepting, lets in-flight requests finish, joins.
  void stop();

 private:
  std::unique_ptr<TlsCertificates> certs_;
  std::unique_ptr<BasicAuth> auth_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cce::server
