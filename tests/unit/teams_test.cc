#include <doctest/doctest.h>

#include "cce/usage/teams.h"

using namespace cce;
using usage::ActorInfo;
using usage::ActorType;

namespace {
ActorInfo user(const std::string& email, const std::string& otel_team = "") {
  return ActorInfo{{ActorType::kUser, email}, otel_team, 0, 0, {}};
}
}  // namespace

TEST_CASE("glob patterns: * is any run, ? one character, everything else literal") {
  CHECK(usage::glob_match("*@example.com", "dev@example.com"));
  CHECK_FALSE(usage::glob_match("*@example.com", "dev@example.com.evil"));
  CHECK(usage::glob_match("ops-*@example.com", "ops-alice@example.com"));
  CHECK_FALSE(usage::glob_match("ops-*@example.com", "dev-alice@example.com"));
  CHECK(usage::glob_match("dev?@example.com", "dev1@example.com"));
  CHECK_FALSE(usage::glob_match("dev?@example.com", "dev@example.com"));
  CHECK(usage::glob_match("*", ""));
  CHECK(usage::glob_match("a*b*c", "a-b-b-c"));
  CHECK_FALSE(usage::glob_match("a*b*c", "a-b-b-d"));
}

TEST_CASE("an exact entry beats a pattern; the most specific pattern wins") {
  usage::TeamResolver teams({{"*@example.com", "everyone"},
                             {"*@research.example.com", "research"},
                             {"ops-*@research.example.com", "ops"},
                             {"lead@research.example.com", "leads"}});
  CHECK(teams.team(user("lead@research.example.com")) == "leads");
  CHECK(teams.team(user("ops-bob@research.example.com")) == "ops");
  CHECK(teams.team(user("ann@research.example.com")) == "research");
  CHECK(teams.team(user("dev@example.com")) == "everyone");
}

TEST_CASE("map keys match emails in any case; API key names too; else the OTel team") {
  usage::TeamResolver teams({{"Lead@Example.com", "leads"}, {"CI-Bot", "platform"}});
  CHECK(teams.team(user("lead@example.com")) == "leads");
  CHECK(teams.team(ActorInfo{{ActorType::kApiKey, "ci-bot"}, "", 0, 0, {}}) == "platform");
  CHECK(teams.team(user("dev@example.com", "from-otel")) == "from-otel");
  CHECK(teams.team(user("dev@example.com")) == "");
}
