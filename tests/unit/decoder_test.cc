#include <doctest/doctest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>

#include "cce/otlp/decoder.h"
#include "cce/otlp/response.h"
#include "cce/usage/otel_normalizer.h"
#include "cce/util/hash.h"
#include "test_support.h"

using namespace cce;
using otlp::Encoding;

namespace {

std::string gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 16 + MAX_WBITS);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[16384];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return out;
}

std::string body_of(const std::filesystem::path& p) {
  std::string raw = test::read_file(p.string());
  return p.extension() == ".gz" ? gunzip(raw) : raw;
}

}  // namespace

TEST_CASE("every recorded Claude Code request decodes") {
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(test::testdata("claude-code/requests"))) {
    const auto p = entry.path();
    const std::string name = p.filename().string();
    const bool pb = name.find(".bin") != std::string::npos;
    const bool json = name.find(".json") != std::string::npos &&
                      name.find(".headers") == std::string::npos && name != "manifest.json";
    if (!pb && !json) continue;
    ++files;
    CAPTURE(name);
    const std::string body = body_of(p);
    const Encoding enc = pb ? Encoding::kProtobuf : Encoding::kJson;
    if (name.find("_metrics") != std::string::npos) {
      auto d = otlp::decode_metrics(body, enc);
      REQUIRE(std::holds_alternative<otlp::MetricsRequest>(d));
      CHECK(std::get<otlp::MetricsRequest>(d).point_count() > 0);
    } else if (name.find("_logs") != std::string::npos) {
      auto d = otlp::decode_logs(body, enc);
      REQUIRE(std::holds_alternative<otlp::LogsRequest>(d));
      CHECK(std::get<otlp::LogsRequest>(d).record_count() > 0);
    } else {
      auto d = otlp::decode_traces(body, enc);
      REQUIRE(std::holds_alternative<otlp::TracesRequest>(d));
      CHECK(std::get<otlp::TracesRequest>(d).span_count == 14);
    }
  }
  CHECK(files == 36);
}

TEST_CASE("protobuf and JSON of the same export decode alike") {
  // pb-gzip/json-gzip 0007 are the same scenario in both encodings.
  auto pb = otlp::decode_metrics(
      body_of(test::testdata("claude-code/requests/pb-gzip__0007_metrics.bin.gz")),
      Encoding::kProtobuf);
  auto js = otlp::decode_metrics(
      body_of(test::testdata("claude-code/requests/json-gzip__0007_metrics.json.gz")),
      Encoding::kJson);
  const auto& a = std::get<otlp::MetricsRequest>(pb);
  const auto& b = std::get<otlp::MetricsRequest>(js);
  REQUIRE(a.resources.size() == b.resources.size());
  const auto& ma = a.resources[0].scopes[0].metrics;
  const auto& mb = b.resources[0].scopes[0].metrics;
  REQUIRE(ma.size() == mb.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    CHECK(ma[i].name == mb[i].name);
    CHECK(ma[i].temporality == otlp::Temporality::kDelta);
    CHECK(mb[i].temporality == otlp::Temporality::kDelta);
    CHECK(ma[i].points.size() == mb[i].points.size());
  }
  CHECK(a.resources[0].scopes[0].scope.name == "com.anthropic.claude_code");
}

TEST_CASE("OTLP/JSON quirks: int64 as string or number, enums as integers, unknown fields") {
  const std::string body = R"({"resourceMetrics":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"claude-code"}}]},
    "futureField": {"x": 1},
    "scopeMetrics":[{"scope":{"name":"s"},"metrics":[{"name":"claude_code.commit.count",
      "sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
        {"startTimeUnixNano":1795314293540000000,"timeUnixNano":"1795314293562000000","asInt":"3",
         "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"m","value":{"intValue":7}},
                       {"key":"d","value":{"doubleValue":"NaN"}}]}]}}]}]}]})";
  auto d = otlp::decode_metrics(body, Encoding::kJson);
  REQUIRE(std::holds_alternative<otlp::MetricsRequest>(d));
  const auto& m = std::get<otlp::MetricsRequest>(d).resources[0].scopes[0].metrics[0];
  CHECK(m.temporality == otlp::Temporality::kCumulative);
  REQUIRE(m.points.size() == 1);
  CHECK(*m.points[0].value == 3.0);
  CHECK(m.points[0].start_ns == 1795314293540000000ULL);
  CHECK(std::get<int64_t>(*otlp::find(m.points[0].attributes, "n")) == 42);
  CHECK(std::get<int64_t>(*otlp::find(m.points[0].attributes, "m")) == 7);
}

TEST_CASE("undecodable bodies give a message") {
  auto bad_json = otlp::decode_metrics("{\"resourceMetrics\": [", Encoding::kJson);
  REQUIRE(std::holds_alternative<otlp::DecodeError>(bad_json));
  CHECK(std::get<otlp::DecodeError>(bad_json).message.find("OTLP/JSON") != std::string::npos);
  auto bad_pb = otlp::decode_logs(std::string("\x0a\xff\xff\xff\xff\x0f", 6), Encoding::kProtobuf);
  REQUIRE(std::holds_alternative<otlp::DecodeError>(bad_pb));
  CHECK(std::get<otlp::DecodeError>(bad_pb).message.find("protobuf") != std::string::npos);
  // An empty body is an empty (valid) request in both encodings.
  CHECK(
      std::holds_alternative<otlp::MetricsRequest>(otlp::decode_metrics("", Encoding::kProtobuf)));
  CHECK(std::holds_alternative<otlp::MetricsRequest>(otlp::decode_metrics("{}", Encoding::kJson)));
}

TEST_CASE("responses follow the specification") {
  CHECK(otlp::export_response(otlp::Signal::kMetrics, Encoding::kProtobuf, 0, "").empty());
  CHECK(otlp::export_response(otlp::Signal::kLogs, Encoding::kJson, 0, "") == "{}");
  CHECK(otlp::export_response(otlp::Signal::kMetrics, Encoding::kJson, 2, "bad") ==
        R"({"partialSuccess":{"errorMessage":"bad","rejectedDataPoints":"2"}})");
  const std::string pb = otlp::export_response(otlp::Signal::kLogs, Encoding::kProtobuf, 1, "x");
  CHECK(pb == std::string("\x0a\x05\x08\x01\x12\x01x", 7));
}

TEST_CASE("decoded requests carry the hash of each attribute set, which the normalizer uses") {
  auto logs = std::get<otlp::LogsRequest>(
      otlp::decode_logs(test::request_fixture("pb-delta__0017_logs.bin"), Encoding::kProtobuf));
  auto metrics = std::get<otlp::MetricsRequest>(otlp::decode_metrics(
      test::request_fixture("pb-delta__0023_metrics.bin"), Encoding::kProtobuf));
  size_t hashed = 0;
  for (auto& rl : logs.resources) {
    CHECK(rl.resource_hash == otlp::hash_attributes(*rl.resource));
    for (auto& sl : rl.scopes) {
      for (auto& rec : sl.records) {
        CHECK(rec.attributes_hash == otlp::hash_attributes(rec.attributes));
        ++hashed;
      }
    }
  }
  for (auto& rm : metrics.resources) {
    CHECK(rm.resource_hash == otlp::hash_attributes(*rm.resource));
    for (auto& sm : rm.scopes)
      for (auto& m : sm.metrics)
        for (auto& p : m.points) {
          CHECK(p.attributes_hash == otlp::hash_attributes(p.attributes));
          ++hashed;
        }
  }
  CHECK(hashed > 0);
  // The same keys with the hashes the decoder gave and without them (computed then).
  auto keys = [](const otlp::LogsRequest& l, const otlp::MetricsRequest& m) {
    usage::OtelNormalizer n({}, 3600, 86400);
    const auto at = std::chrono::system_clock::now();
    auto a = n.ingest(l, at);
    auto b = n.ingest(m, at);
    a.seen_keys.insert(a.seen_keys.end(), b.seen_keys.begin(), b.seen_keys.end());
    for (const auto& [series, state] : b.series_updates)
      a.seen_keys.push_back(series);
    return a.seen_keys;
  };
  const auto with = keys(logs, metrics);
  for (auto& rl : logs.resources) {
    rl.resource_hash = 0;
    for (auto& sl : rl.scopes)
      for (auto& rec : sl.records)
        rec.attributes_hash = 0;
  }
  for (auto& rm : metrics.resources) {
    rm.resource_hash = 0;
    for (auto& sm : rm.scopes)
      for (auto& m : sm.metrics)
        for (auto& p : m.points)
          p.attributes_hash = 0;
  }
  CHECK(!with.empty());
  CHECK(keys(logs, metrics) == with);
}

TEST_CASE("attribute hashes are stored, so their values never change") {
  // Duplicate keys and cumulative series identities are kept across restarts and upgrades:
  // a hash that changed would take a retried export for new data. Every value kind, keys out
  // of order; the constants were computed once and must stay.
  const otlp::Attributes attrs = {
      {"user.email", std::string("dev@example.com")},
      {"cost_usd", 0.0123},
      {"input_tokens", int64_t{1532}},
      {"success", true},
      {"none", std::monostate{}},
      {"tool_parameters", otlp::Composite{"{a=1,b=[x,y]}"}},
      {"nan", std::nan("")},
      {"big", -1e300},
  };
  CHECK(otlp::hash_attributes(attrs) == 5411967604249728928ULL);
  CHECK(otlp::hash_attributes({}) == 8922497616986557598ULL);
  auto logs = std::get<otlp::LogsRequest>(
      otlp::decode_logs(test::request_fixture("pb-delta__0017_logs.bin"), Encoding::kProtobuf));
  util::Hasher all;
  for (const auto& rl : logs.resources) {
    all.add_u64(rl.resource_hash);
    for (const auto& sl : rl.scopes)
      for (const auto& rec : sl.records)
        all.add_u64(rec.attributes_hash);
  }
  CHECK(all.digest() == 3392189139611197181ULL);
}
