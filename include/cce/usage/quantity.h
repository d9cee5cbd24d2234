#pragma once

// Every quantity the agent accounts for, as one table: adding a metric is one enum value and
// one row. The storage name, the label names, whether the Admin API reports it too (merged),
// the exposed families and the reconciliation-gap name are all read from here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace cce::usage {

enum class Quantity : uint8_t {
  // Reported by both sources (merged daily values).
  kCostUsd,
  kTokens,
  kSessions,
  kLinesAdded,
  kLinesRemoved,
  kCommits,
  kPullRequests,
  kToolDecisions,
  // OTel only.
  kActiveTime,
  kEditDecisions,
  kApiRequests,
  kApiErrors,
  kApiDurationBucket,
  kApiDurationSum,
  kApiDurationCount,
  kToolResults,
  kUserPrompts,
  kPermissionDecisions,
  kCount_,  // not a quantity: the number of them
};
inline constexpr size_t kQuantityCount = static_cast<size_t>(Quantity::kCount_);

struct QuantityInfo {
  Quantity quantity;
  std::string_view name;  // stable storage name, e.g. "cost_usd"
  std::array<std::string_view, 3> labels;
  // Both sources report it: subject to the precedence rule, a daily gauge and a gap.
  bool merged;
  std::string_view daily_family;  // merged daily gauge; empty when OTel only
  std::string_view daily_help;
  // Counter family; empty for the parts of the duration histogram (rendered as one family).
  std::string_view total_family;
  std::string_view total_help;
  std::string_view gap;  // `quantity` label of claude_code_reconciliation_gap; empty if none
};

// clang-format off
inline constexpr std::array<QuantityInfo, kQuantityCount> kQuantities = {{
    {Quantity::kCostUsd, "cost_usd", {"model"}, true,
     "claude_code_daily_cost_usd",
     "Estimated cost in USD per UTC day (merged: the Admin API where it has the day, else OTel).",
     "claude_code_cost_usd_total",
     "Estimated cost in USD, merged over all stored days; never decreases.", "cost_usd"},
    {Quantity::kTokens, "tokens", {"model", "token_type"}, true,
     "claude_code_daily_tokens", "Tokens per UTC day by type (merged).",
     "claude_code_tokens_total", "Tokens by type, merged over all stored days; never decreases.",
     "tokens"},
    {Quantity::kSessions, "sessions", {}, true,
     "claude_code_daily_sessions", "Claude Code sessions started per UTC day (merged).",
     "claude_code_sessions_total", "Claude Code sessions started, merged; never decreases.",
     "sessions"},
    {Quantity::kLinesAdded, "lines_added", {}, true,
     "claude_code_daily_lines_added", "Lines of code added per UTC day (merged).",
     "claude_code_lines_added_total", "Lines of code added, merged; never decreases.",
     "lines_added"},
    {Quantity::kLinesRemoved, "lines_removed", {}, true,
     "claude_code_daily_lines_removed", "Lines of code removed per UTC day (merged).",
     "claude_code_lines_removed_total", "Lines of code removed, merged; never decreases.",
     "lines_removed"},
    {Quantity::kCommits, "commits", {}, true,
     "claude_code_daily_commits", "Git commits made by Claude Code per UTC day (merged).",
     "claude_code_commits_total", "Git commits made by Claude Code, merged; never decreases.",
     "commits"},
    {Quantity::kPullRequests, "pull_requests", {}, true,
     "claude_code_daily_pull_requests", "Pull requests created by Claude Code per UTC day (merged).",
     "claude_code_pull_requests_total",
     "Pull requests created by Claude Code, merged; never decreases.", "pull_requests"},
    {Quantity::kToolDecisions, "tool_decisions", {"tool", "decision"}, true,
     "claude_code_daily_tool_decisions", "Edit-tool permission decisions per UTC day (merged).",
     "claude_code_tool_decisions_total", "Edit-tool permission decisions, merged; never decreases.",
     "tool_decisions"},
    {Quantity::kActiveTime, "active_time_seconds", {"activity"}, false, "", "",
     "claude_code_active_time_seconds_total",
     "Active time in seconds (OTel): user = typing, cli = tools and model responses.", ""},
    {Quantity::kEditDecisions, "edit_decisions", {"tool", "decision", "language"}, false, "", "",
     "claude_code_otel_edit_decisions_total",
     "Edit-tool decisions as OTel reports them, with the file language.", ""},
    {Quantity::kApiRequests, "api_requests", {"model"}, false, "", "",
     "claude_code_api_requests_total",
     "Model API requests made by Claude Code (OTel api_request events).", ""},
    {Quantity::kApiErrors, "api_errors", {"model", "status_code"}, false, "", "",
     "claude_code_api_errors_total",
     "Model API requests that finally failed (OTel api_error events); status_code=\"none\" when "
     "no HTTP status was received.", ""},
    // The three parts of claude_code_api_request_duration_seconds, summed over actors.
    {Quantity::kApiDurationBucket, "api_duration_bucket", {"model", "le"}, false, "", "", "", "",
     ""},
    {Quantity::kApiDurationSum, "api_duration_sum", {"model"}, false, "", "", "", "", ""},
    {Quantity::kApiDurationCount, "api_duration_count", {"model"}, false, "", "", "", "", ""},
    {Quantity::kToolResults, "tool_results", {"tool_name", "success"}, false, "", "",
     "claude_code_tool_results_total",
     "Tool executions by tool and success (OTel tool_result events).", ""},
    {Quantity::kUserPrompts, "user_prompts", {}, false, "", "",
     "claude_code_user_prompts_total", "Prompts submitted by users (OTel user_prompt events).", ""},
    {Quantity::kPermissionDecisions, "permission_decisions", {"tool_name", "decision"}, false, "",
     "", "claude_code_permission_decisions_total",
     "Permission decisions for any tool (OTel tool_decision events).", ""},
}};
// clang-format on

// A row per quantity, in enum order, each complete: a missing or misplaced row does not compile.
consteval bool quantity_table_complete() {
  for (size_t i = 0; i < kQuantityCount; ++i) {
    const auto& q = kQuantities[i];
    if (static_cast<size_t>(q.quantity) != i || q.name.empty()) return false;
    if (q.merged != !q.daily_family.empty() || q.merged != !q.gap.empty()) return false;
    if (q.daily_family.empty() != q.daily_help.empty()) return false;
    if (q.total_family.empty() != q.total_help.empty()) return false;
  }
  return true;
}
static_assert(quantity_table_complete(), "usage::kQuantities needs one complete row per Quantity");

inline const QuantityInfo& info(Quantity q) {
  return kQuantities[static_cast<size_t>(q)];
}
inline std::string_view to_string(Quantity q) {
  return info(q).name;
}
std::optional<Quantity> parse_quantity(std::string_view s);
// The label names, in the order the values travel in Observation::labels.
std::span<const std::string_view> label_names(Quantity q);
// True for the quantities the Admin API also reports (subject to the precedence rule).
inline bool is_merged(Quantity q) {
  return info(q).merged;
}

}  // namespace cce::usage
