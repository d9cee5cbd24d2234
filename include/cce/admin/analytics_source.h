#pragma once

#include "cce/admin/analytics_report.h"
#include "cce/admin/client.h"
#include "cce/admin/day_source.h"
#include "cce/usage/limits.h"

namespace cce::admin {

// The Claude Enterprise Analytics API as a day source: a day is engagement from /users plus
// cost from /user_cost_report and tokens from /user_usage_report (Claude Code only, per
// model). A day counts only once all three have it; until then it is "not yet" and OTel
// stands in. People with no Claude Code activity that day are left out (their all-zero rows
// would hide what OTel saw).
class AnalyticsSource final : public DaySource {
 public:
  static constexpr const char* kUsersPath = "/v1/organizations/analytics/users";
  static constexpr const char* kCostPath = "/v1/organizations/analytics/user_cost_report";
  static constexpr const char* kUsagePath = "/v1/organizations/analytics/user_usage_report";
  static constexpr int kPageLimit = 1000;
  // An expired cursor (410) restarts a report at its first page at most this often per day.
  static constexpr int kMaxRestarts = 3;
  // The API has no data before this day.
  static constexpr util::Date kFirstDay{20454};  // 2026-01-01

  AnalyticsSource(ApiGetter& api, int max_pages_per_day, usage::ValueLimits limits)
      : api_(api), max_pages_per_day_(max_pages_per_day), limits_(limits) {}
  DayFetch fetch_day(util::Date day, Requests& requests) override;

 private:
  DayOutcome fetch_users(util::Date day, Requests& requests, DayFetch& out);
  DayOutcome fetch_report(ReportKind kind, util::Date day, Requests& requests, DayFetch& out);
  // Judges an answer other than 200 (for one endpoint).
  DayOutcome refused(const HttpResult& r, const char* path, util::Date day, Requests& requests,
                     DayFetch& out);

  ApiGetter& api_;
  int max_pages_per_day_;
  usage::ValueLimits limits_;
};

}  // namespace cce::admin
