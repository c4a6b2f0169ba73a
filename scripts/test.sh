#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs, then runs pytest.
# Real Asterisk (built once into ~/.cache/pbx), real sipp calls, real PostgreSQL, real chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
# ruff (lint + format) and mypy first: a minute, and a broken tree fails before the long calls.
scripts/lint.sh
export CI="${CI:-true}"
exec python3 -m pytest -p no:cacheprovider -ra "$@"
