#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "cce/metrics/snapshot.h"
#include "cce/usage/actor_label.h"
#include "cce/usage/budget.h"
#include "cce/usage/ledger.h"
#include "cce/usage/spend_limits.h"
#include "cce/usage/teams.h"
#include "cce/util/clock.h"

namespace cce::metrics {

struct CollectorOptions {
  int daily_window_days = 3;
  std::map<std::string, std::string> team_map;
  usage::ActorLabelMode actor_label = usage::ActorLabelMode::kEmail;
  std::string hash_key;
  std::vector<usage::Budget> budgets;                // user names shown through the actor labeler
  const usage::SpendLimits* spend_limits = nullptr;  // members' real caps, when polled
  // Several organizations: every usage series carries org="<name>" (the actor's), and an
  // organization's own team map comes before team_map for its members.
  bool org_label = false;
  std::map<std::string, std::map<std::string, std::string>> org_team_maps;
};

// Renders the ledger as Prometheus families at scrape time (docs/metrics.md): the merged daily
// gauges for the window (the winning source per (actor, date) as `source`), the monotonic
// merged counters, the OTel-only families, the reconciliation gap, budgets, and the per-actor
// agent series. Series whose labels coincide (privacy "domain", "__other__") are summed.
// Reads only; thread-safe.
class UsageCollector final : public prometheus::Collectable {
 public:
  UsageCollector(const usage::Ledger& ledger, const util::Clock& clock, CollectorOptions options);
  std::vector<prometheus::MetricFamily> Collect() const override;
  // The same families as one compact rendering (what /metrics serves), after `head` (text
  // written before them: the agent's own metrics).
  Snapshot snapshot(std::string head = {}) const;

 private:
  void build(SnapshotBuilder& b) const;

  const usage::Ledger& ledger_;
  const util::Clock& clock_;
  CollectorOptions options_;
  usage::TeamResolver teams_;
  std::map<std::string, usage::TeamResolver> org_teams_;
  std::string team_of(const usage::ActorInfo& actor) const;
  usage::ActorLabeler labeler_;
};

}  // namespace cce::metrics
