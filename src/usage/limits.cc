#include "cce/usage/limits.h"

#include <cstdio>

namespace cce::usage {

std::optional<Excess> excess(Quantity q, double value, const ValueLimits& l) {
  const auto [max, key] = q == Quantity::kCostUsd  ? std::pair{l.max_cost_usd, kLimitCost}
                          : q == Quantity::kTokens ? std::pair{l.max_tokens, kLimitTokens}
                                                   : std::pair{l.max_count, kLimitCount};
  if (!(value > max)) return std::nullopt;
  char buf[128];
  std::snprintf(buf, sizeof buf, " %g is above limits.%.*s (%g)", value,
                static_cast<int>(key.size()), key.data(), max);
  return Excess{key, std::string(to_string(q)) + buf};
}

bool truncate_label(std::string& s, size_t max) {
  if (s.size() <= max) return false;
  size_t cut = max;
  // Back up over continuation bytes (10xxxxxx) so the cut lands before a sequence's lead byte.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  s.resize(cut);
  return true;
}

bool is_capped_label(std::string_view name) {
  return name == "model" || name == "tool" || name == "tool_name" || name == "language" ||
         name == "status_code";
}

}  // namespace cce::usage
