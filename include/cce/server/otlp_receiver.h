#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cce/ingest/sink.h"
#include "cce/metrics/agent_metrics.h"
#include "cce/otlp/types.h"
#include "cce/server/basic_auth.h"
#include "cce/server/content_coding.h"

namespace cce::server {

struct OtlpOptions {
  size_t max_body_bytes = 64u << 20;                    // after decompression
  std::vector<std::string> auth_tokens;                 // bearer tokens
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash (web config)
};

// An HTTP answer, whichever server writes it.
struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // end the connection (the rest of an unread body would be misread)
};

// The head of an OTLP/HTTP request: all that is checked before its body is read.
struct OtlpHead {
  std::string_view method;
  std::string_view path;
  std::string_view content_type;
  std::string_view content_encoding;
  std::string_view authorization;
  std::optional<size_t> content_length;  // nullopt: chunked
  std::string_view peer;                 // the client's address, for the log
};

// A request whose head was admitted.
struct OtlpAdmitted {
  otlp::Signal signal;
  otlp::Encoding encoding;
  ContentCoding coding;
  std::string peer;
  bool grpc = false;  // OTLP/gRPC: counted with encoding="grpc"
};

// What became of a request, whatever the transport: an HTTP status (200, 400, 401, 413, 503;
// OTLP/gRPC maps it to its status codes), and for 200 the partial success.
struct OtlpOutcome {
  int status = 200;
  int64_t rejected = 0;
  std::string message;
  ingest::SpentRequest spent;  // to be freed on the listener's thread
};

// OTLP/HTTP per the specification, apart from the transport: /v1/metrics, /v1/logs and
// /v1/traces; protobuf or JSON; 400 undecodable, 401 unauthenticated, 404/405 elsewhere, 413 too
// large (after decompression), 415 unsupported type or encoding, 503 when the data cannot be
// taken or stored now; answers in the request's content type. Every answer is counted in
// claude_code_exporter_otlp_requests_total. Thread-safe.
class OtlpReceiver {
 public:
  using Done = std::function<void(OtlpOutcome)>;

  OtlpReceiver(ingest::OtlpSink& sink, metrics::AgentMetrics& metrics, OtlpOptions options);

  const OtlpOptions& options() const { return options_; }
  // One rule for both protocols: with bearer tokens or basic-auth users configured, a request
  // needs one valid credential of either kind ("Bearer <token>" or "Basic …"); with neither,
  // every request passes.
  bool credentials_allowed(std::string_view authorization) const;
  // The 413 message: the body passed otlp.max_body_bytes (as sent, or once decompressed).
  std::string too_large_message(bool decompressed) const;

  // Checks a head; an answer means: refuse, without reading the body.
  std::variant<OtlpAdmitted, HttpAnswer> admit(const OtlpHead& head) const;

  // Decodes a decompressed protobuf or JSON body and hands it to the sink. `done` is called
  // exactly once, possibly on the sink's thread, after the data is durable (200) or was
  // refused. Every outcome is counted.
  void receive(const OtlpAdmitted& request, std::string_view body, Done done) const;

  // Refuses an admitted request (401, 413, 400 for a bad gzip stream, 503 when the in-flight
  // budget is spent): counted, and logged at most once a second.
  OtlpOutcome refuse(const OtlpAdmitted& request, int status, const std::string& message) const;
  // The same, as an HTTP answer.
  HttpAnswer fail(const OtlpAdmitted& request, int status, const std::string& message) const;

  // An outcome as OTLP/HTTP writes it: the response (or google.rpc.Status) body in the request's
  // encoding.
  static HttpAnswer http_answer(const OtlpAdmitted& request, const OtlpOutcome& outcome);

 private:
  void count(const OtlpAdmitted& request, int status) const;
  HttpAnswer error(otlp::Signal signal, std::optional<otlp::Encoding> encoding, int status,
                   const std::string& message) const;

  ingest::OtlpSink& sink_;
  metrics::AgentMetrics& metrics_;
  OtlpOptions options_;
  std::unique_ptr<BasicAuth> basic_auth_;  // null without basic-auth users
};

// A bearer token check against `tokens` (empty: everyone is allowed).
bool bearer_allowed(std::string_view authorization, const std::vector<std::string>& tokens);

}  // namespace cce::server
