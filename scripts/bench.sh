#!/usr/bin/env bash
# Builds and runs the benchmarks; they print figures (medians), they do not pass or fail on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build/bench/cce_bench "$@"
