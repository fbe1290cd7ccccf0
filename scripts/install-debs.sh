#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if any is missing.
# Run as root; a temporary policy-rc.d keeps apt from starting services (apache2, MariaDB,
# PostgreSQL, Redis) on this machine: the test harness starts private instances itself.
# BRIDGE_POLICY_RC_D (the guard's path) and BRIDGE_ASSUME_ROOT (1/0) exist for the script's own
# tests (tests/unit/test_install_debs.py), which run it with stub apt-get and dpkg-query.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
is_root="${BRIDGE_ASSUME_ROOT:-}"
if [ -z "$is_root" ]; then
  if [ "$(id -u)" = 0 ]; then is_root=1; else is_root=0; fi
fi
if [ "$is_root" != 1 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them as root: sudo make deps" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
guard="${BRIDGE_POLICY_RC_D:-/usr/sbin/policy-rc.d}"
created=0
if [ ! -e "$guard" ]; then
  printf '#!/bin/sh\n# temporary: written by plan-bridge scripts/install-debs.sh\nexit 101\n' > "$guard"
  chmod 755 "$guard"
  created=1
fi
# An `if`, not `[ ... ] && rm`: under `set -e` the && form makes the EXIT trap (and so the
# script) exit 1 whenever the guard was already there.
cleanup() {
  if [ "$created" = 1 ]; then rm -f "$guard"; fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
