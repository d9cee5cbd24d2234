// The alerts. Conventions (monitoring-mixins): names start with ClaudeCode; severity is
// critical, warning or info; summary is a sentence, description carries the numbers; runbook_url
// comes from one pattern; a warning and a critical of one alert are two rules of the same name.
// `category` routes them: cost (pages when critical), acceptance, health.
local lib = import 'lib.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local sel = c.selector,
    local bw = c.baseline.window,
    local pct(r) = '%d%%' % std.floor(r * 100 + 0.5),
    local usd = 'printf "$%.2f"',
    // The first value of a query as a template string, e.g. a budget beside the spend.
    local lookup(expr, fmt=usd) = '{{ with query "%s" }}{{ . | first | value | %s }}{{ end }}' % [expr, fmt],
    local lookupBy(metric, label, fmt=usd, scale='') =
      '{{ with printf "%s{%s=%%q}%s" $labels.%s | query }}{{ . | first | value | %s }}{{ end }}'
      % [metric, label, scale, label, fmt],
    local teamSuffix = '{{ with $labels.team }} (team {{ . }}){{ end }}',

    local alert(name, severity, category, expr, forDuration, summary, description) = {
      alert: name,
      expr: expr,
      'for': forDuration,
      labels: { severity: severity, category: category },
      annotations: { summary: summary, description: description },
    },

    // org, team and user budgets: the same rules, joined on the level's label.
    local levels = [
      {
        level: 'org',
        Name: 'Org',
        on: 'on(org)',
        who: 'The organisation{{ with $labels.org }} {{ . }}{{ end }}',
        one: 'The organisation',
        whose: 'its',
        lookup(m): lookupBy(m, 'org'),
      },
      { level: 'team', Name: 'Team', on: 'on(org, team)', who: 'Team {{ $labels.team }}', one: 'A team', whose: 'its', lookup(m): lookupBy(m, 'team') },
      {
        level: 'actor',
        Name: 'User',
        on: 'on(org, actor) group_left()',
        who: '{{ $labels.actor }}' + teamSuffix,
        one: 'A user',
        whose: 'their',
        lookup(m): lookupBy(m, 'actor'),
      },
    ],
    local dailyBudget(l, severity, ratio) = alert(
      'ClaudeCode%sDailyBudgetBurn' % l.Name,
      severity,
      'cost',
      |||
        %(level)s:claude_code_cost_usd:today
          >= %(on)s (%(ratio)s * (%(level)s:claude_code_budget_usd:day > 0))
      ||| % { level: l.level, on: l.on, ratio: lib.num(ratio) },
      c.budget['for'],
      '%s has used %s of %s daily Claude Code budget.' % [l.one, pct(ratio), l.whose],
      '%s has spent an estimated {{ $value | printf "$%%.2f" }} on Claude Code today (UTC), at least %s of %s daily budget of %s.'
      % [l.who, pct(ratio), l.whose, l.lookup('%s:claude_code_budget_usd:day' % l.level)],
    ),
    local monthForecast(l) = alert(
      'ClaudeCode%sMonthlyBudgetForecastExceeded' % l.Name,
      'warning',
      'cost',
      |||
        (%(level)s:claude_code_cost_usd:month_forecast > %(on)s (%(level)s:claude_code_budget_usd:month > 0))
          and on() (day_of_month() - 1 + hour() / 24 + minute() / 1440) >= %(days)s
      ||| % { level: l.level, on: l.on, days: lib.num(c.budget.forecastMinDays) },
      c.budget.forecastFor,
      '%s is on course to exceed %s monthly Claude Code budget.' % [l.one, l.whose],
      '%s has spent an estimated %s on Claude Code this month; at that pace the month ends at {{ $value | printf "$%%.2f" }}, over %s monthly budget of %s.'
      % [
        l.who,
        l.lookup('%s:claude_code_cost_usd:month_to_date' % l.level),
        l.whose,
        l.lookup('%s:claude_code_budget_usd:month' % l.level),
      ],
    ),

    local spike(l, floor) = alert(
      'ClaudeCode%sSpendSpike' % l.Name,
      'warning',
      'cost',
      |||
        (%(level)s:claude_code_cost_usd:rate1h * 3600 > %(floor)s)
          and on(%(by)s) (%(level)s:claude_code_cost_usd:rate1h > %(factor)s * %(level)s:claude_code_cost_usd:rate1h_avg%(bw)s)
      ||| % {
        level: l.level,
        by: if l.level == 'actor' then 'org, actor, actor_type, team' else if l.level == 'team' then 'org, team' else l.level,
        floor: lib.num(floor),
        factor: lib.num(c.spike.factor),
        bw: bw,
      },
      c.spike['for'],
      '%s is spending on Claude Code much faster than usual.' % l.one,
      '%s is spending an estimated {{ $value | printf "$%%.2f" }} per hour on Claude Code, over %sx %s %s average of %s per active hour.'
      % [
        l.who,
        lib.num(c.spike.factor),
        l.whose,
        bw,
        if l.level == 'actor' then lookupBy('actor:claude_code_cost_usd:rate1h_avg' + bw, 'actor', usd, ' * 3600')
        else lookupBy('team:claude_code_cost_usd:rate1h_avg' + bw, 'team', usd, ' * 3600'),
      ],
    ),

    local agentCounterResets = std.join('\n  or ', [
      'label_replace(sum by (actor, team) (resets(%s{%s}[%s])) > 0, "family", "%s", "", "")'
      % [f, sel, c.health.counterResetWindow, f]
      for f in c.agentCounters
    ]),
    local h = c.health,

    groups+: [
      {
        name: 'claude-code-budgets',
        rules: std.flattenArrays([
          [dailyBudget(l, 'warning', c.budget.warningRatio), dailyBudget(l, 'critical', c.budget.criticalRatio)]
          for l in levels
        ]) + [monthForecast(l) for l in levels] + [
          alert(
            'ClaudeCodeSpendLimitApproaching',
            'warning',
            'cost',
            |||
              max by (org, actor, period, currency) (claude_code_spend_limit_period_spend{%(sel)s})
                >= on(org, actor, period, currency) (%(ratio)s * max by (org, actor, period, currency) (claude_code_spend_limit{%(sel)s} > 0))
            ||| % { sel: sel, ratio: lib.num(c.spendLimit.ratio) },
            c.spendLimit['for'],
            'A member is close to the spend cap the organization set for them.',
            '{{ $labels.actor }}{{ with $labels.org }} ({{ . }}){{ end }} has spent {{ $value | printf "%%.2f" }} {{ $labels.currency }} in the current {{ $labels.period }} period, at least %s of the cap of '
            % pct(c.spendLimit.ratio)
            + '{{ with printf "max(claude_code_spend_limit{org=%q, actor=%q, period=%q})" $labels.org $labels.actor $labels.period | query }}{{ . | first | value | printf "%.2f" }}{{ end }}'
            + ' {{ $labels.currency }} in the Spend Limits API; at the cap Claude stops serving them until the period ends or the cap is raised.',
          ),
        ],
      },
      {
        name: 'claude-code-anomalies',
        rules: [
          spike(levels[2], c.spike.actorFloorUsdPerHour),
          spike(levels[1], c.spike.teamFloorUsdPerHour),
          alert(
            'ClaudeCodeUserSpendShareJump',
            'warning',
            'cost',
            |||
              (actor:claude_code_cost_usd:org_share_rate1h > %(min)s)
                and on(org, actor, actor_type, team) (actor:claude_code_cost_usd:org_share_rate1h > %(factor)s * actor:claude_code_cost_usd:org_share_rate1h_avg%(bw)s)
                and on(org) (org:claude_code_cost_usd:rate1h * 3600 > %(floor)s)
            ||| % { min: lib.num(c.share.min), factor: lib.num(c.share.factor), bw: bw, floor: lib.num(c.share.orgFloorUsdPerHour) },
            c.share['for'],
            'One user has become a much larger share of Claude Code spend.',
            '{{ $labels.actor }}%s accounts for {{ $value | humanizePercentage }} of the estimated Claude Code spend in the last hour, over %sx their %s average share of %s.'
            % [teamSuffix, lib.num(c.share.factor), bw, lookupBy('actor:claude_code_cost_usd:org_share_rate1h_avg' + bw, 'actor', 'humanizePercentage')],
          ),
          alert(
            'ClaudeCodeCacheReadShareCollapse',
            'warning',
            'cost',
            |||
              (team:claude_code_cache_read_share:ratio_rate1h < %(factor)s * team:claude_code_cache_read_share:ratio7d)
                and on(team) (sum by (team) (team:claude_code_tokens:rate1h{token_type=~"input|cache_read|cache_creation"}) * 3600 > %(min)s)
            ||| % { factor: lib.num(c.cacheRead.factor), min: lib.num(c.cacheRead.minTokensPerHour) },
            c.cacheRead['for'],
            'Prompt caching has stopped paying off for a team; the same work now costs more.',
            'Cache reads are {{ $value | humanizePercentage }} of the input-side tokens of team {{ $labels.team }} in the last hour, under %s of its 7-day share of %s.'
            % [pct(c.cacheRead.factor), lookupBy('team:claude_code_cache_read_share:ratio7d', 'team', 'humanizePercentage')],
          ),
          alert(
            'ClaudeCodeCostPerCommitHigh',
            'warning',
            'cost',
            |||
              (team:claude_code_cost_per_commit:ratio1d > %(factor)s * team:claude_code_cost_per_commit:ratio7d)
                and on(team) (team:claude_code_commits:rate1h_avg1d * 86400 >= %(commits)s)
                and on(team) (team:claude_code_cost_usd:rate1h_avg1d * 86400 >= %(cost)s)
            ||| % { factor: lib.num(c.costPerCommit.factor), commits: lib.num(c.costPerCommit.minCommitsPerDay), cost: lib.num(c.costPerCommit.minCostPerDay) },
            c.costPerCommit['for'],
            'Each commit made with Claude Code costs a team much more than usual.',
            'Team {{ $labels.team }} spent an estimated {{ $value | printf "$%%.2f" }} per commit over the last day, over %sx its 7-day figure of %s.'
            % [lib.num(c.costPerCommit.factor), lookupBy('team:claude_code_cost_per_commit:ratio7d', 'team')],
          ),
        ],
      },
      {
        name: 'claude-code-acceptance',
        rules: [
          alert(
            'ClaudeCodeAcceptanceRateDrop',
            'warning',
            'acceptance',
            |||
              (team_tool:claude_code_edit_acceptance:ratio1d < %(factor)s * team_tool:claude_code_edit_acceptance:ratio7d)
                and on(team, tool) (sum by (team, tool) (team_tool:claude_code_tool_decisions:rate1h_avg1d) * 86400 >= %(min)s)
            ||| % { factor: lib.num(c.acceptance.dropFactor), min: lib.num(c.acceptance.minDecisionsPerDay) },
            c.acceptance.dropFor,
            'Developers are rejecting far more of Claude Code\'s edits than usual.',
            'Team {{ $labels.team }} accepted {{ $value | humanizePercentage }} of Claude Code\'s edits with the {{ $labels.tool }} tool over the last day, under %s of its 7-day rate of %s.'
            % [pct(c.acceptance.dropFactor), '{{ with printf "team_tool:claude_code_edit_acceptance:ratio7d{team=%q, tool=%q}" $labels.team $labels.tool | query }}{{ . | first | value | humanizePercentage }}{{ end }}'],
          ),
          alert(
            'ClaudeCodeAcceptanceRateLow',
            'warning',
            'acceptance',
            |||
              (team:claude_code_edit_acceptance:ratio7d < %(low)s)
                and on(team) (sum by (team) (team_tool:claude_code_tool_decisions:rate1h_avg7d) * 7 * 86400 >= %(min)s)
            ||| % { low: lib.num(c.acceptance.lowRatio), min: lib.num(c.acceptance.minDecisionsPerWeek) },
            c.acceptance.lowFor,
            'A team rejects most of Claude Code\'s edits.',
            'Team {{ $labels.team }} accepted only {{ $value | humanizePercentage }} of Claude Code\'s edits over the last 7 days (threshold %s).'
            % pct(c.acceptance.lowRatio),
          ),
        ],
      },
      {
        name: 'claude-code-exporter-health',
        rules: [
          alert(
            'ClaudeCodeExporterDown',
            'warning',
            'health',
            'up{%s} == 0 or absent(up{%s})' % [sel, sel],
            h.exporterDownFor,
            'Prometheus cannot scrape claude-code-exporter; usage, budgets and these alerts have no data.',
            'claude-code-exporter{{ with $labels.instance }} {{ . }}{{ end }} has not been scraped successfully for %s.' % h.exporterDownFor,
          ),
          alert(
            'ClaudeCodeAdminApiFailing',
            'warning',
            'health',
            |||
              sum by (job, instance, api) (increase(claude_code_exporter_admin_api_failures_total{%(sel)s, reason!="auth"}[%(w)s]))
                / (sum by (job, instance, api) (increase(claude_code_exporter_admin_api_requests_total{%(sel)s}[%(w)s])) > 0)
                > %(ratio)s
            ||| % { sel: sel, w: h.adminApiFailingWindow, ratio: lib.num(h.adminApiFailureRatio) },
            h.adminApiFailingFor,
            'Most organization API requests are failing; usage history is not being updated.',
            '{{ $value | humanizePercentage }} of the {{ $labels.api }} requests of {{ $labels.instance }} failed over the last %s (rate limits, server errors, timeouts or malformed answers).'
            % h.adminApiFailingWindow,
          ),
          alert(
            'ClaudeCodeAdminApiUnauthorized',
            'warning',
            'health',
            'sum by (job, instance, api) (increase(claude_code_exporter_admin_api_failures_total{%s, reason="auth"}[%s])) > 0'
            % [sel, h.adminApiAuthWindow],
            '0s',
            'The organization API refuses the agent\'s key; no usage history is being fetched.',
            '{{ $labels.api }} answered 401, 403 or 404 to {{ $labels.instance }} in the last %s (requests: {{ $value | printf "%%.0f" }}): the key is wrong or revoked, or lacks access (admin_api needs an Admin key; enterprise_analytics a key with read:analytics).'
            % h.adminApiAuthWindow,
          ),
          alert(
            'ClaudeCodeAdminApiStale',
            'warning',
            'health',
            |||
              (time() - claude_code_exporter_admin_api_newest_date_timestamp_seconds{%(sel)s} > %(after)d)
                and claude_code_exporter_admin_api_newest_date_timestamp_seconds{%(sel)s} > 0
            ||| % { sel: sel, after: lib.seconds(h.adminApiStaleAfter) },
            h.adminApiStaleFor,
            'The newest organization API usage day is old.',
            'The newest day with {{ $labels.api }} usage data at {{ $labels.instance }} began {{ $value | humanizeDuration }} ago (threshold %s).'
            % h.adminApiStaleAfter,
          ),
          alert(
            'ClaudeCodeOtlpIngestionStopped',
            'warning',
            'health',
            |||
              (
                time() - max by (job, instance) (claude_code_exporter_otlp_last_received_timestamp_seconds{%(sel)s, signal!="traces"}) > %(silence)d
                or
                max by (job, instance) (claude_code_exporter_admin_api_newest_date_timestamp_seconds{%(sel)s})
                  > max by (job, instance) (claude_code_exporter_otlp_last_received_timestamp_seconds{%(sel)s, signal!="traces"})
              )
              and max by (job, instance) (claude_code_exporter_otlp_last_received_timestamp_seconds{%(sel)s, signal!="traces"}) > 0
            ||| % { sel: sel, silence: lib.seconds(h.otlpSilence) },
            h.otlpSilenceFor,
            'No Claude Code telemetry has arrived for a long time.',
            '{{ $labels.instance }} last accepted OTLP data at {{ with printf "max(claude_code_exporter_otlp_last_received_timestamp_seconds{instance=%%q, signal!=\\"traces\\"})" $labels.instance | query }}{{ . | first | value | humanizeTimestamp }}{{ end }}, over %s ago or before a day the Admin API reports usage for.' % h.otlpSilence,
          ),
          alert(
            'ClaudeCodeActorTelemetrySilent',
            'warning',
            'health',
            |||
              (
                max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%(sel)s, source="api"})
                  > max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%(sel)s, source="otel"})
                or
                time() - max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%(sel)s, source="otel"}) > %(silence)d
              )
              and on(actor) (time() - max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%(sel)s, source="otel"}) < %(lookback)d)
            ||| % { sel: sel, silence: lib.seconds(h.actorSilence), lookback: lib.seconds(h.actorLookback) },
            h.actorSilenceFor,
            'A developer\'s Claude Code telemetry has stopped.',
            'No OpenTelemetry data from {{ $labels.actor }} since {{ with printf "max(claude_code_exporter_actor_last_seen_timestamp_seconds{actor=%%q, source=\\"otel\\"})" $labels.actor | query }}{{ . | first | value | humanizeTimestamp }}{{ end }}, although it sent some in the last %s and either the Admin API reports later use or %s have passed.'
            % [h.actorLookback, h.actorSilence],
          ),
          alert(
            'ClaudeCodeActorMetricsMissing',
            'warning',
            'health',
            |||
              sum by (actor, actor_type, team) (increase(claude_code_api_requests_total{%(sel)s}[%(w)s])) > 0
                unless on(actor, actor_type, team) (sum by (actor, actor_type, team) (increase(claude_code_active_time_seconds_total{%(sel)s}[%(w)s])) > 0)
            ||| % { sel: sel, w: h.metricsMissingWindow },
            h.metricsMissingFor,
            'A developer\'s Claude Code sends events but no metrics.',
            '{{ $labels.actor }}%s made {{ $value | printf "%%.0f" }} model requests in the last %s (OTel events) but sent no metrics: token and cost metrics from this client are missing.'
            % [teamSuffix, h.metricsMissingWindow],
          ),
          alert(
            'ClaudeCodeOtlpDataRejected',
            'warning',
            'health',
            |||
              sum by (job, instance) (increase(claude_code_exporter_otlp_requests_total{%(sel)s, code=~"400|401|413|415"}[%(w)s])) > 0
                or sum by (job, instance) (increase(claude_code_exporter_otlp_data_points_total{%(sel)s, outcome="rejected"}[%(w)s])) > 0
            ||| % { sel: sel, w: h.rejectedWindow },
            h.rejectedFor,
            'The agent is refusing OTLP data.',
            '{{ $labels.instance }} refused {{ $value | printf "%%.0f" }} OTLP requests or data points in the last %s (malformed, unauthorized, too large, or of an unknown content type).'
            % h.rejectedWindow,
          ),
          alert(
            'ClaudeCodeModelApiErrors',
            'warning',
            'health',
            |||
              sum by (model) (rate(claude_code_api_errors_total{%(sel)s}[%(w)s]))
                / sum by (model) (rate({__name__=~"claude_code_api_(requests|errors)_total", %(sel)s}[%(w)s]))
                > %(ratio)s
              and on(model) sum by (model) (increase({__name__=~"claude_code_api_(requests|errors)_total", %(sel)s}[%(w)s])) >= %(min)s
            ||| % { sel: sel, w: h.modelErrorWindow, ratio: lib.num(h.modelErrorRatio), min: lib.num(h.modelErrorMinRequests) },
            h.modelErrorFor,
            'Many of Claude Code\'s model API requests are failing.',
            '{{ $value | humanizePercentage }} of the model API requests for {{ $labels.model }} failed over the last %s.' % h.modelErrorWindow,
          ),
          alert(
            'ClaudeCodeActorsOverflowing',
            'warning',
            'health',
            'sum by (job, instance) (increase(claude_code_exporter_actor_overflow_observations_total{%s}[%s])) > 0' % [sel, h.overflowWindow],
            '0s',
            'New actors are being counted as __other__.',
            '{{ $labels.instance }} folded {{ $value | printf "%%.0f" }} observations of actors beyond limits.max_actors into actor="__other__" in the last %s.'
            % h.overflowWindow,
          ),
          alert(
            'ClaudeCodeExporterLimitHit',
            'warning',
            'health',
            'sum by (job, instance, limit) (increase(claude_code_exporter_limit_hits_total{%s}[%s])) > 0' % [sel, h.limitWindow],
            '0s',
            'Input is being held to one of the agent\'s [limits].',
            '{{ $labels.instance }} held {{ $value | printf "%%.0f" }} values to limits.{{ $labels.limit }} in the last %s: points rejected, labels cut, or values folded into __other__.'
            % h.limitWindow,
          ),
          alert(
            'ClaudeCodeUnpricedModel',
            'warning',
            'health',
            'sum by (model) (increase(claude_code_exporter_unpriced_model_tokens_total{%s}[%s])) > 0' % [sel, h.unpricedWindow],
            '0s',
            'Tokens of a model without a price: its cost is missing from estimates.',
            'Model {{ $labels.model }} used {{ $value | printf "%%.0f" }} tokens in the last %s that the price table cannot price; add it under [pricing.models].'
            % h.unpricedWindow,
          ),
          alert(
            'ClaudeCodeExporterStoreErrors',
            'warning',
            'health',
            'sum by (job, instance) (increase(claude_code_exporter_store_errors_total{%s}[%s])) > 0' % [sel, h.storeErrorWindow],
            '0s',
            'The agent cannot write to its store; telemetry is being refused.',
            '{{ $labels.instance }} could not write to its store in the last %s (failed writes: {{ $value | printf "%%.0f" }}) and answered those OTLP requests with 503.'
            % h.storeErrorWindow,
          ),
          alert(
            'ClaudeCodeCounterReset',
            'warning',
            'health',
            agentCounterResets,
            '0s',
            'A merged Claude Code counter went down, which the agent must never do.',
            '{{ $labels.family }} of {{ $labels.actor }} went down in the last %s (resets: {{ $value | printf "%%.0f" }}); rate() and increase() over it are wrong.'
            % h.counterResetWindow,
          ),
        ],
      },
    ],
  },
}
