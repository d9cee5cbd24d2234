#include "cce/server/basic_auth.h"

#include <crypt.h>
#include <openssl/evp.h>

#include <memory>

#include "cce/util/strings.h"

namespace cce::server {
namespace {

std::string base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return {};
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i)
    ++pad;  // EVP_DecodeBlock counts padding as output
  if (n < 0 || pad > 2 || static_cast<size_t>(n) < pad) return {};
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return util::hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace

bool BasicAuth::allowed(const std::string& authorization) {
  if (users_.empty()) return false;
  const std::string_view header = util::trim(authorization);
  const auto credentials = util::credentials_after(header, "basic ");
  if (!credentials) return false;
  const std::string decoded = base64_decode(util::trim(*credentials));
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  const std::string user = decoded.substr(0, colon);
  const std::string password = decoded.substr(colon + 1);
  auto it = users_.find(user);
  // An unknown user costs a bcrypt run too, so timing does not tell which users exist.
  const std::string& hash = it == users_.end() ? users_.begin()->second : it->second;
  const std::string token = user + '\0' + sha256(password);
  if (it != users_.end()) {
    std::lock_guard lock(mu_);
    if (verified_.count(token)) return true;
  }
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof *data);
  if (!hashed || !util::constant_time_equal(hashed, hash) || it == users_.end()) return false;
  std::lock_guard lock(mu_);
  if (verified_.size() > 1000) verified_.clear();  // bounded: a few users, a few passwords
  verified_.insert(token);
  return true;
}

}  // namespace cce::server
