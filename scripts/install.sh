#!/usr/bin/env bash
# Everything pbx needs on a fresh Debian 12 machine, as root. Safe to run again.
# The Asterisk chroot itself is built on first use (pbx asterisk up / the tests), into ~/.cache/pbx.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sipp >/dev/null || need_apt+=(sip-tester)
# The SIP edge (issue 9): Kamailio with its SQLite and PostgreSQL drivers.
command -v kamailio >/dev/null || need_apt+=(kamailio)
[ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/db_sqlite.so ] || need_apt+=(kamailio-sqlite-modules)
[ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/db_postgres.so ] || need_apt+=(kamailio-postgres-modules)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# R35: main-number greetings are checked and converted with sox (MP3 through libsox-fmt-mp3).
command -v sox >/dev/null || need_apt+=(sox)
[ -e /usr/lib/x86_64-linux-gnu/sox/libsox_fmt_mp3.so ] || need_apt+=(libsox-fmt-mp3)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}"
fi

python3 -m pip install -q -e ".[test]"
