#include "cce/server/otlp_receiver.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "cce/otlp/decoder.h"
#include "cce/otlp/response.h"
#include "cce/util/strings.h"

namespace cce::server {
namespace {

using otlp::Encoding;
using otlp::Signal;

std::optional<Encoding> encoding_of(std::string_view content_type) {
  const std::string type = util::lower(util::trim(content_type.substr(0, content_type.find(';'))));
  if (type == "application/x-protobuf" || type == "application/protobuf") {
    return Encoding::kProtobuf;
  }
  if (type == "application/json") return Encoding::kJson;
  return std::nullopt;
}

std::optional<Signal> signal_of(std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (path == "/v1/metrics") return Signal::kMetrics;
  if (path == "/v1/logs") return Signal::kLogs;
  if (path == "/v1/traces") return Signal::kTraces;
  return std::nullopt;
}

// google.rpc.Status codes: INVALID_ARGUMENT, UNAUTHENTICATED, NOT_FOUND, RESOURCE_EXHAUSTED,
// UNAVAILABLE.
int rpc_code(int status) {
  switch (status) {
    case 401:
      return 16;
    case 404:
      return 5;
    case 413:
      return 8;
    case 503:
      return 14;
    default:
      return 3;
  }
}

// Client errors are logged, but at most once a second, so a misbehaving client cannot flood
// the log.
void log_client_error(std::string_view peer, Signal signal, int status,
                      const std::string& message) {
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t prev = last.load();
  if (now == prev || !last.compare_exchange_strong(prev, now)) return;
  spdlog::warn("otlp: {} from {}: {} {}", otlp::to_string(signal), peer, status, message);
}

HttpAnswer plain(int status, std::string body) {
  HttpAnswer a;
  a.status = status;
  a.content_type = "text/plain";
  a.body = std::move(body);
  return a;
}

}  // namespace

bool bearer_allowed(std::string_view header, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return true;
  const auto presented = util::credentials_after(header, "bearer ");
  if (!presented) return false;
  bool ok = false;
  for (const auto& t : tokens)
    ok |= util::constant_time_equal(*presented, t);  // no early exit
  return ok;
}

OtlpReceiver::OtlpReceiver(ingest::OtlpSink& sink, metrics::AgentMetrics& metrics,
                           OtlpOptions options)
    : sink_(sink), metrics_(metrics), options_(std::move(options)) {
  if (!options_.basic_auth_users.empty()) {
    basic_auth_ = std::make_unique<BasicAuth>(options_.basic_auth_users);
  }
}

bool OtlpReceiver::credentials_allowed(std::string_view authorization) const {
  const bool tokens = !options_.auth_tokens.empty();
  if (!basic_auth_ && !tokens) return true;
  if (basic_auth_ && util::credentials_after(authorization, "basic ")) {
    return basic_auth_->allowed(std::string(authorization));
  }
  return tokens && bearer_allowed(authorization, options_.auth_tokens);
}

namespace {
HttpAnswer error_answer(std::optional<Encoding> encoding, int status, const std::string& message) {
  const Encoding enc = encoding.value_or(Encoding::kJson);
  HttpAnswer a;
  a.status = status;
  a.content_type = std::string(otlp::content_type(enc));
  a.body = otlp::status_body(enc, rpc_code(status), message);
  a.close = status == 401 || status == 413 || status == 415 || status == 503;
  if (status == 401) a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"otlp\"");
  if (status == 503) a.headers.emplace_back("Retry-After", "1");
  return a;
}
}  // namespace

HttpAnswer OtlpReceiver::error(Signal signal, std::optional<Encoding> encoding, int status,
                               const std::string& message) const {
  metrics_.otlp_request(otlp::to_string(signal), encoding ? otlp::to_string(*encoding) : "unknown",
                        status);
  return error_answer(encoding, status, message);
}

std::string OtlpReceiver::too_large_message(bool decompressed) const {
  return "request body exceeds otlp.max_body_bytes (" + std::to_string(options_.max_body_bytes) +
         (decompressed ? " bytes after decompression)" : " bytes)");
}

void OtlpReceiver::count(const OtlpAdmitted& request, int status) const {
  metrics_.otlp_request(otlp::to_string(request.signal),
                        request.grpc ? "grpc" : otlp::to_string(request.encoding), status);
}

OtlpOutcome OtlpReceiver::refuse(const OtlpAdmitted& request, int status,
                                 const std::string& message) const {
  if (status != 503) log_client_error(request.peer, request.signal, status, message);
  count(request, status);
  return OtlpOutcome{status, 0, message, {}};
}

HttpAnswer OtlpReceiver::fail(const OtlpAdmitted& request, int status,
                              const std::string& message) const {
  return http_answer(request, refuse(request, status, message));
}

HttpAnswer OtlpReceiver::http_answer(const OtlpAdmitted& request, const OtlpOutcome& outcome) {
  if (outcome.status != 200) {
    return error_answer(request.encoding, outcome.status, outcome.message);
  }
  HttpAnswer a;
  a.content_type = std::string(otlp::content_type(request.encoding));
  a.body =
      otlp::export_response(request.signal, request.encoding, outcome.rejected, outcome.message);
  return a;
}

std::variant<OtlpAdmitted, HttpAnswer> OtlpReceiver::admit(const OtlpHead& head) const {
  const auto signal = signal_of(head.path);
  if (!signal) {
    return plain(404, "not found: OTLP/HTTP takes POST /v1/metrics, /v1/logs and /v1/traces\n");
  }
  if (head.method != "POST") {
    HttpAnswer a = plain(405, "OTLP/HTTP endpoint: POST protobuf or JSON export requests here\n");
    a.headers.emplace_back("Allow", "POST");
    return a;
  }
  const auto encoding = encoding_of(head.content_type);
  auto refuse = [&](int status, const std::string& message) {
    log_client_error(head.peer, *signal, status, message);
    return error(*signal, encoding, status, message);
  };
  if (!credentials_allowed(head.authorization)) {
    HttpAnswer a = refuse(401, basic_auth_ ? "missing or invalid credentials (send Authorization: "
                                             "Bearer <token> or Basic)"
                                           : "missing or invalid bearer token (send "
                                             "Authorization: Bearer <token>)");
    if (basic_auth_) {
      if (options_.auth_tokens.empty()) a.headers.clear();  // no tokens: no Bearer challenge
      a.headers.emplace_back("WWW-Authenticate", "Basic realm=\"claude-code-exporter\"");
    }
    return a;
  }
  if (!encoding) {
    return refuse(415, "unsupported Content-Type \"" + std::string(head.content_type) +
                           "\"; send application/x-protobuf or application/json");
  }
  const auto coding = parse_content_coding(head.content_encoding);
  if (!coding) {
    return refuse(415, "unsupported Content-Encoding \"" + std::string(head.content_encoding) +
                           "\"; send gzip or no encoding");
  }
  if (head.content_length && *head.content_length > options_.max_body_bytes) {
    return refuse(413, too_large_message(false));
  }
  return OtlpAdmitted{*signal, *encoding, *coding, std::string(head.peer)};
}

void OtlpReceiver::receive(const OtlpAdmitted& request, std::string_view body, Done done) const {
  auto stored = [this, request](Done& to) {
    return [this, request, done = std::move(to)](ingest::IngestReply reply) {
      if (!reply.stored) {
        done(refuse(request, 503, "the agent could not store the data; retry later"));
        return;
      }
      std::string message = std::move(reply.message);
      if (reply.rejected > 0 && message.empty()) message = "some data points were rejected";
      count(request, 200);
      done(OtlpOutcome{200, static_cast<int64_t>(reply.rejected), std::move(message),
                       std::move(reply.spent)});
    };
  };
  auto decoded = [&](auto d) {
    if (auto* err = std::get_if<otlp::DecodeError>(&d)) {
      done(refuse(request, 400, err->message));
      return;
    }
    sink_.ingest(std::move(std::get<0>(d)), stored(done));
  };
  switch (request.signal) {
    case Signal::kMetrics:
      return decoded(otlp::decode_metrics(body, request.encoding));
    case Signal::kLogs:
      return decoded(otlp::decode_logs(body, request.encoding));
    case Signal::kTraces: {
      auto d = otlp::decode_traces(body, request.encoding);
      if (auto* err = std::get_if<otlp::DecodeError>(&d)) {
        return done(refuse(request, 400, err->message));
      }
      sink_.discarded_spans(std::get<otlp::TracesRequest>(d).span_count);
      count(request, 200);
      return done(OtlpOutcome{});
    }
  }
}

}  // namespace cce::server
