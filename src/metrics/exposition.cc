#include "cce/metrics/exposition.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace cce::metrics {

std::string render_text(const prometheus::Registry& agent, const UsageCollector& usage) {
  std::string out = prometheus::TextSerializer().Serialize(agent.Collect());
  usage.write_text(out);
  return out;
}

}  // namespace cce::metrics
