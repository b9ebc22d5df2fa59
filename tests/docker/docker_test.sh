#!/usr/bin/env bash
# docker/ for real: a Docker engine (started here when none runs, stopped by
# its pid at the end), the base image debian:12 made from Debian's packages
# when missing (docker/make-base-image.sh), the image built from the crsp
# Debian package, and the compose cluster of docker/compose.yaml: a
# register through node 1 is found by a query through node 3 (client
# container), and `crsp ping` reaches three nodes with two DHT peers each.
# Everything is torn down on every exit: containers, volumes, network, the
# engine, and the rules, bridges and forwarding it added to the host.
# Exit 77 (ctest: skipped) only where no engine can start.
# Usage: docker_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
root=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=engine.sh
source "$here/engine.sh"

work=$(mktemp -d /tmp/crsp-docker-test.XXXXXX)
project=crsp
compose=(docker-compose -p "$project" -f "$root/docker/compose.yaml")
# docker-compose 1.29 builds through the engine's API (the legacy builder).
export COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0
# Node 1's published edge port: away from a node the host may run on 7400.
export CRSP_EDGE_PORT=27499
deb_copy=""
t0=$(date +%s)
step() { echo "docker-test: +$(($(date +%s) - t0)) s: $*" >&2; }

cleanup() {
  local rc=$?
  set +e
  if ((engine_pid > 0)) || engine_up; then
    step "tearing down"
    timeout 120 "${compose[@]}" down -v --remove-orphans -t 15 >&2
  fi
  engine_stop || rc=1
  [[ -n $deb_copy ]] && rm -f "$deb_copy"
  rm -rf "$work"
  step "done (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

engine_start "$work/engine" || exit $?
docker=$docker_cli

# The package the image installs: cpack into a scratch folder, one .deb into
# docker/debs/ (the only file .dockerignore lets into the context).
step "cpack"
cpack -G DEB -B "$work/cpack" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; exit 1; }
debs=("$work"/cpack/crsp_*.deb)
((${#debs[@]} == 1)) || { echo "FAIL: cpack made ${#debs[@]} packages" >&2; exit 1; }
rm -f "$root"/docker/debs/crsp_*.deb
deb_copy=$root/docker/debs/$(basename "${debs[0]}")
cp "${debs[0]}" "$deb_copy"

# The context the engine gets is that package, the Dockerfile and
# .dockerignore: no .git, no build trees (computed by docker-compose's own
# library, docker-py).
context=$(python3 - "$root" <<'PY'
import sys
from docker.utils.build import exclude_paths
root = sys.argv[1]
with open(root + "/.dockerignore") as f:
    patterns = [l.strip() for l in f if l.strip() and not l.startswith("#")]
print("\n".join(sorted(exclude_paths(root, patterns, "docker/Dockerfile"))))
PY
)
expected=$(printf '.dockerignore\ndocker/Dockerfile\ndocker/debs/%s' "$(basename "$deb_copy")")
[[ $context == "$expected" ]] ||
  { echo "FAIL: build context is not just the package:" >&2; echo "$context" >&2; exit 1; }

step "base image"
DOCKER=$docker "$root/docker/make-base-image.sh" debian:12

step "compose build"
"${compose[@]}" build node1 >"$work/build.log" 2>&1 ||
  { tail -n 40 "$work/build.log" >&2; exit 1; }
# What the runtime links to is all there (the libtomlplusplus.so.3 crash).
missing=$("$docker" run --rm --entrypoint sh crsp:latest -c \
  'ldd /usr/bin/crsp-node /usr/bin/crsp | grep "not found" || true')
[[ -z $missing ]] || { echo "FAIL: missing libraries: $missing" >&2; exit 1; }

step "compose up"
"${compose[@]}" up -d node1 node2 node3 >&2

healthy() {
  local id
  id=$("${compose[@]}" ps -q "$1")
  [[ -n $id && $("$docker" inspect -f '{{.State.Health.Status}}' "$id") == healthy ]]
}
for node in node1 node2 node3; do
  for ((i = 0; i < 60; i++)); do healthy "$node" && break; sleep 1; done
  healthy "$node" || {
    echo "FAIL: $node not healthy after 60 s" >&2
    "${compose[@]}" logs --tail 20 >&2
    exit 1
  }
done
step "three nodes healthy"

client() {
  timeout 60 "${compose[@]}" run --rm --no-deps -T --entrypoint crsp client "$@"
}
node1='[fd00:c5a5:d0c::11]:7400'
node3='[fd00:c5a5:d0c::13]:7400'
device=5eed0000000000000000000000c0ffee

client --node "$node1" register --device "$device" --kind computer \
  --currency CNY --resource cpu --price 0.50/hour --quantity 4 \
  --from now --until +1h --json >"$work/register.json" 2>>"$work/client.log" || :
python3 - "$work/register.json" <<'PY' ||
import json, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if doc["status"] == "OK" and doc["entries"]
         and all(e["status"] == "OK" for e in doc["entries"]) else 1)
PY
  { echo "FAIL: register through node 1:" >&2; cat "$work/register.json" >&2; exit 1; }
step "registered through node 1"

found=0
for ((i = 0; i < 30; i++)); do
  client --node "$node3" query cpu --json >"$work/query.json" \
    2>>"$work/client.log" || :
  grep -q "\"device_id\": \"$device\"" "$work/query.json" && { found=1; break; }
  sleep 1
done
((found)) || { echo "FAIL: node 3 never served the offer:" >&2; cat "$work/query.json" >&2; exit 1; }
step "queried through node 3"

# Three nodes answer, each with two DHT peers (the other two nodes).
ok=0
for ((i = 0; i < 60; i++)); do
  timeout 60 "${compose[@]}" run --rm --no-deps -T client ping --json \
    >"$work/ping.json" 2>>"$work/client.log" || :
  if python3 - "$work/ping.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
try:
    doc = json.loads(text)
except ValueError:
    sys.exit(1)
nodes = doc if isinstance(doc, list) else doc.get("nodes", [])
peers = [n.get("peers") for n in nodes]
print("ping: peers", peers, file=sys.stderr)
sys.exit(0 if len(peers) == 3 and all(p == 2 for p in peers) else 1)
PY
  then ok=1; break; fi
  sleep 2
done
((ok)) || { echo "FAIL: crsp ping:" >&2; cat "$work/ping.json" >&2; exit 1; }
step "ping: three nodes, two peers each"
