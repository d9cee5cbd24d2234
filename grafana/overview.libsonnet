// Overview, for engineering leads: what Claude Code costs, how the sources cover it, and
// whether it pays off.
local g = import 'lib.libsonnet';
local sel = g.selector;
local today(metric, by='') =
  'sum%s (%s{%s} * on(date) group_left() max by (date) (claude_code_exporter_today_info{%s}))'
  % [if by == '' then '' else ' by (%s)' % by, metric, sel, sel];
local over(metric, filter='', by='') =
  'sum%s (increase(%s{%s%s}[$__range]))' % [if by == '' then '' else ' by (%s)' % by, metric, sel, filter];
local merged = 'Merged per (user, UTC day): the Admin API where it has the day, else OpenTelemetry.';
local estimate = 'Costs are estimates at API list prices, also for seat-licensed users.';
local inputSide = ', token_type=~"input|cache_read|cache_creation"';

g.dashboard(
  'claude-code-overview',
  'Claude Code / Overview',
  'What Claude Code costs, who uses it, how the two sources cover it, and whether it pays off.',
  g.grid([
    [
      g.stat('Spend today (UTC)', 'Estimated cost so far today (UTC). ' + merged + ' ' + estimate,
             'currencyUSD', [g.target('org:claude_code_cost_usd:today', instant=true)]),
      g.stat('Spend this month', 'Estimated cost in the current UTC month so far (claude_code_month_cost_usd). ' + merged,
             'currencyUSD', [g.target('org:claude_code_cost_usd:month_to_date', instant=true)]),
      g.stat('Month forecast', 'Month-to-date spend divided by the elapsed share of the month: where the month ends at this pace. Trust it from the 4th.',
             'currencyUSD', [g.target('org:claude_code_cost_usd:month_forecast', instant=true)]),
      g.stat('Daily budget used today', "Today's estimated spend as a share of the org's daily budget ([budgets] in the agent's config).",
             'percentunit', [g.target('org:claude_code_cost_usd:today / org:claude_code_budget_usd:day', instant=true)]),
      g.stat('Month forecast vs budget', "The month forecast as a share of the org's monthly budget; over 100 % means the budget will not last.",
             'percentunit', [g.target('org:claude_code_cost_usd:month_forecast / org:claude_code_budget_usd:month', instant=true)]),
      g.stat('Saved by caching', 'What cache reads saved in the time range against paying the input price for the same tokens, from the price table the agent uses (claude_code_model_price_usd_per_token).',
             'currencyUSD', [g.target(|||
        sum(
          sum by (model) (increase(claude_code_tokens_total{%(sel)s, token_type="cache_read"}[$__range]))
            * on(model) group_left()
          (max by (model) (claude_code_model_price_usd_per_token{%(sel)s, token_type="input"})
            - max by (model) (claude_code_model_price_usd_per_token{%(sel)s, token_type="cache_read"}))
        )
      ||| % { sel: sel }, instant=true)]),
    ],
    [
      g.stat('Sessions today (UTC)', 'Claude Code sessions started today (UTC). ' + merged, 'short',
             [g.target(today('claude_code_daily_sessions'), instant=true)]),
      g.stat('Lines added today (UTC)', 'Lines of code added by Claude Code today (UTC). ' + merged, 'short',
             [g.target(today('claude_code_daily_lines_added'), instant=true)]),
      g.stat('Lines removed today (UTC)', 'Lines of code removed by Claude Code today (UTC). ' + merged, 'short',
             [g.target(today('claude_code_daily_lines_removed'), instant=true)]),
      g.stat('Commits today (UTC)', 'Git commits made by Claude Code today (UTC). ' + merged, 'short',
             [g.target(today('claude_code_daily_commits'), instant=true)]),
      g.stat('Pull requests today (UTC)', 'Pull requests created by Claude Code today (UTC). ' + merged, 'short',
             [g.target(today('claude_code_daily_pull_requests'), instant=true)]),
      g.stat('Active users today (UTC)', 'Actors with any estimated cost today (UTC). ' + merged, 'short',
             [g.target('count(%s > 0) or vector(0)' % today('claude_code_daily_cost_usd', 'actor'), instant=true)]),
    ],
    [
      g.bars('Cost per UTC day by source',
             'Estimated cost of each UTC day the agent shows (today and the days the Admin API may still revise, exposition.daily_window_days), split by the source that won each (user, day): api = the Admin API had the day, otel = OpenTelemetry filled in.',
             'currencyUSD', [g.target('sum by (date, source) (claude_code_daily_cost_usd{%s})' % sel, '{{date}} {{source}}', instant=true)]),
      g.timeseries('Cost per hour by model', 'Estimated spend rate in USD per hour, by model, from the merged cost counter (never decreases). ' + estimate,
                   'currencyUSD', [g.target('sum by (model) (rate(claude_code_cost_usd_total{%s}[$__rate_interval])) * 3600' % sel, '{{model}}')], stack=true),
    ],
    [
      g.bars('Cost by team', 'Estimated cost in the time range by team (teams.map in the config, else the OTel team attribute; empty = no team).',
             'currencyUSD', [g.target('sort_desc(%s)' % over('claude_code_cost_usd_total', by='team'), '{{team}}', instant=true)], w=8),
      g.bars('Cost by model', 'Estimated cost in the time range by model (normalized model ids).',
             'currencyUSD', [g.target('sort_desc(%s)' % over('claude_code_cost_usd_total', by='model'), '{{model}}', instant=true)], w=8),
      g.timeseries('Active users per day and per week',
                   'Actors with any estimated cost in the trailing day and the trailing 7 days, from the merged cost counter.',
                   'short', [
                     g.target('count(sum by (actor) (increase(claude_code_cost_usd_total{%s}[1d])) > 0) or vector(0)' % sel, 'trailing day'),
                     g.target('count(sum by (actor) (increase(claude_code_cost_usd_total{%s}[7d])) > 0) or vector(0)' % sel, 'trailing 7 days'),
                   ], w=8),
    ],
    [
      g.stat('Sessions', 'Sessions started in the time range (merged counter).', 'short',
             [g.target(over('claude_code_sessions_total'), instant=true)]),
      g.stat('Lines added', 'Lines of code added in the time range (merged counter).', 'short',
             [g.target(over('claude_code_lines_added_total'), instant=true)]),
      g.stat('Lines removed', 'Lines of code removed in the time range (merged counter).', 'short',
             [g.target(over('claude_code_lines_removed_total'), instant=true)]),
      g.stat('Commits', 'Git commits made by Claude Code in the time range (merged counter).', 'short',
             [g.target(over('claude_code_commits_total'), instant=true)]),
      g.stat('Pull requests', 'Pull requests created by Claude Code in the time range (merged counter).', 'short',
             [g.target(over('claude_code_pull_requests_total'), instant=true)]),
      g.stat('Edit acceptance', 'Accepted edit-tool decisions as a share of all (Edit, MultiEdit, Write, NotebookEdit) in the time range; the first decision per edit.',
             'percentunit', [g.target('%s / %s' % [over('claude_code_tool_decisions_total', ', decision="accepted"'), over('claude_code_tool_decisions_total')], instant=true)]),
    ],
    [
      g.stat('Cost per commit', 'Estimated cost divided by commits made by Claude Code, in the time range.', 'currencyUSD',
             [g.target('%s / %s' % [over('claude_code_cost_usd_total'), over('claude_code_commits_total')], instant=true)], w=6),
      g.stat('Cost per pull request', 'Estimated cost divided by pull requests created by Claude Code, in the time range.', 'currencyUSD',
             [g.target('%s / %s' % [over('claude_code_cost_usd_total'), over('claude_code_pull_requests_total')], instant=true)], w=6),
      g.stat('Cache-read share', 'Cache reads as a share of input-side tokens (input, cache reads, cache writes) in the time range; a fall means the same work costs more.',
             'percentunit', [g.target('%s / %s' % [over('claude_code_tokens_total', ', token_type="cache_read"'), over('claude_code_tokens_total', inputSide)], instant=true)], w=6),
      g.stat('Source gap today (UTC)', "OpenTelemetry's cost minus the Admin API's for today (UTC), over the users both sources report; large gaps mean one source misses data.",
             'currencyUSD', [g.target('sum(claude_code_reconciliation_gap{%s, quantity="cost_usd"} * on(date) group_left() max by (date) (claude_code_exporter_today_info{%s}))' % [sel, sel], instant=true)], w=6),
    ],
    [
      g.timeseries('Reconciliation gap by day (OTel minus Admin API)',
                   'OpenTelemetry value minus the Admin API value, summed over the (user, day) pairs both sources have, per quantity and UTC day in the window the API may still revise.',
                   'short', [g.target('sum by (date, quantity) (claude_code_reconciliation_gap{%s})' % sel, '{{date}} {{quantity}}')], w=24),
    ],
  ]),
)
