#include "cce/server/otlp_grpc_server.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "cce/otlp/response.h"

namespace cce::server {
namespace {

using otlp::Signal;

std::optional<Signal> signal_of(const std::string& method) {
  if (method == "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export") {
    return Signal::kMetrics;
  }
  if (method == "/opentelemetry.proto.collector.logs.v1.LogsService/Export") return Signal::kLogs;
  if (method == "/opentelemetry.proto.collector.trace.v1.TraceService/Export") {
    return Signal::kTraces;
  }
  return std::nullopt;
}

grpc::StatusCode code_for(int status) {
  switch (status) {
    case 400:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case 401:
      return grpc::StatusCode::UNAUTHENTICATED;
    case 413:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    default:
      return grpc::StatusCode::UNAVAILABLE;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string metadata(const grpc::GenericCallbackServerContext& ctx, const char* key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

struct Shared {
  const OtlpReceiver& receiver;
  InflightBudget& budget;
};

// One Export call: read the one request message, hand it to the receiver, answer once it is
// stored. Deletes itself when gRPC is done with it.
class ExportCall final : public grpc::ServerGenericBidiReactor {
 public:
  ExportCall(Shared& shared, grpc::GenericCallbackServerContext* ctx) : shared_(shared) {
    const auto signal = signal_of(ctx->method());
    if (!signal) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "OTLP/gRPC serves the Export methods of the metrics, logs and trace "
                          "services"));
      return;
    }
    request_.signal = *signal;
    request_.encoding = otlp::Encoding::kProtobuf;
    request_.coding = ContentCoding::kIdentity;
    request_.peer = ctx->peer();
    request_.grpc = true;
    const std::string authorization = metadata(*ctx, "authorization");
    if (!shared_.receiver.credentials_allowed(authorization)) {
      finish(shared_.receiver.refuse(
          request_, 401,
          "missing or invalid credentials (send authorization: Bearer <token> or Basic)"));
      return;
    }
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      finish(shared_.receiver.refuse(request_, 400, "the call carried no request message"));
      return;
    }
    std::vector<grpc::Slice> slices;
    if (!in_.Dump(&slices).ok()) {
      finish(shared_.receiver.refuse(request_, 400, "unreadable request message"));
      return;
    }
    std::string body;
    body.reserve(in_.Length());
    for (const auto& s : slices)
      body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    in_.Clear();
    if (!shared_.budget.take(body.size())) {
      finish(shared_.receiver.refuse(request_, 503, std::string(InflightBudget::kRefusal)));
      return;
    }
    held_ = body.size();
    shared_.receiver.receive(request_, body, [this](OtlpOutcome outcome) { finish(outcome); });
  }

  void OnDone() override { delete this; }

 private:
  void finish(const OtlpOutcome& outcome) {
    shared_.budget.give_back(held_);
    held_ = 0;
    if (outcome.status != 200) {
      Finish(grpc::Status(code_for(outcome.status), outcome.message));
      return;
    }
    const std::string bytes = otlp::export_response(request_.signal, otlp::Encoding::kProtobuf,
                                                    outcome.rejected, outcome.message);
    grpc::Slice slice(bytes);
    out_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
  }

  Shared& shared_;
  OtlpAdmitted request_{};
  grpc::ByteBuffer in_;
  grpc::ByteBuffer out_;
  size_t held_ = 0;
};

class ExportService final : public grpc::CallbackGenericService {
 public:
  explicit ExportService(Shared& shared) : shared_(shared) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    return new ExportCall(shared_, ctx);
  }

 private:
  Shared& shared_;
};

}  // namespace

struct OtlpGrpcServer::Impl {
  Impl(const OtlpReceiver& r, InflightBudget& b) : shared{r, b} {}
  Shared shared;
  ExportService service{shared};
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool tls = false;
};

OtlpGrpcServer::OtlpGrpcServer(const config::WebConfig& web, const OtlpReceiver& receiver,
                               InflightBudget& budget)
    : impl_(std::make_unique<Impl>(receiver, budget)) {
  if (web.tls) {
    using C = config::WebConfig::ClientAuth;
    grpc::SslServerCredentialsOptions options;
    options.pem_key_cert_pairs.push_back(
        {read_file(web.tls->key_file), read_file(web.tls->cert_file)});
    if (!web.tls->client_ca_file.empty())
      options.pem_root_certs = read_file(web.tls->client_ca_file);
    switch (web.tls->client_auth) {
      case C::kNoClientCert:
        options.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
        break;
      case C::kRequestClientCert:
        options.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
        break;
      case C::kRequireAnyClientCert:
        options.client_certificate_request =
            GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
        break;
      case C::kVerifyClientCertIfGiven:
        options.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
        break;
      case C::kRequireAndVerifyClientCert:
        options.client_certificate_request =
            GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
        break;
    }
    impl_->credentials = grpc::SslServerCredentials(options);
    impl_->tls = true;
  } else {
    impl_->credentials = grpc::InsecureServerCredentials();
  }
}

OtlpGrpcServer::~OtlpGrpcServer() {
  stop();
}

void OtlpGrpcServer::start(const config::ListenAddress& address) {
  auto& m = *impl_;
  // Debian's abseil is built with its mutex deadlock detector on: gRPC's mutexes then feed a
  // lock graph on every acquisition, about 6% of the agent's CPU under a gRPC fleet. Lock order
  // is the library's concern, checked upstream; here it only costs.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::ServerBuilder builder;
  const std::string host =
      address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host;
  builder.AddListeningPort(host + ":" + std::to_string(address.port), m.credentials, &m.port);
  builder.RegisterCallbackGenericService(&m.service);
  const size_t max = m.shared.receiver.options().max_body_bytes;
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(max, INT32_MAX)));
  // A second agent on the same port must fail, not share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  m.server = builder.BuildAndStart();
  if (!m.server || m.port == 0) {
    m.server.reset();
    throw std::runtime_error("cannot listen on " + address.str() +
                             " for OTLP/gRPC (address in use, or not an address of this host?)");
  }
}

int OtlpGrpcServer::port() const {
  return impl_->port;
}

bool OtlpGrpcServer::tls() const {
  return impl_->tls;
}

void OtlpGrpcServer::stop() {
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace cce::server
