#!/bin/sh
# Installs what berth and its tests need on a fresh Debian 12 machine (as root), then builds.
# Idempotent: does only what is missing.
set -eu
cd "$(dirname "$0")/.."

# Debian packages: build tools, the peers the tests drive, the test image sources.
PKGS="gcc make python3 attr g++ libseccomp-dev busybox-static runc crun conmon containerd podman skopeo umoci \
docker-registry containernetworking-plugins iptables iproute2 util-linux zstd uidmap jq hyperfine linux-libc-dev openssl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# npm dependencies (native better-sqlite3 is compiled from source by node-gyp). Reinstalled only
# when package-lock.json changed since the last install (its hash is kept in node_modules).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.berth-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.berth-lock-hash
fi

echo "setup: build"
node scripts/build.mjs
