#include "cce/server/otlp_http_server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "cce/server/tls.h"
#include "cce/util/thread_name.h"

namespace cce::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// How long, and how much, a refused client may go on sending before the connection ends.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 64u << 20;
// Bodies at least this large are decoded off the network threads.
constexpr size_t kOffloadBytes = 256u << 10;
// The first read of a request: most Claude Code exports, head and body, fit.
constexpr size_t kFirstRead = 16u << 10;

// An answer as HTTP/1.1 bytes, written in one go (cheaper than a serializer per answer; the
// answers are few and their fields ours).
std::string serialize(const HttpAnswer& a, bool keep_alive) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(a.status));
  std::string out;
  out.reserve(128 + a.body.size());
  out.append("HTTP/1.1 ").append(std::to_string(a.status)).append(" ");
  out.append(reason.data(), reason.size()).append("\r\n");
  if (!a.content_type.empty()) out.append("Content-Type: ").append(a.content_type).append("\r\n");
  for (const auto& [k, v] : a.headers)
    out.append(k).append(": ").append(v).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(a.body.size())).append("\r\n");
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n").append(a.body);
  return out;
}

// Limit-hit keys of this listener (claude_code_exporter_limit_hits_total{limit}).
constexpr std::string_view kLimitConnections = "otlp.max_connections";
constexpr std::string_view kLimitPerAddress = "otlp.max_connections_per_address";
constexpr std::string_view kLimitHeader = "otlp.max_header_bytes";

std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}

// Connections may need many descriptors; the soft limit is often 1024.
size_t raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<size_t>(rl.rlim_cur);
}

}  // namespace

// What every connection shares. Outlives the connections (they are destroyed with the
// io_context, which is destroyed first).
struct Shared {
  OtlpListenerOptions options;
  const OtlpReceiver& receiver;
  InflightBudget& budget;
  metrics::AgentMetrics& metrics;
  asio::thread_pool decode_pool{1};

  std::mutex mu;
  std::unordered_map<std::string, size_t> per_address;
  size_t open = 0;
  std::atomic<size_t> busy{0};  // requests between head and answer

  Shared(OtlpListenerOptions o, const OtlpReceiver& r, InflightBudget& b, metrics::AgentMetrics& m)
      : options(o), receiver(r), budget(b), metrics(m) {}

  // Returns the limit a new connection from `address` would pass, or empty.
  std::string_view open_connection(const std::string& address) {
    std::lock_guard lock(mu);
    if (open >= options.max_connections) return kLimitConnections;
    size_t& n = per_address[address];
    if (n >= options.max_connections_per_address) return kLimitPerAddress;
    ++n;
    ++open;
    metrics.otlp_connections(static_cast<double>(open));
    return {};
  }
  void close_connection(const std::string& address) {
    std::lock_guard lock(mu);
    auto it = per_address.find(address);
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
    --open;
    metrics.otlp_connections(static_cast<double>(open));
  }
};

namespace {

// One connection: wait for a request (idle timeout), read its head and body (one deadline),
// answer once the receiver has, and start over while the client keeps the connection alive.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Shared& shared, Stream stream, std::string address)
      : shared_(shared), stream_(std::move(stream)), address_(std::move(address)) {}

  ~Session() {
    shared_.budget.give_back(held_);
    if (counted_busy_) shared_.busy.fetch_sub(1);
    shared_.close_connection(address_);
  }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(shared_.options.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->wait_request();
                              });
    } else {
      // Answers are written at once when the socket takes them (see write()).
      beast::error_code ec;
      lowest().socket().non_blocking(true, ec);
      write_at_once_ = !ec;
      wait_request();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // Idle until the first byte of the next request arrives; pipelined bytes skip the wait.
  void wait_request() {
    if (buffer_.size() > 0) return read_head();
    buffer_.shrink_to_fit();  // an idle connection holds no buffer
    lowest().expires_after(shared_.options.idle_timeout);
    if constexpr (kTls) {
      // Decrypted bytes may wait inside the TLS layer, unseen by the socket: read, do not poll.
      read_first(1024);
    } else {
      // Wait without a buffer, then take a typical export (a few KiB) in one read. The stream's
      // deadline covers only the stream's own operations, so the wait has a timer of its own.
      idle_ = true;
      idle_timer_.expires_after(shared_.options.idle_timeout);
      idle_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec && self->idle_) self->lowest().close();  // ends the wait below
      });
      lowest().socket().async_wait(tcp::socket::wait_read,
                                   [self = this->shared_from_this()](beast::error_code ec) {
                                     self->idle_ = false;
                                     self->idle_timer_.cancel();
                                     if (!ec) self->read_first(kFirstRead);
                                   });
    }
  }

  void read_first(size_t size) {
    stream_.async_read_some(buffer_.prepare(size),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return;  // closed, or idle too long: the connection ends
                              self->buffer_.commit(n);
                              self->read_head();
                            });
  }

  void read_head() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_header_bytes));
    // The body's limit is set once the head is admitted (a declared length beyond it is
    // refused by the receiver, with the OTLP answer).
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // From here one deadline covers the head and the body.
    lowest().expires_after(shared_.options.request_timeout);
    // A typical export arrives whole in the first read: parse what is here before asking the
    // event loop for more (each asynchronous step costs a turn of the loop and a timer).
    beast::error_code parsed;
    buffer_.consume(parser_->put(buffer_.data(), parsed));
    if (parsed != http::error::need_more) return on_head(parsed);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_head(ec); });
  }

  void on_head(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      shared_.metrics.limit_hit(kLimitHeader);
      return answer_plain(431, "request head exceeds otlp.max_header_bytes\n");
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return;
    }
    if (ec) return answer_plain(400, "malformed HTTP request\n");
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    const bool has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
    unread_body_ = has_body;

    OtlpHead head;
    head.method = sv(req.method_string());
    head.path = sv(req.target());
    head.content_type = sv(req[http::field::content_type]);
    head.content_encoding = sv(req[http::field::content_encoding]);
    head.authorization = sv(req[http::field::authorization]);
    if (auto n = parser_->content_length()) head.content_length = static_cast<size_t>(*n);
    head.peer = address_;
    auto verdict = shared_.receiver.admit(head);
    if (auto* refused = std::get_if<HttpAnswer>(&verdict)) {
      refused->close |= has_body;
      return write(std::move(*refused));
    }
    admitted_ = std::move(std::get<OtlpAdmitted>(verdict));
    parser_->body_limit(shared_.receiver.options().max_body_bytes);
    shared_.busy.fetch_add(1);
    counted_busy_ = true;
    // A declared length is held against the budget before a byte of it is read.
    if (auto n = parser_->content_length(); n && !hold(static_cast<size_t>(*n))) return;
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      return http::async_write(
          stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code wec, size_t) {
            if (!wec) self->read_body();
          });
    }
    read_body();
  }

  // Holds n more bytes against the budget; when it is spent, answers 503 and returns false.
  bool hold(size_t n) {
    if (n == 0) return true;
    if (!shared_.budget.take(n)) {
      write(shared_.receiver.fail(*admitted_, 503, std::string(InflightBudget::kRefusal)));
      return false;
    }
    held_ += n;
    return true;
  }

  void read_body() {
    // Bytes already read are parsed here, in a loop: a chunked body is a step per chunk, and
    // a step per stack frame would let many small chunks exhaust the stack.
    while (!parser_->is_done() && buffer_.size() > 0) {
      beast::error_code ec;
      const size_t n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec == http::error::need_more || (n == 0 && !ec)) break;
      if (!take_body_part(ec)) return;
    }
    if (parser_->is_done()) {
      unread_body_ = false;
      return on_body();
    }
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            if (self->take_body_part(ec)) self->read_body();
                          });
  }

  // After a step of the body's parsing: false when the request ended (answered or gone).
  bool take_body_part(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      write(shared_.receiver.fail(*admitted_, 413, shared_.receiver.too_large_message(false)));
      return false;
    }
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == http::error::partial_message || ec == asio::error::eof ||
        ec == http::error::end_of_stream || ec == asio::error::connection_reset) {
      return false;  // the client went away or ran out of time; it retries
    }
    if (ec) {
      write(shared_.receiver.fail(*admitted_, 400, "malformed request body"));
      return false;
    }
    if (!parser_->content_length()) {  // chunked: held as it arrives
      const size_t size = parser_->get().body().size();
      if (size > body_seen_ && !hold(size - body_seen_)) return false;
      body_seen_ = size;
    }
    return true;
  }

  void on_body() {
    // The deadline was for receiving; the store may take longer under load.
    lowest().expires_never();
    auto body = std::make_shared<std::string>(std::move(parser_->get().body()));
    parser_.reset();
    body_seen_ = 0;
    auto work = [self = this->shared_from_this(), body] { self->decode(*body); };
    if (body->size() >= kOffloadBytes || admitted_->coding != ContentCoding::kIdentity) {
      asio::post(shared_.decode_pool, std::move(work));
    } else {
      work();
    }
  }

  // On a network thread or the decode pool.
  void decode(std::string& raw) {
    if (admitted_->coding != ContentCoding::kIdentity && !raw.empty()) {
      std::string plain;
      auto result =
          inflate(raw, shared_.receiver.options().max_body_bytes, plain, [this](size_t n) {
            if (!shared_.budget.take(n)) return false;
            held_ += n;
            return true;
          });
      std::optional<HttpAnswer> refusal;
      if (result == InflateResult::kTooLarge) {
        refusal = shared_.receiver.fail(*admitted_, 413, shared_.receiver.too_large_message(true));
      } else if (result == InflateResult::kCorrupt) {
        refusal = shared_.receiver.fail(*admitted_, 400,
                                        "could not read the request body (not valid gzip)");
      } else if (result == InflateResult::kRefused) {
        refusal = shared_.receiver.fail(*admitted_, 503, std::string(InflightBudget::kRefusal));
      }
      if (refusal) return post_answer(std::move(*refusal));
      raw.swap(plain);
    }
    shared_.receiver.receive(
        *admitted_, raw, [self = this->shared_from_this()](OtlpOutcome outcome) {
          HttpAnswer answer = OtlpReceiver::http_answer(*self->admitted_, outcome);
          self->post_answer(std::move(answer), std::move(outcome.spent));
        });
  }

  // `spent` is freed with the handler, on the connection's thread.
  void post_answer(HttpAnswer a, ingest::SpentRequest spent = {}) {
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), a = std::move(a),
                spent = std::move(spent)]() mutable { self->write(std::move(a)); });
  }

  void answer_plain(int status, std::string body) {
    HttpAnswer a;
    a.status = status;
    a.content_type = "text/plain";
    a.body = std::move(body);
    a.close = true;
    write(std::move(a));
  }

  void write(HttpAnswer a) {
    // Answered: the data is stored or refused, and its bytes are no longer held.
    shared_.budget.give_back(held_);
    held_ = 0;
    const bool keep_alive = keep_alive_ && !a.close;
    auto out = std::make_shared<std::string>(serialize(a, keep_alive));
    size_t sent = 0;
    if (write_at_once_) {
      // An answer is small: the socket almost always takes it at once, without a turn of the
      // event loop. What it does not take goes the asynchronous way.
      beast::error_code ec;
      sent = lowest().socket().write_some(asio::buffer(*out), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
      } else if (ec) {
        return on_written(ec, keep_alive);
      }
      if (sent == out->size()) return on_written(ec, keep_alive);
    }
    lowest().expires_after(shared_.options.write_timeout);
    asio::async_write(stream_, asio::buffer(*out) + sent,
                      [self = this->shared_from_this(), out, keep_alive](
                          beast::error_code ec, size_t) { self->on_written(ec, keep_alive); });
  }

  void on_written(beast::error_code ec, bool keep_alive) {
    if (counted_busy_) {
      shared_.busy.fetch_sub(1);
      counted_busy_ = false;
    }
    admitted_.reset();
    parser_.reset();
    if (ec || !keep_alive) {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (!ec && unread_body_) {
        // A client still sending the body we refused would see a reset instead of our answer:
        // read and drop what it sends, for a short while.
        lowest().expires_after(kLingerTime);
        linger(0);
      }
      return;
    }
    if (buffer_.size() > 0) {
      // Pipelined requests wait in the buffer. An answer written at once returns here through
      // the head that asked for it: a fresh turn of the loop keeps a long run of them (refused
      // ones need no writer) from deepening the stack.
      return asio::post(stream_.get_executor(),
                        [self = this->shared_from_this()] { self->wait_request(); });
    }
    wait_request();
  }

  void linger(size_t dropped) {
    if (dropped > kLingerBytes) return;
    buffer_.consume(buffer_.size());
    lowest().async_read_some(buffer_.prepare(16u << 10), [self = this->shared_from_this(), dropped](
                                                             beast::error_code ec, size_t n) {
      if (!ec) self->linger(dropped + n);
    });
  }

  Shared& shared_;
  Stream stream_;
  const std::string address_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<OtlpAdmitted> admitted_;
  size_t held_ = 0;       // bytes of the budget this request holds
  size_t body_seen_ = 0;  // of a chunked body, already held
  bool keep_alive_ = true;
  bool counted_busy_ = false;
  bool unread_body_ = false;
  bool write_at_once_ = false;  // a plain socket in non-blocking mode
  asio::steady_timer idle_timer_{stream_.get_executor()};
  bool idle_ = false;  // waiting for a request's first byte
};

}  // namespace

namespace {
std::vector<std::unique_ptr<asio::io_context>> make_loops(int n) {
  std::vector<std::unique_ptr<asio::io_context>> loops;
  for (int i = 0; i < std::max(n, 1); ++i)
    loops.push_back(std::make_unique<asio::io_context>(1));  // run by one thread
  return loops;
}
}  // namespace

struct OtlpHttpServer::Impl {
  Impl(OtlpListenerOptions o, const config::WebConfig& web, const OtlpReceiver& r,
       InflightBudget& b, metrics::AgentMetrics& m)
      : shared(o, r, b, m) {
    if (web.tls) {
      certs = std::make_unique<TlsCertificates>(web.tls->cert_file, web.tls->key_file);
      ssl.emplace(asio::ssl::context::tls_server);
      if (!setup_tls(*ssl->native_handle(), *web.tls, *certs)) {
        throw std::runtime_error(web.path + ": cannot set up TLS");
      }
    }
    for (auto key : {kLimitConnections, kLimitPerAddress, kLimitHeader})
      m.limit_hits({{std::string(key), 0}});
  }

  void accept() {
    // Connections are dealt round robin to the event loops; each loop runs on one thread.
    auto& loop = *loops[next_loop++ % loops.size()];
    acceptor.async_accept(loop, [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors, most likely: pause instead of spinning.
        spdlog::warn("otlp: accept failed: {}", ec.message());
        retry.expires_after(std::chrono::milliseconds(100));
        retry.async_wait([this](beast::error_code) { accept(); });
        return;
      }
      serve(std::move(s));
      accept();
    });
  }

  void serve(tcp::socket s) {
    beast::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    if (ec) return;
    std::string address = remote.address().to_string();
    if (auto limit = shared.open_connection(address); !limit.empty()) {
      shared.metrics.limit_hit(limit);
      return;  // closed by the socket's destructor
    }
    if (shared.options.tcp_nodelay) s.set_option(tcp::no_delay(true), ec);
    // The session starts on its own loop's thread, where all its work runs.
    auto executor = s.get_executor();
    if (ssl) {
      auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          shared, beast::ssl_stream<beast::tcp_stream>(std::move(s), *ssl), std::move(address));
      asio::post(executor, [session] { session->start(); });
    } else {
      auto session = std::make_shared<Session<beast::tcp_stream>>(
          shared, beast::tcp_stream(std::move(s)), std::move(address));
      asio::post(executor, [session] { session->start(); });
    }
  }

  Shared shared;
  std::unique_ptr<TlsCertificates> certs;
  std::optional<asio::ssl::context> ssl;
  // Declared last: destroyed first, with every connection still queued in them. One event loop
  // per thread: loops sharing threads hand work between them through a condition variable,
  // which cost about a context switch per request.
  std::vector<std::unique_ptr<asio::io_context>> loops = make_loops(shared.options.threads);
  size_t next_loop = 0;
  tcp::acceptor acceptor{*loops.front()};
  asio::steady_timer retry{*loops.front()};
  std::vector<std::thread> threads;
  int port = 0;
};

OtlpHttpServer::OtlpHttpServer(OtlpListenerOptions options, const config::WebConfig& web,
                               const OtlpReceiver& receiver, InflightBudget& budget,
                               metrics::AgentMetrics& metrics)
    : impl_(std::make_unique<Impl>(options, web, receiver, budget, metrics)) {}

OtlpHttpServer::~OtlpHttpServer() {
  stop();
}

void OtlpHttpServer::start(const config::ListenAddress& address) {
  auto& m = *impl_;
  // A few descriptors stay for the store, the metrics listener and the log.
  const size_t files = raise_open_file_limit();
  if (m.shared.options.max_connections + 64 > files) {
    const size_t clamped = files > 128 ? files - 64 : 64;
    spdlog::warn(
        "otlp: otlp.max_connections is {} but this process may open only {} files; holding "
        "{} connections (raise LimitNOFILE in systemd, or ulimit -n)",
        m.shared.options.max_connections, files, clamped);
    m.shared.options.max_connections = clamped;
  }
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address.str() + ": not an IP address");
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(address.port));
  m.acceptor.open(endpoint.protocol());
  m.acceptor.set_option(asio::socket_base::reuse_address(true));
  m.acceptor.bind(endpoint, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + address.str() + " (" + ec.message() + ")");
  }
  m.acceptor.listen(m.shared.options.backlog);
  m.port = m.acceptor.local_endpoint().port();
  m.accept();
  for (auto& loop : m.loops) {
    m.threads.emplace_back([&m, &loop] {
      util::name_this_thread("otlp-http");
      // Kept running while idle: connections arrive on other threads.
      auto work = asio::make_work_guard(*loop);
      loop->run();
    });
  }
}

int OtlpHttpServer::port() const {
  return impl_->port;
}

bool OtlpHttpServer::tls() const {
  return impl_->certs != nullptr;
}

void OtlpHttpServer::reload_tls() {
  if (impl_->certs) impl_->certs->reload(true);
}

void OtlpHttpServer::stop() {
  auto& m = *impl_;
  if (m.threads.empty()) return;
  asio::post(*m.loops.front(), [&m] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    m.retry.cancel();
  });
  // Requests already read are answered once the writer has stored them.
  const auto deadline = std::chrono::steady_clock::now() + m.shared.options.write_timeout;
  while (m.shared.busy.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (auto& loop : m.loops)
    loop->stop();
  for (auto& t : m.threads)
    t.join();
  m.threads.clear();
  m.shared.decode_pool.join();
}

}  // namespace cce::server
