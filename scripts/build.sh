#!/usr/bin/env bash
# Configures and builds CRSP into build/ (or $CRSP_BUILD_DIR), with extra
# CMake arguments passed through: scripts/build.sh -DCRSP_SANITIZE=ON
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CRSP_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja "$@" >/dev/null
cmake --build "$build" -j "${CRSP_JOBS:-$(nproc)}"
