#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UBSan (clang), in
# build-sanitize/ (or $CRSP_SANITIZE_BUILD_DIR). The same build then serves
# scripts/fuzz.sh, so CI compiles the sanitized tree once.
# Usage: scripts/sanitize.sh [extra ctest args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CRSP_SANITIZE_BUILD_DIR:-$root/build-sanitize}
"$root/scripts/install-deps.sh"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCRSP_BUILD_FUZZ=ON -DCRSP_SANITIZE=ON -DCRSP_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${CRSP_JOBS:-$(nproc)}"
cd "$build"
# Leaks inside third-party libraries (GnuTLS, OpenDHT) are theirs:
# tests/sanitizer/lsan.supp names each one and why.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/sanitizer/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Sanitized nodes run several times slower on the same cores: the cluster
# tests wait this many times longer for what must happen (never shorter
# for what must not); their deadlines themselves are held in scripts/test.sh.
export CRSP_TEST_SLOWDOWN=${CRSP_TEST_SLOWDOWN:-3}
ctest --output-on-failure -j "${CRSP_TEST_JOBS:-2}" --timeout 900 "$@"
