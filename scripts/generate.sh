#!/usr/bin/env bash
# Renders the generated files users load from their one source:
#   alerts/*.libsonnet -> alerts/generated/{recording-rules,alerts}.yaml (Prometheus rule files)
# Usage: scripts/generate.sh [--check] [--out DIR] [--set JSON]
#   --check     render to a temporary folder and fail if the checked-in files differ (stale)
#   --out DIR   write the rule files to DIR instead of alerts/generated
#   --set JSON  merged into the mixin's _config, e.g. '{"budget": {"warningRatio": 0.9}}'
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
out=alerts/generated
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

render() {  # render DIR
  mkdir -p "$1"
  jsonnet -S -m "$1" --tla-code "overrides=$overrides" alerts/render.jsonnet >/dev/null
}

if [ "$check" = 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  render "$tmp"
  if ! diff -ru alerts/generated "$tmp"; then
    echo "generate.sh: alerts/generated is stale; run scripts/generate.sh and commit the result" >&2
    exit 1
  fi
  echo "generate.sh: alerts/generated is up to date"
else
  render "$out"
  echo "generate.sh: wrote $(ls "$out" | tr '\n' ' ')to $out"
fi
