#include "cce/server/otlp_routes.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <optional>

#include "cce/otlp/decoder.h"
#include "cce/otlp/response.h"
#include "cce/util/strings.h"

namespace cce::server {
namespace {

using otlp::Encoding;
using otlp::Signal;

std::string lower_trim(std::string_view s) {
  return util::lower(util::trim(s));
}

std::optional<Encoding> encoding_of(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = lower_trim(type.substr(0, type.find(';')));
  if (type == "application/x-protobuf" || type == "application/protobuf")
    return Encoding::kProtobuf;
  if (type == "application/json") return Encoding::kJson;
  return std::nullopt;
}

// Client errors are logged, but at most once a second, so a misbehaving client cannot flood
// the log.
void log_client_error(const httplib::Request& req, int status, const std::string& message) {
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t prev = last.load();
  if (now == prev || !last.compare_exchange_strong(prev, now)) return;
  spdlog::warn("otlp: {} {} from {}: {} {}", req.method, req.path, req.remote_addr, status,
               message);
}

class Exchange {
 public:
  Exchange(const httplib::Request& req, httplib::Response& res, Signal signal,
           metrics::AgentMetrics& metrics)
      : req_(req), res_(res), signal_(signal), metrics_(metrics) {}

  void set_encoding(Encoding e) { encoding_ = e; }
  Encoding encoding() const { return encoding_.value_or(Encoding::kJson); }

  void fail(int status, const std::string& message, bool close = false) {
    // google.rpc.Status codes: INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED, UNAVAILABLE
    int rpc_code = status == 401 ? 16 : status == 413 ? 8 : status == 503 ? 14 : 3;
    res_.status = status;
    res_.set_content(otlp::status_body(encoding(), rpc_code, message),
                     std::string(otlp::content_type(encoding())));
    // The rest of an unread body would be taken for the next request: end the connection.
    if (close) res_.set_header("Connection", "close");
    if (status == 401) res_.set_header("WWW-Authenticate", "Bearer realm=\"otlp\"");
    if (status == 503) res_.set_header("Retry-After", "5");
    if (status != 503) log_client_error(req_, status, message);
    record(status);
  }
  void succeed(int64_t rejected, const std::string& message) {
    res_.status = 200;
    res_.set_content(otlp::export_response(signal_, encoding(), rejected, message),
                     std::string(otlp::content_type(encoding())));
    record(200);
  }

 private:
  void record(int status) {
    metrics_.otlp_request(otlp::to_string(signal_),
                          encoding_ ? otlp::to_string(*encoding_) : "unknown", status);
  }
  const httplib::Request& req_;
  httplib::Response& res_;
  Signal signal_;
  metrics::AgentMetrics& metrics_;
  std::optional<Encoding> encoding_;
};

bool authorized(const httplib::Request& req, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return true;
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() || lower_trim(header.substr(0, kBearer.size())) != "bearer") {
    return false;
  }
  const std::string_view presented = std::string_view(header).substr(kBearer.size());
  bool ok = false;
  for (const auto& t : tokens)
    ok |= constant_time_equal(presented, t);  // no early exit
  return ok;
}

// Common checks; returns false when the exchange has been answered.
bool admit(const httplib::Request& req, Exchange& ex, const OtlpRouteOptions& options) {
  auto enc = encoding_of(req);
  if (enc) ex.set_encoding(*enc);
  if (!authorized(req, options.auth_tokens)) {
    ex.fail(401, "missing or invalid bearer token (send Authorization: Bearer <token>)", true);
    return false;
  }
  if (!enc) {
    ex.fail(415,
            "unsupported Content-Type \"" + req.get_header_value("Content-Type") +
                "\"; send application/x-protobuf or application/json",
            true);
    return false;
  }
  const std::string ce = lower_trim(req.get_header_value("Content-Encoding"));
  if (!ce.empty() && ce != "identity" && ce != "gzip" && ce != "deflate") {
    ex.fail(415, "unsupported Content-Encoding \"" + ce + "\"; send gzip or no encoding", true);
    return false;
  }
  return true;
}

template <typename Decoded>
void finish(Exchange& ex, ingest::OtlpSink& sink, Decoded decoded) {
  ingest::IngestReply reply = sink.ingest(std::move(decoded));
  if (!reply.stored) {
    ex.fail(503, "the agent could not store the data; retry later");
    return;
  }
  std::string message = reply.message;
  if (reply.rejected > 0 && message.empty()) message = "some data points were rejected";
  ex.succeed(static_cast<int64_t>(reply.rejected), message);
}

void handle(const httplib::Request& req, httplib::Response& res,
            const httplib::ContentReader* reader, Signal signal, ingest::OtlpSink& sink,
            metrics::AgentMetrics& metrics, const OtlpRouteOptions& options) {
  Exchange ex(req, res, signal, metrics);
  if (!admit(req, ex, options)) return;

  std::string body;
  if (reader) {
    bool too_large = false;
    const bool ok = (*reader)([&](const char* data, size_t n) {
      // Counted after decompression (httplib inflates gzip before handing us bytes), so a
      // small gzip bomb is refused as soon as it grows past the limit.
      if (body.size() + n > options.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (too_large || res.status == 413) {
      ex.fail(413,
              "request body exceeds otlp.max_body_bytes (" +
                  std::to_string(options.max_body_bytes) + " bytes after decompression)",
              true);
      return;
    }
    if (!ok) {
      ex.fail(400, "could not read the request body (truncated, or not valid gzip)", true);
      return;
    }
  }

  const Encoding enc = ex.encoding();
  switch (signal) {
    case Signal::kMetrics: {
      auto d = otlp::decode_metrics(body, enc);
      if (auto* err = std::get_if<otlp::DecodeError>(&d)) return ex.fail(400, err->message);
      return finish(ex, sink, std::move(std::get<otlp::MetricsRequest>(d)));
    }
    case Signal::kLogs: {
      auto d = otlp::decode_logs(body, enc);
      if (auto* err = std::get_if<otlp::DecodeError>(&d)) return ex.fail(400, err->message);
      return finish(ex, sink, std::move(std::get<otlp::LogsRequest>(d)));
    }
    case Signal::kTraces: {
      auto d = otlp::decode_traces(body, enc);
      if (auto* err = std::get_if<otlp::DecodeError>(&d)) return ex.fail(400, err->message);
      sink.discarded_spans(std::get<otlp::TracesRequest>(d).span_count);
      return ex.succeed(0, "");
    }
  }
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

void mount_otlp_routes(httplib::Server& server, ingest::OtlpSink& sink,
                       metrics::AgentMetrics& metrics, OtlpRouteOptions options) {
  server.set_payload_max_length(options.max_body_bytes);
  auto opts = std::make_shared<const OtlpRouteOptions>(std::move(options));
  for (auto [path, signal] :
       {std::pair{"/v1/metrics", Signal::kMetrics}, std::pair{"/v1/logs", Signal::kLogs},
        std::pair{"/v1/traces", Signal::kTraces}}) {
    // With a body.
    server.Post(path, [&sink, &metrics, opts, signal = signal](const httplib::Request& req,
                                                               httplib::Response& res,
                                                               const httplib::ContentReader& rd) {
      handle(req, res, &rd, signal, sink, metrics, *opts);
    });
    // Without one (Content-Length: 0): an empty export, which is a success.
    server.Post(path, [&sink, &metrics, opts, signal = signal](const httplib::Request& req,
                                                               httplib::Response& res) {
      handle(req, res, nullptr, signal, sink, metrics, *opts);
    });
    server.Get(path, [](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", "POST");
      res.set_content("OTLP/HTTP endpoint: POST protobuf or JSON export requests here\n",
                      "text/plain");
    });
  }
}

}  // namespace cce::server
