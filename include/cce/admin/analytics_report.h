#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cce/admin/usage_report.h"
#include "cce/usage/limits.h"
#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"

namespace cce::admin {

// The Claude Enterprise Analytics API (GET /v1/organizations/analytics/…), parsed into the
// same observations as the Admin API report. Pure.

// One page of /users for one day: sessions, lines, commits, pull requests and the four edit
// tools' decisions per user. Paged by next_page alone (there is no has_more).
struct UsersPage {
  std::vector<usage::Observation> observations;
  std::optional<std::string> next_page;
  size_t records = 0;
  size_t non_user_rows = 0;          // group rows, rows without a user or an email
  std::vector<std::string> skipped;  // rows that did not fit the schema, with their position
};
std::variant<UsersPage, PageError> parse_users_page(std::string_view body, util::Date day,
                                                    const usage::ValueLimits& limits = {});

// One page of /user_cost_report (cost per model, USD) or /user_usage_report (tokens per model
// and type), asked with bucket_width=1d and group_by[]=model for one day.
enum class ReportKind { kCost, kUsage };
struct ReportPage {
  std::vector<usage::Observation> observations;
  bool has_more = false;
  std::optional<std::string> next_page;
  std::string organization_id;
  std::optional<util::TimePoint> data_refreshed_at;  // data after it is not complete yet
  size_t records = 0;
  size_t non_user_rows = 0;  // service accounts, deleted users without an email
  std::vector<std::string> skipped;
};
std::variant<ReportPage, PageError> parse_report_page(std::string_view body, ReportKind kind,
                                                      util::Date day,
                                                      const usage::ValueLimits& limits = {});

// The latest available day a "date not available yet" 400 names for `requested`: the newest
// YYYY-MM-DD in the error message before the requested day (the wording is not documented).
std::optional<util::Date> latest_available_day(std::string_view error_body, util::Date requested);

}  // namespace cce::admin
