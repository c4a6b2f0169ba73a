#!/usr/bin/env bash
# The system on this machine: Asterisk + controller + web UI, with the demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
pbx up
