#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cce::config {

// A listener's TLS and basic-auth settings, in the format of Prometheus' exporter-toolkit web
// configuration file (YAML; the subset of keys below). One file per listener:
// otlp.web_config_file, exposition.web_config_file.
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths are relative to this file
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: clients-ca.crt
//     min_version: TLS12
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
struct WebConfig {
  enum class ClientAuth {
    kNoClientCert,
    kRequestClientCert,
    kRequireAnyClientCert,
    kVerifyClientCertIfGiven,
    kRequireAndVerifyClientCert,
  };
  struct Tls {
    std::string cert_file;
    std::string key_file;
    ClientAuth client_auth = ClientAuth::kNoClientCert;
    std::string client_ca_file;
    int min_version = 0x0303;  // TLS 1.2 (OpenSSL's TLS1_2_VERSION)
  };
  std::string path;  // the file, for messages; empty: no web config
  std::optional<Tls> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash (secret)

  bool enabled() const { return tls.has_value() || !basic_auth_users.empty(); }
};

// The client_auth_type names, as written in the file.
std::string_view to_string(WebConfig::ClientAuth a);

// Parses the YAML text; `path` resolves relative file names and names the file in errors.
// Throws ConfigError naming the file and key. Pure (no file is read).
WebConfig parse_web_config(const std::string& yaml, const std::string& path);
// Reads and parses the file, then loads the certificate, key and client CA once, so a bad one
// is reported at start-up (and by --check-config) with the file and OpenSSL's reason.
WebConfig load_web_config(const std::string& path);

}  // namespace cce::config
