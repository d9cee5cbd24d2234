// Recording rules shared by the alerts and the dashboards, named level:metric:operations.
// Levels: org (org), team (org, team), actor (org, actor, actor_type, team), team_tool (team, tool).
// `org` names the configured organization when the agent reports several; with one it is absent,
// and every level reads as before.
local lib = import 'lib.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local sel = c.selector,
    local b = c.baseline,
    local actor = 'org, actor, actor_type, team',
    // Today's rows of a daily gauge: the agent marks the current UTC date in today_info.
    local today(metric) =
      '%s{%s} * on(date) group_left() max by (date) (claude_code_exporter_today_info{%s})' % [metric, sel, sel],
    // A budget per team or actor: claude_code_budget_usd names it in `name`.
    local budget(scope, level, period) =
      'max by (org, %s) (label_replace(claude_code_budget_usd{%s, scope="%s", period="%s"}, "%s", "$1", "name", "(.*)"))'
      % [level, sel, scope, period, level],
    // A 7-day baseline of an hourly-rate recording: its mean over the active hours of the window,
    // sampled hourly, once there are minActiveHours of them (a new actor has no baseline).
    local baseline(metric) =
      local samples = '(%s > 0)[%s:%s]' % [metric, b.window, b.step];
      'avg_over_time(%s) and count_over_time(%s) >= %s'
      % [samples, samples, lib.num(b.minActiveHours)],
    // The hour after an Admin API backfill: a year of history landing at once is not spend.
    local afterBackfill =
      'max(max_over_time(claude_code_exporter_admin_api_backfill_dates_remaining{%s}[1h])) > 0' % sel,
    local meanOver(metric, window) = 'avg_over_time(%s[%s:%s])' % [metric, window, b.step],
    local inputSide = 'token_type=~"input|cache_read|cache_creation"',
    local elapsedDays = '(day_of_month() - 1 + hour() / 24 + minute() / 1440)',

    groups+: [
      {
        name: 'claude-code-cost.rules',
        rules: [
          { record: 'actor:claude_code_cost_usd:today', expr: 'sum by (%s) (%s)' % [actor, today('claude_code_daily_cost_usd')] },
          { record: 'team:claude_code_cost_usd:today', expr: 'sum by (org, team) (actor:claude_code_cost_usd:today)' },
          { record: 'org:claude_code_cost_usd:today', expr: 'sum by (org) (actor:claude_code_cost_usd:today)' },
          { record: 'actor:claude_code_cost_usd:month_to_date', expr: 'sum by (%s) (claude_code_month_cost_usd{%s})' % [actor, sel] },
          { record: 'team:claude_code_cost_usd:month_to_date', expr: 'sum by (org, team) (actor:claude_code_cost_usd:month_to_date)' },
          { record: 'org:claude_code_cost_usd:month_to_date', expr: 'sum by (org) (actor:claude_code_cost_usd:month_to_date)' },
        ] + [
          // Spend so far divided by the elapsed share of the month.
          {
            record: '%s:claude_code_cost_usd:month_forecast' % level,
            expr: '%s:claude_code_cost_usd:month_to_date * on() group_left() (days_in_month() / clamp_min(%s, 1 / 1440))' % [level, elapsedDays],
          }
          for level in ['actor', 'team', 'org']
        ] + [
          { record: 'org:claude_code_budget_usd:%s' % period, expr: 'max by (org) (claude_code_budget_usd{%s, scope="org", period="%s"})' % [sel, period] }
          for period in ['day', 'month']
        ] + [
          { record: 'team:claude_code_budget_usd:%s' % period, expr: budget('team', 'team', period) }
          for period in ['day', 'month']
        ] + [
          { record: 'actor:claude_code_budget_usd:%s' % period, expr: budget('user', 'actor', period) }
          for period in ['day', 'month']
        ],
      },
      {
        name: 'claude-code-rates.rules',
        rules: [
          {
            record: 'actor:claude_code_cost_usd:rate1h',
            expr: 'sum by (%s) (rate(claude_code_cost_usd_total{%s}[1h])) unless on() (%s)' % [actor, sel, afterBackfill],
          },
          { record: 'team:claude_code_cost_usd:rate1h', expr: 'sum by (org, team) (actor:claude_code_cost_usd:rate1h)' },
          { record: 'org:claude_code_cost_usd:rate1h', expr: 'sum by (org) (actor:claude_code_cost_usd:rate1h)' },
          {
            record: 'actor:claude_code_cost_usd:org_share_rate1h',
            expr: 'actor:claude_code_cost_usd:rate1h / on(org) group_left() (org:claude_code_cost_usd:rate1h > 0)',
          },
          { record: 'team:claude_code_tokens:rate1h', expr: 'sum by (team, token_type) (rate(claude_code_tokens_total{%s}[1h]))' % sel },
          { record: 'org:claude_code_tokens:rate1h', expr: 'sum by (token_type) (team:claude_code_tokens:rate1h)' },
        ] + [
          {
            record: '%s:claude_code_cache_read_share:ratio_rate1h' % level,
            expr: |||
              sum by (%(by)s) (%(level)s:claude_code_tokens:rate1h{token_type="cache_read"})
                / (sum by (%(by)s) (%(level)s:claude_code_tokens:rate1h{%(inputSide)s}) > 0)
            ||| % { level: level, by: if level == 'org' then '' else level, inputSide: inputSide },
          }
          for level in ['team', 'org']
        ] + [
          {
            record: 'team_tool:claude_code_tool_decisions:rate1h',
            expr: 'sum by (team, tool, decision) (rate(claude_code_tool_decisions_total{%s}[1h]))' % sel,
          },
          { record: 'team:claude_code_commits:rate1h', expr: 'sum by (team) (rate(claude_code_commits_total{%s}[1h]))' % sel },
          { record: 'team:claude_code_pull_requests:rate1h', expr: 'sum by (team) (rate(claude_code_pull_requests_total{%s}[1h]))' % sel },
        ],
      },
      {
        // Baselines and day/week figures read days of the hourly recordings: a slower interval.
        name: 'claude-code-baselines.rules',
        interval: b.interval,
        rules: [
          { record: 'actor:claude_code_cost_usd:rate1h_avg' + b.window, expr: baseline('actor:claude_code_cost_usd:rate1h') },
          { record: 'team:claude_code_cost_usd:rate1h_avg' + b.window, expr: baseline('team:claude_code_cost_usd:rate1h') },
          {
            record: 'actor:claude_code_cost_usd:org_share_rate1h_avg' + b.window,
            expr: baseline('actor:claude_code_cost_usd:org_share_rate1h'),
          },
        ] + std.flattenArrays([
          [
            { record: 'team:claude_code_tokens:rate1h_avg%s' % w, expr: meanOver('team:claude_code_tokens:rate1h', w) },
            {
              record: 'team:claude_code_cache_read_share:ratio%s' % w,
              expr: |||
                sum by (team) (team:claude_code_tokens:rate1h_avg%(w)s{token_type="cache_read"})
                  / (sum by (team) (team:claude_code_tokens:rate1h_avg%(w)s{%(inputSide)s}) > 0)
              ||| % { w: w, inputSide: inputSide },
            },
            {
              record: 'team_tool:claude_code_tool_decisions:rate1h_avg%s' % w,
              expr: meanOver('team_tool:claude_code_tool_decisions:rate1h', w),
            },
            {
              record: 'team_tool:claude_code_edit_acceptance:ratio%s' % w,
              expr: |||
                sum by (team, tool) (team_tool:claude_code_tool_decisions:rate1h_avg%(w)s{decision="accepted"})
                  / (sum by (team, tool) (team_tool:claude_code_tool_decisions:rate1h_avg%(w)s) > 0)
              ||| % { w: w },
            },
            {
              record: 'team:claude_code_edit_acceptance:ratio%s' % w,
              expr: |||
                sum by (team) (team_tool:claude_code_tool_decisions:rate1h_avg%(w)s{decision="accepted"})
                  / (sum by (team) (team_tool:claude_code_tool_decisions:rate1h_avg%(w)s) > 0)
              ||| % { w: w },
            },
          ] + (
            // The baseline above is this series when the window is the same.
            if w == b.window then []
            else [{ record: 'team:claude_code_cost_usd:rate1h_avg%s' % w, expr: meanOver('team:claude_code_cost_usd:rate1h', w) }]
          ) + [
            { record: 'team:claude_code_commits:rate1h_avg%s' % w, expr: meanOver('team:claude_code_commits:rate1h', w) },
            { record: 'team:claude_code_pull_requests:rate1h_avg%s' % w, expr: meanOver('team:claude_code_pull_requests:rate1h', w) },
            {
              record: 'team:claude_code_cost_per_commit:ratio%s' % w,
              expr: 'team:claude_code_cost_usd:rate1h_avg%s / (team:claude_code_commits:rate1h_avg%s > 0)' % [w, w],
            },
            {
              record: 'team:claude_code_cost_per_pull_request:ratio%s' % w,
              expr: 'team:claude_code_cost_usd:rate1h_avg%s / (team:claude_code_pull_requests:rate1h_avg%s > 0)' % [w, w],
            },
          ]
          for w in ['1d', '7d']
        ]),
      },
    ],
  },
}
