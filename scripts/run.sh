#!/usr/bin/env bash
# Sets up and runs the agent with config.example.toml: OTLP on 127.0.0.1:4318, /metrics on
# 127.0.0.1:14318, the store in ./claude-code-exporter.db. Extra arguments go to the agent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
scripts/build.sh
exec build/claude-code-exporter --config config.example.toml "$@"
