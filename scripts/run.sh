#!/usr/bin/env bash
# The system on this machine: one SIP edge, one Asterisk node, its agent and the web UI, with the
# demo data -- the cluster's code path with one of each (`pbx up --nodes N` for N nodes, two edges).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
pbx up
