#include "cce/usage/actor_label.h"

#include <openssl/evp.h>

#include "cce/usage/ledger.h"
#include "cce/util/strings.h"

namespace cce::usage {

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out,
                 &len)) {
    return {};
  }
  return util::hex(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::string ActorLabeler::label_email(const std::string& email) const {
  switch (mode_) {
    case ActorLabelMode::kEmail:
      return email;
    case ActorLabelMode::kHash:
      return hmac_sha256_hex(key_, email).substr(0, 16);
    case ActorLabelMode::kDomain: {
      auto at = email.rfind('@');
      return at == std::string::npos ? email : email.substr(at + 1);
    }
  }
  return email;
}

std::string ActorLabeler::label(const ActorId& actor) const {
  if (actor.type != ActorType::kUser || actor.id == Ledger::kOverflowActor) return actor.id;
  return label_email(actor.id);
}

}  // namespace cce::usage
