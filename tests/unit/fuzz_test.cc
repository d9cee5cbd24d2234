// Throws random, truncated and mutated bodies at the decoders and the normalizer, in process.
// Run under -fsanitize=address,undefined in CI (scripts/test.sh), where any memory error fails.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "cce/otlp/decoder.h"
#include "cce/usage/otel_normalizer.h"
#include "mutate.h"
#include "test_support.h"

using namespace cce;

namespace {

std::vector<std::pair<std::string, otlp::Encoding>> seeds() {
  std::vector<std::pair<std::string, otlp::Encoding>> out;
  for (const auto& e :
       std::filesystem::directory_iterator(test::testdata("claude-code/requests"))) {
    const auto name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".bin") {
      out.emplace_back(test::read_file(e.path().string()), otlp::Encoding::kProtobuf);
    } else if (name.find(".json") != std::string::npos &&
               name.find("headers") == std::string::npos && name.find(".gz") == std::string::npos &&
               name != "manifest.json") {
      out.emplace_back(test::read_file(e.path().string()), otlp::Encoding::kJson);
    }
  }
  return out;
}

// Every point and record of a decoded request is accounted for exactly once by the normalizer.
size_t items(const otlp::MetricsRequest& r) {
  size_t n = 0;
  for (const auto& rm : r.resources)
    for (const auto& sm : rm.scopes)
      for (const auto& m : sm.metrics)
        n += m.points.size() + m.opaque_points;
  return n;
}
size_t items(const otlp::LogsRequest& r) {
  size_t n = 0;
  for (const auto& rl : r.resources)
    for (const auto& sl : rl.scopes)
      n += sl.records.size();
  return n;
}
void check_accounting(const usage::IngestResult& out, size_t items) {
  CHECK(out.accepted + out.duplicate + out.rejected + out.ignored == items);
  // A rejection always tells the client why.
  if (out.rejected > 0) CHECK_FALSE(out.rejection_message.empty());
}

}  // namespace

TEST_CASE("fuzz: 12,000 random, truncated and mutated bodies neither crash nor leak") {
  const auto corpus = seeds();
  REQUIRE(corpus.size() > 30);
  std::mt19937_64 rng(20261122);  // fixed seed: failures reproduce
  usage::OtelNormalizer normalizer({}, 3600, 86400);
  size_t decoded = 0, rejected = 0;
  for (int i = 0; i < 12000; ++i) {
    const auto& [seed, enc] = corpus[static_cast<size_t>(i) % corpus.size()];
    std::string body = test::mutate(seed, rng);
    if (i % 3 == 0) body = test::mutate(body, rng);
    const auto encoding = (i % 7 == 0) ? (enc == otlp::Encoding::kJson ? otlp::Encoding::kProtobuf
                                                                       : otlp::Encoding::kJson)
                                       : enc;
    switch (i % 3) {
      case 0: {
        auto d = otlp::decode_metrics(body, encoding);
        if (auto* m = std::get_if<otlp::MetricsRequest>(&d)) {
          ++decoded;
          check_accounting(normalizer.ingest(*m, test::fixture_noon()), items(*m));
        } else {
          ++rejected;
          CHECK_FALSE(std::get<otlp::DecodeError>(d).message.empty());
        }
        break;
      }
      case 1: {
        auto d = otlp::decode_logs(body, encoding);
        if (auto* l = std::get_if<otlp::LogsRequest>(&d)) {
          ++decoded;
          check_accounting(normalizer.ingest(*l, test::fixture_noon()), items(*l));
        } else {
          ++rejected;
          CHECK_FALSE(std::get<otlp::DecodeError>(d).message.empty());
        }
        break;
      }
      default: {
        auto d = otlp::decode_traces(body, encoding);
        if (std::holds_alternative<otlp::TracesRequest>(d)) {
          ++decoded;
        } else {
          ++rejected;
          CHECK_FALSE(std::get<otlp::DecodeError>(d).message.empty());
        }
      }
    }
  }
  MESSAGE("decoded ", decoded, ", rejected ", rejected);
  // Both paths were exercised.
  CHECK(decoded > 500);
  CHECK(rejected > 500);
}
