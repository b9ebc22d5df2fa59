#!/usr/bin/env bash
# bench/metrics_ab.sh MODE [DEVICES] [SECONDS]: the cost of --metrics on the
# edge benchmark (docs/metrics.md "Cost"). MODE: off (no --metrics), quiet
# (--metrics, never scraped) or on (--metrics, scraped by curl every second).
# One crsp-node on CPU 0 (bench/run's edge flags), edge_bench on CPU 1:
# DEVICES registers of 4 offers, then the query sweep of SECONDS per step.
# Prints offers/s, peak queries/s and the node's CPU microseconds per
# register and per query answer. Run modes interleaved, several times:
#   for i in 1 2 3; do for m in off on; do bench/metrics_ab.sh $m; done; done
# Needs a Release build in $CRSP_BUILD_DIR (default build/) and curl, bc.
set -u
b=${CRSP_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}
mode=$1 devices=${2:-2500} secs=${3:-4}
work=$(mktemp -d /var/tmp/crsp-mab.XXXXXX)
port=$((20000 + RANDOM % 20000)); mport=$((port + 1))
extra=()
[[ $mode != off ]] && extra=(--metrics 127.0.0.1:$mport)
taskset -c 0 $b/node/crsp-node --listen "[::1]:$port" --dht-port 0 --state-dir $work/node \
  --log-level warn --answer-budget 1000000000 --answer-burst 1000000000 \
  --offers-per-source 100000000 --max-offers 10000000 "${extra[@]}" 2>$work/node.log &
node=$!
scraper=""
if [[ $mode == on ]]; then
  (while sleep 1; do curl -s -o /dev/null http://127.0.0.1:$mport/metrics; done) &
  scraper=$!
fi
# Every process this starts is stopped by its pid, also on failure.
trap 'kill $scraper $node 2>/dev/null; rm -rf "$work"' EXIT
cpu() { awk '{sub(/.*\) /, ""); print $12 + $13}' /proc/$node/stat; }
tck=$(getconf CLK_TCK)
sleep 1
ep="[::1]:$port"
$b/bench/edge_bench check --target $ep --expect 0 --label warm >/dev/null
c0=$(cpu)
$b/bench/edge_bench register --target $ep --devices $devices --window 64 --cpu 1 --label r >$work/reg.txt
c1=$(cpu)
$b/bench/edge_bench check --target $ep --expect $devices --label check >/dev/null
c2=$(cpu)
$b/bench/edge_bench query --target $ep --max-results 10 --seconds $secs --cpu 1 --label q >$work/q.txt
c3=$(cpu)
regs=$(awk -F= '/^r.requests=/{print $2}' $work/reg.txt)
ops=$(awk -F= '/^r.offers_per_sec=/{print $2}' $work/reg.txt)
peak=$(awk -F= '/^q.peak_answers_per_sec=/{print $2}' $work/q.txt)
answers=$(awk -F= -v s=$secs '/answers_per_sec=/ && !/peak/ {n += $2 * s} END {print n}' $work/q.txt)
echo "$mode offers_per_sec=$ops peak_qps=$peak reg_cpu_us=$(echo "($c1-$c0)*1000000/$tck/$regs" | bc -l | cut -c1-6) query_cpu_us=$(echo "($c3-$c2)*1000000/$tck/$answers" | bc -l | cut -c1-6) answers=$answers regs=$regs"
[[ -n $scraper ]] && kill "$scraper"
kill "$node"; wait "$node" 2>/dev/null
rm -rf "$work"
