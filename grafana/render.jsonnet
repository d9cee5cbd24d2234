// Renders the dashboards Grafana loads (grafana/dashboards/*.json).
{
  'claude-code-overview.json': import 'overview.libsonnet',
  'claude-code-teams-users.json': import 'teams-users.libsonnet',
  'claude-code-agent-health.json': import 'agent-health.libsonnet',
}
