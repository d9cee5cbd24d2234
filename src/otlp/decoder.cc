#include "cce/otlp/decoder.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <mutex>

#include "cce/otlp/wire_reader.h"
#include "cce/util/strings.h"
#include "otlp.pb.h"

namespace cce::otlp {
namespace {

namespace pb = cce::otlp::pb;

// libprotobuf logs parse problems (e.g. invalid UTF-8) to stderr; a receiver facing the open
// network must not let clients write into its log, so those messages are dropped. Decode
// failures are reported through the return value instead.
void silence_protobuf_logging() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(nullptr); });
}

AttrValue convert_value(pb::AnyValue& v);

std::string composite_text(pb::AnyValue& v) {
  switch (v.value_case()) {
    case pb::AnyValue::kArrayValue: {
      std::string s = "[";
      bool first = true;
      for (auto& e : *v.mutable_array_value()->mutable_values()) {
        if (!first) s += ",";
        first = false;
        s += to_text(convert_value(e));
      }
      return s + "]";
    }
    case pb::AnyValue::kKvlistValue: {
      std::string s = "{";
      bool first = true;
      for (auto& kv : *v.mutable_kvlist_value()->mutable_values()) {
        if (!first) s += ",";
        first = false;
        s += kv.key() + "=" + to_text(convert_value(*kv.mutable_value()));
      }
      return s + "}";
    }
    case pb::AnyValue::kBytesValue:
      return "0x" + util::hex(v.bytes_value());
    default:
      return {};
  }
}

// Strings are moved out of the parsed message, which is thrown away after conversion: a long
// string's buffer is taken over, not allocated and copied again.
// An empty field is not asked for mutably: that would allocate it.
template <typename Mutable>
std::string take(const std::string& value, Mutable&& mutable_field) {
  return value.empty() ? std::string() : std::move(*mutable_field());
}

AttrValue convert_value(pb::AnyValue& v) {
  switch (v.value_case()) {
    case pb::AnyValue::kStringValue:
      return take(v.string_value(), [&] { return v.mutable_string_value(); });
    case pb::AnyValue::kBoolValue:
      return v.bool_value();
    case pb::AnyValue::kIntValue:
      return static_cast<int64_t>(v.int_value());
    case pb::AnyValue::kDoubleValue:
      return v.double_value();
    case pb::AnyValue::kArrayValue:
    case pb::AnyValue::kKvlistValue:
    case pb::AnyValue::kBytesValue:
      return Composite{composite_text(v)};
    case pb::AnyValue::VALUE_NOT_SET:
      return std::monostate{};
  }
  return std::monostate{};
}

Attributes convert_attributes(google::protobuf::RepeatedPtrField<pb::KeyValue>& kvs) {
  Attributes out;
  out.reserve(static_cast<size_t>(kvs.size()));
  for (auto& kv : kvs)
    out.push_back(Attribute{take(kv.key(), [&] { return kv.mutable_key(); }),
                            convert_value(*kv.mutable_value())});
  return out;
}

Scope convert_scope(pb::InstrumentationScope& s) {
  return Scope{take(s.name(), [&] { return s.mutable_name(); }),
               take(s.version(), [&] { return s.mutable_version(); })};
}

void convert_points(google::protobuf::RepeatedPtrField<pb::NumberDataPoint>& in,
                    std::vector<NumberPoint>& out) {
  out.reserve(static_cast<size_t>(in.size()));
  for (auto& p : in) {
    NumberPoint np;
    np.attributes = convert_attributes(*p.mutable_attributes());
    np.attributes_hash = hash_attributes(np.attributes);
    np.start_ns = p.start_time_unix_nano();
    np.time_ns = p.time_unix_nano();
    np.flags = p.flags();
    if (p.value_case() == pb::NumberDataPoint::kAsDouble) {
      np.value = p.as_double();
    } else if (p.value_case() == pb::NumberDataPoint::kAsInt) {
      np.value = static_cast<double>(p.as_int());
    }
    out.push_back(std::move(np));
  }
}

Temporality convert_temporality(pb::AggregationTemporality t) {
  switch (t) {
    case pb::AGGREGATION_TEMPORALITY_DELTA:
      return Temporality::kDelta;
    case pb::AGGREGATION_TEMPORALITY_CUMULATIVE:
      return Temporality::kCumulative;
    default:
      return Temporality::kUnspecified;
  }
}

MetricsRequest convert(pb::ExportMetricsServiceRequest& req) {
  MetricsRequest out;
  out.resources.reserve(static_cast<size_t>(req.resource_metrics_size()));
  for (auto& rm : *req.mutable_resource_metrics()) {
    ResourceMetrics r;
    r.resource = std::make_shared<const Attributes>(
        convert_attributes(*rm.mutable_resource()->mutable_attributes()));
    r.resource_hash = hash_attributes(*r.resource);
    for (auto& sm : *rm.mutable_scope_metrics()) {
      ScopeMetrics s;
      s.scope = convert_scope(*sm.mutable_scope());
      for (auto& m : *sm.mutable_metrics()) {
        Metric metric;
        metric.name = take(m.name(), [&] { return m.mutable_name(); });
        metric.unit = take(m.unit(), [&] { return m.mutable_unit(); });
        switch (m.data_case()) {
          case pb::Metric::kSum:
            metric.kind = MetricKind::kSum;
            metric.temporality = convert_temporality(m.sum().aggregation_temporality());
            metric.monotonic = m.sum().is_monotonic();
            convert_points(*m.mutable_sum()->mutable_data_points(), metric.points);
            break;
          case pb::Metric::kGauge:
            metric.kind = MetricKind::kGauge;
            convert_points(*m.mutable_gauge()->mutable_data_points(), metric.points);
            break;
          case pb::Metric::kHistogram:
            metric.kind = MetricKind::kHistogram;
            metric.opaque_points = static_cast<size_t>(m.histogram().data_points_size());
            break;
          case pb::Metric::kExponentialHistogram:
            metric.kind = MetricKind::kExponentialHistogram;
            metric.opaque_points =
                static_cast<size_t>(m.exponential_histogram().data_points_size());
            break;
          case pb::Metric::kSummary:
            metric.kind = MetricKind::kSummary;
            metric.opaque_points = static_cast<size_t>(m.summary().data_points_size());
            break;
          case pb::Metric::DATA_NOT_SET:
            break;
        }
        s.metrics.push_back(std::move(metric));
      }
      r.scopes.push_back(std::move(s));
    }
    out.resources.push_back(std::move(r));
  }
  return out;
}

LogsRequest convert(pb::ExportLogsServiceRequest& req) {
  LogsRequest out;
  out.resources.reserve(static_cast<size_t>(req.resource_logs_size()));
  for (auto& rl : *req.mutable_resource_logs()) {
    ResourceLogs r;
    r.resource = std::make_shared<const Attributes>(
        convert_attributes(*rl.mutable_resource()->mutable_attributes()));
    r.resource_hash = hash_attributes(*r.resource);
    for (auto& sl : *rl.mutable_scope_logs()) {
      ScopeLogs s;
      s.scope = convert_scope(*sl.mutable_scope());
      s.records.reserve(static_cast<size_t>(sl.log_records_size()));
      for (auto& lr : *sl.mutable_log_records()) {
        LogRecord rec;
        rec.time_ns = lr.time_unix_nano();
        rec.observed_ns = lr.observed_time_unix_nano();
        if (lr.body().value_case() == pb::AnyValue::kStringValue)
          rec.body = take(lr.body().string_value(),
                          [&] { return lr.mutable_body()->mutable_string_value(); });
        rec.event_name = take(lr.event_name(), [&] { return lr.mutable_event_name(); });
        rec.attributes = convert_attributes(*lr.mutable_attributes());
        rec.attributes_hash = hash_attributes(rec.attributes);
        s.records.push_back(std::move(rec));
      }
      r.scopes.push_back(std::move(s));
    }
    out.resources.push_back(std::move(r));
  }
  return out;
}

TracesRequest convert(const pb::ExportTraceServiceRequest& req) {
  TracesRequest out;
  for (const auto& rs : req.resource_spans())
    for (const auto& ss : rs.scope_spans())
      out.span_count += static_cast<size_t>(ss.spans_size());
  return out;
}

template <typename Msg>
std::optional<std::string> parse(std::string_view body, Encoding encoding, Msg& msg) {
  silence_protobuf_logging();
  if (encoding == Encoding::kProtobuf) {
    if (body.size() > static_cast<size_t>(INT32_MAX) ||
        !msg.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return "request body is not a valid protobuf " + msg.GetDescriptor()->name() +
             " (application/x-protobuf)";
    }
    return std::nullopt;
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // OTLP/JSON receivers must ignore unknown fields
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &msg, options);
  if (!status.ok()) {
    std::string detail(status.message());
    if (detail.size() > 300) detail = detail.substr(0, 300) + "...";
    return "request body is not valid OTLP/JSON for " + msg.GetDescriptor()->name() + ": " + detail;
  }
  return std::nullopt;
}

template <typename Out, typename Msg>
Decoded<Out> decode(std::string_view body, Encoding encoding) {
  // The parsed tree lives in an arena whose first block is this thread's buffer: a typical
  // export parses and is freed without a malloc per message and string.
  alignas(8) static thread_local char first_block[64 * 1024];
  google::protobuf::ArenaOptions options;
  options.initial_block = first_block;
  options.initial_block_size = sizeof first_block;
  google::protobuf::Arena arena(options);
  Msg& msg = *google::protobuf::Arena::CreateMessage<Msg>(&arena);
  if (auto err = parse(body, encoding, msg)) return DecodeError{std::move(*err)};
  return convert(msg);
}

}  // namespace

Decoded<MetricsRequest> decode_metrics(std::string_view body, Encoding encoding) {
  if (encoding == Encoding::kProtobuf) {
    if (auto read = read_metrics_wire(body)) return std::move(*read);
  }
  return decode_metrics_with_libprotobuf(body, encoding);
}

Decoded<LogsRequest> decode_logs(std::string_view body, Encoding encoding) {
  if (encoding == Encoding::kProtobuf) {
    if (auto read = read_logs_wire(body)) return std::move(*read);
  }
  return decode_logs_with_libprotobuf(body, encoding);
}

Decoded<MetricsRequest> decode_metrics_with_libprotobuf(std::string_view body, Encoding encoding) {
  return decode<MetricsRequest, pb::ExportMetricsServiceRequest>(body, encoding);
}

Decoded<LogsRequest> decode_logs_with_libprotobuf(std::string_view body, Encoding encoding) {
  return decode<LogsRequest, pb::ExportLogsServiceRequest>(body, encoding);
}

Decoded<TracesRequest> decode_traces(std::string_view body, Encoding encoding) {
  return decode<TracesRequest, pb::ExportTraceServiceRequest>(body, encoding);
}

}  // namespace cce::otlp
