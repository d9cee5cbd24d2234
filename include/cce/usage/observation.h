#pragma once

// The normalized vocabulary shared by both sources: who (Actor), which day (Date), what
// (Quantity + labels) and how much. Decoders produce these; the ledger stores them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cce/usage/quantity.h"
#include "cce/util/civil_date.h"

namespace cce::usage {

enum class ActorType : uint8_t { kUser, kApiKey, kAccount, kInstall };
std::string_view to_string(ActorType t);
std::optional<ActorType> parse_actor_type(std::string_view s);

// Identifies an actor: the `actor` label value plus its type. Users are keyed by lower-cased
// email, so the same person seen by both sources is one actor.
struct ActorId {
  ActorType type = ActorType::kInstall;
  std::string id;

  auto operator<=>(const ActorId&) const = default;
  // Storage key, e.g. "user:dev@example.com", "install:0123…".
  std::string key() const;
  static std::optional<ActorId> from_key(std::string_view key);
};

// Label values joined by '\x1f' (a byte no label value of ours contains).
using LabelValues = std::string;
LabelValues join_labels(std::initializer_list<std::string_view> values);
LabelValues join_labels(const std::vector<std::string>& values);
std::vector<std::string_view> split_labels(std::string_view joined);

struct Observation {
  ActorId actor;
  util::Date date;
  Quantity quantity;
  LabelValues labels;
  double value = 0;
};

// Histogram buckets (seconds) for API request durations.
const std::vector<double>& duration_buckets();

}  // namespace cce::usage
