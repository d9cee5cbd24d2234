#include "cce/config/web_config.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <array>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "cce/config/config.h"
#include "cce/util/openssl_error.h"
#include "cce/util/strings.h"

namespace cce::config {
namespace {

// The YAML this format needs: nested mappings of scalars ("key: value", "key:" then an indented
// block), comments, and quoted or plain scalars. Anything else is an error with its line.
struct Node {
  int line = 0;
  std::string scalar;
  std::vector<std::pair<std::string, Node>> children;
  bool is_map = false;
};

std::string unquote(std::string_view v, const std::string& where) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      out += v[i];
      if (v[i] == '\'' && v[i + 1] == '\'') ++i;  // '' is a quote
    }
    return out;
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  if (!v.empty() && (v.front() == '[' || v.front() == '{' || v.front() == '&' || v.front() == '*' ||
                     v.front() == '|' || v.front() == '>')) {
    throw ConfigError(where + ": only plain or quoted values are supported here");
  }
  return std::string(v);
}

// The text before a comment ('#' at the start or after a space, outside quotes).
std::string_view strip_comment(std::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ')) {
      return line.substr(0, i);
    }
  }
  return line;
}

Node parse_yaml(const std::string& text, const std::string& path) {
  Node root;
  root.is_map = true;
  // The open mappings, with the indentation of their keys.
  std::vector<std::pair<Node*, int>> stack{{&root, 0}};
  std::istringstream in(text);
  std::string raw;
  int lineno = 0;
  Node* pending = nullptr;  // a "key:" whose block has not started yet
  int pending_indent = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    const std::string where = path + ":" + std::to_string(lineno);
    std::string_view line = strip_comment(raw);
    if (util::trim(line).empty()) continue;
    if (line.find('\t') < line.find_first_not_of(" \t")) {
      throw ConfigError(where + ": indent with spaces, not tabs");
    }
    const int indent = static_cast<int>(line.find_first_not_of(' '));
    const std::string_view body = util::trim(line);
    if (body == "---") continue;
    if (body.front() == '-') throw ConfigError(where + ": lists are not supported here");
    if (pending) {
      if (indent > pending_indent) {
        pending->is_map = true;
        stack.emplace_back(pending, indent);
      }
      pending = nullptr;
    }
    while (stack.size() > 1 && indent < stack.back().second)
      stack.pop_back();
    if (indent != stack.back().second) throw ConfigError(where + ": unexpected indentation");
    const auto colon = body.find(": ");
    const bool opens = body.back() == ':' && (colon == std::string_view::npos);
    if (colon == std::string_view::npos && !opens) {
      throw ConfigError(where + ": expected \"key: value\" or \"key:\"");
    }
    const std::string key =
        unquote(util::trim(body.substr(0, opens ? body.size() - 1 : colon)), where);
    Node& parent = *stack.back().first;
    for (const auto& [k, v] : parent.children) {
      if (k == key) throw ConfigError(where + ": " + key + " is given twice");
    }
    Node node;
    node.line = lineno;
    if (!opens) node.scalar = unquote(util::trim(body.substr(colon + 2)), where);
    parent.children.emplace_back(key, std::move(node));
    if (opens) {
      pending = &parent.children.back().second;
      pending_indent = indent;
    }
  }
  return root;
}

// Indexed by WebConfig::ClientAuth.
constexpr std::array<std::string_view, 5> kClientAuthNames = {
    "NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert"};

std::string resolve(const std::string& file, const std::string& config_path) {
  if (file.empty() || file.front() == '/') return file;
  const auto slash = config_path.rfind('/');
  return slash == std::string::npos ? file : config_path.substr(0, slash + 1) + file;
}

}  // namespace

std::string_view to_string(WebConfig::ClientAuth a) {
  return kClientAuthNames[static_cast<size_t>(a)];
}

WebConfig parse_web_config(const std::string& yaml, const std::string& path) {
  WebConfig w;
  w.path = path;
  const Node root = parse_yaml(yaml, path);
  auto fail = [&](const Node& n, const std::string& key, const std::string& msg) -> ConfigError {
    return ConfigError(path + ":" + std::to_string(n.line) + ": " + key + ": " + msg);
  };
  auto expect_map = [&](const Node& n, const std::string& key) {
    if (!n.is_map && !n.scalar.empty()) throw fail(n, key, "expected a block of \"key: value\"");
  };
  for (const auto& [section, node] : root.children) {
    if (section == "tls_server_config") {
      expect_map(node, section);
      WebConfig::Tls tls;
      for (const auto& [key, v] : node.children) {
        const std::string full = section + "." + key;
        if (key == "cert_file") {
          tls.cert_file = resolve(v.scalar, path);
        } else if (key == "key_file") {
          tls.key_file = resolve(v.scalar, path);
        } else if (key == "client_ca_file") {
          tls.client_ca_file = resolve(v.scalar, path);
        } else if (key == "client_auth_type") {
          bool found = false;
          std::string allowed;
          for (size_t i = 0; i < kClientAuthNames.size(); ++i) {
            allowed += (i ? ", " : "") + std::string(kClientAuthNames[i]);
            if (v.scalar == kClientAuthNames[i]) {
              tls.client_auth = static_cast<WebConfig::ClientAuth>(i);
              found = true;
            }
          }
          if (!found) throw fail(v, full, "\"" + v.scalar + "\" is not one of " + allowed);
        } else if (key == "min_version") {
          if (v.scalar == "TLS10") {
            tls.min_version = TLS1_VERSION;
          } else if (v.scalar == "TLS11") {
            tls.min_version = TLS1_1_VERSION;
          } else if (v.scalar == "TLS12") {
            tls.min_version = TLS1_2_VERSION;
          } else if (v.scalar == "TLS13") {
            tls.min_version = TLS1_3_VERSION;
          } else {
            throw fail(v, full, "\"" + v.scalar + "\" is not one of TLS10, TLS11, TLS12, TLS13");
          }
        } else if (key == "max_version" || key == "cipher_suites" || key == "curve_preferences" ||
                   key == "prefer_server_cipher_suites" || key == "client_allowed_sans" ||
                   key == "cert" || key == "key" || key == "client_ca") {
          throw fail(v, full,
                     "not supported by claude-code-exporter; supported: cert_file, key_file, "
                     "client_auth_type, client_ca_file, min_version");
        } else {
          throw fail(v, full, "unknown key");
        }
      }
      if (tls.cert_file.empty() || tls.key_file.empty()) {
        throw fail(node, section, "needs both cert_file and key_file");
      }
      const bool verifies = tls.client_auth == WebConfig::ClientAuth::kVerifyClientCertIfGiven ||
                            tls.client_auth == WebConfig::ClientAuth::kRequireAndVerifyClientCert;
      if (verifies && tls.client_ca_file.empty()) {
        throw fail(node, section,
                   "client_auth_type verifies client certificates: set client_ca_file");
      }
      if (!verifies && !tls.client_ca_file.empty()) {
        throw fail(node, section,
                   "client_ca_file is set but client_auth_type does not verify client certificates "
                   "(use RequireAndVerifyClientCert or VerifyClientCertIfGiven)");
      }
      w.tls = tls;
    } else if (section == "basic_auth_users") {
      expect_map(node, section);
      for (const auto& [user, v] : node.children) {
        const std::string& hash = v.scalar;
        // Never echo the hash: it is a secret too.
        if (hash.rfind("$2y$", 0) != 0 && hash.rfind("$2b$", 0) != 0 &&
            hash.rfind("$2a$", 0) != 0) {
          throw fail(
              v, section + "." + user,
              "must be a bcrypt hash ($2y$…, e.g. from htpasswd -nBC 10 \"\" | tr -d ':\\n')");
        }
        if (user.find(':') != std::string::npos)
          throw fail(v, section, "a user name may not contain ':'");
        w.basic_auth_users[user] = hash;
      }
    } else if (section == "http_server_config") {
      throw fail(node, section, "not supported by claude-code-exporter");
    } else {
      throw fail(node, section, "unknown key; allowed: tls_server_config, basic_auth_users");
    }
  }
  return w;
}

WebConfig load_web_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read the web config file");
  std::stringstream ss;
  ss << in.rdbuf();
  WebConfig w = parse_web_config(ss.str(), path);
  if (!w.tls) return w;
  // Load once now, so a bad file stops the agent at start-up with OpenSSL's reason.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  const auto& t = *w.tls;
  SSL_CTX_set_default_passwd_cb(ctx.get(), [](char*, int, int, void*) { return 0; });
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1) {
    throw ConfigError(path + ": tls_server_config.cert_file \"" + t.cert_file +
                      "\": " + util::openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw ConfigError(path + ": tls_server_config.key_file \"" + t.key_file +
                      "\": " + util::openssl_error());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw ConfigError(path + ": tls_server_config.key_file \"" + t.key_file +
                      "\" does not match cert_file \"" + t.cert_file +
                      "\": " + util::openssl_error());
  }
  if (!t.client_ca_file.empty() &&
      SSL_CTX_load_verify_locations(ctx.get(), t.client_ca_file.c_str(), nullptr) != 1) {
    throw ConfigError(path + ": tls_server_config.client_ca_file \"" + t.client_ca_file +
                      "\": " + util::openssl_error());
  }
  return w;
}

}  // namespace cce::config
