#include "cce/server/http_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>

#include "cce/util/thread_name.h"

namespace cce::server {

HttpListener::HttpListener(const config::Config::Http& policy, const config::WebConfig& web,
                           std::vector<std::string> open_paths) {
  if (web.tls) {
    certs_ = std::make_unique<TlsCertificates>(web.tls->cert_file, web.tls->key_file);
    const config::WebConfig::Tls tls = *web.tls;
    TlsCertificates* certs = certs_.get();
    auto ssl = std::make_unique<httplib::SSLServer>(
        [tls, certs](SSL_CTX& ctx) { return setup_tls(ctx, tls, *certs); });
    if (!ssl->is_valid()) throw std::runtime_error(web.path + ": cannot set up TLS");
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  if (!web.basic_auth_users.empty()) {
    auth_ = std::make_unique<BasicAuth>(web.basic_auth_users);
    BasicAuth* auth = auth_.get();
    // Before routing, so a request body is never read for an unauthenticated client.
    server_->set_pre_routing_handler(
        [auth, open_paths](const httplib::Request& req, httplib::Response& res) {
          for (const auto& p : open_paths) {
            if (req.path == p) return httplib::Server::HandlerResponse::Unhandled;
          }
          if (auth->allowed(req.get_header_value("Authorization"))) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          res.status = 401;
          res.set_header("WWW-Authenticate", "Basic realm=\"claude-code-exporter\"");
          res.set_content("unauthorized\n", "text/plain");
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  httplib::Server& server_ref = *server_;
  const size_t min_threads = policy.min_threads;
  const size_t max_threads = policy.max_connections;
  server_ref.new_task_queue = [min_threads, max_threads] {
    return new ElasticTaskQueue(min_threads, max_threads);
  };
  auto secs = [](std::chrono::milliseconds d) {
    return std::pair<time_t, time_t>{static_cast<time_t>(d.count() / 1000),
                                     static_cast<time_t>((d.count() % 1000) * 1000)};
  };
  auto [rs, rus] = secs(policy.read_timeout);
  auto [ws, wus] = secs(policy.write_timeout);
  server_ref.set_read_timeout(rs, rus);
  server_ref.set_write_timeout(ws, wus);
  server_ref.set_keep_alive_timeout(
      std::max<time_t>(1, static_cast<time_t>(policy.keep_alive_timeout.count() / 1000)));
  server_ref.set_keep_alive_max_count(policy.keep_alive_max_requests);
  server_ref.set_tcp_nodelay(policy.tcp_nodelay);
  const bool nodelay = policy.tcp_nodelay;
  server_ref.set_socket_options([nodelay](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (nodelay) setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
}

void HttpListener::reload_tls() {
  if (certs_) certs_->reload(true);
}

HttpListener::~HttpListener() {
  stop();
}

void HttpListener::start(const config::ListenAddress& address) {
  if (address.port == 0) {
    port_ = server_->bind_to_any_port(address.host);
    if (port_ <= 0) throw std::runtime_error("cannot listen on " + address.host + ":0");
  } else {
    if (!server_->bind_to_port(address.host, address.port)) {
      throw std::runtime_error("cannot listen on " + address.str() +
                               " (address in use, or not an address of this host?)");
    }
    port_ = address.port;
  }
  thread_ = std::thread([this] {
    util::name_this_thread("http-accept");
    server_->listen_after_bind();
  });
}

void HttpListener::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace cce::server
