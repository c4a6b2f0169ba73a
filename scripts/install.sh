#!/usr/bin/env bash
# Everything pbx needs on a fresh Debian 12 machine, as root. Safe to run again.
# The Asterisk chroot itself is built on first use (pbx asterisk up / the tests), into ~/.cache/pbx.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sipp >/dev/null || need_apt+=(sip-tester)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
fi

python3 -m pip install -q -e ".[test]"
