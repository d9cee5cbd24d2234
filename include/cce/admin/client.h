#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cce::admin {

struct HttpResult {
  int status = 0;  // 0: no (complete) HTTP answer; see `reason`
  std::string body;
  std::optional<double> retry_after_seconds;  // from a retry-after header
  std::string error;                          // why there was no answer
  // With status 0: "network" (connection, TLS or read failure), "deadline" (the whole request
  // took longer than request_timeout), "too_large" (beyond max_response_bytes).
  std::string reason = "network";
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// A GET on an organization API (the pollers' view of it; tests script it).
class ApiGetter {
 public:
  virtual ~ApiGetter() = default;
  // `path` from the API root, e.g. "/v1/organizations/usage_report/claude_code".
  virtual HttpResult get(const std::string& path, const QueryParams& params) = 0;
};

// GETs on {base_url}{path} over HTTPS (or HTTP for a loopback test server). Sends x-api-key,
// anthropic-version and a User-Agent naming the agent. Never logs or returns the key. Not
// thread-safe.
class ApiClient final : public ApiGetter {
 public:
  // `timeout` bounds the whole request (connect, headers and body), not each read. `section`
  // names the config section in messages ("admin_api").
  ApiClient(std::string base_url, std::string api_key, std::chrono::milliseconds timeout,
            size_t max_response_bytes, std::string section);
  ~ApiClient() override;

  HttpResult get(const std::string& path, const QueryParams& params) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::admin
