#include "cce/usage/identity.h"

#include "cce/util/strings.h"

namespace cce::usage {

using util::lower;

IdentityResolver::IdentityResolver(IdentityConfig config) : config_(std::move(config)) {}

std::optional<IdentityResolver::Resolved> IdentityResolver::resolve(
    const otlp::Attributes& point, const otlp::Attributes& resource) const {
  Resolved r;
  r.otel_org = otlp::text(point, resource, "organization.id");
  for (const auto& attr : config_.team_attributes) {
    r.otel_team = otlp::text(point, resource, attr);
    if (!r.otel_team.empty()) break;
  }

  const std::string email = lower(otlp::text(point, resource, "user.email"));
  const std::string account_uuid = otlp::text(point, resource, "user.account_uuid");
  const std::string account_id = otlp::text(point, resource, "user.account_id");
  const std::string install_id = otlp::text(point, resource, "user.id");

  if (!email.empty()) {
    r.actor = {ActorType::kUser, email};
    for (const auto* key : {&account_uuid, &account_id}) {
      if (key->empty()) continue;
      auto it = learned_.find(*key);
      if (it == learned_.end() || it->second != email) {
        r.learned = std::make_pair(*key, email);
        break;
      }
    }
    return r;
  }
  for (const auto& attr : config_.attributes) {
    std::string v = otlp::text(point, resource, attr);
    if (!v.empty()) {
      r.actor = {ActorType::kUser, v.find('@') != std::string::npos ? lower(v) : v};
      return r;
    }
  }
  for (const auto* key : {&account_uuid, &account_id, &install_id}) {
    if (key->empty()) continue;
    if (auto it = config_.aliases.find(*key); it != config_.aliases.end()) {
      r.actor = {ActorType::kUser, lower(it->second)};
      return r;
    }
  }
  for (const auto* key : {&account_uuid, &account_id}) {
    if (key->empty()) continue;
    if (auto it = learned_.find(*key); it != learned_.end()) {
      r.actor = {ActorType::kUser, it->second};
      return r;
    }
  }
  if (!account_id.empty()) {
    r.actor = {ActorType::kAccount, account_id};
    return r;
  }
  if (!account_uuid.empty()) {
    r.actor = {ActorType::kAccount, account_uuid};
    return r;
  }
  if (!install_id.empty()) {
    r.actor = {ActorType::kInstall, install_id};
    return r;
  }
  return std::nullopt;
}

}  // namespace cce::usage
