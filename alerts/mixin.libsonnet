// The claude-code-exporter monitoring mixin: recording rules, alerts and their thresholds.
// Render with scripts/generate-rules.sh; never edit the generated YAML by hand.
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
{
  // runbook_url from one pattern, so every alert links its own section of docs/runbook.md.
  prometheusAlerts+:: {
    groups: [
      g {
        rules: [
          r { annotations+: { runbook_url: $._config.runbookURLPattern % std.asciiLower(r.alert) } }
          for r in super.rules
        ],
      }
      for g in super.groups
    ],
  },
}
