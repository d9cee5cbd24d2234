#include "cce/otlp/wire_reader.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "cce/util/strings.h"

namespace cce::otlp {
namespace {

static_assert(std::endian::native == std::endian::little, "fixed-width fields are read in place");

enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

constexpr uint32_t tag(uint32_t field, Wire wire) {
  return field << 3 | wire;
}

// One message's bytes. Every read checks the bounds; false means the bytes are not what they
// claim, and the reader gives the whole export to libprotobuf.
class Cursor {
 public:
  explicit Cursor(std::string_view s)
      : p_(reinterpret_cast<const uint8_t*>(s.data())), end_(p_ + s.size()) {}
  bool done() const { return p_ == end_; }

  bool varint(uint64_t& v) {
    if (p_ != end_ && *p_ < 0x80) {
      v = *p_++;
      return true;
    }
    v = 0;
    for (int shift = 0; shift < 64 && p_ != end_; shift += 7) {
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      // A tenth byte holds the last bit; more than that is libprotobuf's to judge.
      if (b < 0x80) return shift < 63 || b <= 1;
    }
    return false;
  }
  bool fixed64(uint64_t& v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return true;
  }
  bool bytes(std::string_view& s) {
    uint64_t n = 0;
    if (!varint(n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    s = {reinterpret_cast<const char*>(p_), static_cast<size_t>(n)};
    p_ += n;
    return true;
  }
  bool text(std::string_view& s) { return bytes(s) && util::valid_utf8(s); }
  // A field this reader does not read, as libprotobuf skips an unknown one. Groups (wire types
  // 3 and 4) and the invalid wire types are left to libprotobuf.
  bool skip(uint32_t wire) {
    uint64_t v = 0;
    std::string_view s;
    switch (wire) {
      case kVarint:
        return varint(v);
      case kFixed64:
        return advance(8);
      case kLen:
        return bytes(s);
      case kFixed32:
        return advance(4);
      default:
        return false;
    }
  }

 private:
  bool advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

// Calls on(tag, cursor) for each field of the message `msg`; `on` reads the field's value (or
// skips it) and returns false to give up.
template <typename On>
bool each_field(std::string_view msg, On&& on) {
  Cursor c(msg);
  while (!c.done()) {
    uint64_t t = 0;
    if (!c.varint(t) || t > UINT32_MAX || t >> 3 == 0) return false;
    if (!on(static_cast<uint32_t>(t), c)) return false;
  }
  return true;
}

// A singular message field: libprotobuf merges a second occurrence into the first.
bool once(bool& seen) {
  if (seen) return false;
  seen = true;
  return true;
}

// Reads each `field` of `msg`, a repeated message field, with `item`; skips the other fields.
template <typename Item>
bool repeated(std::string_view msg, uint32_t field, Item&& item) {
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    if (t != tag(field, kLen)) return c.skip(t & 7);
    return c.bytes(s) && item(s);
  });
}

// Values nest (arrays of arrays, lists of lists); deeper ones are left to libprotobuf, which
// allows a hundred messages deep.
constexpr int kMaxNesting = 32;

bool any_value(std::string_view msg, AttrValue& out, int depth = 0);
bool key_value(std::string_view msg, Attribute& out, int depth = 0);

// Arrays and key-value lists as the decoder writes them, "[a,b]" and "{k=v,...}": `open`, the
// text `item` appends for each element, commas between, then `close`.
template <typename Item>
bool list_text(std::string_view msg, char open, char close, std::string& text, Item&& item) {
  text = open;
  bool first = true;
  const bool ok = repeated(msg, 1, [&](std::string_view element) {
    if (!first) text += ',';
    first = false;
    return item(element);
  });
  text += close;
  return ok;
}

bool array_text(std::string_view msg, int depth, std::string& text) {
  return list_text(msg, '[', ']', text, [&](std::string_view element) {
    AttrValue v;
    if (!any_value(element, v, depth + 1)) return false;
    text += to_text(v);
    return true;
  });
}

bool kvlist_text(std::string_view msg, int depth, std::string& text) {
  return list_text(msg, '{', '}', text, [&](std::string_view element) {
    Attribute kv;
    if (!key_value(element, kv, depth + 1)) return false;
    text += kv.key + "=" + to_text(kv.value);
    return true;
  });
}

bool any_value(std::string_view msg, AttrValue& out, int depth) {
  if (depth > kMaxNesting) return false;
  bool had_list = false;  // a second array or list would merge into the first

  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    uint64_t v = 0;
    switch (t) {
      case tag(1, kLen):
        if (!c.text(s)) return false;
        out.emplace<std::string>(s);
        return true;
      case tag(2, kVarint):
        if (!c.varint(v)) return false;
        out = v != 0;
        return true;
      case tag(3, kVarint):
        if (!c.varint(v)) return false;
        out = static_cast<int64_t>(v);
        return true;
      case tag(4, kFixed64):
        if (!c.fixed64(v)) return false;
        out = std::bit_cast<double>(v);
        return true;
      case tag(5, kLen):
      case tag(6, kLen): {
        std::string text;
        if (!once(had_list) || !c.bytes(s)) return false;
        if (!(t == tag(5, kLen) ? array_text(s, depth, text) : kvlist_text(s, depth, text)))
          return false;
        out = Composite{std::move(text)};
        return true;
      }
      case tag(7, kLen):
        if (!c.bytes(s)) return false;
        out = Composite{"0x" + util::hex(s)};
        return true;
      default:
        return c.skip(t & 7);
    }
  });
}

bool key_value(std::string_view msg, Attribute& out, int depth) {
  bool has_value = false;
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    switch (t) {
      case tag(1, kLen):
        if (!c.text(s)) return false;
        out.key.assign(s);
        return true;
      case tag(2, kLen):
        return once(has_value) && c.bytes(s) && any_value(s, out.value, depth);
      default:
        return c.skip(t & 7);
    }
  });
}

bool attribute(Cursor& c, Attributes& out) {
  std::string_view s;
  return c.bytes(s) && key_value(s, out.emplace_back());
}

// How many `field_tag` fields `msg` holds, to size a vector once (growing one attribute at a
// time moved every key and value several times over). Malformed bytes end the count early.
size_t count(std::string_view msg, uint32_t field_tag) {
  size_t n = 0;
  each_field(msg, [&](uint32_t t, Cursor& c) {
    n += t == field_tag;
    return c.skip(t & 7);
  });
  return n;
}

bool resource(std::string_view msg, Attributes& out) {
  out.reserve(count(msg, tag(1, kLen)));
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    return t == tag(1, kLen) ? attribute(c, out) : c.skip(t & 7);
  });
}

bool scope(std::string_view msg, Scope& out) {
  Attributes unread;  // parsed all the same: libprotobuf would refuse them if they were bad
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    switch (t) {
      case tag(1, kLen):
        if (!c.text(s)) return false;
        out.name.assign(s);
        return true;
      case tag(2, kLen):
        if (!c.text(s)) return false;
        out.version.assign(s);
        return true;
      case tag(3, kLen):
        return attribute(c, unread);
      default:
        return c.skip(t & 7);
    }
  });
}

// ScopeLogs and ScopeMetrics: a scope (once) and items (records or metrics) read by `item`.
template <typename Out, typename Item>
bool scope_with(std::string_view msg, Out& out, std::vector<Item>& items,
                bool (*item)(std::string_view, Item&)) {
  items.reserve(count(msg, tag(2, kLen)));
  bool has_scope = false;
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    switch (t) {
      case tag(1, kLen):
        return once(has_scope) && c.bytes(s) && scope(s, out.scope);
      case tag(2, kLen):
        return c.bytes(s) && item(s, items.emplace_back());
      default:
        return c.skip(t & 7);
    }
  });
}

// ResourceLogs and ResourceMetrics: a resource (once) and scopes read by `read_scope`.
template <typename Out, typename ReadScope>
bool resource_with(std::string_view msg, Out& out, ReadScope&& read_scope) {
  out.scopes.reserve(count(msg, tag(2, kLen)));
  bool has_resource = false;
  Attributes attrs;
  const bool ok = each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    switch (t) {
      case tag(1, kLen):
        return once(has_resource) && c.bytes(s) && resource(s, attrs);
      case tag(2, kLen):
        return c.bytes(s) && read_scope(s, out.scopes.emplace_back());
      default:
        return c.skip(t & 7);
    }
  });
  if (!ok) return false;
  out.resource_hash = hash_attributes(attrs);
  out.resource = std::make_shared<const Attributes>(std::move(attrs));
  return true;
}

// ---- logs ----

bool log_record(std::string_view msg, LogRecord& out) {
  out.attributes.reserve(count(msg, tag(6, kLen)));
  bool has_body = false;
  const bool ok = each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    switch (t) {
      case tag(1, kFixed64):
        return c.fixed64(out.time_ns);
      case tag(11, kFixed64):
        return c.fixed64(out.observed_ns);
      case tag(5, kLen): {
        AttrValue body;
        if (!once(has_body) || !c.bytes(s) || !any_value(s, body)) return false;
        if (auto* text = std::get_if<std::string>(&body)) out.body = std::move(*text);
        return true;
      }
      case tag(6, kLen):
        return attribute(c, out.attributes);
      case tag(12, kLen):
        if (!c.text(s)) return false;
        out.event_name.assign(s);
        return true;
      default:
        return c.skip(t & 7);
    }
  });
  if (ok) out.attributes_hash = hash_attributes(out.attributes);
  return ok;
}

bool resource_logs(std::string_view msg, ResourceLogs& out) {
  return resource_with(msg, out, [](std::string_view s, ScopeLogs& scope_logs) {
    return scope_with(s, scope_logs, scope_logs.records, log_record);
  });
}

// ---- metrics ----

bool number_point(std::string_view msg, NumberPoint& out) {
  out.attributes.reserve(count(msg, tag(7, kLen)));
  const bool ok = each_field(msg, [&](uint32_t t, Cursor& c) {
    uint64_t v = 0;
    switch (t) {
      case tag(7, kLen):
        return attribute(c, out.attributes);
      case tag(2, kFixed64):
        return c.fixed64(out.start_ns);
      case tag(3, kFixed64):
        return c.fixed64(out.time_ns);
      case tag(4, kFixed64):
        if (!c.fixed64(v)) return false;
        out.value = std::bit_cast<double>(v);
        return true;
      case tag(6, kFixed64):
        if (!c.fixed64(v)) return false;
        out.value = static_cast<double>(static_cast<int64_t>(v));
        return true;
      case tag(8, kVarint):
        if (!c.varint(v)) return false;
        out.flags = static_cast<uint32_t>(v);
        return true;
      default:
        return c.skip(t & 7);
    }
  });
  if (ok) out.attributes_hash = hash_attributes(out.attributes);
  return ok;
}

// A Gauge, or a Sum (`sum`) with its two fields more.
bool number_points(std::string_view msg, bool sum, Metric& out) {
  out.points.reserve(count(msg, tag(1, kLen)));
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    uint64_t v = 0;
    if (!sum && t != tag(1, kLen)) return c.skip(t & 7);
    switch (t) {
      case tag(1, kLen):
        return c.bytes(s) && number_point(s, out.points.emplace_back());
      case tag(2, kVarint):  // aggregation_temporality, an open enum
        if (!c.varint(v)) return false;
        switch (static_cast<int32_t>(v)) {
          case 1:
            out.temporality = Temporality::kDelta;
            break;
          case 2:
            out.temporality = Temporality::kCumulative;
            break;
          default:
            out.temporality = Temporality::kUnspecified;
        }
        return true;
      case tag(3, kVarint):  // is_monotonic
        if (!c.varint(v)) return false;
        out.monotonic = v != 0;
        return true;
      default:
        return c.skip(t & 7);
    }
  });
}

// Histogram, exponential histogram and summary points are counted, not read: each is a message
// whose fields all go unread, checked as libprotobuf checks unknown fields.
bool counted_points(std::string_view msg, Metric& out) {
  return repeated(msg, 1, [&](std::string_view point) {
    ++out.opaque_points;
    return each_field(point, [](uint32_t t, Cursor& c) { return c.skip(t & 7); });
  });
}

bool metric(std::string_view msg, Metric& out) {
  bool has_data = false;
  return each_field(msg, [&](uint32_t t, Cursor& c) {
    std::string_view s;
    const auto data = [&](MetricKind kind) {
      if (!once(has_data) || !c.bytes(s)) return false;
      out.kind = kind;
      if (kind == MetricKind::kGauge || kind == MetricKind::kSum)
        return number_points(s, kind == MetricKind::kSum, out);
      return counted_points(s, out);
    };
    switch (t) {
      case tag(1, kLen):
        if (!c.text(s)) return false;
        out.name.assign(s);
        return true;
      case tag(2, kLen):  // description: unread, but a string all the same
        return c.text(s);
      case tag(3, kLen):
        if (!c.text(s)) return false;
        out.unit.assign(s);
        return true;
      case tag(5, kLen):
        return data(MetricKind::kGauge);
      case tag(7, kLen):
        return data(MetricKind::kSum);
      case tag(9, kLen):
        return data(MetricKind::kHistogram);
      case tag(10, kLen):
        return data(MetricKind::kExponentialHistogram);
      case tag(11, kLen):
        return data(MetricKind::kSummary);
      default:
        return c.skip(t & 7);
    }
  });
}

bool resource_metrics(std::string_view msg, ResourceMetrics& out) {
  return resource_with(msg, out, [](std::string_view s, ScopeMetrics& scope_metrics) {
    return scope_with(s, scope_metrics, scope_metrics.metrics, metric);
  });
}

}  // namespace

std::optional<MetricsRequest> read_metrics_wire(std::string_view body) {
  MetricsRequest out;
  out.resources.reserve(count(body, tag(1, kLen)));
  if (!repeated(body, 1, [&](std::string_view s) {
        return resource_metrics(s, out.resources.emplace_back());
      }))
    return std::nullopt;
  return out;
}

std::optional<LogsRequest> read_logs_wire(std::string_view body) {
  LogsRequest out;
  out.resources.reserve(count(body, tag(1, kLen)));
  if (!repeated(body, 1,
                [&](std::string_view s) { return resource_logs(s, out.resources.emplace_back()); }))
    return std::nullopt;
  return out;
}

}  // namespace cce::otlp
