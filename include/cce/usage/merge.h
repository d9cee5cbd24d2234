#pragma once

#include "cce/usage/ledger_types.h"
#include "cce/util/civil_date.h"

namespace cce::usage {

struct MergeOptions {
  // The current UTC day uses OTel when OTel has data for it (the API lags an hour and is partial).
  bool otel_for_today = false;
};

// The precedence rule for one (actor, UTC date) unit: if the Admin API has a row for it, every
// quantity the API reports comes from the API; otherwise from OTel. Pure.
Source winner(bool api_has_unit, bool otel_has_unit, util::Date date, util::Date today,
              const MergeOptions& options);

}  // namespace cce::usage
