#!/usr/bin/env bash
# Runs the hardening benchmarks (flood, soak) against the crsp-node of an
# existing build and prints a markdown section for BENCHMARKS.md. Builds
# nothing: pass the build directory (or set CRSP_BUILD_DIR) in which
# crsp-node, flood_bench and soak_bench were built.
# Usage: bench/hardening/run.sh [--quick] [BUILD_DIR]
set -euo pipefail
quick=0
build=${CRSP_BUILD_DIR:-}
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    *) build=$arg ;;
  esac
done
if [[ -z $build ]]; then
  echo "usage: $0 [--quick] BUILD_DIR (or CRSP_BUILD_DIR)" >&2
  exit 64
fi
find_one() {  # the newest executable called $1 under the build dir
  # (a build dir may hold a stale copy too, e.g. from configuring
  # bench/hardening on its own into a subdirectory)
  find "$build" -type f -name "$1" -perm -u+x -printf '%T@ %p\n' |
    sort -rn | sed -n '1s/^[^ ]* //p'  # reads all: no SIGPIPE under pipefail
}
node=$(find_one crsp-node)
flood=$(find_one flood_bench)
soak=$(find_one soak_bench)
for f in node flood soak; do
  if [[ -z ${!f} ]]; then
    echo "$0: no $f binary under $build (build it first)" >&2
    exit 1
  fi
done
if ((quick)); then
  seconds=3 datagrams=100000 warmup=20000
else
  seconds=10 datagrams=1000000 warmup=100000
fi
status=0
echo "## Hardening: flood and soak"
echo
echo "One crsp-node on loopback, dual stack; \`bench/hardening/run.sh$( ((quick)) && echo ' --quick')\`."
echo "Sources: ::1 and 127.0.0.1 are different prefixes (/64, IPv4 /24)."
echo
echo "### Flood: one source at 10x its answer budget (${seconds} s per phase)"
echo
echo "| measure | value |"
echo "|---|---|"
"$flood" --node "$node" --seconds "$seconds" || status=1
echo
echo "### Soak: random and mutated datagrams"
echo
echo "| measure | value |"
echo "|---|---|"
"$soak" --node "$node" --datagrams "$datagrams" --warmup "$warmup" || status=1
echo
exit $status
