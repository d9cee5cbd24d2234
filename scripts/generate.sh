#!/usr/bin/env bash
# Renders the generated files users load from their one source:
#   alerts/*.libsonnet  -> alerts/generated/{recording-rules,alerts}.yaml (Prometheus rule files)
#   grafana/*.libsonnet -> grafana/dashboards/*.json (Grafana dashboards)
#   both                -> deploy/kubernetes/generated/ (PrometheusRule, dashboard ConfigMaps)
# Usage: scripts/generate.sh [--check] [--out DIR] [--set JSON]
#   --check     render to a temporary folder and fail if the checked-in files differ (stale)
#   --out DIR   write only the rule files, to DIR
#   --set JSON  merged into the mixin's _config for the rule files,
#               e.g. '{"budget": {"warningRatio": 0.9}}'
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
out=""
overrides='{}'
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --out) out="$2"; shift ;;
    --set) overrides="$2"; shift ;;
    *) echo "generate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
command -v jsonnet >/dev/null || { echo "generate.sh: jsonnet is missing (scripts/install-deps.sh)" >&2; exit 1; }

rules() {  # rules DIR
  mkdir -p "$1"
  jsonnet -S -m "$1" --tla-code "overrides=$overrides" alerts/render.jsonnet >/dev/null
}
dashboards() {  # dashboards DIR
  mkdir -p "$1"
  jsonnet -m "$1" grafana/render.jsonnet >/dev/null
}
kubernetes() {  # kubernetes DIR
  mkdir -p "$1"
  jsonnet -S -m "$1" deploy/kubernetes/render.jsonnet >/dev/null
}

if [ "$check" = 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  rules "$tmp/rules"
  dashboards "$tmp/dashboards"
  kubernetes "$tmp/kubernetes"
  stale=0
  diff -ru alerts/generated "$tmp/rules" || stale=1
  diff -ru grafana/dashboards "$tmp/dashboards" || stale=1
  diff -ru deploy/kubernetes/generated "$tmp/kubernetes" || stale=1
  if [ "$stale" = 1 ]; then
    echo "generate.sh: generated files are stale; run scripts/generate.sh and commit the result" >&2
    exit 1
  fi
  echo "generate.sh: alerts/generated, grafana/dashboards and deploy/kubernetes/generated are up to date"
elif [ -n "$out" ]; then
  rules "$out"
  echo "generate.sh: wrote the rule files to $out"
else
  rules alerts/generated
  dashboards grafana/dashboards
  kubernetes deploy/kubernetes/generated
  echo "generate.sh: wrote alerts/generated, grafana/dashboards and deploy/kubernetes/generated"
fi
