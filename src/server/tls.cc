#include "cce/server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <stdexcept>

#include "cce/util/openssl_error.h"

namespace cce::server {
namespace {

int no_passphrase(char*, int, int, void*) {
  return 0;
}

int accept_any_certificate(int, X509_STORE_CTX*) {
  return 1;
}

}  // namespace

struct TlsCertificates::Pair {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  STACK_OF(X509) * chain = nullptr;
  ~Pair() {
    X509_free(cert);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
  }
};

TlsCertificates::TlsCertificates(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  current_ = load();
  stamp_ = stamp();
  last_check_ = std::chrono::steady_clock::now();
}

TlsCertificates::~TlsCertificates() = default;

std::shared_ptr<TlsCertificates::Pair> TlsCertificates::load() const {
  auto pair = std::make_shared<Pair>();
  auto fail = [](const std::string& what, const std::string& file) {
    return std::runtime_error(what + " \"" + file + "\": " + util::openssl_error());
  };
  std::unique_ptr<FILE, decltype(&fclose)> cf(fopen(cert_file_.c_str(), "r"), fclose);
  if (!cf) throw std::runtime_error("cannot read cert_file \"" + cert_file_ + "\"");
  pair->cert = PEM_read_X509(cf.get(), nullptr, nullptr, nullptr);
  if (!pair->cert) throw fail("cert_file", cert_file_);
  pair->chain = sk_X509_new_null();
  while (X509* extra = PEM_read_X509(cf.get(), nullptr, nullptr, nullptr))
    sk_X509_push(pair->chain, extra);
  ERR_clear_error();  // the end of the file reads as an error
  std::unique_ptr<FILE, decltype(&fclose)> kf(fopen(key_file_.c_str(), "r"), fclose);
  if (!kf) throw std::runtime_error("cannot read key_file \"" + key_file_ + "\"");
  // No passphrase prompt: an encrypted key must fail, not wait on a terminal.
  pair->key = PEM_read_PrivateKey(kf.get(), nullptr, no_passphrase, nullptr);
  if (!pair->key) throw fail("key_file", key_file_);
  if (X509_check_private_key(pair->cert, pair->key) != 1) {
    throw fail("key_file \"" + key_file_ + "\" does not match cert_file", cert_file_);
  }
  return pair;
}

std::string TlsCertificates::stamp() const {
  std::string out;
  for (const auto& f : {cert_file_, key_file_}) {
    struct stat st {};
    if (stat(f.c_str(), &st) == 0) {
      out += std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
             std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ino) + ";";
    }
  }
  return out;
}

bool TlsCertificates::reload(bool force) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_check_ < std::chrono::seconds(1)) return false;
  last_check_ = now;
  const std::string s = stamp();
  if (!force && s == stamp_) return false;
  stamp_ = s;
  try {
    current_ = load();
    spdlog::info("tls: loaded {} and {}", cert_file_, key_file_);
    return true;
  } catch (const std::exception& e) {
    spdlog::error("tls: reloading failed, the previous certificate stays in use: {}", e.what());
    return false;
  }
}

int TlsCertificates::use(SSL* ssl) {
  reload(false);
  std::shared_ptr<Pair> pair;
  {
    std::lock_guard lock(mu_);
    pair = current_;
  }
  return SSL_use_cert_and_key(ssl, pair->cert, pair->key, pair->chain, 1) == 1 ? 1 : 0;
}

bool setup_tls(SSL_CTX& ctx, const config::WebConfig::Tls& tls, TlsCertificates& certs) {
  using C = config::WebConfig::ClientAuth;
  SSL_CTX_set_min_proto_version(&ctx, tls.min_version);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cert_cb(
      &ctx, [](SSL* ssl, void* arg) { return static_cast<TlsCertificates*>(arg)->use(ssl); },
      &certs);
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(&ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      spdlog::error("tls: client_ca_file \"{}\": {}", tls.client_ca_file, util::openssl_error());
      return false;
    }
    SSL_CTX_set_client_CA_list(&ctx, SSL_load_client_CA_file(tls.client_ca_file.c_str()));
  }
  switch (tls.client_auth) {
    case C::kNoClientCert:
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case C::kRequestClientCert:
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, accept_any_certificate);
      break;
    case C::kRequireAnyClientCert:
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         accept_any_certificate);
      break;
    case C::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case C::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return true;
}

}  // namespace cce::server
