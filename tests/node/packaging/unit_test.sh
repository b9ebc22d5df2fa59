#!/usr/bin/env bash
# crsp-node.service as systemd reads it: `systemd-analyze verify` must
# neither fail nor warn (it exits 0 on unknown keys and bad values, so any
# output is a failure), and `systemd-analyze security` must rate its
# exposure at most MAX (tenths: 15 is 1.5; docs/operations.md has the score).
# verify also checks ExecStart's binary exists, so the unit checked is the
# packaged one with the built crsp-node in its place.
# Exit 77 (ctest: skipped) when systemd-analyze is absent.
# Usage: unit_test.sh UNIT_FILE CONFIG_FILE CRSP_NODE_BINARY MAX
set -euo pipefail
unit=$1 config=$2 binary=$3 max=$4
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not installed (Debian package systemd)" >&2
  exit 77
fi
work=$(mktemp -d /tmp/crsp-unit-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=/usr/bin/crsp-node ' "$unit" ||
  { echo "FAIL: ExecStart does not run /usr/bin/crsp-node" >&2; exit 1; }
sed "s|^ExecStart=/usr/bin/crsp-node |ExecStart=$binary |" "$unit" \
  >"$work/crsp-node.service"

if ! out=$(cd "$work" && systemd-analyze verify crsp-node.service 2>&1) ||
   [[ -n $out ]]; then
  echo "FAIL: systemd-analyze verify:" >&2
  echo "$out" >&2
  exit 1
fi
echo "verify: clean"

# ExecStart's command line runs: the flags are crsp-node's and the packaged
# config parses. Run with the config's ports on loopback (metrics on a port
# of this test's, edge and DHT on any free port),
# the state in a scratch folder; stopped by SIGTERM, as systemd stops it.
sed -e 's|^metrics = .*|metrics = "127.0.0.1:27494"|' "$config" >"$work/node.toml"
flags=$(sed -n 's|^ExecStart=[^ ]* ||p' "$work/crsp-node.service" |
  sed -e "s|/etc/crsp/node.toml|$work/node.toml|" \
      -e "s|/var/lib/crsp-node|$work/state|")
# shellcheck disable=SC2086
"$binary" $flags --listen '[::1]:0' --dht-port 0 >"$work/node.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'crsp-node: edge' "$work/node.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q 'crsp-node: edge' "$work/node.log"; then
  kill -KILL "$pid" 2>/dev/null || :
  wait "$pid" 2>/dev/null || :
  echo "FAIL: crsp-node did not start with the unit's command line:" >&2
  cat "$work/node.log" >&2
  exit 1
fi
kill -TERM "$pid"
for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null && { echo "FAIL: no stop within 15 s of SIGTERM" >&2; exit 1; }
status=0
wait "$pid" || status=$?
((status == 0)) || { echo "FAIL: exit $status after SIGTERM" >&2; cat "$work/node.log" >&2; exit 1; }
echo "ExecStart: started and stopped by SIGTERM"

(cd "$work" && systemd-analyze security --offline=yes crsp-node.service) \
  >"$work/security.txt" 2>&1 || :
tail -n 1 "$work/security.txt"
if ! (cd "$work" && systemd-analyze security --offline=yes \
        --threshold="$max" crsp-node.service) >/dev/null 2>&1; then
  echo "FAIL: exposure above $max tenths:" >&2
  grep -v '^✓' "$work/security.txt" >&2
  exit 1
fi
