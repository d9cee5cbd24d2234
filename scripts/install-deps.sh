#!/usr/bin/env bash
# Installs every Debian bookworm package the agent, its tests and its tools need.
# Usage: scripts/install-deps.sh [--build-only | --bench]
#   --build-only: only what building the agent needs (no Prometheus, Alertmanager, test tools)
#   --bench: also the fleet benchmark's baselines (nginx, pushgateway)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  prometheus-cpp-dev libcpp-httplib-dev nlohmann-json3-dev libtomlplusplus-dev
  libspdlog-dev libfmt-dev doctest-dev libprotobuf-dev protobuf-compiler
  libsqlite3-dev zlib1g-dev libssl-dev libcrypt-dev libboost-dev libgrpc++-dev
  protobuf-compiler-grpc  # gRPC's CMake package names its plugin; the build fails without it
  libgoogle-perftools-dev  # tcmalloc_minimal, the agent's allocator
)
test_pkgs=(
  prometheus prometheus-alertmanager jsonnet clang-format python3 python3-yaml curl sqlite3
  docker-compose openssl
  libnghttp2-dev  # the fleet load generator's OTLP/gRPC client (bench/, built with the tests)
)
# kubectl renders the Kubernetes base in the tests; Debian's kubernetes-client unless one is present.
command -v kubectl >/dev/null 2>&1 || test_pkgs+=(kubernetes-client)

bench_pkgs=(nginx-light prometheus-pushgateway)

pkgs=("${build_pkgs[@]}")
[ "${1:-}" = "--build-only" ] || pkgs+=("${test_pkgs[@]}")
[ "${1:-}" != "--bench" ] || pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps prometheus from pulling a web UI build chain.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian packages enable and start their services; tests run their own instances.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-pushgateway nginx; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
echo "install-deps: installed ${missing[*]}"
