#!/usr/bin/env bash
# The node, adapter and cluster tests under ThreadSanitizer (clang), in
# build-tsan/ (or $CRSP_TSAN_BUILD_DIR): the node's threads (edge server,
# journal sync, OpenDHT's) against its locks. OpenDHT itself is not
# instrumented; tests/sanitizer/tsan.supp names what is reported inside it
# and why. Usage: scripts/tsan.sh [extra ctest args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CRSP_TSAN_BUILD_DIR:-$root/build-tsan}
"$root/scripts/install-deps.sh"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCRSP_SANITIZE_THREAD=ON -DCRSP_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the run below needs: the node, and the tests of the node, the
# adapter and the cluster (ctest lists every test; only these are run).
cmake --build "$build" -j "${CRSP_JOBS:-$(nproc)}" --target crsp-node \
  node_test daemon_test dht_adapter_test cluster_harness_test cluster_test
cd "$build"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizer/tsan.supp"
# Sanitized nodes run several times slower on the same cores: the cluster
# tests wait this many times longer for what must happen (never shorter
# for what must not); their deadlines themselves are held in scripts/test.sh.
export CRSP_TEST_SLOWDOWN=${CRSP_TEST_SLOWDOWN:-3}
ctest --output-on-failure -j "${CRSP_TEST_JOBS:-2}" --timeout 900 \
  -L "node|dht_adapter|cluster" -LE long "$@"
