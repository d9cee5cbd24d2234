#include "cce/usage/observation.h"

#include <array>

namespace cce::usage {

std::string_view to_string(ActorType t) {
  switch (t) {
    case ActorType::kUser:
      return "user";
    case ActorType::kApiKey:
      return "api_key";
    case ActorType::kAccount:
      return "account";
    case ActorType::kInstall:
      return "install";
  }
  return "install";
}

std::optional<ActorType> parse_actor_type(std::string_view s) {
  if (s == "user") return ActorType::kUser;
  if (s == "api_key") return ActorType::kApiKey;
  if (s == "account") return ActorType::kAccount;
  if (s == "install") return ActorType::kInstall;
  return std::nullopt;
}

std::string ActorId::key() const {
  std::string k(to_string(type));
  k += ':';
  k += id;
  return k;
}

std::optional<ActorId> ActorId::from_key(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto type = parse_actor_type(key.substr(0, colon));
  if (!type) return std::nullopt;
  return ActorId{*type, std::string(key.substr(colon + 1))};
}

std::optional<Quantity> parse_quantity(std::string_view s) {
  for (const auto& q : kQuantities) {
    if (q.name == s) return q.quantity;
  }
  return std::nullopt;
}

std::span<const std::string_view> label_names(Quantity q) {
  const auto& labels = info(q).labels;
  size_t n = 0;
  while (n < labels.size() && !labels[n].empty())
    ++n;
  return {labels.data(), n};
}

namespace {

template <typename Values>
LabelValues join(const Values& values) {
  LabelValues out;
  bool first = true;
  for (std::string_view v : values) {
    if (!first) out += '\x1f';
    first = false;
    // A client's value must not carry the separator: it would shift the values after it into
    // other labels (and past every bound on them).
    for (char c : v)
      out += c == '\x1f' ? ' ' : c;
  }
  return out;
}

}  // namespace

LabelValues join_labels(std::initializer_list<std::string_view> values) {
  return join(values);
}

LabelValues join_labels(const std::vector<std::string>& values) {
  return join(values);
}

std::vector<std::string_view> split_labels(std::string_view joined) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    auto pos = joined.find('\x1f', start);
    if (pos == std::string_view::npos) {
      out.push_back(joined.substr(start));
      break;
    }
    out.push_back(joined.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

const std::vector<double>& duration_buckets() {
  static const std::vector<double> kBuckets = {0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300};
  return kBuckets;
}

}  // namespace cce::usage
