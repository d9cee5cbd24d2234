#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cce/usage/limits.h"
#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"

namespace cce::admin {

// One page of GET /v1/organizations/usage_report/claude_code, as observations.
struct Page {
  std::vector<usage::Observation> observations;
  bool has_more = false;
  std::optional<std::string> next_page;
  size_t records = 0;
  std::string organization_id;  // of the first record that names one
  // Records that did not fit the schema: skipped, the rest of the page is kept.
  std::vector<std::string> skipped;  // "record 3: actor.email_address is missing"
};

struct PageError {
  std::string message;
};

// Parses a page for `day` (records dated otherwise, or carrying a value beyond `limits`, are
// skipped). Pure. Returns PageError when the body as a whole is not a usage report (not JSON,
// or no data/has_more).
std::variant<Page, PageError> parse_page(std::string_view body, util::Date day,
                                         const usage::ValueLimits& limits = {});

// The Anthropic error envelope's message ({"type":"error","error":{"type":…,"message":…}}),
// or a prefix of the body when it is not one.
std::string error_summary(std::string_view body);

}  // namespace cce::admin
