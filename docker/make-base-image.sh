#!/usr/bin/env bash
# Makes the image debian:12 (or TAG) from Debian's own packages, for engines
# that reach no image registry: `debootstrap --variant=minbase bookworm`
# into a scratch folder, with this host's apt sources and apt configuration
# copied in (so builds reach the same package mirror), imported with
# `docker import`. Does nothing when TAG exists. Needs root and debootstrap.
# Credentials (/etc/apt/auth.conf*) are not copied: they would stay in every
# layer built on the image.
# Usage: docker/make-base-image.sh [TAG]   (DOCKER=/path/to/docker to choose
# the client; about 5 minutes)
set -euo pipefail
tag=${1:-debian:12}
docker=${DOCKER:-docker}
if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "make-base-image: $tag exists" >&2
  exit 0
fi

# The host's first bookworm mirror; deb.debian.org when it names none.
mirror=$(
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
      /^URIs:/ {uri=$2} /^Suites:/ && / bookworm( |$)/ && uri {print uri; exit}'
    grep -hs '^deb .* bookworm main' /etc/apt/sources.list \
      /etc/apt/sources.list.d/*.list | awk '{print $2}' || :
  } | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d /var/tmp/crsp-rootfs.XXXXXX)
trap 'rm -rf --one-file-system "$rootfs"' EXIT
echo "make-base-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >&2

# apt as on the host: sources, configuration, keys, preferences.
rm -f "$rootfs/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
         /etc/apt/sources.list.d/*.sources /etc/apt/apt.conf \
         /etc/apt/apt.conf.d/* /etc/apt/trusted.gpg.d/* \
         /etc/apt/preferences.d/* /etc/apt/keyrings/*; do
  [[ -f $f ]] || continue
  mkdir -p "$rootfs$(dirname "$f")"
  cp -p "$f" "$rootfs$f"
done
# Keyrings the sources name (Signed-By) that the minimal system lacks.
{ grep -hos 'Signed-By: *[^ ]*\|signed-by=[^] ]*' /etc/apt/sources.list \
    /etc/apt/sources.list.d/* || :; } | sed 's/.*[:=] *//' | sort -u |
  while read -r key; do
    if [[ -f $key && ! -e $rootfs$key ]]; then
      mkdir -p "$rootfs$(dirname "$key")"
      cp -p "$key" "$rootfs$key"
    fi
  done
# An image carries no package cache or lists; `apt-get update` refills them.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

echo "make-base-image: importing as $tag" >&2
tar --numeric-owner -C "$rootfs" -c . | "$docker" import - "$tag" >/dev/null
echo "make-base-image: $tag made" >&2
