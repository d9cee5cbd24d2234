// Teams and users: who spends, who keeps Claude Code's edits, and how their sessions go.
local g = import 'lib.libsonnet';
local sel = g.selector;
local who = sel + ', team=~"$team", actor=~"$actor"';
local whoModel = who + ', model=~"$model"';
local over(metric, filter, by) = 'sum by (%s) (increase(%s{%s}[$__range]))' % [by, metric, filter];
local ratio(metric, filter, good, by) =
  '%s / %s' % [over(metric, filter + ', ' + good, by), over(metric, filter, by)];

g.dashboard(
  'claude-code-teams-users',
  'Claude Code / Teams and users',
  'Leaderboards and a per-user table for the selected teams, users and models.',
  g.grid([
    [
      g.bars('Top users by cost', 'Estimated cost in the time range per actor (merged counter; Admin API where it has the day, else OpenTelemetry).',
             'currencyUSD', [g.target('topk(15, %s)' % over('claude_code_cost_usd_total', whoModel, 'actor'), '{{actor}}', instant=true)], w=8, h=10),
      g.bars('Top users by tokens', 'Tokens of every type in the time range per actor (merged counter).',
             'short', [g.target('topk(15, %s)' % over('claude_code_tokens_total', whoModel, 'actor'), '{{actor}}', instant=true)], w=8, h=10),
      g.bars('Lowest edit acceptance', 'Accepted edit-tool decisions as a share of all, in the time range, per actor, lowest first.',
             'percentunit', [g.target('bottomk(15, %s)' % ratio('claude_code_tool_decisions_total', who, 'decision="accepted"', 'actor'), '{{actor}}', instant=true)], w=8, h=10),
    ],
    [
      g.table('Users', 'One row per actor over the time range: estimated cost, sessions, commits, lines added, edit acceptance, cost per commit (merged counters), and when each source last had data.',
              'short', [
                g.target(over('claude_code_cost_usd_total', whoModel, 'actor'), table=true),
                g.target(over('claude_code_sessions_total', who, 'actor'), table=true),
                g.target(over('claude_code_commits_total', who, 'actor'), table=true),
                g.target(over('claude_code_lines_added_total', who, 'actor'), table=true),
                g.target(ratio('claude_code_tool_decisions_total', who, 'decision="accepted"', 'actor'), table=true),
                g.target('%s / %s' % [over('claude_code_cost_usd_total', whoModel, 'actor'), over('claude_code_commits_total', who, 'actor')], table=true),
                g.target('max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%s, actor=~"$actor", source="otel"}) * 1000' % sel, table=true),
                g.target('max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%s, actor=~"$actor", source="api"}) * 1000' % sel, table=true),
              ], 'Cost', desc=true, columns=[
                g.column('A', 'Cost', 'currencyUSD'),
                g.column('B', 'Sessions', 'short'),
                g.column('C', 'Commits', 'short'),
                g.column('D', 'Lines added', 'short'),
                g.column('E', 'Edit acceptance', 'percentunit'),
                g.column('F', 'Cost per commit', 'currencyUSD'),
                g.column('G', 'Last OTel data', 'dateTimeAsIso'),
                g.column('H', 'Last Admin API day', 'dateTimeAsIso'),
              ]),
    ],
    [
      g.bars('Edit acceptance by tool', 'Accepted decisions as a share of all, per edit tool, in the time range (merged counter).',
             'percentunit', [g.target(ratio('claude_code_tool_decisions_total', who, 'decision="accepted"', 'tool'), '{{tool}}', instant=true)], w=8),
      g.bars('Edit acceptance by language', 'Accepted decisions as a share of all, per file language, in the time range (OpenTelemetry only: the Admin API has no language).',
             'percentunit', [g.target(ratio('claude_code_otel_edit_decisions_total', who, 'decision="accepted"', 'language'), '{{language}}', instant=true)], w=8),
      g.bars('Active time: user vs CLI', 'Seconds of active time in the time range (OpenTelemetry): user = typing, cli = tools and model responses.',
             's', [g.target(over('claude_code_active_time_seconds_total', who, 'activity'), '{{activity}}', instant=true)], w=8),
    ],
    [
      g.timeseries('Cost per hour by team', 'Estimated spend rate in USD per hour by team (merged counter).',
                   'currencyUSD', [g.target('sum by (team) (rate(claude_code_cost_usd_total{%s}[$__rate_interval])) * 3600' % whoModel, '{{team}}')], stack=true),
      g.timeseries('Claude API error rate by model', 'Failed model API requests (api_error events) as a share of all requests (api_request + api_error), by model (OpenTelemetry).',
                   'percentunit', [g.target(|||
        sum by (model) (rate(claude_code_api_errors_total{%(f)s}[$__rate_interval]))
          / sum by (model) (rate({__name__=~"claude_code_api_(requests|errors)_total", %(f)s}[$__rate_interval]))
      ||| % { f: whoModel }, '{{model}}')]),
    ],
    [
      g.timeseries('Claude API latency p95 by model', '95th percentile duration of successful model API requests (api_request events, OpenTelemetry), by model; the histogram is not split by user.',
                   's', [g.target('histogram_quantile(0.95, sum by (le, model) (rate(claude_code_api_request_duration_seconds_bucket{%s, model=~"$model"}[$__rate_interval])))' % sel, '{{model}}')]),
      g.bars('Tool success rate', 'Successful tool executions as a share of all, per tool, in the time range (tool_result events, OpenTelemetry).',
             'percentunit', [g.target(ratio('claude_code_tool_results_total', who, 'success="true"', 'tool_name'), '{{tool_name}}', instant=true)]),
    ],
  ]),
  [
    g.labelVariable('team', 'Team'),
    g.labelVariable('actor', 'User', ', team=~"$team"'),
    g.labelVariable('model', 'Model'),
  ],
)
