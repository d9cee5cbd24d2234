#pragma once

// Bounds on what a client or the Admin API can make the agent count and expose. Every bound has
// a config key in [limits] (the `key` strings below, also the `limit` label of
// claude_code_exporter_limit_hits_total) and a line in docs/operations.md.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cce/usage/quantity.h"

namespace cce::usage {

struct ValueLimits {
  // The largest value one OTel data point or one Admin API row (one day) may carry; larger ones
  // are rejected (OTel: in the partial-success answer; Admin API: the record is skipped).
  double max_cost_usd = 10000;
  double max_tokens = 1e10;
  double max_count = 1e7;  // sessions, lines, commits, PRs, decisions, prompts, seconds
  // Points and events dated further ahead of the receiving clock are rejected.
  std::chrono::milliseconds max_future_skew{std::chrono::minutes(10)};
  // Label values (and actor ids, teams) are cut to this many bytes, on a UTF-8 boundary.
  size_t max_label_length = 256;
  // Distinct values per actor of model, tool, tool_name, language and status_code; further
  // values are folded into "__other__".
  size_t max_label_values_per_actor = 100;
  // Account -> email pairs remembered from OTel data (so account-only points find their user).
  size_t max_learned_identities = 100000;
};

inline constexpr std::string_view kLimitCost = "max_cost_usd";
inline constexpr std::string_view kLimitTokens = "max_tokens";
inline constexpr std::string_view kLimitCount = "max_count";
inline constexpr std::string_view kLimitFutureSkew = "max_future_skew";
inline constexpr std::string_view kLimitLabelLength = "max_label_length";
inline constexpr std::string_view kLimitLabelValues = "max_label_values_per_actor";
inline constexpr std::string_view kLimitLearnedIdentities = "max_learned_identities";

// A value beyond the bound its quantity is held to (cost, tokens or other counts): the
// bound's key, and a message naming both ("cost_usd 1e+308 is above limits.max_cost_usd
// (10000)").
struct Excess {
  std::string_view key;
  std::string message;
};
std::optional<Excess> excess(Quantity q, double value, const ValueLimits& limits);

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence; true when it cut.
bool truncate_label(std::string& s, size_t max);

// Whether a label's distinct values per actor are capped.
bool is_capped_label(std::string_view name);

}  // namespace cce::usage
