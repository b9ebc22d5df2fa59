#!/usr/bin/env bash
# Configures and builds CRSP into build/ (or $CRSP_BUILD_DIR), Release unless
# $CRSP_BUILD_TYPE says otherwise (bench/run reuses such a build), with extra
# CMake arguments passed through: scripts/build.sh -DCRSP_LONG_TESTS=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CRSP_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE="${CRSP_BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build" -j "${CRSP_JOBS:-$(nproc)}"
