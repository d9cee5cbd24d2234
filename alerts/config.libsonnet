// Every threshold and window of the alert pack, in one place. Amounts that differ between
// organisations (budgets) are not here: the agent exposes them as claude_code_budget_usd.
// Override any of these when rendering: scripts/generate-rules.sh --set '{"spike": {"factor": 8}}'.
{
  _config+:: {
    // Selects the agent's series; every rule reads through it.
    selector: 'job="claude-code-exporter"',
    // runbook_url of every alert: %s is the alert name in lower case (a Markdown heading anchor).
    runbookURLPattern: 'https://github.com/claude-code-exporter/claude-code-exporter/blob/main/docs/runbook.md#%s',
    // Baselines are the mean of an hourly rate over the active hours (rate > 0) of the window,
    // sampled once per step (a subquery keeps a 7-day look-back cheap): nights and weekends do
    // not dilute them. They exist once there are minActiveHours of samples.
    baseline: { window: '7d', step: '1h', minActiveHours: 8, interval: '5m' },

    budget: {
      warningRatio: 0.8,  // daily spend at 80 % of the daily budget: warning
      criticalRatio: 1.0,  // at 100 %: critical
      'for': '5m',
      forecastMinDays: 3,  // days of the month elapsed before a month forecast is trusted
      forecastFor: '1h',
    },
    // Members' real caps from the Spend Limits API (claude.ai Enterprise): spend at 90 % of a
    // positive cap. A cap of 0 (no spend beyond the plan) and a reading of 0 (unavailable) never fire.
    spendLimit: { ratio: 0.9, 'for': '15m' },
    spike: {
      factor: 5,  // hourly spend above 5x the 7-day average hourly spend...
      actorFloorUsdPerHour: 25,  // ...and above this, so small users never page
      teamFloorUsdPerHour: 100,
      'for': '15m',
    },
    share: {
      min: 0.5,  // one actor is at least half the org's spend in the last hour...
      factor: 2,  // ...and at least twice their usual share...
      orgFloorUsdPerHour: 50,  // ...while the org spends at least this much
      'for': '30m',
    },
    cacheRead: {
      factor: 0.5,  // cache-read share of input-side tokens under half its 7-day share
      minTokensPerHour: 1000000,
      'for': '1h',
    },
    costPerCommit: {
      factor: 2,  // the last day's cost per commit over twice the 7-day figure
      minCommitsPerDay: 5,
      minCostPerDay: 20,
      'for': '1h',
    },
    acceptance: {
      dropFactor: 0.7,  // 1-day acceptance under 70 % of the 7-day acceptance
      minDecisionsPerDay: 50,
      dropFor: '1h',
      lowRatio: 0.5,  // 7-day acceptance under 50 %
      minDecisionsPerWeek: 200,
      lowFor: '6h',
    },
    health: {
      exporterDownFor: '5m',
      adminApiFailureRatio: 0.5,  // half of the Admin API requests failing...
      adminApiFailingWindow: '30m',  // ...over this window
      adminApiFailingFor: '30m',
      adminApiAuthWindow: '1h',  // at least one poll cycle (admin_api.poll_interval is 15m)
      adminApiStaleAfter: '4d',  // start of the newest day with data older than this (a weekend and a Monday morning)
      adminApiStaleFor: '1h',
      otlpSilence: '3d',  // no OTLP request accepted for this long, after some were (or the Admin API shows later use)
      otlpSilenceFor: '15m',
      actorSilence: '4d',  // an actor seen in OTel within actorLookback has sent nothing for this long
      actorLookback: '14d',
      actorSilenceFor: '1h',
      metricsMissingWindow: '1h',  // events (api_request) arrived, metrics (active time) did not
      metricsMissingFor: '30m',
      rejectedWindow: '15m',
      rejectedFor: '15m',
      modelErrorRatio: 0.05,
      modelErrorMinRequests: 20,  // requests per modelErrorWindow before the ratio counts
      modelErrorWindow: '15m',
      modelErrorFor: '15m',
      overflowWindow: '1h',
      limitWindow: '1h',
      unpricedWindow: '1h',
      storeErrorWindow: '10m',
      counterResetWindow: '1h',
    },

    // Merged and OTel-only counters the agent builds itself: they must never reset.
    agentCounters: [
      'claude_code_cost_usd_total',
      'claude_code_tokens_total',
      'claude_code_sessions_total',
      'claude_code_lines_added_total',
      'claude_code_lines_removed_total',
      'claude_code_commits_total',
      'claude_code_pull_requests_total',
      'claude_code_tool_decisions_total',
      'claude_code_active_time_seconds_total',
      'claude_code_api_requests_total',
      'claude_code_api_errors_total',
    ],
  },
}
