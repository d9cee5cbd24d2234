#include <doctest/doctest.h>

#include <filesystem>

#include "cce/config/config.h"
#include "cce/config/web_config.h"
#include "cce/server/basic_auth.h"
#include "test_support.h"

using namespace cce;
using config::WebConfig;

// One bad web config per error in tests/testdata/web-config, with the message the user sees in
// <name>.expected (UPDATE_GOLDEN=1 rewrites them).
TEST_CASE("each bad web config file fails with its documented message") {
  const int files = test::check_golden_errors("web-config", ".yml",
                                              [](const std::string& text, const std::string& name) {
                                                config::parse_web_config(text, name);
                                              });
  CHECK(files >= 9);
}

TEST_CASE("a web config: TLS with client certificates and basic auth users") {
  const auto w = config::parse_web_config(R"(# exporter-toolkit format
tls_server_config:
  cert_file: certs/server.crt     # relative to this file
  key_file: "/etc/cce/server.key"
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: 'clients ca.crt'
  min_version: TLS13

basic_auth_users:
  prometheus: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi
  "ops user": $2b$04$abcdefghijklmnopqrstuuQOauhQNbBCuQDKes6eFzPeMqBSjb7M
)",
                                          "/etc/cce/web.yml");
  REQUIRE(w.tls);
  CHECK(w.tls->cert_file == "/etc/cce/certs/server.crt");
  CHECK(w.tls->key_file == "/etc/cce/server.key");
  CHECK(w.tls->client_ca_file == "/etc/cce/clients ca.crt");
  CHECK(w.tls->client_auth == WebConfig::ClientAuth::kRequireAndVerifyClientCert);
  CHECK(w.tls->min_version == 0x0304);
  CHECK(w.basic_auth_users.size() == 2);
  CHECK(w.basic_auth_users.count("ops user") == 1);
  CHECK(w.enabled());
  CHECK_FALSE(config::parse_web_config("", "empty.yml").enabled());
}

TEST_CASE("an error about a password hash never shows the hash") {
  try {
    config::parse_web_config("basic_auth_users:\n  alice: s3cret-plain\n", "w.yml");
    FAIL("expected a ConfigError");
  } catch (const config::ConfigError& e) {
    CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
    CHECK(std::string(e.what()).find("basic_auth_users.alice") != std::string::npos);
  }
}

TEST_CASE("a missing or bad certificate is named with OpenSSL's reason") {
  test::TempDir dir;
  std::ofstream(dir.file("web.yml"))
      << "tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n";
  const std::string named = "tls_server_config.cert_file \"" + dir.file("nope.crt") + "\"";
  CHECK_THROWS_WITH_AS(config::load_web_config(dir.file("web.yml")),
                       doctest::Contains(named.c_str()), config::ConfigError);
  std::ofstream(dir.file("bad.crt"))
      << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  std::ofstream(dir.file("web2.yml"))
      << "tls_server_config:\n  cert_file: bad.crt\n  key_file: nope.key\n";
  CHECK_THROWS_WITH_AS(config::load_web_config(dir.file("web2.yml")),
                       doctest::Contains("bad.crt\": error:"), config::ConfigError);
}

TEST_CASE("basic auth checks bcrypt hashes, and only the right password passes") {
  const std::string hash = test::bcrypt_hash("correct horse");
  REQUIRE(hash.rfind("$2b$04$", 0) == 0);
  server::BasicAuth auth(std::map<std::string, std::string>{{"prometheus", hash}});
  const auto header = test::basic_authorization;
  CHECK(auth.allowed(header("prometheus:correct horse")));
  CHECK(auth.allowed(header("prometheus:correct horse")));  // remembered
  CHECK_FALSE(auth.allowed(header("prometheus:wrong horse")));
  CHECK_FALSE(auth.allowed(header("someone:correct horse")));
  CHECK_FALSE(auth.allowed(header("prometheus")));
  CHECK_FALSE(auth.allowed("Bearer abc"));
  CHECK_FALSE(auth.allowed("Basic !!!!"));
  CHECK_FALSE(auth.allowed("Basic ===="));
  CHECK_FALSE(auth.allowed("Basic cHJvbWV0aGV1cw==="));
  CHECK_FALSE(auth.allowed(""));
}
