#!/usr/bin/env bash
# Builds and runs the benchmarks; they print figures (medians), they do not pass or fail on speed.
# Usage: scripts/bench.sh [decode|ingest|scrape]...   the in-process benchmarks (bench/bench_main.cc)
#        scripts/bench.sh fleet [fleet.py options]    the fleet benchmark (bench/fleet.py): the
#          agent under a simulated Claude Code fleet, against nginx and a pushgateway
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if [ "${1:-}" = "fleet" ]; then
  shift
  scripts/install-deps.sh --bench
  exec python3 bench/fleet.py --binary build/claude-code-exporter \
    --loadgen build/bench/cce_fleet_load --bench build/bench/cce_bench \
    --payloads tests/testdata/claude-code/requests "$@"
fi
build/bench/cce_bench "$@"
