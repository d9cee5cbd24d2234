#pragma once

#include "cce/admin/client.h"
#include "cce/admin/day_source.h"
#include "cce/usage/limits.h"

namespace cce::admin {

// The Admin API's Claude Code usage report (GET /v1/organizations/usage_report/claude_code):
// one UTC day per request, cursor pages of up to kPageLimit records.
class UsageReportSource final : public DaySource {
 public:
  static constexpr const char* kPath = "/v1/organizations/usage_report/claude_code";
  static constexpr int kPageLimit = 1000;

  UsageReportSource(ApiGetter& api, int max_pages_per_day, usage::ValueLimits limits)
      : api_(api), max_pages_per_day_(max_pages_per_day), limits_(limits) {}
  DayFetch fetch_day(util::Date day, Requests& requests) override;

 private:
  ApiGetter& api_;
  int max_pages_per_day_;
  usage::ValueLimits limits_;
};

}  // namespace cce::admin
