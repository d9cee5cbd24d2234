#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cce/usage/ledger_types.h"

namespace cce::usage {

// email -> team from the config: an exact email (or API key name) first, then glob patterns
// ("*@research.example.com", "ops-*@example.com"); among patterns the most specific (most
// literal characters) wins. Otherwise the team the actor's OTel data named. Pure.
class TeamResolver {
 public:
  explicit TeamResolver(const std::map<std::string, std::string>& map);
  std::string team(const ActorInfo& actor) const;

 private:
  std::map<std::string, std::string> exact_;
  std::vector<std::pair<std::string, std::string>> patterns_;  // most specific first
};

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace cce::usage
