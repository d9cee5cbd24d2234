#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

namespace cce::server {

// HTTP basic authentication against bcrypt hashes (basic_auth_users of a web config file),
// verified with the system's libcrypt. A verified (user, password) pair is remembered as a
// SHA-256 digest, so bcrypt's deliberate cost is paid once per password, not per request.
class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  // The Authorization header's value ("Basic base64(user:password)").
  bool allowed(const std::string& authorization);

 private:
  std::map<std::string, std::string> users_;
  std::mutex mu_;
  std::set<std::string> verified_;
};

}  // namespace cce::server
