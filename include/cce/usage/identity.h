#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cce/otlp/types.h"
#include "cce/usage/observation.h"

namespace cce::usage {

struct IdentityConfig {
  // Extra attributes naming the user (e.g. "enduser.id"), tried after user.email.
  std::vector<std::string> attributes;
  // account uuid / account id / user.id -> email.
  std::map<std::string, std::string> aliases;
  // OTel attributes that may name a team, in order of preference.
  std::vector<std::string> team_attributes = {"team.id", "department"};
};

// Who sent a data point, resolved by the rule in docs/metrics.md:
// user.email -> configured identity attributes -> configured aliases -> an email learned
// earlier for the same account -> account id/uuid (`account`) -> user.id (`install`).
// Not thread-safe: owned by the single ingest thread.
class IdentityResolver {
 public:
  explicit IdentityResolver(IdentityConfig config);

  struct Resolved {
    ActorId actor;
    std::string otel_team;  // from the allow-listed attributes, may be empty
    std::string otel_org;   // organization.id, when the client is signed in
    // A new (account key -> email) pairing seen on this point, to be remembered.
    std::optional<std::pair<std::string, std::string>> learned;
  };

  // Attributes are looked up on the point first, then on the resource.
  std::optional<Resolved> resolve(const otlp::Attributes& point,
                                  const otlp::Attributes& resource) const;

  void remember(const std::string& account_key, const std::string& email) {
    learned_[account_key] = email;
  }
  const std::map<std::string, std::string>& learned() const { return learned_; }

 private:
  IdentityConfig config_;
  std::map<std::string, std::string> learned_;
};

}  // namespace cce::usage
