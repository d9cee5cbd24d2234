#include "cce/otlp/types.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cce/util/hash.h"

namespace cce::otlp {

const AttrValue* find(const Attributes& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

const AttrValue* find(const Attributes& point, const Attributes& resource, std::string_view key) {
  const AttrValue* v = find(point, key);
  if (!v || std::holds_alternative<std::monostate>(*v)) v = find(resource, key);
  return v;
}

std::string text(const Attributes& point, const Attributes& resource, std::string_view key) {
  const AttrValue* v = find(point, resource, key);
  return v ? to_text(*v) : std::string();
}

namespace {
// A value's text form, written into `buf` where it is not already text. One definition for
// to_text and the attribute hash (which must not allocate per value).
std::string_view text_view(const AttrValue& v, std::array<char, 64>& buf) {
  struct Visitor {
    std::array<char, 64>& buf;
    std::string_view operator()(std::monostate) const { return {}; }
    std::string_view operator()(const std::string& s) const { return s; }
    std::string_view operator()(bool b) const { return b ? "true" : "false"; }
    std::string_view operator()(int64_t i) const {
      auto r = std::to_chars(buf.data(), buf.data() + buf.size(), i);
      return {buf.data(), static_cast<size_t>(r.ptr - buf.data())};
    }
    std::string_view operator()(double d) const {
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
      auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
      return {buf.data(), static_cast<size_t>(r.ptr - buf.data())};
    }
    std::string_view operator()(const Composite& c) const { return c.text; }
  };
  return std::visit(Visitor{buf}, v);
}
}  // namespace

std::string to_text(const AttrValue& v) {
  std::array<char, 64> buf;
  return std::string(text_view(v, buf));
}

std::optional<double> to_number(const AttrValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* s = std::get_if<std::string>(&v)) {
    if (s->empty() || s->size() > 64) return std::nullopt;
    // strtod accepts what we want ("55", "1.5", "1e3") but also leading spaces and hex; keep to
    // plain decimal forms.
    for (char c : *s) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
        return std::nullopt;
      }
    }
    char* end = nullptr;
    double d = std::strtod(s->c_str(), &end);
    if (end != s->c_str() + s->size() || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::string_view to_string(Encoding e) {
  return e == Encoding::kProtobuf ? "protobuf" : "json";
}

std::string_view to_string(Signal s) {
  switch (s) {
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
    case Signal::kTraces:
      return "traces";
  }
  return "unknown";
}

size_t MetricsRequest::point_count() const {
  size_t n = 0;
  for (const auto& r : resources)
    for (const auto& s : r.scopes)
      for (const auto& m : s.metrics)
        n += m.points.size() + m.opaque_points;
  return n;
}

size_t LogsRequest::record_count() const {
  size_t n = 0;
  for (const auto& r : resources)
    for (const auto& s : r.scopes)
      n += s.records.size();
  return n;
}

namespace {
// An attribute to sort by key: the key's first eight bytes as a big-endian number (zero-padded)
// order two keys as their bytes do unless they are equal, and then the whole keys decide. The
// comparisons come out as comparing the keys themselves, so the sort, and the hash, are the same.
struct ByKey {
  uint64_t prefix;
  const Attribute* attr;
  bool operator<(const ByKey& o) const {
    if (prefix != o.prefix) return prefix < o.prefix;
    return attr->key < o.attr->key;
  }
};

uint64_t key_prefix(const std::string& key) {
  unsigned char bytes[8] = {};
  std::memcpy(bytes, key.data(), std::min<size_t>(key.size(), 8));
  uint64_t v = 0;
  for (unsigned char b : bytes)
    v = v << 8 | b;
  return v;
}
}  // namespace

uint64_t hash_attributes(const Attributes& attrs) {
  // Sorted by key, so the order a client sends them in does not matter. What is sorted sits on
  // the stack for the usual few dozen attributes.
  constexpr size_t kOnStack = 64;
  std::array<ByKey, kOnStack> on_stack;
  std::vector<ByKey> on_heap;
  ByKey* sorted = on_stack.data();
  if (attrs.size() > kOnStack) {
    on_heap.resize(attrs.size());
    sorted = on_heap.data();
  }
  for (size_t i = 0; i < attrs.size(); ++i)
    sorted[i] = ByKey{key_prefix(attrs[i].key), &attrs[i]};
  std::sort(sorted, sorted + attrs.size());
  util::Hasher h;
  h.add_u64(attrs.size());
  std::array<char, 64> buf;
  for (size_t i = 0; i < attrs.size(); ++i) {
    h.add(sorted[i].attr->key);
    h.add_u64(sorted[i].attr->value.index());
    h.add(text_view(sorted[i].attr->value, buf));
  }
  return h.digest();
}

}  // namespace cce::otlp
