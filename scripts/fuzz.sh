#!/usr/bin/env bash
# Builds every fuzz target with clang's libFuzzer under ASan and UBSan and
# runs each for SECONDS (default 60), starting from its committed corpus.
# New inputs go to a scratch directory; a crash leaves its input in
# build-sanitize/artifacts/ and fails the script; the build directory is
# the one scripts/sanitize.sh uses. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${CRSP_SANITIZE_BUILD_DIR:-$root/build-sanitize}
"$root/scripts/install-deps.sh"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCRSP_BUILD_FUZZ=ON -DCRSP_SANITIZE=ON -DCRSP_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=$(cd "$root/tests/fuzz" && ls ./*_fuzz.cc | sed 's|./||;s|_fuzz.cc||')
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j "${CRSP_JOBS:-$(nproc)}" --target "${build_targets[@]}"
mkdir -p "$build/artifacts"
status=0
for t in $targets; do
  scratch=$(mktemp -d)
  echo "fuzz: $t for ${seconds}s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" \
      "$scratch" "$root/tests/fuzz/corpus/$t" 2>"$build/fuzz-$t.log"; then
    echo "fuzz: $t FAILED; see $build/fuzz-$t.log and $build/artifacts/" >&2
    tail -n 40 "$build/fuzz-$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$build/fuzz-$t.log" >&2 || true
  fi
  rm -rf "$scratch"
done
exit $status
