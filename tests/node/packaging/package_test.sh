#!/usr/bin/env bash
# The crsp Debian package end to end, as an operator gets it: cpack builds
# it from the build tree, `apt-get install ./crsp_*.deb` installs it (its
# dependencies come from dpkg-shlibdeps), the installed crsp-node answers
# the installed /usr/bin/crsp (ping, a register, a query), stops on SIGTERM,
# and `apt-get purge` removes it. The node runs as a plain process on
# loopback ports; where systemd is PID 1 it runs as crsp-node.service
# instead (a runtime drop-in moves it to loopback ports), sandbox and all.
# Needs root; exit 77 (ctest: skipped) without it, or when a crsp package
# is installed already (this test would replace and purge it).
# Usage: package_test.sh BUILD_DIR, or package_test.sh --deb FILE to test a
# package built before (e.g. copied into a machine with systemd as PID 1).
set -euo pipefail
prebuilt=""
if [[ $1 == --deb ]]; then
  prebuilt=$(realpath "$2")
else
  build=$(cd "$1" && pwd)
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: installing a package needs root" >&2
  exit 77
fi
if dpkg-query -W -f='${Status}' crsp 2>/dev/null | grep -q 'ok installed'; then
  echo "SKIP: a crsp package is installed here; the test would purge it" >&2
  exit 77
fi

work=$(mktemp -d /tmp/crsp-package-test.XXXXXX)
edge='[::1]:27491'
dht_port=27492
node_pid=0
installed=0
systemd=0
[[ $(cat /proc/1/comm 2>/dev/null) == systemd && -d /run/systemd/system ]] &&
  systemd=1
dropin=/run/systemd/system/crsp-node.service.d
state_existed=0
[[ -e /var/lib/private/crsp-node || -e /var/lib/crsp-node ]] && state_existed=1
apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q "$@"
}

cleanup() {
  local rc=$? i
  set +e
  if ((node_pid > 0)); then
    kill -KILL "$node_pid" 2>/dev/null
    wait "$node_pid" 2>/dev/null
  fi
  if ((systemd)); then
    systemctl stop crsp-node.service 2>/dev/null
    rm -rf "$dropin" /run/crsp-package-test
    systemctl daemon-reload
  fi
  if ((installed)); then
    apt_get purge crsp >"$work/purge.log" 2>&1 ||
      { echo "FAIL: apt-get purge crsp:" >&2; cat "$work/purge.log" >&2; rc=1; }
    if [[ -e /usr/bin/crsp-node || -e /etc/crsp/node.toml ||
          -e /lib/systemd/system/crsp-node.service ]]; then
      echo "FAIL: files left after purge" >&2
      rc=1
    fi
  fi
  if ((systemd && !state_existed)); then
    rm -rf /var/lib/private/crsp-node /var/lib/crsp-node
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- build --------------------------------------------------------------
if [[ -n $prebuilt ]]; then
  mkdir -p "$work/cpack"
  cp "$prebuilt" "$work/cpack/"
else
  (cd "$build" && cpack -G DEB -B "$work/cpack") >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; fail "cpack"; }
fi
debs=("$work"/cpack/crsp_*.deb)
if ((${#debs[@]} != 1)) || [[ ! -f ${debs[0]} ]]; then
  fail "cpack made no single crsp_*.deb"
fi
deb=${debs[0]}
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# Dependencies found by dpkg-shlibdeps: the libraries the binaries link to
# (toml++ is a shared library in Debian: the docker/ crash of issue 16).
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libtomlplusplus3 libopendht2 libspdlog1.10 libgnutls30 libc6; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib"
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/crsp-node ./usr/bin/crsp ./lib/systemd/system/crsp-node.service \
         ./etc/crsp/node.toml ./usr/share/doc/crsp/operations.md; do
  grep -q " $f\$" <<<"$contents" || fail "package lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/crsp/node.toml ||
  fail "/etc/crsp/node.toml is not a conffile"

# --- install ------------------------------------------------------------
cp "$deb" "$work/"
installed=1
(cd "$work" && apt_get install "./$(basename "$deb")") >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "apt-get install ./$(basename "$deb")"; }
dpkg-query -W -f='${Status}' crsp | grep -q 'ok installed' || fail "crsp not installed"
# Every library the installed binaries need is there.
! ldd /usr/bin/crsp-node /usr/bin/crsp | grep 'not found' || fail "missing libraries"
echo "installed: $(dpkg-query -W -f='${Package} ${Version}' crsp)"

# --- run the installed node ---------------------------------------------
# The installed config, with its metrics (once the node has them) on a
# loopback port of this test's, not on the 9474 of a node the host runs.
conf_dir=$work
((systemd)) && conf_dir=/run/crsp-package-test  # the unit's /tmp is private
mkdir -p "$conf_dir"
chmod 755 "$conf_dir"
sed -e 's|^metrics = .*|metrics = "127.0.0.1:27493"|' /etc/crsp/node.toml >"$conf_dir/node.toml"
chmod 644 "$conf_dir/node.toml"
if ((systemd)); then
  mkdir -p "$dropin"
  cat >"$dropin/test.conf" <<CONF
[Service]
ExecStart=
ExecStart=/usr/bin/crsp-node --config $conf_dir/node.toml --state-dir /var/lib/crsp-node --listen $edge --dht-port $dht_port
CONF
  systemctl daemon-reload
  systemctl start crsp-node.service || {
    journalctl -u crsp-node --no-pager -n 30 >&2; fail "systemctl start"; }
  echo "started crsp-node.service (systemd is PID 1)"
  # The sandbox took: a dynamic user, no capabilities, no new privileges,
  # a seccomp filter.
  main_pid=$(systemctl show -p MainPID --value crsp-node.service)
  status=$(cat "/proc/$main_pid/status")
  awk '$1 == "Uid:" && $2 != 0 {ok=1} END {exit !ok}' <<<"$status" || fail "runs as root"
  grep -q '^CapEff:[[:space:]]*0*$' <<<"$status" || fail "has capabilities"
  grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$status" || fail "NoNewPrivs off"
  grep -q '^Seccomp:[[:space:]]*2$' <<<"$status" || fail "no seccomp filter"
  echo "sandbox: uid $(awk '$1 == "Uid:" {print $2}' <<<"$status"), no capabilities, NoNewPrivs, seccomp"
else
  /usr/bin/crsp-node --config "$conf_dir/node.toml" --state-dir "$work/state" \
    --listen "$edge" --dht-port "$dht_port" >"$work/node.log" 2>&1 &
  node_pid=$!
  echo "started /usr/bin/crsp-node, pid $node_pid (systemd is not PID 1)"
fi

crsp=(/usr/bin/crsp --node "$edge")
answered=0
for ((i = 0; i < 50; i++)); do
  "${crsp[@]}" ping --json >"$work/ping.json" 2>/dev/null &&
    grep -q '"answered": true' "$work/ping.json" && { answered=1; break; }
  sleep 0.2
done
((answered)) || { cat "$work/node.log" >&2 2>/dev/null || :; fail "crsp ping: no answer"; }
echo "ping: answered"

device=5eed00000000000000000000000000de
"${crsp[@]}" register --device "$device" --kind printer --currency CNY \
  --resource print --price 0.10/page --quantity 500 --from now --until +1h \
  --json >"$work/register.json" || fail "crsp register (exit $?)"
python3 - "$work/register.json" <<'PY' || fail "register not OK: $(cat "$work/register.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if doc["status"] == "OK" and doc["entries"]
         and all(e["status"] == "OK" for e in doc["entries"]) else 1)
PY
"${crsp[@]}" query print --json >"$work/query.json" || fail "crsp query (exit $?)"
python3 - "$work/query.json" "$device" <<'PY' || fail "query: $(cat "$work/query.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
offers = [o for o in doc["offers"] if o["device_id"] == sys.argv[2]]
sys.exit(0 if len(offers) == 1 and offers[0]["price"] == 10
         and offers[0]["quantity"] == 500 else 1)
PY
echo "register and query: OK"

# --- stop (SIGTERM) -----------------------------------------------------
if ((systemd)); then
  systemctl stop crsp-node.service
  result=$(systemctl show -p Result --value crsp-node.service)
  [[ $result == success ]] || fail "systemctl stop: Result=$result"
else
  kill -TERM "$node_pid"
  for ((i = 0; i < 150; i++)); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$node_pid" 2>/dev/null && fail "no stop within 15 s of SIGTERM"
  status=0
  wait "$node_pid" || status=$?
  node_pid=0
  ((status == 0)) || fail "exit $status after SIGTERM"
  grep -q 'crsp-node: stopped' "$work/node.log" || fail "no clean stop in the log"
fi
echo "stopped by SIGTERM"
# The purge and its check run in cleanup.
