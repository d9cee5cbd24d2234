#pragma once

// Plain C++ forms of the OTLP requests the agent reads. The decoders fill them; nothing
// downstream knows about protobuf or JSON.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cce::otlp {

// Arrays, key-value lists and bytes are kept as a canonical text form: the agent only needs them
// to tell series apart, never to read into them.
struct Composite {
  std::string text;
  bool operator==(const Composite&) const = default;
};
using AttrValue = std::variant<std::monostate, std::string, bool, int64_t, double, Composite>;

struct Attribute {
  std::string key;
  AttrValue value;
};
using Attributes = std::vector<Attribute>;

const AttrValue* find(const Attributes& attrs, std::string_view key);
// A data point's or log record's attribute, else the resource's: Claude Code puts some
// attributes (user.email, model, …) on either. An empty point value counts as absent.
const AttrValue* find(const Attributes& point, const Attributes& resource, std::string_view key);
// Its text form (to_text), empty when neither has the key.
std::string text(const Attributes& point, const Attributes& resource, std::string_view key);
// Text form of a value: strings as-is, numbers in shortest round-trip form, bools as
// "true"/"false", empty for an empty value.
std::string to_text(const AttrValue& v);
// Numeric form: ints, doubles and numeric strings ("55", "1.5"); nullopt otherwise.
std::optional<double> to_number(const AttrValue& v);
// Canonical hash of an attribute set (order-independent): part of the identity of a series and
// of a log record, so stored with the ingest state (it must never change). The decoders store
// it with what they decode (the `*_hash` fields, 0 when not computed), on the listener's
// threads rather than the single writer's.
uint64_t hash_attributes(const Attributes& attrs);

enum class Encoding { kProtobuf, kJson };
enum class Signal { kMetrics, kLogs, kTraces };
std::string_view to_string(Encoding e);
std::string_view to_string(Signal s);

struct Scope {
  std::string name;
  std::string version;
};

// ---- metrics ----
enum class Temporality { kUnspecified = 0, kDelta = 1, kCumulative = 2 };
enum class MetricKind { kEmpty, kGauge, kSum, kHistogram, kExponentialHistogram, kSummary };

struct NumberPoint {
  Attributes attributes;
  uint64_t start_ns = 0;
  uint64_t time_ns = 0;
  std::optional<double> value;  // as_double or as_int; empty when neither is set
  uint32_t flags = 0;
  uint64_t attributes_hash = 0;
  bool no_recorded_value() const { return (flags & 1u) != 0; }
};

struct Metric {
  std::string name;
  std::string unit;
  MetricKind kind = MetricKind::kEmpty;
  Temporality temporality = Temporality::kUnspecified;
  bool monotonic = false;
  std::vector<NumberPoint> points;  // gauge and sum points
  size_t opaque_points = 0;         // histogram/summary points (counted, not read)
};

struct ScopeMetrics {
  Scope scope;
  std::vector<Metric> metrics;
};

struct ResourceMetrics {
  std::shared_ptr<const Attributes> resource;
  std::vector<ScopeMetrics> scopes;
  uint64_t resource_hash = 0;
};

struct MetricsRequest {
  std::vector<ResourceMetrics> resources;
  size_t point_count() const;
};

// ---- logs ----
struct LogRecord {
  uint64_t time_ns = 0;
  uint64_t observed_ns = 0;
  std::string body;  // the body when it is a string, else empty
  std::string event_name;
  Attributes attributes;
  uint64_t attributes_hash = 0;
};

struct ScopeLogs {
  Scope scope;
  std::vector<LogRecord> records;
};

struct ResourceLogs {
  std::shared_ptr<const Attributes> resource;
  std::vector<ScopeLogs> scopes;
  uint64_t resource_hash = 0;
};

struct LogsRequest {
  std::vector<ResourceLogs> resources;
  size_t record_count() const;
};

// ---- traces: only counted ----
struct TracesRequest {
  size_t span_count = 0;
};

}  // namespace cce::otlp
