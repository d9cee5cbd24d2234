#include "cce/metrics/exposition.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace cce::metrics {

Snapshot render(const prometheus::Registry& agent, const UsageCollector& usage) {
  return usage.snapshot(prometheus::TextSerializer().Serialize(agent.Collect()));
}

}  // namespace cce::metrics
