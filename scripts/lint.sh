#!/usr/bin/env bash
# Lint and type checks, configured in pyproject.toml: ruff (rules and format) and mypy.
# Every check runs even when one fails; the exit code is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
ruff check . || status=1
ruff format --check . || status=1
mypy || status=1
exit "$status"
