#!/usr/bin/env bash
# Installs every Debian package CRSP builds, tests or runs with. Idempotent:
# packages already present are skipped without touching the network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libopendht-dev dhtnode libmsgpack-cxx-dev libgnutls28-dev libargon2-dev
  libdeflate-dev libgtest-dev libgmock-dev libbenchmark-dev libjsoncpp-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  clang libclang-rt-14-dev
  iproute2 procps
  tshark
  systemd docker.io docker-compose debootstrap iptables
  prometheus-cpp-dev prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
fi
