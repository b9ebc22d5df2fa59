#!/usr/bin/env bash
# README's test command: installs what is missing, builds, and runs every
# test under ctest. Exits non-zero when any test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${CRSP_BUILD_DIR:-$root/build}
CRSP_BUILD_DIR=$build "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "${CRSP_TEST_JOBS:-2}" --timeout 600
