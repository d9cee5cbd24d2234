#include "cce/usage/merge.h"

namespace cce::usage {

Source winner(bool api_has_unit, bool otel_has_unit, util::Date date, util::Date today,
              const MergeOptions& options) {
  if (options.otel_for_today && date == today && otel_has_unit) return Source::kOtel;
  return api_has_unit ? Source::kApi : Source::kOtel;
}

}  // namespace cce::usage
