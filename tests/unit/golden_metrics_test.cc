// /metrics as users read it: each recorded Claude Code run replayed over loopback HTTP into an
// agent at a fixed clock, and the usage families compared with tests/testdata/expected/<run>.prom
// (sorted, so only content counts). UPDATE_GOLDEN=1 rewrites the files; review the diff.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "cce/server/content_coding.h"
#include "grpc_support.h"
#include "test_support.h"

using namespace cce;

namespace {

// Families that depend on the run's data and the fixed clock only. The agent's own request
// timings and process figures change from run to run and are checked elsewhere.
bool stable_family(const std::string& name) {
  static const std::set<std::string> kAgentFamilies = {
      "claude_code_exporter_series", "claude_code_exporter_actor_last_seen_timestamp_seconds",
      "claude_code_exporter_today_info", "claude_code_exporter_unpriced_model_tokens_total"};
  if (name.rfind("claude_code_exporter_", 0) == 0) return kAgentFamilies.count(name) == 1;
  return name.rfind("claude_code_", 0) == 0;
}

// The exposition restricted to stable families, in the agent's order.
std::string stable_exposition(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    // "# HELP name …", "# TYPE name …" or a sample "name{…} value".
    const bool comment = line.rfind("# ", 0) == 0;
    const size_t start = comment ? 7 : 0;
    const std::string name =
        line.substr(start, line.find_first_of(comment ? " " : "{ ", start) - start);
    if (stable_family(name)) out += line + "\n";
  }
  return out;
}

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Over OTLP/gRPC: the message is the protobuf body (gRPC compresses on its own).
void export_over_grpc(const test::RunningApp& agent, const nlohmann::json& e,
                      const std::string& raw) {
  std::string body = raw;
  if (e["content_encoding"].is_string()) {
    REQUIRE(server::inflate(raw, 64u << 20, body, [](size_t) { return true; }) ==
            server::InflateResult::kOk);
  }
  const std::string path = e["path"].get<std::string>();
  const std::string& method = path == "/v1/metrics" ? test::kGrpcMetrics
                              : path == "/v1/logs"  ? test::kGrpcLogs
                                                    : test::kGrpcTraces;
  auto r = test::grpc_call(agent.app->grpc_port(), method, body);
  CAPTURE(r.status.error_message());
  REQUIRE(r.status.ok());
}

enum class Transport { kHttp, kGrpc, kBoth };

std::string replay(const std::string& run, Transport transport = Transport::kHttp) {
  test::RunningApp agent;
  auto client = agent.otlp();
  const std::string dir = test::testdata("claude-code/runs/" + run + "/");
  std::ifstream index(dir + "index.jsonl");
  int posted = 0;
  for (std::string line; std::getline(index, line);) {
    auto e = nlohmann::json::parse(line);
    // Both: alternate, so one agent takes the run over the two protocols.
    if (transport == Transport::kGrpc || (transport == Transport::kBoth && posted % 2 == 1)) {
      export_over_grpc(agent, e, test::read_file(dir + e["file"].get<std::string>()));
      ++posted;
      continue;
    }
    httplib::Headers headers;
    if (e["content_encoding"].is_string())
      headers.emplace("Content-Encoding", e["content_encoding"].get<std::string>());
    auto r = client.Post(e["path"].get<std::string>(), headers,
                         test::read_file(dir + e["file"].get<std::string>()),
                         e["content_type"].get<std::string>());
    REQUIRE(r);
    REQUIRE(r->status == 200);
    ++posted;
  }
  REQUIRE(posted > 0);
  return stable_exposition(agent.scrape());
}

}  // namespace

TEST_CASE("golden /metrics for every recorded run") {
  for (const char* run :
       {"pb-delta", "json-delta", "pb-cumulative", "json-cumulative", "pb-oauth"}) {
    CAPTURE(run);
    const std::string got = replay(run);
    const std::string path = test::testdata(std::string("expected/") + run + ".prom");
    if (std::getenv("UPDATE_GOLDEN")) {
      std::ofstream(path) << got;
      continue;
    }
    const std::string want = test::read_file(path);
    REQUIRE_FALSE(want.empty());
    const auto a = sorted_lines(got), b = sorted_lines(want);
    // On a difference, name the first line that differs rather than dump both files.
    std::vector<std::string> missing, extra;
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(missing));
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(extra));
    CHECK_MESSAGE(missing.empty(), "expected but not exposed: " << missing.front());
    CHECK_MESSAGE(extra.empty(), "exposed but not expected: " << extra.front());
  }
}

TEST_CASE("the recorded protobuf runs over OTLP/gRPC, and over both protocols, give the same") {
  // The JSON runs have no gRPC form: OTLP/gRPC carries protobuf only.
  for (const char* run : {"pb-delta", "pb-cumulative", "pb-oauth"}) {
    const std::string want =
        test::read_file(test::testdata(std::string("expected/") + run + ".prom"));
    REQUIRE_FALSE(want.empty());
    for (auto transport : {Transport::kGrpc, Transport::kBoth}) {
      CAPTURE(run);
      CAPTURE(transport == Transport::kGrpc ? "grpc" : "both");
      const auto a = sorted_lines(replay(run, transport)), b = sorted_lines(want);
      std::vector<std::string> missing, extra;
      std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(missing));
      std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(extra));
      CHECK_MESSAGE(missing.empty(), "expected but not exposed: " << missing.front());
      CHECK_MESSAGE(extra.empty(), "exposed but not expected: " << extra.front());
    }
  }
}

TEST_CASE("the golden files are valid exposition (promtool check metrics)") {
  for (const char* run :
       {"pb-delta", "json-delta", "pb-cumulative", "json-cumulative", "pb-oauth"}) {
    CAPTURE(run);
    const std::string path = test::testdata(std::string("expected/") + run + ".prom");
    const std::string cmd = "promtool check metrics < '" + path + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p))
      out.append(buf, n);
    const int status = pclose(p);
    CAPTURE(out);
    // Exit 0: valid. promtool exits 3 for lint findings only; ours has none to excuse.
    CHECK(status == 0);
  }
}
