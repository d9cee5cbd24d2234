#pragma once

#include <string>
#include <string_view>

namespace cce::usage {

// A configured cost budget, exposed as claude_code_budget_usd for the alert rules.
struct Budget {
  enum class Scope { kOrg, kTeam, kUser };
  enum class Period { kDay, kMonth };
  Scope scope = Scope::kOrg;
  std::string name;  // "org", a team, or a user's lower-cased email
  Period period = Period::kDay;
  double usd = 0;
  std::string org = {};  // the configured organization it belongs to ("" with one)
};

// The `scope` and `period` label values: org, team, user; day, month.
std::string_view to_string(Budget::Scope s);
std::string_view to_string(Budget::Period p);

}  // namespace cce::usage
