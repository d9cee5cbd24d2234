#include <doctest/doctest.h>

#include <toml++/toml.h>
#include <filesystem>
#include <set>

#include "cce/config/config.h"
#include "test_support.h"

using namespace cce;

// One bad file per error in tests/testdata/config, each with the exact message the user sees
// in <name>.expected. Set UPDATE_GOLDEN=1 to rewrite them (and review the diff).
TEST_CASE("each bad config file fails with its documented message") {
  const int files = test::check_golden_errors(
      "config", ".toml",
      [](const std::string& text, const std::string& name) { config::parse(text, name); });
  CHECK(files >= 10);
}

TEST_CASE("the example config is valid and equals the built-in defaults") {
  const auto example =
      config::parse(test::read_file(std::string(CCE_TESTDATA_DIR) + "/../../config.example.toml"),
                    "config.example.toml");
  const auto defaults = config::parse("", "defaults");
  CHECK(config::to_toml(example) == config::to_toml(defaults));
}

TEST_CASE("listen addresses") {
  CHECK(config::parse_listen("0.0.0.0:4318", "k").host == "0.0.0.0");
  CHECK(config::parse_listen("[::1]:4318", "k").host == "::1");
  CHECK(config::parse_listen("[::1]:4318", "k").str() == "[::1]:4318");
  CHECK_THROWS_AS(config::parse_listen("::1:4318", "k"), config::ConfigError);
  CHECK_THROWS_AS(config::parse_listen("127.0.0.1:70000", "k"), config::ConfigError);
}

TEST_CASE("secrets come from the environment and files, and are never printed") {
  test::TempDir dir;
  std::ofstream(dir.file("tokens")) << "file-token-1\n\nfile-token-2\n";
  auto c = config::parse("[otlp]\nauth_tokens_file = \"" + dir.file("tokens") + "\"\n", "t");
  config::apply_environment(c, [](const char* name) -> const char* {
    return std::string(name) == "CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS" ? "env-a, env-b" : nullptr;
  });
  CHECK(c.otlp.auth_tokens ==
        std::vector<std::string>{"env-a", "env-b", "file-token-1", "file-token-2"});
  const std::string printed = config::to_toml(c);
  CHECK(printed.find("env-a") == std::string::npos);
  CHECK(printed.find("file-token") == std::string::npos);
  CHECK(printed.find("<redacted>") != std::string::npos);

  auto missing = config::parse("[otlp]\nauth_tokens_file = \"/nonexistent/tokens\"\n", "t");
  CHECK_THROWS_WITH_AS(
      config::apply_environment(missing, [](const char*) -> const char* { return nullptr; }),
      doctest::Contains("otlp.auth_tokens_file"), config::ConfigError);
}

namespace {
void collect_keys(const toml::table& t, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& [k, v] : t) {
    const std::string key =
        prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    out.insert(key);
    if (auto* sub = v.as_table(); sub && key.rfind("identity.aliases", 0) != 0 &&
                                  key.rfind("teams.map", 0) != 0 &&
                                  key.rfind("pricing.models", 0) != 0) {
      collect_keys(*sub, key, out);
    }
  }
}
}  // namespace

TEST_CASE("config.example.toml lists every key the agent knows") {
  std::set<std::string> known, listed;
  collect_keys(toml::parse(config::to_toml(config::parse("", "defaults"))), "", known);
  collect_keys(toml::parse_file(std::string(CCE_TESTDATA_DIR) + "/../../config.example.toml"), "",
               listed);
  for (const auto& k : known) {
    CAPTURE(k);
    CHECK(listed.count(k) == 1);
  }
}

TEST_CASE("pricing overrides, teams and budgets parse") {
  auto c = config::parse(R"(
[pricing]
cache_write_ttl = "1h"
[pricing.models."claude-opus-5-5"]
input = 4
output = 20.5
cache_read = 0.4
cache_write_5m = 5
cache_write_1h = 8
[teams]
map = { "*@research.example.com" = "research" }
[budgets.org]
day = 100
[budgets.users."Alice@Example.com"]
month = 30.5
)",
                         "t");
  CHECK(c.pricing.cache_write_ttl == usage::CacheTtl::k1h);
  REQUIRE(c.pricing.models.count("claude-opus-5-5") == 1);
  CHECK(c.pricing.models["claude-opus-5-5"].output == 20.5);
  CHECK(c.teams.map.at("*@research.example.com") == "research");
  REQUIRE(c.budgets.size() == 2);
  CHECK(c.budgets[1].scope == usage::Budget::Scope::kUser);
  CHECK(c.budgets[1].name == "alice@example.com");
  CHECK(c.budgets[1].period == usage::Budget::Period::kMonth);
  CHECK(c.budgets[1].usd == 30.5);
  CHECK_THROWS_WITH_AS(config::parse("[pricing.models.\"m\"]\ninput = -1\n", "t"),
                       doctest::Contains("pricing.models.m.input: must not be negative"),
                       config::ConfigError);
  CHECK_THROWS_WITH_AS(config::parse("[budgets.org]\nweek = 1\n", "t"),
                       doctest::Contains("budgets.org.week: unknown key"), config::ConfigError);
}

TEST_CASE("plain http is allowed only to loopback Admin API servers") {
  for (const char* ok : {"http://127.0.0.1:8080", "http://localhost", "http://[::1]:9/prefix",
                         "https://api.anthropic.com"}) {
    CAPTURE(ok);
    CHECK_NOTHROW(config::parse(std::string("[admin_api]\nbase_url = \"") + ok + "\"\n", "t"));
  }
  for (const char* bad : {"http://api.anthropic.com", "http://10.0.0.1:80", "http://[fe80::1]:80",
                          "http://localhost.example.com"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(config::parse(std::string("[admin_api]\nbase_url = \"") + bad + "\"\n", "t"),
                    config::ConfigError);
  }
}

TEST_CASE("--check-config prints every section, and what it prints parses back to the same") {
  auto c = config::parse(R"(
[store]
synchronous = "normal"
retention_days = 120
[admin_api]
backfill_days = 90
[enterprise_analytics]
backfill_days = 100
[pricing]
cache_write_ttl = "1h"
[pricing.models."claude-opus-5-5"]
input = 4
output = 20.5
[teams]
map = { "*@research.example.com" = "research", "ci-bot" = "platform" }
[budgets.org]
day = 100
month = 2000
[budgets.teams.research]
day = 40
[budgets.users."alice@example.com"]
month = 30.5
[limits]
max_actors = 500
[privacy]
actor_label = "domain"
[merge]
otel_for_today = true
)",
                         "t");
  const std::string printed = config::to_toml(c);
  for (const char* section :
       {"http", "otlp", "exposition", "store", "identity", "admin_api", "enterprise_analytics",
        "merge", "pricing", "teams", "budgets", "limits", "privacy", "log"}) {
    CAPTURE(section);
    CHECK(toml::parse(printed).contains(section));
  }
  CHECK(config::to_toml(config::parse(printed, "printed")) == printed);
  for (const char* shown :
       {"retention_days = 120", "synchronous = 'normal'", "cache_write_ttl = '1h'", "output = 20.5",
        "ci-bot = 'platform'", "month = 2000", "research", "month = 30.5", "max_actors = 500",
        "actor_label = 'domain'", "otel_for_today = true"}) {
    CAPTURE(shown);
    CHECK(printed.find(shown) != std::string::npos);
  }
}

TEST_CASE("the privacy hash key is never printed") {
  auto c = config::parse("[privacy]\nactor_label = \"hash\"\n", "t");
  config::apply_environment(c, [](const char* name) -> const char* {
    return std::string(name) == "CLAUDE_CODE_EXPORTER_PRIVACY_KEY"
               ? "a-secret-of-32-characters-long!!"
               : nullptr;
  });
  CHECK(c.privacy.hash_key == "a-secret-of-32-characters-long!!");
  const std::string printed = config::to_toml(c);
  CHECK(printed.find("actor_label = 'hash'") != std::string::npos);
  CHECK(printed.find("a-secret") == std::string::npos);
}

TEST_CASE("[[organizations]]: each entry with its source's defaults, teams, budgets and key") {
  const char* text = R"(
[[organizations]]
name = "console"
source = "admin_api"
key_env = "CONSOLE_ADMIN_KEY"
organization_id = "0f7c1c55-9d0e-4c1a-9a3e-0123456789ab"
teams = { "*@console.example.com" = "platform" }
[organizations.budgets.org]
day = 100
[organizations.budgets.users."Ana@example.com"]
month = 40

[[organizations]]
name = "enterprise"
key_file = "/nonexistent/key"
refresh_days = 10
spend_limits_interval = "5m"
[organizations.budgets.teams.research]
month = 500
)";
  auto c = config::parse(text, "t");
  REQUIRE(c.organizations.size() == 2);
  const auto& console = c.organizations[0];
  CHECK(console.source == "admin_api");
  CHECK(console.api.poll_interval == std::chrono::minutes(15));  // the report's defaults
  CHECK(console.api.refresh_days == 3);
  CHECK(console.teams.at("*@console.example.com") == "platform");
  REQUIRE(console.budgets.size() == 2);
  CHECK(console.budgets[1].name == "ana@example.com");
  const auto& ent = c.organizations[1];
  CHECK(ent.source == "enterprise_analytics");
  CHECK(ent.api.poll_interval == std::chrono::hours(1));  // the Analytics API's defaults
  CHECK(ent.api.refresh_days == 10);
  CHECK(ent.api.spend_limits_interval == std::chrono::minutes(5));
  const std::string printed = config::to_toml(c);
  CHECK(config::to_toml(config::parse(printed, "printed")) == printed);

  // Keys: from key_env; the wrong kind is named; a missing variable is an error.
  auto env_with = [](std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  };
  auto one = config::parse(R"(
[[organizations]]
name = "console"
source = "admin_api"
key_env = "CONSOLE_ADMIN_KEY"
)",
                           "t");
  auto ok = one;
  config::apply_environment(ok, env_with({{"CONSOLE_ADMIN_KEY", "sk-ant-admin01-abc"}}));
  CHECK(ok.organizations[0].api.key == "sk-ant-admin01-abc");
  CHECK(ok.organizations[0].api.key_source == "CONSOLE_ADMIN_KEY");
  auto message = [&](config::Config c2, std::map<std::string, std::string> vars) {
    try {
      config::apply_environment(c2, env_with(vars));
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message(one, {}) ==
        "organizations[0] (console): the environment variable CONSOLE_ADMIN_KEY (key_env) is not "
        "set; it must hold the Admin API key (sk-ant-admin…)");
  const std::string wrong = message(one, {{"CONSOLE_ADMIN_KEY", "sk-ant-api01-secretvalue"}});
  CHECK(wrong.find("CONSOLE_ADMIN_KEY holds a claude.ai Enterprise key (sk-ant-api01…)") == 0);
  CHECK(wrong.find("an entry with source = \"enterprise_analytics\"") != std::string::npos);
  CHECK(wrong.find("secretvalue") == std::string::npos);
  CHECK(message(one, {{"CONSOLE_ADMIN_KEY", "sk-ant-admin01-abc"},
                      {"ANTHROPIC_ADMIN_API_KEY", "sk-ant-admin01-other"}})
            .find("ANTHROPIC_ADMIN_API_KEY is set, but [[organizations]] entries are "
                  "configured") == 0);
  auto no_key = config::parse("[[organizations]]\nname = \"x\"\n", "t");
  CHECK(message(no_key, {}) ==
        "organizations[0] (x): no key: set key_env to the environment variable that holds the "
        "Enterprise Analytics API key (sk-ant-api01…), or key_file to a file that does");
}
