// The /metrics snapshot: compact samples written out as the text format.
#include "cce/metrics/snapshot.h"

#include <doctest/doctest.h>

#include <prometheus/text_serializer.h>

#include "cce/metrics/text_format.h"

using namespace cce;
using prometheus::MetricType;

namespace {

std::string labels(std::string_view name, std::string_view value) {
  std::string out;
  metrics::append_label(out, name, value);
  return out;
}

// Every text the snapshot can be written as: in one piece, and in blocks of several sizes.
std::vector<std::string> written(const metrics::Snapshot& s) {
  std::vector<std::string> out{s.text()};
  for (size_t block : {size_t{1}, size_t{100}, size_t{64 * 1024}}) {
    std::string text;
    size_t pieces = 0, largest = 0;
    CHECK(s.write(
        [&](std::string_view piece) {
          ++pieces;
          largest = std::max(largest, piece.size());
          text += piece;
          return true;
        },
        block));
    // Blocks end at the first sample past `block` bytes: never much larger.
    CHECK(largest < block + 1024);
    CHECK(pieces >= text.size() / (block + 1024));
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace

TEST_CASE("a snapshot writes fragments joined in order, the same text in any block size") {
  metrics::SnapshotBuilder b(false);
  b.set_prefix("# the agent's own\n");
  const auto cost = b.declare("cost", "Cost \"help\".", MetricType::Gauge);
  const auto empty = b.declare("empty_total", "", MetricType::Counter);
  const auto date = b.fragment(labels("date", "2026-11-22"));
  CHECK(b.fragment(labels("date", "2026-11-22")) == date);  // one id per text
  CHECK(b.fragment("") == 0);
  const auto who = b.fragment(labels("actor", "a\"b@example.com"));
  b.add(cost, {date, who, 0, b.fragment(labels("source", "otel"))}, 1.5);
  b.add(cost, {}, 2);
  // More samples than one block of rows holds.
  const auto many = b.declare("many", "Many.", MetricType::Gauge);
  for (int i = 0; i < 10000; ++i)
    b.add(many, {b.fragment(labels("i", std::to_string(i)))}, i);
  b.add_series_family();
  const metrics::Snapshot s = std::move(b).finish();

  const std::string text = s.text();
  CHECK(text.rfind("# the agent's own\n# HELP cost Cost \"help\".\n# TYPE cost gauge\n"
                   "cost{date=\"2026-11-22\",actor=\"a\\\"b@example.com\",source=\"otel\"} 1.5\n"
                   "cost 2\n# TYPE empty_total counter\n# HELP many Many.\n",
                   0) == 0);
  CHECK(text.find("many{i=\"9999\"} 9999\n") != std::string::npos);
  CHECK(text.find("claude_code_exporter_series{family=\"many\"} 10000\n") != std::string::npos);
  CHECK(text.find("claude_code_exporter_series{family=\"empty_total\"} 0\n") != std::string::npos);
  for (const auto& t : written(s))
    CHECK(t == text);
  // Byte for byte what prometheus-cpp's serializer writes for the same families.
  CHECK(text == "# the agent's own\n" + prometheus::TextSerializer().Serialize(s.families()));
  (void)empty;
  // A receiver that is gone stops the writing: no more blocks are formatted or passed.
  int calls = 0;
  CHECK_FALSE(s.write(
      [&](std::string_view) {
        ++calls;
        return calls < 3;
      },
      100));
  CHECK(calls == 3);
}

TEST_CASE("samples with one label set fold when asked: summed, or the highest kept") {
  for (const bool fold : {false, true}) {
    metrics::SnapshotBuilder b(fold);
    const auto g = b.declare("g", "G.", MetricType::Gauge);
    const auto domain = b.fragment(labels("actor", "example.com"));
    b.add(g, {domain}, 1);
    b.add(g, {domain}, 2);
    const auto seen = b.declare("seen", "Seen.", MetricType::Gauge);
    b.add(seen, {domain}, 5, metrics::SnapshotBuilder::Combine::kMax);
    b.add(seen, {domain}, 3, metrics::SnapshotBuilder::Combine::kMax);
    const std::string text = std::move(b).finish().text();
    CHECK(text.find(fold ? "g{actor=\"example.com\"} 3\n"
                         : "g{actor=\"example.com\"} 1\n"
                           "g{actor=\"example.com\"} 2\n") != std::string::npos);
    CHECK(text.substr(text.find("\nseen{")) == "\nseen{actor=\"example.com\"} 5\n");
  }
}
