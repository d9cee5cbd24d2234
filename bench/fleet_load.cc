// A fleet of Claude Code processes, simulated: one keep-alive connection per developer (each
// from its own loopback address), open-loop at Claude Code's export cadence (metrics every 60 s,
// logs every 5 s, divided by --speed), real captured protobuf exports rewritten per developer
// and per export (identity and timestamps), so every request carries new data. Latency is
// measured from when an export was due, so a slow server cannot hide queued requests.
//
//   cce_fleet_load --port P --payloads DIR --clients N --speed S --seconds T [--grpc 1]
//                  [--scrapers K --metrics-port M]   (K clients GET /metrics in a loop meanwhile)
//   cce_fleet_load --port P --payloads DIR --idle N | --trickle N [--probe-port M]
//
// Prints one JSON object: requests, ok, failed, points, p50_ms, p99_ms, max_ms, rps, scrapes.
#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it
//
#include <sys/resource.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nghttp2/nghttp2.h>

#include "otlp.pb.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
namespace pb = cce::otlp::pb;

namespace {

struct Options {
  int port = 4318;
  std::string payloads;
  int clients = 100;
  double speed = 1;
  double seconds = 30;
  int idle = 0;
  int trickle = 0;
  int probe_port = 0;  // also probe GET /healthz here
  bool grpc = false;   // OTLP/gRPC on --port instead of OTLP/HTTP
  int probes = 50;
  std::string path_prefix;
  int scrapers = 0;
  int metrics_port = 0;
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string source_address(int i) {
  return "127." + std::to_string(1 + i / 62500) + "." + std::to_string(i / 250 % 250 + 1) + "." +
         std::to_string(i % 250 + 1);
}

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Captured exports, and how to make one developer's next export from them. Each developer's
// copy of each export is serialized once, with its identity rewritten; each send then patches
// the timestamps (fixed64 fields, so their bytes sit at fixed offsets) into a copy of those
// bytes. Re-serializing every export cost the generator more CPU than the server under test.
class Payloads {
 public:
  explicit Payloads(const std::string& dir) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("pb-delta", 0) != 0 || e.path().extension() != ".bin") continue;
      if (name.find("_metrics") != std::string::npos) {
        pb::ExportMetricsServiceRequest m;
        if (m.ParseFromString(read_file(e.path()))) metrics_.push_back(std::move(m));
      } else if (name.find("_logs") != std::string::npos) {
        pb::ExportLogsServiceRequest l;
        if (l.ParseFromString(read_file(e.path()))) logs_.push_back(std::move(l));
      }
    }
    if (metrics_.empty() || logs_.empty()) {
      std::cerr << "fleet_load: no pb-delta *_metrics.bin / *_logs.bin exports in " << dir << "\n";
      std::exit(2);
    }
  }

  // The body and its data point (or log record) count. Metrics: every point covers the last
  // interval and ends now; logs: one nanosecond apart from now.
  // Serializes every export of developers [0, n) now, before a measured window.
  void prepare_developers(int n) {
    for (int dev = 0; dev < n; ++dev) {
      for (size_t i = 0; i < metrics_.size(); ++i)
        prepared(metrics_cache_, metrics_, dev, i);
      for (size_t i = 0; i < logs_.size(); ++i)
        prepared(logs_cache_, logs_, dev, i);
    }
  }

  std::pair<std::string, size_t> metrics(int dev, uint64_t seq, double interval_s) {
    const Prepared& p = prepared(metrics_cache_, metrics_, dev, seq % metrics_.size());
    const uint64_t t = now_ns();
    const uint64_t start = t - static_cast<uint64_t>(interval_s * 1e9);
    std::string body = p.body;
    for (size_t i = 0; i < p.offsets.size(); ++i)
      put_fixed64(body, p.offsets[i], i % 2 == 0 ? start : t);
    return {std::move(body), p.items};
  }
  std::pair<std::string, size_t> logs(int dev, uint64_t seq) {
    const Prepared& p = prepared(logs_cache_, logs_, dev, seq % logs_.size());
    uint64_t t = now_ns();
    std::string body = p.body;
    for (size_t i = 0; i < p.offsets.size(); ++i) {
      if (i % 2 == 0) ++t;  // time, then observed time: the same value
      put_fixed64(body, p.offsets[i], t);
    }
    return {std::move(body), p.items};
  }

 private:
  // A developer's serialized export and where its timestamps are, in pairs (start and time of
  // each data point, or time and observed time of each record).
  struct Prepared {
    std::string body;
    std::vector<size_t> offsets;
    size_t items = 0;
  };
  using Cache = std::unordered_map<int, std::vector<std::optional<Prepared>>>;

  // Marks no captured value holds: the serialized bytes of mark + i locate timestamp i.
  static constexpr uint64_t kMark = 0x5EED0000'00000000ull;

  template <typename Request>
  const Prepared& prepared(Cache& cache, const std::vector<Request>& templates, int dev,
                           size_t which) {
    auto& per_dev = cache[dev];
    if (per_dev.empty()) per_dev.resize(templates.size());
    auto& slot = per_dev[which];
    if (!slot) slot = prepare(templates[which], dev);
    return *slot;
  }

  static Prepared prepare(pb::ExportMetricsServiceRequest m, int dev) {
    uint64_t mark = kMark;
    size_t points = 0;
    for (auto& rm : *m.mutable_resource_metrics()) {
      rewrite(*rm.mutable_resource()->mutable_attributes(), dev);
      for (auto& sm : *rm.mutable_scope_metrics()) {
        for (auto& metric : *sm.mutable_metrics()) {
          auto* dps = metric.has_sum() ? metric.mutable_sum()->mutable_data_points()
                                       : metric.mutable_gauge()->mutable_data_points();
          for (auto& dp : *dps) {
            rewrite(*dp.mutable_attributes(), dev);
            dp.set_start_time_unix_nano(mark++);
            dp.set_time_unix_nano(mark++);
            ++points;
          }
        }
      }
    }
    return locate(m.SerializeAsString(), mark - kMark, points);
  }
  static Prepared prepare(pb::ExportLogsServiceRequest l, int dev) {
    uint64_t mark = kMark;
    size_t records = 0;
    for (auto& rl : *l.mutable_resource_logs()) {
      rewrite(*rl.mutable_resource()->mutable_attributes(), dev);
      for (auto& sl : *rl.mutable_scope_logs()) {
        for (auto& rec : *sl.mutable_log_records()) {
          rewrite(*rec.mutable_attributes(), dev);
          rec.set_time_unix_nano(mark++);
          rec.set_observed_time_unix_nano(mark++);
          ++records;
        }
      }
    }
    return locate(l.SerializeAsString(), mark - kMark, records);
  }
  static Prepared locate(std::string body, uint64_t marks, size_t items) {
    Prepared p{std::move(body), {}, items};
    for (uint64_t i = 0; i < marks; ++i) {
      std::string bytes(8, '\0');
      put_fixed64(bytes, 0, kMark + i);
      const size_t at = p.body.find(bytes);
      if (at == std::string::npos || p.body.find(bytes, at + 1) != std::string::npos) {
        std::cerr << "fleet_load: a timestamp's place in a serialized export is ambiguous\n";
        std::exit(2);
      }
      p.offsets.push_back(at);
    }
    return p;
  }
  static void put_fixed64(std::string& s, size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i)
      s[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  }

  static void rewrite(google::protobuf::RepeatedPtrField<pb::KeyValue>& attrs, int dev) {
    for (auto& kv : attrs) {
      const std::string& k = kv.key();
      if (k == "user.email") {
        kv.mutable_value()->set_string_value("dev" + std::to_string(dev) + "@fleet.example");
      } else if (k == "user.account_uuid" || k == "user.id" || k == "session.id") {
        kv.mutable_value()->set_string_value(k + "-" + std::to_string(dev));
      }
    }
  }
  std::vector<pb::ExportMetricsServiceRequest> metrics_;
  std::vector<pb::ExportLogsServiceRequest> logs_;
  Cache metrics_cache_, logs_cache_;
};

struct Stats {
  uint64_t requests = 0, ok = 0, failed = 0, points = 0, scrapes = 0;
  std::vector<double> latency_ms;
  void print(double seconds) {
    std::sort(latency_ms.begin(), latency_ms.end());
    auto pct = [&](double p) {
      return latency_ms.empty() ? 0.0
                                : latency_ms[std::min(latency_ms.size() - 1,
                                                      static_cast<size_t>(p * latency_ms.size()))];
    };
    std::printf(
        "{\"requests\": %llu, \"ok\": %llu, \"failed\": %llu, \"points\": %llu, \"p50_ms\": %.3f, "
        "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"rps\": %.1f, \"scrapes\": %llu}\n",
        static_cast<unsigned long long>(requests), static_cast<unsigned long long>(ok),
        static_cast<unsigned long long>(failed), static_cast<unsigned long long>(points), pct(0.5),
        pct(0.99), latency_ms.empty() ? 0.0 : latency_ms.back(),
        seconds > 0 ? static_cast<double>(ok) / seconds : 0.0,
        static_cast<unsigned long long>(scrapes));
  }
};

// An OTLP/gRPC client connection: gRPC over cleartext HTTP/2 (prior knowledge), framed by
// nghttp2 on the generator's event loop. A gRPC library's client cost the generator about
// 0.75 cores at the 50,000-equivalent load (its own threads, and a hop back to this loop per
// call), on the two cores it shares with the agent; this costs what the HTTP/1.1 client does.
class GrpcConnection : public std::enable_shared_from_this<GrpcConnection> {
 public:
  using Done = std::function<void(bool ok)>;

  GrpcConnection(tcp::socket socket, int port, std::function<void()> broken)
      : socket_(std::move(socket)),
        authority_("127.0.0.1:" + std::to_string(port)),
        broken_(std::move(broken)) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &GrpcConnection::on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &GrpcConnection::on_close);
    nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~GrpcConnection() { nghttp2_session_del(session_); }

  void open() {
    read();
    flush();
  }

  // One unary call: `message` framed as gRPC's length-prefixed message.
  void call(const std::string& path, const std::string& message, Done done) {
    auto st = std::make_unique<Stream>();
    st->frame.reserve(message.size() + 5);
    st->frame.push_back('\0');  // not compressed
    for (int shift = 24; shift >= 0; shift -= 8)
      st->frame.push_back(static_cast<char>((message.size() >> shift) & 0xff));
    st->frame += message;
    st->done = std::move(done);
    const nghttp2_nv nva[] = {nv(":method", "POST"),
                              nv(":scheme", "http"),
                              nv(":path", path),
                              nv(":authority", authority_),
                              nv("content-type", "application/grpc"),
                              nv("te", "trailers")};
    nghttp2_data_provider body{};
    body.source.ptr = st.get();
    body.read_callback = &GrpcConnection::read_body;
    const int32_t id =
        nghttp2_submit_request(session_, nullptr, nva, std::size(nva), &body, st.get());
    if (id < 0) return st->done(false);
    streams_.emplace(id, std::move(st));
    flush();
  }

 private:
  struct Stream {
    std::string frame;
    size_t sent = 0;
    std::string grpc_status;
    Done done;
  };

  static nghttp2_nv nv(std::string_view name, std::string_view value) {
    return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
            reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
            NGHTTP2_NV_FLAG_NONE};
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source* source, void*) {
    auto* st = static_cast<Stream*>(source->ptr);
    const size_t n = std::min(length, st->frame.size() - st->sent);
    std::memcpy(buf, st->frame.data() + st->sent, n);
    st->sent += n;
    if (st->sent == st->frame.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto* st =
        static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (st && std::string_view(reinterpret_cast<const char*>(name), namelen) == "grpc-status")
      st->grpc_status.assign(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }

  // Ends a call; its callback runs once nghttp2 has returned (it may start the next call).
  static int on_close(nghttp2_session*, int32_t id, uint32_t error_code, void* user) {
    auto* self = static_cast<GrpcConnection*>(user);
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) return 0;
    self->ended_.emplace_back(std::move(it->second->done),
                              error_code == NGHTTP2_NO_ERROR && it->second->grpc_status == "0");
    self->streams_.erase(it);
    return 0;
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(in_), [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec || nghttp2_session_mem_recv(self->session_, self->in_.data(), n) < 0)
            return self->fail();
          self->settle();
          self->flush();
          self->read();
        });
  }

  void settle() {
    auto ended = std::move(ended_);
    ended_.clear();
    for (auto& [done, ok] : ended)
      done(ok);
  }

  // Writes what nghttp2 has to send; one write at a time.
  void flush() {
    if (writing_ || failed_) return;
    out_.clear();
    const uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_, &data)) > 0;)
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    if (out_.empty()) return;
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->fail();
                        self->flush();
                      });
  }

  void fail() {
    if (failed_) return;
    failed_ = true;
    beast::error_code ignored;
    socket_.close(ignored);
    for (auto& [id, st] : streams_)
      ended_.emplace_back(std::move(st->done), false);
    streams_.clear();
    broken_();  // first: the failed calls' callbacks must not send on this connection
    settle();
  }

  tcp::socket socket_;
  std::string authority_;
  std::function<void()> broken_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  std::vector<std::pair<Done, bool>> ended_;
  std::array<uint8_t, 16384> in_{};
  std::string out_;
  bool writing_ = false, failed_ = false;
};

std::string request_text(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One simulated developer: a keep-alive connection and two export schedules.
class Developer : public std::enable_shared_from_this<Developer> {
 public:
  Developer(asio::io_context& ioc, const Options& o, Payloads& payloads, Stats& stats, int id,
            Clock::time_point start, Clock::time_point end)
      : o_(o), payloads_(payloads), stats_(stats), id_(id), stream_(ioc), timer_(ioc), end_(end) {
    std::mt19937 rng(static_cast<unsigned>(id));
    metrics_every_ = std::chrono::duration<double>(60.0 / o.speed);
    logs_every_ = std::chrono::duration<double>(5.0 / o.speed);
    // Processes start at random moments: a random phase for each schedule.
    std::uniform_real_distribution<double> u(0, 1);
    next_metrics_ = start + std::chrono::duration_cast<Clock::duration>(metrics_every_ * u(rng));
    next_logs_ = start + std::chrono::duration_cast<Clock::duration>(logs_every_ * u(rng));
  }

  void start() { connect(); }

 private:
  struct Due {
    Clock::time_point at;
    bool logs;
  };

  void connect() {
    beast::error_code ec;
    auto& sock = stream_.socket();
    if (sock.is_open()) sock.close(ec);
    sock.open(tcp::v4(), ec);
    sock.set_option(tcp::no_delay(true), ec);
    sock.bind(tcp::endpoint(asio::ip::make_address(source_address(id_)), 0), ec);
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(o_.port)),
        [self = shared_from_this()](beast::error_code e) {
          if (e) {
            ++self->stats_.failed;
            self->timer_.expires_after(std::chrono::seconds(1));
            self->timer_.async_wait([self](beast::error_code) { self->connect(); });
            return;
          }
          self->connected();
          self->schedule();
        });
  }

  void connected() {
    connected_ = true;
    if (!o_.grpc) return;
    stream_.expires_never();
    grpc_ = std::make_shared<GrpcConnection>(stream_.release_socket(), o_.port,
                                             [self = shared_from_this()] { self->grpc_broken(); });
    grpc_->open();
  }

  void schedule() {
    const auto next = std::min(next_metrics_, next_logs_);
    if (next >= end_) return;
    timer_.expires_at(next);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->fire();
    });
  }

  void fire() {
    const auto now = Clock::now();
    while (next_metrics_ <= now) {
      queue_.push_back({next_metrics_, false});
      next_metrics_ += std::chrono::duration_cast<Clock::duration>(metrics_every_);
    }
    while (next_logs_ <= now) {
      queue_.push_back({next_logs_, true});
      next_logs_ += std::chrono::duration_cast<Clock::duration>(logs_every_);
    }
    if (!busy_) send();
    schedule();
  }

  void send() {
    if (queue_.empty() || !connected_) return;
    busy_ = true;
    const Due due = queue_.front();
    queue_.pop_front();
    auto [body, points] = due.logs ? payloads_.logs(id_, seq_++)
                                   : payloads_.metrics(id_, seq_++, metrics_every_.count());
    points_ = points;
    out_ = request_text(o_.path_prefix + (due.logs ? "/v1/logs" : "/v1/metrics"), body);
    due_at_ = due.at;
    ++stats_.requests;
    if (o_.grpc) return grpc_send(due.logs, body);
    stream_.expires_after(std::chrono::seconds(10));
    asio::async_write(
        stream_, asio::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->broken();
          self->res_.emplace();
          http::async_read(self->stream_, self->buf_, *self->res_,
                           [self](beast::error_code rec, size_t) { self->on_response(rec); });
        });
  }

  void grpc_send(bool logs, const std::string& body) {
    grpc_->call(logs ? "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
                     : "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                body, [self = shared_from_this()](bool ok) { self->grpc_done(ok); });
  }

  // The connection failed: its calls were counted failed; a new one takes the next export.
  void grpc_broken() {
    connected_ = false;
    grpc_.reset();
    connect_then_send();
  }

  void grpc_done(bool ok) {
    stats_.latency_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - due_at_).count());
    if (ok) {
      ++stats_.ok;
      stats_.points += points_;
    } else {
      ++stats_.failed;
    }
    busy_ = false;
    send();
  }

  void on_response(beast::error_code ec) {
    if (ec) return broken();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - due_at_).count();
    stats_.latency_ms.push_back(ms);
    if (res_->result_int() == 200) {
      ++stats_.ok;
      stats_.points += points_;
    } else {
      ++stats_.failed;
    }
    busy_ = false;
    if (!res_->keep_alive()) {
      connected_ = false;
      return connect_then_send();
    }
    send();
  }

  void broken() {
    ++stats_.failed;
    busy_ = false;
    connected_ = false;
    connect_then_send();
  }

  void connect_then_send() {
    buf_.consume(buf_.size());
    beast::error_code ec;
    stream_.socket().close(ec);
    stream_.socket().open(tcp::v4(), ec);
    stream_.socket().bind(tcp::endpoint(asio::ip::make_address(source_address(id_)), 0), ec);
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(o_.port)),
        [self = shared_from_this()](beast::error_code e) {
          if (e) {
            ++self->stats_.failed;
            return;
          }
          self->connected();
          self->send();
        });
  }

  const Options& o_;
  Payloads& payloads_;
  Stats& stats_;
  const int id_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Clock::time_point end_;
  std::chrono::duration<double> metrics_every_{}, logs_every_{};
  Clock::time_point next_metrics_, next_logs_, due_at_;
  std::deque<Due> queue_;
  bool busy_ = false, connected_ = false;
  uint64_t seq_ = 0;
  size_t points_ = 0;
  std::string out_;
  beast::flat_buffer buf_;
  std::optional<http::response<http::string_body>> res_;
  std::shared_ptr<GrpcConnection> grpc_;
};

// A Prometheus-like scraper in a loop: GET /metrics (gzip) on a keep-alive connection, read
// the whole answer, again, until the window ends.
class Scraper : public std::enable_shared_from_this<Scraper> {
 public:
  Scraper(asio::io_context& ioc, const Options& o, Stats& stats, Clock::time_point start,
          Clock::time_point end)
      : o_(o), stats_(stats), stream_(ioc), timer_(ioc), start_(start), end_(end) {}

  void start() {
    timer_.expires_at(start_);
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->connect(); });
  }

 private:
  void connect() {
    if (Clock::now() >= end_) return;
    stream_.expires_after(std::chrono::seconds(30));
    stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                        static_cast<unsigned short>(o_.metrics_port)),
                          [self = shared_from_this()](beast::error_code ec) {
                            if (ec) return self->retry();
                            self->scrape();
                          });
  }
  void retry() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->connect(); });
  }
  void scrape() {
    if (Clock::now() >= end_) return;
    stream_.expires_after(std::chrono::seconds(30));
    asio::async_write(stream_, asio::buffer(kRequest),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->retry();
                        self->res_.emplace();
                        self->res_->body_limit(1ull << 32);
                        http::async_read(self->stream_, self->buf_, *self->res_,
                                         [self](beast::error_code rec, size_t) {
                                           if (rec) return self->retry();
                                           if (self->res_->get().result_int() == 200)
                                             ++self->stats_.scrapes;
                                           self->scrape();
                                         });
                      });
  }
  static constexpr std::string_view kRequest =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n";
  const Options& o_;
  Stats& stats_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Clock::time_point start_, end_;
  beast::flat_buffer buf_;
  std::optional<http::response_parser<http::string_body>> res_;
};

int run_fleet(const Options& o) {
  Payloads payloads(o.payloads);
  payloads.prepare_developers(o.clients);
  asio::io_context ioc;
  Stats stats;
  // Connections open over the first second; the measured window follows.
  const auto start = Clock::now() + std::chrono::seconds(2);
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::shared_ptr<Developer>> devs;
  for (int i = 0; i < o.clients; ++i) {
    devs.push_back(std::make_shared<Developer>(ioc, o, payloads, stats, i, start, end));
    devs.back()->start();
  }
  std::vector<std::shared_ptr<Scraper>> scrapers;
  for (int i = 0; i < o.scrapers; ++i) {
    scrapers.push_back(std::make_shared<Scraper>(ioc, o, stats, start, end));
    scrapers.back()->start();
  }
  // After the window, answers still outstanding get up to 10 s.
  asio::steady_timer check(ioc);
  std::function<void()> watch = [&] {
    check.expires_after(std::chrono::milliseconds(100));
    check.async_wait([&](beast::error_code) {
      const auto now = Clock::now();
      if (now > end + std::chrono::seconds(10) ||
          (now > end && stats.requests == stats.ok + stats.failed)) {
        return ioc.stop();
      }
      watch();
    });
  };
  watch();
  ioc.run();
  stats.failed += stats.requests - stats.ok - stats.failed;  // unanswered at the end
  stats.print(o.seconds);
  return 0;
}

// A blocking request on a new connection; returns milliseconds, or -1.
double probe(int port, const std::string& text) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  const auto t0 = Clock::now();
  s.expires_after(std::chrono::seconds(10));
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
            ec);
  if (ec) return -1;
  asio::write(s, asio::buffer(text), ec);
  if (ec) return -1;
  beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(s, b, res, ec);
  if (ec || res.result_int() != 200) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int run_storm(const Options& o) {
  Payloads payloads(o.payloads);
  asio::io_context ioc;
  const int n = o.idle ? o.idle : o.trickle;
  std::vector<std::unique_ptr<tcp::socket>> socks;
  int opened = 0;
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<tcp::socket>(ioc);
    beast::error_code ec;
    s->open(tcp::v4(), ec);
    s->bind(tcp::endpoint(asio::ip::make_address(source_address(1000000 + i)), 0), ec);
    s->connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(o.port)),
        ec);
    if (ec) continue;
    if (o.idle) {
      // One empty export answered, then silence: an idle keep-alive exporter.
      asio::write(*s, asio::buffer(request_text("/v1/metrics", "")), ec);
      beast::flat_buffer b;
      http::response<http::string_body> res;
      http::read(*s, b, res, ec);
      if (ec) continue;
    } else {
      asio::write(*s, asio::buffer(std::string("POST /v1/metrics HTTP/1.1\r\n")), ec);
    }
    ++opened;
    socks.push_back(std::move(s));
  }
  // Trickling clients send a header byte every 100 ms while the probes run.
  std::atomic<bool> done{false};
  std::thread trickler([&] {
    while (o.trickle && !done) {
      for (auto& s : socks) {
        beast::error_code ec;
        s->write_some(asio::buffer("X", 1), ec);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  Stats otlp, health;
  for (int i = 0; i < o.probes; ++i) {
    auto [body, points] = payloads.metrics(2000000 + i, static_cast<uint64_t>(i), 60);
    const double ms = probe(o.port, request_text("/v1/metrics", body));
    ++otlp.requests;
    if (ms >= 0) {
      ++otlp.ok;
      otlp.points += points;
      otlp.latency_ms.push_back(ms);
    } else {
      ++otlp.failed;
    }
    if (o.probe_port) {
      const double h = probe(
          o.probe_port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
      ++health.requests;
      if (h >= 0) {
        ++health.ok;
        health.latency_ms.push_back(h);
      } else {
        ++health.failed;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  done = true;
  trickler.join();
  // Three lines: how many connections were held, then a new OTLP client's and /healthz's.
  std::printf("{\"opened\": %d}\n", opened);
  otlp.print(0);
  health.print(0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      o.port = std::stoi(v);
    else if (k == "--payloads")
      o.payloads = v;
    else if (k == "--clients")
      o.clients = std::stoi(v);
    else if (k == "--speed")
      o.speed = std::stod(v);
    else if (k == "--seconds")
      o.seconds = std::stod(v);
    else if (k == "--idle")
      o.idle = std::stoi(v);
    else if (k == "--trickle")
      o.trickle = std::stoi(v);
    else if (k == "--probe-port")
      o.probe_port = std::stoi(v);
    else if (k == "--grpc")
      o.grpc = v == "1";
    else if (k == "--probes")
      o.probes = std::stoi(v);
    else if (k == "--scrapers")
      o.scrapers = std::stoi(v);
    else if (k == "--metrics-port")
      o.metrics_port = std::stoi(v);
    else {
      std::cerr << "fleet_load: unknown option " << k << "\n";
      return 2;
    }
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  return (o.idle || o.trickle) ? run_storm(o) : run_fleet(o);
}
