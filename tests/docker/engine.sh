# shellcheck shell=bash
# Sourced by the tests of this folder: start a Docker engine for a test, and
# stop it leaving the host as it was. The engine adds to the host: iptables
# and ip6tables rules and chains (and sets FORWARD's policy to DROP),
# bridges (docker0, br-*), cgroup folders and IP forwarding; engine_stop
# removes exactly what appeared while it ran, by comparing with a snapshot
# taken before. (Tables the engine created stay, empty, with ACCEPT
# policies: iptables cannot delete a table, and Debian's nft tool is not
# installed.)
#
# engine_start STATE_DIR: 0 with $engine_pid set (0 when an engine was
#   already running: it is used and left alone), 77 when no engine can start
#   here (not root, no dockerd, or dockerd exits), with the reason on stderr.
# engine_stop: stops the engine engine_start started (by pid), then undoes
#   its changes; 1 if the engine, its rules or docker0 outlived that. Safe
#   to call twice.

engine_pid=0
engine_state=""
docker_cli=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || true)}

engine_up() { timeout 10 "$docker_cli" info >/dev/null 2>&1; }

# iptables-save of each family, the links and the forwarding switches.
engine_snapshot() {
  local out=$1
  iptables-save >"$out.iptables" 2>/dev/null || :
  ip6tables-save >"$out.ip6tables" 2>/dev/null || :
  ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort \
    >"$out.links"
  ls -d /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker 2>/dev/null \
    >"$out.cgroups" || :
  sysctl -n net.ipv4.ip_forward >"$out.ip_forward" 2>/dev/null || :
  sysctl -n net.ipv6.conf.all.forwarding >"$out.ip6_forward" 2>/dev/null || :
}

engine_start() {
  engine_state=$1
  mkdir -p "$engine_state"
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: no Docker engine can start: dockerd needs root" >&2
    return 77
  fi
  if [[ -z $docker_cli ]] || ! command -v dockerd >/dev/null; then
    echo "SKIP: no Docker engine can start: dockerd or docker missing" \
      "(scripts/install-deps.sh installs docker.io)" >&2
    return 77
  fi
  if engine_up; then
    echo "docker: using the engine already running (left running)" >&2
    return 0
  fi
  command -v iptables-save >/dev/null || {
    echo "FAIL: iptables missing (scripts/install-deps.sh installs it)" >&2
    return 1
  }
  engine_snapshot "$engine_state/before"
  dockerd --storage-driver overlay2 >"$engine_state/dockerd.log" 2>&1 &
  engine_pid=$!
  echo "$engine_pid" >"$engine_state/dockerd.pid"
  local i
  for ((i = 0; i < 60; i++)); do
    engine_up && { echo "docker: engine $engine_pid up" >&2; return 0; }
    if ! kill -0 "$engine_pid" 2>/dev/null; then
      echo "SKIP: no Docker engine can start here; dockerd said:" >&2
      tail -n 5 "$engine_state/dockerd.log" >&2
      engine_pid=0
      engine_restore
      return 77
    fi
    sleep 0.5
  done
  echo "FAIL: dockerd $engine_pid not answering after 30 s" >&2
  return 1
}

# Removes from one table what appeared since the snapshot: rules first
# (jumps into the engine's chains), then the chains, then the policies.
engine_restore_table() {
  local tool=$1 before=$2 table=$3
  local now rules chains line chain
  now=$("$tool-save" -t "$table" 2>/dev/null) || return 0
  local old
  old=$(awk -v t="*$table" '/^\*/ {on = ($0 == t)} on' "$before")
  rules=$(comm -13 <(grep '^-A ' <<<"$old" | sort) \
                   <(grep '^-A ' <<<"$now" | sort))
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    eval "$tool -t $table -D ${line#-A }" 2>/dev/null || :
  done <<<"$rules"
  chains=$(comm -13 <(grep '^:' <<<"$old" | awk '{print $1}' | sort) \
                    <(grep '^:' <<<"$now" | awk '{print $1}' | sort))
  for chain in $chains; do "$tool" -t "$table" -F "${chain#:}" 2>/dev/null || :; done
  for chain in $chains; do "$tool" -t "$table" -X "${chain#:}" 2>/dev/null || :; done
  # Built-in chains' policies back to what they were (the engine sets
  # FORWARD's to DROP); ACCEPT, the kernel's, when the table was empty.
  while read -r chain policy _; do
    [[ $policy == - ]] && continue
    if [[ -n $old ]]; then
      policy=$(awk -v c="$chain" '$1 == c {print $2}' <<<"$old")
      [[ -n $policy ]] || continue
    else
      policy=ACCEPT
    fi
    "$tool" -t "$table" -P "${chain#:}" "$policy" 2>/dev/null || :
  done < <(grep '^:' <<<"$now")
}

engine_restore() {
  local before=$engine_state/before tool table link
  for tool in iptables ip6tables; do
    [[ -e $before.$tool ]] || continue
    for table in $( (grep '^\*' "$before.$tool" | tr -d '*'
                       echo nat; echo filter) | sort -u); do
      engine_restore_table "$tool" "$before.$tool" "$table"
    done
  done
  # Bridges the engine made (docker0, br-<network id>) and their veths.
  ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort |
    comm -13 "$before.links" - | grep -E '^(docker0|br-[0-9a-f]+|veth[0-9a-f]+)$' |
    while read -r link; do ip link del "$link" 2>/dev/null || :; done
  # The engine's cgroup folders, once empty (rmdir fails on a busy one).
  local dir
  for dir in /sys/fs/cgroup/docker /sys/fs/cgroup/*/docker; do
    [[ -d $dir ]] || continue
    grep -qx "$dir" "$before.cgroups" 2>/dev/null && continue
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || :
  done
  if [[ -s $before.ip_forward ]]; then
    sysctl -qw net.ipv4.ip_forward="$(cat "$before.ip_forward")" || :
  fi
  if [[ -s $before.ip6_forward ]]; then
    sysctl -qw net.ipv6.conf.all.forwarding="$(cat "$before.ip6_forward")" || :
  fi
}

engine_stop() {
  ((engine_pid > 0)) || return 0
  local containerd_pid="" i
  containerd_pid=$(cat /var/run/docker/containerd/containerd.pid 2>/dev/null || :)
  kill -TERM "$engine_pid" 2>/dev/null || :
  for ((i = 0; i < 100; i++)); do
    kill -0 "$engine_pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$engine_pid" 2>/dev/null; then
    echo "docker: engine $engine_pid ignored SIGTERM for 20 s; SIGKILL" >&2
    kill -KILL "$engine_pid" 2>/dev/null || :
  fi
  wait "$engine_pid" 2>/dev/null || :
  # The containerd dockerd started for itself stops with it; if not, by pid.
  if [[ -n $containerd_pid ]] && kill -0 "$containerd_pid" 2>/dev/null; then
    for ((i = 0; i < 50; i++)); do
      kill -0 "$containerd_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$containerd_pid" 2>/dev/null || :
  fi
  local started=$engine_pid
  engine_pid=0
  engine_restore
  # Nothing the engine added outlives it.
  local left=()
  kill -0 "$started" 2>/dev/null && left+=("dockerd $started")
  iptables-save 2>/dev/null | grep -q DOCKER && left+=("iptables rules")
  ip6tables-save 2>/dev/null | grep -q DOCKER && left+=("ip6tables rules")
  ip link show docker0 >/dev/null 2>&1 && left+=("docker0")
  if ((${#left[@]})); then
    echo "FAIL: outlived the engine: ${left[*]}" >&2
    return 1
  fi
  echo "docker: engine stopped, host rules, bridges and forwarding restored" >&2
}
