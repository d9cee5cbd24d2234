#include "cce/otlp/types.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

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
std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string to_text(const AttrValue& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return format_double(d); }
    std::string operator()(const Composite& c) const { return c.text; }
  };
  return std::visit(Visitor{}, v);
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

uint64_t hash_attributes(const Attributes& attrs) {
  std::vector<const Attribute*> sorted;
  sorted.reserve(attrs.size());
  for (const auto& a : attrs)
    sorted.push_back(&a);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->key < b->key; });
  util::Hasher h;
  h.add_u64(sorted.size());
  for (const auto* a : sorted) {
    h.add(a->key);
    h.add_u64(a->value.index());
    // The value's text form; a string is its own (hashed without a copy).
    if (const auto* s = std::get_if<std::string>(&a->value)) {
      h.add(*s);
    } else {
      h.add(to_text(a->value));
    }
  }
  return h.digest();
}

}  // namespace cce::otlp
