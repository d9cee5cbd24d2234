#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "cce/usage/ledger.h"
#include "cce/util/clock.h"

namespace cce::metrics {

struct CollectorOptions {
  int daily_window_days = 3;
};

// Renders the ledger as Prometheus families at scrape time (docs/metrics.md): the merged daily
// gauges for the window, the counters, the OTel-only families, and the per-actor agent series.
// Reads only; thread-safe.
class UsageCollector final : public prometheus::Collectable {
 public:
  UsageCollector(const usage::Ledger& ledger, const util::Clock& clock, CollectorOptions options);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const usage::Ledger& ledger_;
  const util::Clock& clock_;
  CollectorOptions options_;
};

}  // namespace cce::metrics
