#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if any is missing.
# Run as root; a temporary policy-rc.d keeps apt from starting services (apache2, MariaDB,
# PostgreSQL, Redis) on this machine: the test harness starts private instances itself.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them as root: sudo make deps" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
guard=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$guard" ]; then
  printf '#!/bin/sh\n# temporary: written by plan-bridge scripts/install-debs.sh\nexit 101\n' > "$guard"
  chmod 755 "$guard"
  created=1
fi
cleanup() { [ "$created" = 1 ] && rm -f "$guard"; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
