#include "cce/server/otlp_grpc_server.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <thread>

#include "cce/otlp/response.h"
#include "cce/util/thread_name.h"

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

std::string metadata(const grpc::GenericServerContext& ctx, const char* key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// What every call shares. Operations are started under a shared lock on `mu`, and stop()
// takes it exclusively to close: then none can reach a completion queue that stop() has shut
// down, which is a fatal error in gRPC. Starts share the lock because the answer thread starts
// each call's final write, a send to the socket, inside it: under an exclusive lock the queue's
// thread waited for every one of those sends.
struct Shared {
  Shared(const OtlpReceiver& r, InflightBudget& b) : receiver(r), budget(b) {}
  const OtlpReceiver& receiver;
  InflightBudget& budget;
  grpc::AsyncGenericService service;
  std::shared_mutex mu;
  bool closed = false;           // the queues are shut down: start nothing more
  std::atomic<size_t> owed = 0;  // calls waiting for the receiver's answer
  std::mutex answered_mu;        // for `answered` alone
  std::condition_variable answered;

  // Starts `op` unless the queues are closed. `settles_owed`: the call's answer was owed, and is
  // settled before the lock is let go, so stop() cannot close between the two.
  template <typename Op>
  bool start(Op&& op, bool settles_owed = false) {
    std::shared_lock lock(mu);
    const bool started = !closed;
    if (started) op();
    if (settles_owed && owed.fetch_sub(1) == 1) {
      std::lock_guard last(answered_mu);
      answered.notify_all();
    }
    return started;
  }
};

// One Export call on gRPC's asynchronous API: requested, its one message read, handed to the
// receiver, answered once stored. Its completion queue's thread drives it; the receiver's
// answer may come on another thread, which starts the final write. The queue's tag is the call
// itself; it deletes itself after its last completion.
class ExportCall {
 public:
  // Asks the server for the next call on `cq`.
  static void request(Shared& shared, grpc::ServerCompletionQueue* cq) {
    auto* call = new ExportCall(shared, cq);
    if (!shared.start(
            [&] { shared.service.RequestCall(&call->ctx_, &call->stream_, cq, cq, call); }))
      delete call;
  }

  // The completion of this call's pending operation.
  void proceed(bool ok) {
    switch (step_) {
      case Step::kRequested:
        if (!ok) {  // the server is shutting down
          delete this;
          return;
        }
        request(shared_, cq_);
        return begin();
      case Step::kReading:
        return ok ? received()
                  : finish(shared_.receiver.refuse(request_, 400,
                                                   "the call carried no request message"));
      case Step::kFinishing:
        delete this;
        return;
    }
  }

 private:
  enum class Step { kRequested, kReading, kFinishing };

  ExportCall(Shared& shared, grpc::ServerCompletionQueue* cq)
      : shared_(shared), cq_(cq), stream_(&ctx_) {}

  void begin() {
    const auto signal = signal_of(ctx_.method());
    if (!signal) {
      return finish_with(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                      "OTLP/gRPC serves the Export methods of the metrics, logs "
                                      "and trace services"));
    }
    request_.signal = *signal;
    request_.encoding = otlp::Encoding::kProtobuf;
    request_.coding = ContentCoding::kIdentity;
    request_.peer = ctx_.peer();
    request_.grpc = true;
    if (!shared_.receiver.credentials_allowed(metadata(ctx_, "authorization"))) {
      return finish(shared_.receiver.refuse(
          request_, 401,
          "missing or invalid credentials (send authorization: Bearer <token> or Basic)"));
    }
    step_ = Step::kReading;
    if (!shared_.start([this] { stream_.Read(&in_, this); })) delete this;
  }

  void received() {
    std::vector<grpc::Slice> slices;
    if (!in_.Dump(&slices).ok()) {
      return finish(shared_.receiver.refuse(request_, 400, "unreadable request message"));
    }
    // A message that came in one slice (the usual export) is read where it lies.
    std::string joined;
    std::string_view body;
    if (slices.size() == 1) {
      body = {reinterpret_cast<const char*>(slices[0].begin()), slices[0].size()};
    } else {
      joined.reserve(in_.Length());
      for (const auto& s : slices)
        joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
      body = joined;
    }
    in_.Clear();
    if (!shared_.budget.take(body.size())) {
      return finish(shared_.receiver.refuse(request_, 503, std::string(InflightBudget::kRefusal)));
    }
    held_ = body.size();
    ++shared_.owed;
    owed_ = true;
    shared_.receiver.receive(request_, body,
                             [this](OtlpOutcome outcome) { finish(std::move(outcome)); });
  }

  void finish(OtlpOutcome outcome) {
    spent_ = std::move(outcome.spent);  // freed with the call, on the queue's thread
    shared_.budget.give_back(held_);
    held_ = 0;
    if (outcome.status != 200)
      return finish_with(grpc::Status(code_for(outcome.status), outcome.message));
    const std::string bytes = otlp::export_response(request_.signal, otlp::Encoding::kProtobuf,
                                                    outcome.rejected, outcome.message);
    grpc::Slice slice(bytes);
    out_ = grpc::ByteBuffer(&slice, 1);
    step_ = Step::kFinishing;
    settle([this] { stream_.WriteAndFinish(out_, grpc::WriteOptions(), grpc::Status::OK, this); });
  }

  void finish_with(const grpc::Status& status) {
    step_ = Step::kFinishing;
    settle([this, &status] { stream_.Finish(status, this); });
  }

  // Starts the last operation and settles what the call owed. Once the operation is started
  // the queue's thread may delete the call: nothing of it is touched after.
  template <typename Op>
  void settle(Op&& op) {
    if (!shared_.start(std::forward<Op>(op), owed_)) delete this;
  }

  Shared& shared_;
  grpc::ServerCompletionQueue* cq_;
  grpc::GenericServerContext ctx_;
  grpc::GenericServerAsyncReaderWriter stream_;
  Step step_ = Step::kRequested;
  OtlpAdmitted request_{};
  grpc::ByteBuffer in_;
  grpc::ByteBuffer out_;
  size_t held_ = 0;
  bool owed_ = false;
  ingest::SpentRequest spent_;
};

// Calls requested ahead on each queue, so a burst of new calls need not wait for the thread.
constexpr int kWaitingCalls = 32;

}  // namespace

struct OtlpGrpcServer::Impl {
  Impl(const OtlpReceiver& r, InflightBudget& b) : shared(r, b) {}
  Shared shared;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> queues;
  std::vector<std::thread> threads;
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

void OtlpGrpcServer::start(const config::ListenAddress& address, int threads) {
  auto& m = *impl_;
  // Debian's abseil is built with its mutex deadlock detector on: gRPC's mutexes then feed a
  // lock graph on every acquisition, about 6% of the agent's CPU under a gRPC fleet. Lock order
  // is the library's concern, checked upstream; here it only costs.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  grpc::ServerBuilder builder;
  const std::string host =
      address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host;
  builder.AddListeningPort(host + ":" + std::to_string(address.port), m.credentials, &m.port);
  builder.RegisterAsyncGenericService(&m.shared.service);
  for (int i = 0; i < threads; ++i)
    m.queues.push_back(builder.AddCompletionQueue());
  const size_t max = m.shared.receiver.options().max_body_bytes;
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(max, INT32_MAX)));
  // A second agent on the same port must fail, not share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Bandwidth probing sends a ping with the window update of nearly every request read, and
  // reads its answer: two more packets per export, for windows sized to bulk transfers an
  // export (kilobytes) never needs. About 7% of the agent's CPU under a gRPC fleet.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // Channelz (gRPC's introspection service, which the agent does not serve) would still count
  // every call into per-channel and per-socket nodes: about 5% of the agent's CPU per call.
  builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 0);
  m.server = builder.BuildAndStart();
  if (!m.server || m.port == 0) {
    m.server.reset();
    throw std::runtime_error("cannot listen on " + address.str() +
                             " for OTLP/gRPC (address in use, or not an address of this host?)");
  }
  for (auto& queue : m.queues) {
    m.threads.emplace_back([&shared = m.shared, cq = queue.get()] {
      util::name_this_thread("otlp-grpc");
      for (int i = 0; i < kWaitingCalls; ++i)
        ExportCall::request(shared, cq);
      void* tag = nullptr;
      bool ok = false;
      while (cq->Next(&tag, &ok))
        static_cast<ExportCall*>(tag)->proceed(ok);
    });
  }
}

int OtlpGrpcServer::port() const {
  return impl_->port;
}

bool OtlpGrpcServer::tls() const {
  return impl_->tls;
}

void OtlpGrpcServer::stop() {
  auto& m = *impl_;
  if (!m.server) return;
  m.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  {
    // Calls the receiver still owes an answer are answered before the queues close (the
    // pipeline runs until after this); one whose answer comes later is dropped unanswered.
    std::unique_lock lock(m.shared.answered_mu);
    m.shared.answered.wait_for(lock, std::chrono::seconds(5), [&] { return m.shared.owed == 0; });
  }
  {
    std::unique_lock lock(m.shared.mu);  // once the starts under way are done
    m.shared.closed = true;
  }
  for (auto& queue : m.queues)
    queue->Shutdown();
  for (auto& thread : m.threads)
    thread.join();
  m.threads.clear();
  m.queues.clear();
  m.server.reset();
}

}  // namespace cce::server
