#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "cce/config/web_config.h"

namespace cce::server {

// A listener's certificate and key, served to each handshake and reloaded when the files
// change (checked at most once a second) or on request (SIGHUP). A reload that fails keeps the
// pair in use and logs why.
class TlsCertificates {
 public:
  // Loads the pair; throws std::runtime_error naming the file and OpenSSL's reason.
  TlsCertificates(std::string cert_file, std::string key_file);
  ~TlsCertificates();

  // True when a new pair was loaded.
  bool reload(bool force);
  // The certificate callback: puts the current pair on the connection.
  int use(SSL* ssl);

 private:
  struct Pair;
  std::shared_ptr<Pair> load() const;
  std::string stamp() const;  // size and mtime of both files

  std::string cert_file_;
  std::string key_file_;
  std::mutex mu_;
  std::shared_ptr<Pair> current_;
  std::string stamp_;
  std::chrono::steady_clock::time_point last_check_{};
};

// Configures a server context from tls_server_config: minimum version, client certificates,
// and the certificate callback.
bool setup_tls(SSL_CTX& ctx, const config::WebConfig::Tls& tls, TlsCertificates& certs);

}  // namespace cce::server
