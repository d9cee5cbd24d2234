#pragma once

#include <map>
#include <mutex>
#include <string>

namespace cce::admin {

// Which API source counts which organization. Two sources that report the same organization
// (the Admin API report and the Enterprise Analytics API) would count every number twice, and
// the agent's API data belongs to one organization. Thread-safe.
class OrganizationClaims {
 public:
  // `one_organization`: the agent reports one organization, so any second source reporting one
  // is refused; otherwise each claimant is its own configured organization and only the same
  // organization twice is refused.
  explicit OrganizationClaims(bool one_organization = true) : one_(one_organization) {}
  // "" when `source` may count `organization_id`; otherwise why not (for the log).
  std::string claim(const std::string& source, const std::string& organization_id);

 private:
  bool one_;
  std::mutex mu_;
  std::map<std::string, std::string> by_source_;  // source -> organization id
};

}  // namespace cce::admin
