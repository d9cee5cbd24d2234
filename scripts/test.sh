#!/usr/bin/env bash
# Sets up and runs every test: installs the packages, builds, runs unit, loopback-HTTP and
# end-to-end tests (real binary, promtool, Prometheus), then the unit and fuzz tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and checks formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== formatting (clang-format)"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

echo "== build"
scripts/build.sh
echo "== tests"
ctest --test-dir build --output-on-failure -LE bench

echo "== unit and fuzz tests under ASan+UBSan"
BUILD_DIR=build-asan scripts/build.sh -DCCE_SANITIZE=ON -DCCE_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -R '^unit$'
