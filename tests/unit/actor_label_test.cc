#include <doctest/doctest.h>

#include "cce/usage/actor_label.h"
#include "cce/usage/ledger.h"

using namespace cce;
using usage::ActorId;
using usage::ActorLabeler;
using usage::ActorLabelMode;
using usage::ActorType;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2") {
  CHECK(usage::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("user labels: the email, a keyed 16-character hash, or the domain") {
  const ActorId dev{ActorType::kUser, "dev@example.com"};
  CHECK(ActorLabeler(ActorLabelMode::kEmail, "").label(dev) == "dev@example.com");
  const std::string key = "0123456789abcdef0123456789abcdef";
  const std::string hashed = ActorLabeler(ActorLabelMode::kHash, key).label(dev);
  CHECK(hashed == usage::hmac_sha256_hex(key, "dev@example.com").substr(0, 16));
  CHECK(hashed.size() == 16);
  CHECK(ActorLabeler(ActorLabelMode::kHash, key + "x").label(dev) != hashed);  // keyed
  CHECK(ActorLabeler(ActorLabelMode::kHash, key).label_email("dev@example.com") == hashed);
  CHECK(ActorLabeler(ActorLabelMode::kDomain, "").label(dev) == "example.com");
}

TEST_CASE("other actor types and the overflow actor keep their id in every mode") {
  for (auto mode : {ActorLabelMode::kEmail, ActorLabelMode::kHash, ActorLabelMode::kDomain}) {
    ActorLabeler labeler(mode, "0123456789abcdef0123456789abcdef");
    CHECK(labeler.label({ActorType::kApiKey, "ci-bot"}) == "ci-bot");
    CHECK(labeler.label({ActorType::kInstall, "0123abcd"}) == "0123abcd");
    CHECK(labeler.label({ActorType::kUser, usage::Ledger::kOverflowActor}) == "__other__");
  }
}
