#!/usr/bin/env bash
# A local monitoring stack on loopback, to try the alerts: the agent, Debian's Prometheus (scraping
# it and loading alerts/generated/*.yaml) and Alertmanager (alerts/alertmanager.example.yml, its
# webhooks answered by a local receiver that logs each notification). State lives in one folder.
#
# Usage: scripts/stack.sh [start]   set up, start, print the URLs, run until Ctrl-C
#        scripts/stack.sh stop      stop a stack started from another shell
# Environment: STACK_DIR (default .stack), ANTHROPIC_ADMIN_API_KEY (optional), and the ports
#   STACK_OTLP_PORT 4318, STACK_OTLP_GRPC_PORT 4317, STACK_METRICS_PORT 14318, STACK_PROMETHEUS_PORT 9090,
#   STACK_ALERTMANAGER_PORT 9093, STACK_RECEIVER_PORT 9095.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dir=$(realpath -m "${STACK_DIR:-.stack}")
otlp=${STACK_OTLP_PORT:-4318}
otlp_grpc=${STACK_OTLP_GRPC_PORT:-4317}
metrics=${STACK_METRICS_PORT:-14318}
prom=${STACK_PROMETHEUS_PORT:-9090}
am=${STACK_ALERTMANAGER_PORT:-9093}
receiver=${STACK_RECEIVER_PORT:-9095}

stop() {
  [ -f "$dir/pids" ] || return 0
  mv "$dir/pids" "$dir/pids.stopping"  # the foreground loop ends when pids is gone
  while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      echo "stack: stopped $name"
    fi
  done <"$dir/pids.stopping"
  rm -f "$dir/pids.stopping"
}

if [ "${1:-start}" = "stop" ]; then
  stop
  exit 0
fi
[ "${1:-start}" = "start" ] || { echo "usage: scripts/stack.sh [start|stop]" >&2; exit 2; }

scripts/install-deps.sh
scripts/build.sh >/dev/null
mkdir -p "$dir"
stop  # a stack left running from this folder

# The agent: loopback listeners, its store in the stack folder, a small example budget so the
# budget alerts have something to compare with.
cat >"$dir/agent.toml" <<EOF
[otlp]
listen = "127.0.0.1:$otlp"
grpc_listen = "127.0.0.1:$otlp_grpc"
[exposition]
listen = "127.0.0.1:$metrics"
[store]
path = "$dir/claude-code-exporter.db"
[budgets.org]
day = 100.0
month = 2000.0
EOF
# Prometheus reads the rule files where they are in the repository (never a copy).
cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - $repo/alerts/generated/*.yaml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am']
scrape_configs:
  - job_name: claude-code-exporter
    static_configs:
      - targets: ['127.0.0.1:$metrics']
EOF
# The example routing as shipped; only its webhook port follows STACK_RECEIVER_PORT.
sed "s/127\.0\.0\.1:9095/127.0.0.1:$receiver/" alerts/alertmanager.example.yml >"$dir/alertmanager.yml"

start() {  # start NAME LOG COMMAND...
  local name=$1 log=$2
  shift 2
  "$@" >>"$dir/$log" 2>&1 &
  echo "$name $!" >>"$dir/pids"
}
start agent agent.log build/claude-code-exporter --config "$dir/agent.toml"
start receiver receiver.log python3 scripts/alert-receiver.py --port "$receiver" --log "$dir/alerts.jsonl"
start alertmanager alertmanager.log prometheus-alertmanager --config.file "$dir/alertmanager.yml" \
  --storage.path "$dir/alertmanager" --web.listen-address "127.0.0.1:$am" --cluster.listen-address=
start prometheus prometheus.log prometheus --config.file "$dir/prometheus.yml" \
  --storage.tsdb.path "$dir/prometheus" --web.listen-address "127.0.0.1:$prom" \
  --rules.alert.resend-delay=15s

ready() {  # ready URL NAME
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "stack: $2 did not start; see $dir/*.log" >&2
  stop
  exit 1
}
ready "http://127.0.0.1:$metrics/readyz" agent
ready "http://127.0.0.1:$am/-/ready" alertmanager
ready "http://127.0.0.1:$prom/-/ready" prometheus

cat <<EOF
stack: running, state in $dir
  OTLP receiver   http://127.0.0.1:$otlp   (point Claude Code here; scripts/send-sample-telemetry.py --endpoint http://127.0.0.1:$otlp)
  agent metrics   http://127.0.0.1:$metrics/metrics   status page http://127.0.0.1:$metrics/
  Prometheus      http://127.0.0.1:$prom   (rules: http://127.0.0.1:$prom/rules, alerts: http://127.0.0.1:$prom/alerts)
  Alertmanager    http://127.0.0.1:$am
  notifications   $dir/alerts.jsonl
Stop with Ctrl-C, or scripts/stack.sh stop from another shell.
EOF
trap 'stop; exit 0' INT TERM
# Run until interrupted, or until a component exits on its own.
while [ -f "$dir/pids" ]; do
  while read -r name pid; do
    if ! kill -0 "$pid" 2>/dev/null; then
      [ -f "$dir/pids" ] || exit 0  # stopped from another shell
      echo "stack: $name exited; see $dir/$name.log" >&2
      stop
      exit 1
    fi
  done <"$dir/pids"
  sleep 1
done
