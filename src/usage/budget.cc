#include "cce/usage/budget.h"

namespace cce::usage {

std::string_view to_string(Budget::Scope s) {
  switch (s) {
    case Budget::Scope::kOrg:
      return "org";
    case Budget::Scope::kTeam:
      return "team";
    case Budget::Scope::kUser:
      return "user";
  }
  return "org";
}

std::string_view to_string(Budget::Period p) {
  return p == Budget::Period::kMonth ? "month" : "day";
}

}  // namespace cce::usage
