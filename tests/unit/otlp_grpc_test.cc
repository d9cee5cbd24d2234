// OTLP/gRPC over real loopback: status codes, authentication, compression, and one agent fed by
// both protocols.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "grpc_support.h"
#include "otlp.pb.h"
#include "test_support.h"

using namespace cce;

namespace {
std::string fixture(const std::string& name) {
  return test::request_fixture(name);
}
const std::string& kCommitCount = test::kFixtureCommitSeries;
double grpc_requests(const test::RunningApp& app, const std::string& signal,
                     const std::string& code) {
  return test::sample(app.scrape(), "claude_code_exporter_otlp_requests_total{code=\"" + code +
                                        "\",encoding=\"grpc\",signal=\"" + signal + "\"}");
}
}  // namespace

TEST_CASE("an OTLP/gRPC export is stored and answered OK with an empty response") {
  test::RunningApp app;
  REQUIRE(app.app->grpc_port() > 0);
  auto r = test::grpc_call(app.app->grpc_port(), test::kGrpcMetrics,
                           fixture("pb-delta__0032_metrics.bin"));
  CHECK(r.status.ok());
  CHECK(r.body.empty());
  CHECK(test::sample(app.scrape(), kCommitCount) == 1);
  CHECK(grpc_requests(app, "metrics", "200") == 1);
  // A retry of the same export counts once.
  CHECK(test::grpc_call(app.app->grpc_port(), test::kGrpcMetrics,
                        fixture("pb-delta__0032_metrics.bin"))
            .status.ok());
  CHECK(test::sample(app.scrape(), kCommitCount) == 1);
}

TEST_CASE("one agent, both protocols: the same export over HTTP and gRPC counts once") {
  test::RunningApp app;
  const std::string body = fixture("pb-delta__0032_metrics.bin");
  auto http = app.otlp().Post("/v1/metrics", body, "application/x-protobuf");
  REQUIRE(http);
  CHECK(http->status == 200);
  CHECK(test::grpc_call(app.app->grpc_port(), test::kGrpcMetrics, body).status.ok());
  CHECK(test::sample(app.scrape(), kCommitCount) == 1);
  CHECK(test::sample(app.scrape(),
                     "claude_code_exporter_otlp_data_points_total{outcome=\"duplicate\","
                     "signal=\"metrics\"}") > 0);
  // Logs over gRPC, gzip-compressed by gRPC itself.
  CHECK(test::grpc_call(app.app->grpc_port(), test::kGrpcLogs, fixture("pb-delta__0038_logs.bin"),
                        {}, true)
            .status.ok());
  CHECK(grpc_requests(app, "logs", "200") == 1);
}

TEST_CASE("bad OTLP/gRPC calls get the right status codes") {
  test::RunningApp app("[otlp]\nauth_tokens = [\"s3cret\"]\nmax_body_bytes = 1048576\n");
  const int port = app.app->grpc_port();
  const std::multimap<std::string, std::string> token{{"authorization", "Bearer s3cret"}};
  const std::string body = fixture("pb-delta__0032_metrics.bin");

  CHECK(test::grpc_call(port, test::kGrpcMetrics, body).status.error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(test::grpc_call(port, test::kGrpcMetrics, body, {{"authorization", "Bearer nope"}})
            .status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(grpc_requests(app, "metrics", "401") == 2);

  auto garbage = test::grpc_call(port, test::kGrpcLogs, std::string("\xff\xff\xff", 3), token);
  CHECK(garbage.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(garbage.status.error_message().find("protobuf") != std::string::npos);

  CHECK(test::grpc_call(port, "/opentelemetry.proto.collector.profiles.v1.ProfilesService/Export",
                        body, token)
            .status.error_code() == grpc::StatusCode::UNIMPLEMENTED);

  CHECK(test::grpc_call(port, test::kGrpcMetrics, std::string(2u << 20, 'x'), token)
            .status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);

  CHECK(test::grpc_call(port, test::kGrpcMetrics, body, token).status.ok());
  CHECK(test::grpc_call(port, test::kGrpcTraces, "", token).status.ok());
}

TEST_CASE("partial success over gRPC names the rejected points") {
  test::RunningApp app;
  // The recorded export with one cost point beyond limits.max_cost_usd.
  otlp::pb::ExportMetricsServiceRequest req;
  REQUIRE(req.ParseFromString(fixture("pb-delta__0032_metrics.bin")));
  bool changed = false;
  for (auto& rm : *req.mutable_resource_metrics()) {
    for (auto& sm : *rm.mutable_scope_metrics()) {
      for (auto& m : *sm.mutable_metrics()) {
        if (m.name() == "claude_code.cost.usage" && !changed && m.has_sum()) {
          m.mutable_sum()->mutable_data_points(0)->set_as_double(1e9);
          changed = true;
        }
      }
    }
  }
  REQUIRE(changed);
  auto r = test::grpc_call(app.app->grpc_port(), test::kGrpcMetrics, req.SerializeAsString());
  REQUIRE(r.status.ok());
  otlp::pb::ExportMetricsServiceResponse response;
  REQUIRE(response.ParseFromString(r.body));
  CHECK(response.partial_success().rejected_data_points() == 1);
  CHECK(response.partial_success().error_message().find("max_cost_usd") != std::string::npos);
}

TEST_CASE("one credential rule on both OTLP protocols: a valid bearer token or basic password") {
  const std::string hash = test::bcrypt_hash("correct horse");
  test::TempDir dir;
  std::ofstream(dir.file("web.yml")) << "basic_auth_users:\n  ops: " << hash << "\n";
  test::RunningApp app(
      "[otlp]\nauth_tokens = [\"s3cret\"]\nweb_config_file = \"" + dir.file("web.yml") + "\"\n", "",
      true);
  const auto body = fixture("pb-delta__0032_metrics.bin");
  const std::string basic = test::basic_authorization("ops:correct horse");
  const std::string wrong_basic = test::basic_authorization("ops:wrong horse");
  // gRPC
  const int port = app.app->grpc_port();
  CHECK(test::grpc_call(port, test::kGrpcMetrics, body, {{"authorization", "Bearer s3cret"}})
            .status.ok());
  CHECK(test::grpc_call(port, test::kGrpcMetrics, body, {{"authorization", basic}}).status.ok());
  for (const std::string& bad : {std::string(), wrong_basic, std::string("Bearer nope")}) {
    std::multimap<std::string, std::string> md;
    if (!bad.empty()) md.emplace("authorization", bad);
    CHECK(test::grpc_call(port, test::kGrpcMetrics, body, md).status.error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  // HTTP
  const httplib::Headers pb = {{"Content-Type", "application/x-protobuf"}};
  auto post = [&](const std::string& authorization) {
    httplib::Client c("127.0.0.1", app.app->otlp_port());
    auto headers = pb;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return c.Post("/v1/metrics", headers, body, "application/x-protobuf");
  };
  auto r = post("Bearer s3cret");
  REQUIRE(r);
  CHECK(r->status == 200);
  r = post(basic);
  REQUIRE(r);
  CHECK(r->status == 200);
  r = post(wrong_basic);
  REQUIRE(r);
  CHECK(r->status == 401);
  r = post("");
  REQUIRE(r);
  CHECK(r->status == 401);
  std::string challenges;
  for (auto [it, end] = r->headers.equal_range("WWW-Authenticate"); it != end; ++it)
    challenges += it->second + ";";
  CHECK(challenges.find("Bearer") != std::string::npos);
  CHECK(challenges.find("Basic") != std::string::npos);
  CHECK(grpc_requests(app, "metrics", "401") == 3);
}

TEST_CASE("several gRPC completion queues serve concurrent calls, each answered once") {
  test::RunningApp app("[otlp]\ngrpc_threads = 3\n");
  // Each queue's thread names itself once it runs: wait for them.
  int queue_threads = 0;
  for (int attempt = 0; attempt < 500 && queue_threads != 3; ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    queue_threads = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      queue_threads += name == "otlp-grpc";
    }
  }
  CHECK(queue_threads == 3);
  const std::string metrics = fixture("pb-delta__0032_metrics.bin");
  const std::string logs = fixture("pb-delta__0038_logs.bin");
  constexpr int kClients = 8, kCalls = 5;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kCalls; ++i) {
        const bool log = (c + i) % 2 == 1;
        if (test::grpc_call(app.app->grpc_port(), log ? test::kGrpcLogs : test::kGrpcMetrics,
                            log ? logs : metrics)
                .status.ok())
          ++ok;
      }
    });
  }
  for (auto& t : clients)
    t.join();
  CHECK(ok == kClients * kCalls);
  CHECK(grpc_requests(app, "metrics", "200") + grpc_requests(app, "logs", "200") ==
        kClients * kCalls);
  CHECK(test::sample(app.scrape(), kCommitCount) == 1);
}

// Run under the sanitizers in CI: the calls still in the pipeline are answered from another
// thread while the queues drain.
TEST_CASE("stopping while OTLP/gRPC calls are in flight ends every call and returns") {
  test::RunningApp app("[otlp]\ngrpc_threads = 2\n");
  const int port = app.app->grpc_port();
  const std::string logs = fixture("pb-delta__0038_logs.bin");
  std::atomic<bool> running{true};
  std::atomic<int> ok{0}, ended{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&] {
      // One channel per client, so calls follow each other closely and some are always in
      // the pipeline.
      auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                         grpc::InsecureChannelCredentials());
      grpc::GenericStub stub(channel);
      while (running) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        grpc::Slice slice(logs);
        grpc::ByteBuffer request(&slice, 1), response;
        std::promise<grpc::Status> done;
        stub.UnaryCall(&ctx, test::kGrpcLogs, grpc::StubOptions(), &request, &response,
                       [&](grpc::Status s) { done.set_value(std::move(s)); });
        const grpc::Status status = done.get_future().get();
        if (status.ok()) ++ok;
        ++ended;
      }
    });
  }
  while (ok < 20)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t0 = std::chrono::steady_clock::now();
  app.app->stop();
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  running = false;
  for (auto& t : clients)
    t.join();
  // Calls in progress are answered first (gRPC waits up to 5 s for them), and then stopping
  // waits for nothing: they are answered within milliseconds.
  CHECK(stop_s < 4);
  CHECK(ended > 0);
  // Nothing listens any more.
  CHECK(test::grpc_call(port, test::kGrpcLogs, logs).status.error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}
