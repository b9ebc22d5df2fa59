#!/usr/bin/env bash
# README's run command: installs what is missing, builds, and starts one
# crsp-node on its embedded default (edge [::]:7400, DHT port 4222, state in
# the default directory). Extra arguments go to crsp-node.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build=${CRSP_BUILD_DIR:-$root/build}
CRSP_BUILD_DIR=$build "$root/scripts/build.sh" >&2
exec "$build/node/crsp-node" "$@"
