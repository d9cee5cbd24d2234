#pragma once

#include <string>

#include "cce/usage/ledger_types.h"

namespace cce::usage {

enum class ActorLabelMode { kEmail, kHash, kDomain };

// The `actor` label value under privacy.actor_label. For users: the email, a stable keyed hash
// (HMAC-SHA256 with the configured key, 16 hex characters, so per-user views still work), or
// only the domain. Other actor types are not personal addresses and keep their id. Pure.
class ActorLabeler {
 public:
  ActorLabeler(ActorLabelMode mode, std::string key) : mode_(mode), key_(std::move(key)) {}
  std::string label(const ActorId& actor) const;
  // The same transform for a bare email (user budgets).
  std::string label_email(const std::string& email) const;

 private:
  ActorLabelMode mode_;
  std::string key_;
};

std::string hmac_sha256_hex(const std::string& key, const std::string& data);

}  // namespace cce::usage
