#include "cce/usage/identity.h"

#include <cctype>

namespace cce::usage {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

IdentityResolver::IdentityResolver(IdentityConfig config) : config_(std::move(config)) {}

namespace {

std::string lookup(const otlp::Attributes& point, const otlp::Attributes& resource,
                   std::string_view key) {
  const otlp::AttrValue* v = otlp::find(point, key);
  if (!v || std::holds_alternative<std::monostate>(*v)) v = otlp::find(resource, key);
  if (!v) return {};
  return otlp::to_text(*v);
}

}  // namespace

std::optional<IdentityResolver::Resolved> IdentityResolver::resolve(
    const otlp::Attributes& point, const otlp::Attributes& resource) const {
  Resolved r;
  for (const auto& attr : config_.team_attributes) {
    r.otel_team = lookup(point, resource, attr);
    if (!r.otel_team.empty()) break;
  }

  const std::string email = lower(lookup(point, resource, "user.email"));
  const std::string account_uuid = lookup(point, resource, "user.account_uuid");
  const std::string account_id = lookup(point, resource, "user.account_id");
  const std::string install_id = lookup(point, resource, "user.id");

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
    std::string v = lookup(point, resource, attr);
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
