#!/usr/bin/env bash
# crsp-node.service under a real systemd, also where the host's PID 1 is
# not systemd: a container from debian:12 with systemd as its PID 1 runs
# tests/node/packaging/package_test.sh on the crsp package, which then
# installs it, starts the unit (DynamicUser, the sandbox checked in
# /proc), pings, registers and queries through it, stops it (SIGTERM,
# Result=success) and purges it. The engine is started and stopped as in
# docker_test.sh (engine.sh); the container runs with every capability the
# host grants but SYS_RESOURCE (systemd mounts its sandboxes) and the
# host's cgroup tree and namespace, so systemd can run in it (tried on a
# hybrid cgroup v1 host; --cgroupns host is what cgroup v2 hosts need).
# Exit 77 (ctest: skipped) only where no engine can start.
# Usage: systemd_unit_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
root=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=engine.sh
source "$here/engine.sh"

work=$(mktemp -d /tmp/crsp-systemd-test.XXXXXX)
container=crsp-systemd-unit-test
image=crsp-systemd-unit-test:latest
t0=$(date +%s)
step() { echo "systemd-test: +$(($(date +%s) - t0)) s: $*" >&2; }

cleanup() {
  local rc=$?
  set +e
  if ((engine_pid > 0)) || engine_up; then
    "$docker_cli" rm -f "$container" >/dev/null 2>&1
  fi
  engine_stop || rc=1
  rm -rf "$work"
  step "done (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

engine_start "$work/engine" || exit $?
docker=$docker_cli

step "cpack"
mkdir -p "$work/context"
(cd "$build" && cpack -G DEB -B "$work/cpack") >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; exit 1; }
cp "$work"/cpack/crsp_*.deb "$work/context/"
deb=$(basename "$work"/context/crsp_*.deb)
cp "$root/tests/node/packaging/package_test.sh" "$work/context/"
cat >"$work/context/Dockerfile" <<'DOCKERFILE'
FROM debian:12
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends systemd systemd-sysv python3 \
 && rm -f /etc/systemd/system/*.wants/* \
      /lib/systemd/system/getty.target.wants/* \
      /lib/systemd/system/multi-user.target.wants/getty.target
COPY package_test.sh crsp_*.deb /root/
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
DOCKERFILE

step "base image"
DOCKER=$docker "$root/docker/make-base-image.sh" debian:12
step "image with systemd"
DOCKER_BUILDKIT=0 "$docker" build -q -t "$image" "$work/context" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; exit 1; }

"$docker" rm -f "$container" >/dev/null 2>&1 || :
"$docker" run -d --name "$container" \
  --cap-add ALL --cap-drop SYS_RESOURCE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --cgroupns host --tmpfs /run --tmpfs /run/lock \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
  --sysctl net.ipv6.conf.all.disable_ipv6=0 \
  "$image" >/dev/null
state=""
for ((i = 0; i < 60; i++)); do
  state=$("$docker" exec "$container" systemctl is-system-running 2>/dev/null || :)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.5
done
if [[ $state != running && $state != degraded ]]; then
  echo "FAIL: systemd in the container: '$state'" >&2
  "$docker" logs "$container" 2>&1 | tail -n 20 >&2
  exit 1
fi
pid1=$("$docker" exec "$container" cat /proc/1/comm)
[[ $pid1 == systemd ]] || { echo "FAIL: PID 1 is $pid1" >&2; exit 1; }
step "systemd is PID 1 ($state)"

"$docker" exec "$container" bash /root/package_test.sh --deb "/root/$deb"
step "package test under systemd passed"
