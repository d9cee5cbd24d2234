#pragma once

// The normalized vocabulary shared by both sources: who (Actor), which day (Date), what
// (Quantity + labels) and how much. Decoders produce these; the ledger stores them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Every quantity the agent accounts for. Each has a fixed list of label names (see
// label_names()); the values travel in Observation::labels in that order.
enum class Quantity : uint8_t {
  // Reported by both sources (merged daily values).
  kCostUsd,        // model
  kTokens,         // model, token_type
  kSessions,       //
  kLinesAdded,     //
  kLinesRemoved,   //
  kCommits,        //
  kPullRequests,   //
  kToolDecisions,  // tool, decision
  // OTel only.
  kActiveTime,           // activity
  kEditDecisions,        // tool, decision, language
  kApiRequests,          // model
  kApiErrors,            // model, status_code
  kApiDurationBucket,    // model, le (bucket upper bound, "+Inf" last)
  kApiDurationSum,       // model (seconds)
  kApiDurationCount,     // model
  kToolResults,          // tool_name, success
  kUserPrompts,          //
  kPermissionDecisions,  // tool_name, decision
};
inline constexpr size_t kQuantityCount = 18;

std::string_view to_string(Quantity q);  // stable storage name, e.g. "cost_usd"
std::optional<Quantity> parse_quantity(std::string_view s);
const std::vector<std::string_view>& label_names(Quantity q);
// True for the quantities the Admin API also reports (subject to the precedence rule).
bool is_merged(Quantity q);

// Label values joined by '\x1f' (a byte no label value of ours contains).
using LabelValues = std::string;
LabelValues join_labels(std::initializer_list<std::string_view> values);
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
