#!/usr/bin/env bash
# Runs every test on a fresh machine: brings Node 24 if the machine's Node is older, installs
# the exact dependencies (npm ci), then `npm test`, which builds and finds or starts PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24.sh
npm ci --no-audit --no-fund
npm test
