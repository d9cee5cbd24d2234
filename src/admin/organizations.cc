#include "cce/admin/organizations.h"

namespace cce::admin {

std::string OrganizationClaims::claim(const std::string& source,
                                      const std::string& organization_id) {
  std::lock_guard lock(mu_);
  for (const auto& [other, id] : by_source_) {
    if (other == source) continue;
    if (id == organization_id) {
      return source + " reports the same organization (" + organization_id + ") as " + other +
             "; counting both would double every number, so " + source +
             " is paused. Enable only one of them for this organization.";
    }
    if (!one_) continue;
    return source + " reports organization " + organization_id + ", but this agent's API data " +
           "already comes from " + id + " through " + other + "; " + source +
           " is paused. Configure each organization as an [[organizations]] entry.";
  }
  by_source_[source] = organization_id;
  return "";
}

}  // namespace cce::admin
