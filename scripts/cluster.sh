#!/usr/bin/env bash
# A CRSP cluster on one machine: N crsp-node processes, each in its own
# network namespace with its own IPv6 ULA address, on a bridge that lives in
# a namespace of its own (docs/cluster.md has the picture). Without root (or
# when `ip netns add` fails) it falls back to loopback ports on [::1].
#
# This file is the single source of truth for the `ip` commands: the C++
# test harness (tests/cluster/) calls the net-* subcommands below.
#
# User commands (DIR holds the run: state dirs, logs, pids; default
# ./crsp-cluster):
#   cluster.sh start N [DIR] [-- EXTRA_NODE_ARGS...]
#   cluster.sh stop [DIR]                 kill every node, delete every netns
#   cluster.sh status [DIR]
#   cluster.sh kill|restart|pause|resume|cut|reconnect K [DIR]
#   cluster.sh partition [DIR]            nodes 1..N/2 | N/2+1..N
#   cluster.sh heal [DIR]
#   cluster.sh exec K|c [DIR] -- CMD...   run CMD in node K's (or the client)
#                                         namespace, e.g. crsp ping
# Environment: CRSP_NODE (crsp-node binary; default build/node/crsp-node),
# CRSP_EDGE_PORT (7400), CRSP_DHT_PORT (4222), CRSP_CLUSTER_LOOPBACK=1 forces
# the loopback fallback.
#
# Net subcommands (used by the tests; RUN is a run id, letters and digits):
#   net-probe                 exit 0 iff namespaces can be made here
#   net-up RUN N              make the bridge, N node namespaces, a client
#                             namespace; prints "K NETNS ADDRESS" per host
#                             (K = 1..N, then c for the client)
#   net-down RUN              kill every process in RUN's namespaces, delete
#                             them (links go with them)
#   net-cut RUN K / net-reconnect RUN K      link down / up of node K's port
#   net-partition RUN K...    move those nodes' ports to a second bridge
#   net-heal RUN              every port back on the first bridge
#   net-gc                    delete namespaces of test runs whose owner
#                             process is gone (crsp-PID-... or crsp-PIDxN-...)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
edge_port=${CRSP_EDGE_PORT:-7400}
dht_port=${CRSP_DHT_PORT:-4222}

die() {
  echo "cluster: $*" >&2
  exit 1
}

# --- naming: every name carries the run id, so parallel runs never collide.
ns_bridge() { echo "crsp-$1-br"; }
ns_node() { echo "crsp-$1-n$2"; }
ns_client() { echo "crsp-$1-c"; }
# fd00:c5a5:G::/64 with G from the run id's digits; uniqueness only matters
# within one bridge, which belongs to one run.
prefix() {
  local digits=${1//[!0-9]/}
  printf 'fd00:c5a5:%x:' $((10#${digits:-0} % 65536))
}
addr_node() { echo "$(prefix "$1"):$2"; }
addr_client() { echo "$(prefix "$1"):c1"; }

# Puts one end of a veth pair (port NAME on the bridge) into namespace NS as
# eth0 with ADDRESS/64, no duplicate address detection (the address is usable
# at once), lo up.
attach() {
  local run=$1 port=$2 ns=$3 address=$4 br
  br=$(ns_bridge "$run")
  ip netns add "$ns"
  ip -n "$br" link add "$port" type veth peer name eth0 netns "$ns"
  ip -n "$br" link set "$port" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$address/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
}

net_probe() {
  [[ ${CRSP_CLUSTER_LOOPBACK:-0} == 1 ]] && return 1
  command -v ip >/dev/null || return 1
  local probe="crsp-probe-$$"
  ip netns add "$probe" 2>/dev/null || return 1
  ip netns del "$probe"
}

net_up() {
  local run=$1 n=$2 br k
  [[ $run =~ ^[A-Za-z0-9]+$ ]] || die "bad run id '$run'"
  br=$(ns_bridge "$run")
  # Half-made networks are removed when any step fails (set -e exits).
  trap "net_down '$run'" EXIT
  ip netns add "$br"
  ip -n "$br" link set lo up
  # br1 is the other side of a partition; empty until net-partition.
  for b in br0 br1; do
    ip -n "$br" link add "$b" type bridge
    ip -n "$br" link set "$b" up
  done
  for ((k = 1; k <= n; k++)); do
    attach "$run" "p$k" "$(ns_node "$run" "$k")" "$(addr_node "$run" "$k")"
    echo "$k $(ns_node "$run" "$k") $(addr_node "$run" "$k")"
  done
  attach "$run" pc "$(ns_client "$run")" "$(addr_client "$run")"
  echo "c $(ns_client "$run") $(addr_client "$run")"
  trap - EXIT
}

net_down() {
  local run=$1 ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^crsp-$run-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
  done
}

net_cut() { ip -n "$(ns_bridge "$1")" link set "p$2" down; }
net_reconnect() { ip -n "$(ns_bridge "$1")" link set "p$2" up; }

net_partition() {
  local run=$1 k
  shift
  for k in "$@"; do
    ip -n "$(ns_bridge "$run")" link set "p$k" master br1
  done
}

net_heal() {
  local br port
  br=$(ns_bridge "$1")
  for port in $(ip -n "$br" -o link show master br1 | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip -n "$br" link set "$port" master br0
  done
}

net_gc() {
  local ns run owner
  for ns in $(ip netns list | awk '{print $1}'); do
    [[ $ns =~ ^crsp-(([0-9]+)(x[0-9]+)?)- ]] || continue
    run=${BASH_REMATCH[1]}
    owner=${BASH_REMATCH[2]}
    kill -0 "$owner" 2>/dev/null || net_down "$run"
  done
}

# --- user commands -----------------------------------------------------------
# DIR/cluster.env: RUN, N, MODE (netns|loopback); DIR/nK/{pid,node.log,state}.

load() {
  dir=${1:-./crsp-cluster}
  [[ -f $dir/cluster.env ]] || die "no cluster in $dir (run: cluster.sh start N $dir)"
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
}

node_binary() {
  local b=${CRSP_NODE:-$root/build/node/crsp-node}
  [[ -x $b ]] || die "no crsp-node at $b (build it, or set CRSP_NODE)"
  echo "$b"
}

# Starts node K of the loaded run (same state dir on restart).
launch() {
  local k=$1 binary listen bootstrap=() cmd=()
  binary=$(node_binary)
  mkdir -p "$dir/n$k/state"
  if [[ $MODE == netns ]]; then
    listen="[::]:$edge_port"
    ((k > 1)) && bootstrap=(--bootstrap "[$(addr_node "$RUN" 1)]:$dht_port")
    cmd=(ip netns exec "$(ns_node "$RUN" "$k")" "$binary" --listen "$listen"
      --dht-port "$dht_port")
  else
    listen="[::1]:$((edge_port + k - 1))"
    ((k > 1)) && bootstrap=(--bootstrap "[::1]:$dht_port")
    cmd=("$binary" --listen "$listen" --dht-port "$((dht_port + k - 1))")
  fi
  # EXTRA is a quoted word list saved by start.
  eval "extra=($EXTRA)"
  setsid "${cmd[@]}" "${bootstrap[@]}" --state-dir "$dir/n$k/state" \
    "${extra[@]}" >>"$dir/n$k/node.log" 2>&1 </dev/null &
  echo $! >"$dir/n$k/pid"
}

node_pid() { cat "$dir/n$1/pid" 2>/dev/null || true; }

user_start() {
  local n=${1:?usage: cluster.sh start N [DIR] [-- ARGS]} k
  shift
  dir=./crsp-cluster
  if [[ $# -gt 0 && $1 != -- ]]; then dir=$1; shift; fi
  [[ ${1:-} == -- ]] && shift
  [[ -f $dir/cluster.env ]] && die "$dir already holds a cluster (cluster.sh stop $dir)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  RUN="u$$"
  MODE=loopback
  if net_probe; then MODE=netns; fi
  N=$n
  EXTRA=""
  (($#)) && EXTRA=$(printf '%q ' "$@")
  printf 'RUN=%q\nN=%q\nMODE=%q\nEXTRA=%q\n' "$RUN" "$n" "$MODE" "$EXTRA" >"$dir/cluster.env"
  if [[ $MODE == netns ]]; then
    net_up "$RUN" "$n" >"$dir/hosts"
  else
    echo "cluster: no network namespaces here; nodes on [::1], distinct ports" >&2
  fi
  for ((k = 1; k <= n; k++)); do
    launch "$k"
    # Node 1 is everyone's bootstrap: give it a moment to bind.
    ((k == 1)) && sleep 0.5
  done
  user_status
}

user_stop() {
  local k pid
  for ((k = 1; k <= N; k++)); do
    pid=$(node_pid "$k")
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
  done
  [[ $MODE == netns ]] && net_down "$RUN"
  rm -f "$dir/cluster.env"
  echo "cluster: stopped (state and logs kept in $dir)"
}

user_status() {
  local k pid state where
  echo "cluster $RUN ($MODE) in $dir"
  for ((k = 1; k <= N; k++)); do
    pid=$(node_pid "$k")
    state=down
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && state="pid $pid"
    if [[ $MODE == netns ]]; then
      where="[$(addr_node "$RUN" "$k")]:$edge_port netns $(ns_node "$RUN" "$k")"
    else
      where="[::1]:$((edge_port + k - 1))"
    fi
    echo "  n$k $where ($state)"
  done
  [[ $MODE == netns ]] && echo "  client netns $(ns_client "$RUN") [$(addr_client "$RUN")]"
  return 0
}

need_netns() { [[ $MODE == netns ]] || die "$1 needs network namespaces (loopback mode)"; }

main() {
  local cmd=${1:-help}
  shift || true
  case $cmd in
    net-probe) net_probe ;;
    net-up) net_up "$@" ;;
    net-down) net_down "$@" ;;
    net-cut) net_cut "$@" ;;
    net-reconnect) net_reconnect "$@" ;;
    net-partition) net_partition "$@" ;;
    net-heal) net_heal "$@" ;;
    net-gc) net_gc ;;
    start) user_start "$@" ;;
    stop) load "${1:-}" && user_stop ;;
    status) load "${1:-}" && user_status ;;
    kill | pause | resume)
      load "${2:-}"
      local sig=KILL
      [[ $cmd == pause ]] && sig=STOP
      [[ $cmd == resume ]] && sig=CONT
      kill -"$sig" "$(node_pid "${1:?node number}")"
      ;;
    restart)
      load "${2:-}"
      kill -KILL "$(node_pid "${1:?node number}")" 2>/dev/null || true
      sleep 0.2
      launch "$1"
      ;;
    cut | reconnect)
      load "${2:-}"
      need_netns "$cmd"
      "net_$cmd" "$RUN" "${1:?node number}"
      ;;
    partition)
      load "${1:-}"
      need_netns partition
      net_partition "$RUN" $(seq $((N / 2 + 1)) "$N")
      ;;
    heal) load "${1:-}" && need_netns heal && net_heal "$RUN" ;;
    exec)
      local k=${1:?node number or c}
      shift
      local d=./crsp-cluster
      if [[ $# -gt 0 && $1 != -- ]]; then d=$1; shift; fi
      [[ ${1:-} == -- ]] && shift
      load "$d"
      if [[ $MODE != netns ]]; then exec "$@"; fi
      if [[ $k == c ]]; then exec ip netns exec "$(ns_client "$RUN")" "$@"; fi
      exec ip netns exec "$(ns_node "$RUN" "$k")" "$@"
      ;;
    help | -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d;s/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (cluster.sh help)" ;;
  esac
}

main "$@"
