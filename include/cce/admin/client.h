#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cce/util/civil_date.h"

namespace cce::admin {

struct HttpResult {
  int status = 0;  // 0: no (complete) HTTP answer; see `reason`
  std::string body;
  std::optional<double> retry_after_seconds;  // from a retry-after header
  std::string error;                          // why there was no answer
  // With status 0: "network" (connection, TLS or read failure), "deadline" (the whole request
  // took longer than admin_api.request_timeout), "too_large" (beyond max_response_bytes).
  std::string reason = "network";
};

// One page of the Claude Code usage report for one UTC day (the poller's view of the API).
class ReportClient {
 public:
  virtual ~ReportClient() = default;
  virtual HttpResult fetch(util::Date day, const std::string& cursor) = 0;
};

// GET {base_url}/v1/organizations/usage_report/claude_code for one UTC day, one page, over
// HTTPS (or HTTP for a loopback test server). Sends x-api-key, anthropic-version and a
// User-Agent naming the agent. Never logs or returns the key. Not thread-safe.
class UsageReportClient final : public ReportClient {
 public:
  // `timeout` bounds the whole request (connect, headers and body), not each read.
  UsageReportClient(std::string base_url, std::string api_key, std::chrono::milliseconds timeout,
                    size_t max_response_bytes = 64u << 20);
  ~UsageReportClient() override;

  HttpResult fetch(util::Date day, const std::string& cursor) override;
  static constexpr int kPageLimit = 1000;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cce::admin
