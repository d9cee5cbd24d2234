#include "cce/server/http_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>

namespace cce::server {

HttpListener::HttpListener(const config::Config::Http& policy) {
  const size_t min_threads = policy.min_threads;
  const size_t max_threads = policy.max_connections;
  server_.new_task_queue = [min_threads, max_threads] {
    return new ElasticTaskQueue(min_threads, max_threads);
  };
  auto secs = [](std::chrono::milliseconds d) {
    return std::pair<time_t, time_t>{static_cast<time_t>(d.count() / 1000),
                                     static_cast<time_t>((d.count() % 1000) * 1000)};
  };
  auto [rs, rus] = secs(policy.read_timeout);
  auto [ws, wus] = secs(policy.write_timeout);
  server_.set_read_timeout(rs, rus);
  server_.set_write_timeout(ws, wus);
  server_.set_keep_alive_timeout(
      std::max<time_t>(1, static_cast<time_t>(policy.keep_alive_timeout.count() / 1000)));
  server_.set_keep_alive_max_count(policy.keep_alive_max_requests);
  server_.set_tcp_nodelay(policy.tcp_nodelay);
  const bool nodelay = policy.tcp_nodelay;
  server_.set_socket_options([nodelay](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (nodelay) setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
}

HttpListener::~HttpListener() {
  stop();
}

void HttpListener::start(const config::ListenAddress& address) {
  if (address.port == 0) {
    port_ = server_.bind_to_any_port(address.host);
    if (port_ <= 0) throw std::runtime_error("cannot listen on " + address.host + ":0");
  } else {
    if (!server_.bind_to_port(address.host, address.port)) {
      throw std::runtime_error("cannot listen on " + address.str() +
                               " (address in use, or not an address of this host?)");
    }
    port_ = address.port;
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
}

void HttpListener::stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

}  // namespace cce::server
