#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cce/admin/client.h"
#include "cce/admin/requests.h"
#include "cce/admin/usage_report.h"
#include "cce/usage/spend_limits.h"

namespace cce::admin {

// One page of GET /v1/organizations/spend_limits/effective, paged by next_page alone. Pure.
struct SpendLimitsPage {
  std::vector<usage::SpendLimit> rows;
  std::optional<std::string> next_page;
  size_t records = 0;
  size_t non_user_rows = 0;  // scoped API keys, members without an email
  std::vector<std::string> skipped;
};
std::variant<SpendLimitsPage, PageError> parse_spend_limits_page(std::string_view body);

// Reads every member's effective caps and publishes them as one reading. Runs on the
// Enterprise Analytics poller's thread, through its paced requests.
class SpendLimitsPoll {
 public:
  static constexpr const char* kPath = "/v1/organizations/spend_limits/effective";
  static constexpr int kPageLimit = 100;

  SpendLimitsPoll(ApiGetter& api, usage::SpendLimits& out, std::string org, int max_pages,
                  size_t max_members)
      : api_(api),
        out_(out),
        org_(std::move(org)),
        max_pages_(max_pages),
        max_members_(max_members) {}
  // One reading. False when the key cannot read caps (no read:spend_limits): stop asking.
  bool run(Requests& requests);

 private:
  ApiGetter& api_;
  usage::SpendLimits& out_;
  std::string org_;
  int max_pages_;
  size_t max_members_;
};

}  // namespace cce::admin
