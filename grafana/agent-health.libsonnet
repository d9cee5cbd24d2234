// Agent health: are both sources flowing, is anything refused, and what the alert pack says.
local g = import 'lib.libsonnet';
local sel = g.selector;
local by(labels, metric, filter='') =
  'sum by (%s) (rate(%s{%s%s}[$__rate_interval]))' % [labels, metric, sel, filter];
local over(metric, filter='', labels='') =
  'sum%s (increase(%s{%s%s}[$__range]))' % [if labels == '' then '' else ' by (%s)' % labels, metric, sel, filter];

g.dashboard(
  'claude-code-agent-health',
  'Claude Code / Agent health',
  "The exporter's own health: source freshness, requests, refusals, limits, and the alert pack's alerts.",
  g.grid([
    [
      g.stat('Scraped', 'Whether Prometheus scrapes the agent (up: 1 = yes).', 'short', [g.target('min(up{%s})' % sel, instant=true)]),
      g.stat('Admin API newest day', 'Age of the start of the newest UTC day the Admin API returned data for (about a day old at most when polling works and people use Claude Code).',
             's', [g.target('time() - max(claude_code_exporter_admin_api_newest_date_timestamp_seconds{%s} > 0)' % sel, instant=true)]),
      g.stat('Admin API last success', 'Time since a day was last fetched completely from the Admin API (polls every admin_api.poll_interval).',
             's', [g.target('time() - max(claude_code_exporter_admin_api_last_success_timestamp_seconds{%s} > 0)' % sel, instant=true)]),
      g.stat('Backfill dates remaining', 'UTC dates of Admin API history still to fetch; 0 when the backfill is complete.',
             'short', [g.target('max(claude_code_exporter_admin_api_backfill_dates_remaining{%s})' % sel, instant=true)]),
      g.bars('Last OTLP data', 'Time since an OTLP request was last accepted, per signal (traces are accepted and discarded).',
             's', [g.target('time() - max by (signal) (claude_code_exporter_otlp_last_received_timestamp_seconds{%s} > 0)' % sel, '{{signal}}', instant=true)], w=8),
    ],
    [
      g.timeseries('Admin API requests by code', 'Admin API requests per second by HTTP status (network = no answer).',
                   'reqps', [g.target(by('code', 'claude_code_exporter_admin_api_requests_total'), '{{code}}')], w=8),
      g.timeseries('Admin API failures by reason', 'Failed Admin API requests per second by reason (rate_limited, server_error, network, deadline, too_large, malformed, auth, client_error; skipped days: page_limit, cursor_loop; retry_after_capped).',
                   'reqps', [g.target(by('reason', 'claude_code_exporter_admin_api_failures_total'), '{{reason}}')], w=8),
      g.timeseries('Backfill progress', 'UTC dates of Admin API history still to fetch, over time.',
                   'short', [g.target('max(claude_code_exporter_admin_api_backfill_dates_remaining{%s})' % sel, 'dates remaining')], w=8),
    ],
    [
      g.timeseries('OTLP requests by code and encoding', 'OTLP/HTTP requests answered per second, by signal, encoding and HTTP status.',
                   'reqps', [g.target(by('signal, encoding, code', 'claude_code_exporter_otlp_requests_total'), '{{signal}} {{encoding}} {{code}}')], w=8),
      g.timeseries('OTLP points by outcome', 'Data points and log records per second: accepted, duplicate (a replay, dropped), rejected (invalid), ignored (not a usage signal).',
                   'short', [g.target(by('signal, outcome', 'claude_code_exporter_otlp_data_points_total'), '{{signal}} {{outcome}}')], w=8),
      g.timeseries('Input held to limits', 'Values held to a [limits] bound per second, by key: points rejected (max_cost_usd, max_tokens, max_count, max_future_skew), labels cut (max_label_length), values folded into __other__ (max_label_values_per_actor), identities not learned (max_learned_identities). ClaudeCodeExporterLimitHit.',
                   'short', [g.target(by('limit', 'claude_code_exporter_limit_hits_total'), '{{limit}}')], w=8),
    ],
    [
      g.table('Actors by time since last OpenTelemetry data', "Each actor's time since its last OTLP data, longest first: a developer whose telemetry stopped rises to the top (ClaudeCodeActorTelemetrySilent).",
              's', [g.target('sort_desc(time() - max by (actor) (claude_code_exporter_actor_last_seen_timestamp_seconds{%s, source="otel"}))' % sel, table=true)],
              'Silent for', desc=true, w=8, columns=[g.column('A', 'Silent for', 's')]),
      g.bars('Unpriced model tokens', 'Tokens in the time range of models the price table does not know; their cost is missing from estimates (add them under [pricing.models]).',
             'short', [g.target(over('claude_code_exporter_unpriced_model_tokens_total', labels='model'), '{{model}}', instant=true)], w=8),
      g.stat('Observations over the actor limit', 'Observations in the time range of actors beyond limits.max_actors, counted under actor="__other__".',
             'short', [g.target(over('claude_code_exporter_actor_overflow_observations_total'), instant=true)], w=4),
      g.stat('Store write failures', 'Failed store writes in the time range; each was answered 503 and retried by the client.',
             'short', [g.target(over('claude_code_exporter_store_errors_total'), instant=true)], w=4),
    ],
    [
      g.bars('Series per family', 'Series the agent exposes per metric family in the latest scrape: the first place to look when a scrape grows.',
             'short', [g.target('sort_desc(max by (family) (claude_code_exporter_series{%s}))' % sel, '{{family}}', instant=true)], w=12, h=12),
      g.table('Alerts of the pack', 'Alerts of the claude-code-exporter pack now pending or firing (ALERTS), with their severity and team.',
              'short', [g.target('max by (alertname, alertstate, severity, category, team, actor) (ALERTS{alertname=~"ClaudeCode.*"})', table=true)],
              'alertname', w=12, h=12, columns=[g.column('A', 'Active', 'short')]),
    ],
  ]),
)
