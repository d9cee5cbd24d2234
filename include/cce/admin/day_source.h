#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cce/admin/requests.h"
#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"

namespace cce::admin {

// kSkipped: the API refused that day (not retried); kNotYet: the API has not finished the day;
// kHalted: the key, organization or endpoint refused, the cycle stops; kGaveUp: retries used up.
enum class DayOutcome { kStored, kSkipped, kNotYet, kHalted, kGaveUp, kStopped };

// One UTC day as an organization API reports it.
struct DayFetch {
  DayOutcome outcome = DayOutcome::kGaveUp;
  std::vector<usage::Observation> observations;  // with kStored
  std::string organization_id;                   // "" when the answers did not say
  std::optional<util::Date> latest_available;    // with kNotYet, when the API named it
};

// An organization API that reports Claude Code usage per UTC day (the Admin API's Claude Code
// report, the Enterprise Analytics API). The poller decides which days to fetch and when; a
// source fetches one, every page of every endpoint it needs, through `requests`.
class DaySource {
 public:
  virtual ~DaySource() = default;
  virtual DayFetch fetch_day(util::Date day, Requests& requests) = 0;
};

}  // namespace cce::admin
