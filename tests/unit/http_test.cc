// The OTLP receiver and the status endpoints over real loopback HTTP, against an App started
// in-process on port 0.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "cce/server/content_coding.h"
#include "test_support.h"

using namespace cce;

namespace {

const char* kPb = "application/x-protobuf";
const char* kJson = "application/json";

std::string gzip(const std::string& in) {
  return server::gzip_compress(in, 9);
}

std::string fixture(const std::string& name) {
  return test::request_fixture(name);
}

const std::string& kCommitCount = test::kFixtureCommitSeries;

}  // namespace

TEST_CASE("a protobuf export is stored and answered with an empty protobuf response") {
  test::RunningApp app;
  auto cli = app.otlp();
  auto r = cli.Post("/v1/metrics", fixture("pb-delta__0032_metrics.bin"), kPb);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == kPb);
  CHECK(r->body.empty());
  CHECK(test::sample(app.scrape(), kCommitCount) == 1);
}

TEST_CASE("the same batch posted twice counts once") {
  test::RunningApp app;
  auto cli = app.otlp();
  const auto body = fixture("json-delta__0032_metrics.json");
  for (int i = 0; i < 2; ++i) {
    auto r = cli.Post("/v1/metrics", body, kJson);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "{}");
    CHECK(r->get_header_value("Content-Type") == kJson);
  }
  const auto text = app.scrape();
  CHECK(test::sample(text, kCommitCount) == 1);
  CHECK(
      test::sample(
          text,
          "claude_code_exporter_otlp_data_points_total{outcome=\"duplicate\",signal=\"metrics\"}") >
      0);
}

TEST_CASE("gzip bodies are accepted, in both encodings") {
  test::RunningApp app;
  auto cli = app.otlp();
  httplib::Headers gz{{"Content-Encoding", "gzip"}};
  auto a = cli.Post("/v1/metrics", gz, fixture("pb-gzip__0007_metrics.bin.gz"), kPb);
  auto b = cli.Post("/v1/logs", gz, fixture("json-gzip__0006_logs.json.gz"), kJson);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->status == 200);
  CHECK(b->status == 200);
  const auto text = app.scrape();
  CHECK(test::sum_family(text, "claude_code_lines_added_total") > 0);
  CHECK(test::sum_family(text, "claude_code_tool_results_total") > 0);
}

TEST_CASE("chunked request bodies are accepted") {
  test::RunningApp app;
  auto cli = app.otlp();
  const auto body = fixture("pb-delta__0034_metrics.bin");
  auto r = cli.Post(
      "/v1/metrics",
      [&](size_t offset, httplib::DataSink& sink) {
        // Send in 100-byte chunks, without a Content-Length.
        size_t n = std::min<size_t>(100, body.size() - offset);
        sink.write(body.data() + offset, n);
        if (offset + n == body.size()) sink.done();
        return true;
      },
      kPb);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(test::sum_family(app.scrape(), "claude_code_pull_requests_total") == 1);
}

TEST_CASE("traces are accepted and discarded; empty exports succeed") {
  test::RunningApp app;
  auto cli = app.otlp();
  auto t = cli.Post("/v1/traces", fixture("json-traces__0012_traces.json"), kJson);
  REQUIRE(t);
  CHECK(t->status == 200);
  auto e = cli.Post("/v1/logs", "", kPb);
  REQUIRE(e);
  CHECK(e->status == 200);
  CHECK(e->body.empty());
  CHECK(test::sample(
            app.scrape(),
            "claude_code_exporter_otlp_data_points_total{outcome=\"ignored\",signal=\"traces\"}") ==
        14);
}

TEST_CASE("bad requests get the documented status and a message; the agent keeps serving") {
  test::RunningApp app("[otlp]\nmax_body_bytes = 1048576\n");
  auto cli = app.otlp();

  SUBCASE("400 for an undecodable body, in the request's encoding") {
    auto r = cli.Post("/v1/metrics", "{\"resourceMetrics\": 5}", kJson);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->get_header_value("Content-Type") == kJson);
    CHECK(r->body.find("\"message\":\"request body is not valid OTLP/JSON") != std::string::npos);
    auto p = cli.Post("/v1/logs", std::string("\xff\xff\xff", 3), kPb);
    REQUIRE(p);
    CHECK(p->status == 400);
    CHECK(p->get_header_value("Content-Type") == kPb);
    CHECK(p->body.find("not a valid protobuf") != std::string::npos);
  }
  SUBCASE("400 for a corrupt gzip stream") {
    auto r = cli.Post("/v1/metrics", {{"Content-Encoding", "gzip"}}, "this is not gzip", kPb);
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  SUBCASE("413 over the limit, before and after decompression (a gzip bomb)") {
    auto big = cli.Post("/v1/metrics", std::string(2 << 20, 'x'), kPb);
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(big->body.find("otlp.max_body_bytes") != std::string::npos);
    httplib::Client c2("127.0.0.1", app.app->otlp_port());
    const std::string bomb = gzip(std::string(64 << 20, '\0'));  // 64 MiB of zeros
    CHECK(bomb.size() < 200000);
    auto r = c2.Post("/v1/metrics", {{"Content-Encoding", "gzip"}}, bomb, kPb);
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  SUBCASE("415 for other content types and encodings") {
    auto r = cli.Post("/v1/metrics", "hello", "text/plain");
    REQUIRE(r);
    CHECK(r->status == 415);
    CHECK(r->body.find("application/x-protobuf") != std::string::npos);
    auto z = cli.Post("/v1/metrics", {{"Content-Encoding", "zstd"}}, "x", kPb);
    REQUIRE(z);
    CHECK(z->status == 415);
  }
  SUBCASE("partial success names the rejected points") {
    const std::string body = R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[
      {"name":"claude_code.commit.count","sum":{"aggregationTemporality":1,"dataPoints":[
        {"timeUnixNano":"1795314293562000000","asDouble":1}]}}]}]}]})";
    auto r = cli.Post("/v1/metrics", body, kJson);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.find("\"rejectedDataPoints\":\"1\"") != std::string::npos);
    CHECK(r->body.find("identity") != std::string::npos);
  }
  // Whatever came before, a good request on a fresh connection still works.
  httplib::Client fresh("127.0.0.1", app.app->otlp_port());
  auto ok = fresh.Post("/v1/metrics", fixture("pb-delta__0032_metrics.bin"), kPb);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  auto h = httplib::Client("127.0.0.1", app.app->metrics_port()).Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
}

TEST_CASE("bearer-token authentication") {
  test::RunningApp app("[otlp]\nauth_tokens = [\"s3cret-token\", \"second\"]\n");
  auto cli = app.otlp();
  const auto body = fixture("pb-delta__0032_metrics.bin");
  auto none = cli.Post("/v1/metrics", body, kPb);
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(none->get_header_value("WWW-Authenticate").find("Bearer") == 0);
  httplib::Client c2("127.0.0.1", app.app->otlp_port());
  auto wrong = c2.Post("/v1/metrics", {{"Authorization", "Bearer s3cret-tokeX"}}, body, kPb);
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(wrong->body.find("s3cret") == std::string::npos);
  httplib::Client c3("127.0.0.1", app.app->otlp_port());
  auto right = c3.Post("/v1/metrics", {{"Authorization", "Bearer second"}}, body, kPb);
  REQUIRE(right);
  CHECK(right->status == 200);
  CHECK(test::sample(app.scrape(),
                     "claude_code_exporter_otlp_requests_total{code=\"401\",encoding=\"protobuf\","
                     "signal=\"metrics\"}") == 2);
}

TEST_CASE("values survive a restart") {
  test::TempDir dir;
  const std::string db = dir.file("keep.db");
  std::string before;
  {
    test::RunningApp app("", db);
    auto cli = app.otlp();
    for (const char* f : {"pb-delta__0023_metrics.bin", "pb-delta__0032_metrics.bin",
                          "pb-delta__0038_logs.bin", "pb-cumulative__0031_metrics.bin"}) {
      const bool logs = std::string(f).find("_logs") != std::string::npos;
      auto r = cli.Post(logs ? "/v1/logs" : "/v1/metrics", fixture(f), kPb);
      REQUIRE(r);
      CHECK(r->status == 200);
    }
    auto r = cli.Post("/v1/logs", fixture("pb-delta__0038_logs.bin"), kPb);
    REQUIRE(r);
    CHECK(r->status == 200);
    before = app.scrape();
    app.app->stop();
  }
  test::RunningApp again("", db);
  const std::string after = again.scrape();
  for (const char* family : {"claude_code_cost_usd_total", "claude_code_tokens_total",
                             "claude_code_daily_cost_usd", "claude_code_active_time_seconds_total",
                             "claude_code_api_errors_total", "claude_code_user_prompts_total"}) {
    CAPTURE(family);
    CHECK(test::sum_family(before, family) == test::sum_family(after, family));
    CHECK(test::sum_family(after, family) > 0);
  }
}

namespace {
// An idle keep-alive client: one request answered, then the connection is held open.
int idle_keep_alive_connection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{2, 0};  // a starved server fails the test instead of hanging it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
  if (send(fd, req.data(), req.size(), 0) < 0) return -1;
  char buf[512];
  if (recv(fd, buf, sizeof buf, 0) <= 0) return -1;
  return fd;
}
}  // namespace

TEST_CASE("200 idle keep-alive connections do not make a new client wait") {
  test::RunningApp app("[http]\nkeep_alive_timeout = \"30s\"\n");
  std::vector<int> fds;
  for (int i = 0; i < 200; ++i) {
    int fd = idle_keep_alive_connection(i % 2 ? app.app->otlp_port() : app.app->metrics_port());
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  // Every idle connection holds a worker: the pools must have grown past them.
  for (const int port : {app.app->otlp_port(), app.app->metrics_port()}) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5);
    c.set_read_timeout(5);
    const auto start = std::chrono::steady_clock::now();
    auto r = port == app.app->otlp_port() ? c.Post("/v1/metrics", "", kPb) : c.Get("/healthz");
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE(r);
    CHECK(r->status == 200);
    MESSAGE("new client answered in ", std::chrono::duration<double, std::milli>(waited).count(),
            " ms");
    CHECK(waited < std::chrono::seconds(1));
  }
  for (int fd : fds)
    close(fd);
}

TEST_CASE("status endpoints") {
  test::RunningApp app;
  httplib::Client c("127.0.0.1", app.app->metrics_port());
  auto landing = c.Get("/");
  REQUIRE(landing);
  CHECK(landing->body.find("claude-code-exporter") != std::string::npos);
  CHECK(landing->body.find("/metrics") != std::string::npos);
  auto ready = c.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  auto m = c.Get("/metrics");
  REQUIRE(m);
  CHECK(m->get_header_value("Content-Type").find("text/plain; version=0.0.4") == 0);
  CHECK(m->get_header_value("Content-Encoding").empty());
  // Streamed from the rendering in chunks: the whole text is never held.
  CHECK(m->get_header_value("Transfer-Encoding") == "chunked");
  // Asked for gzip: compressed once, sent as it is (httplib inflates it for this client).
  auto z = c.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  REQUIRE(z);
  CHECK(z->get_header_value("Content-Encoding") == "gzip");
  CHECK(z->body.find("claude_code_exporter_build_info{") != std::string::npos);
  CHECK(m->body.find("claude_code_exporter_build_info{") != std::string::npos);
  CHECK(m->body.find("claude_code_exporter_today_info{date=\"2026-11-22\"} 1") !=
        std::string::npos);
  auto get = httplib::Client("127.0.0.1", app.app->otlp_port()).Get("/v1/metrics");
  REQUIRE(get);
  CHECK(get->status == 405);
}
