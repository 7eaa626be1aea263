#!/usr/bin/env bash
# The main job: n8n 2.x on http://localhost:5678 with this package installed (from its packed
# tarball, as n8n installs community packages), the SQLite store credential created, and the
# example workflows imported. Brings Node 24 and n8n itself (once per machine) when missing.
#
#   N8N_USER_FOLDER  where n8n keeps its data (default ~/n8n-push-tokens); the store is
#                    <N8N_USER_FOLDER>/.n8n/push-tokens.sqlite
#   N8N_PORT         default 5678
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24.sh
npm ci --no-audit --no-fund
npm run build
n8n_bin="$(bash scripts/install-n8n.sh)"

export N8N_USER_FOLDER="${N8N_USER_FOLDER:-$HOME/n8n-push-tokens}"
export N8N_PORT="${N8N_PORT:-5678}"
export N8N_DIAGNOSTICS_ENABLED="${N8N_DIAGNOSTICS_ENABLED:-false}"
export N8N_VERSION_NOTIFICATIONS_ENABLED="${N8N_VERSION_NOTIFICATIONS_ENABLED:-false}"
export N8N_TEMPLATES_ENABLED="${N8N_TEMPLATES_ENABLED:-false}"
files="$N8N_USER_FOLDER/n8n-files"
export N8N_RESTRICT_FILE_ACCESS_TO="${N8N_RESTRICT_FILE_ACCESS_TO:-$files}"
mkdir -p "$N8N_USER_FOLDER/.n8n" "$files"

bash scripts/install-package.sh "$N8N_USER_FOLDER"

setup="$N8N_USER_FOLDER/push-tokens-setup"
mkdir -p "$setup/workflows"
cat > "$setup/credentials.json" <<JSON
[{ "id": "pushTokenStore01", "name": "Push Token Store (SQLite)", "type": "pushTokenStoreApi",
   "data": { "engine": "sqlite", "path": "~/.n8n/push-tokens.sqlite" } }]
JSON
"$n8n_bin" import:credentials --input="$setup/credentials.json"
for example in examples/*.json; do
  sed "s#/path/to/n8n-files#$files#" "$example" > "$setup/workflows/$(basename "$example")"
done
[ -f "$files/tokens.csv" ] || cp examples/tokens.sample.csv "$files/tokens.csv"
[ -f "$files/onesignal-export.csv" ] || cp examples/onesignal-export.sample.csv "$files/onesignal-export.csv"
"$n8n_bin" import:workflow --separate --input="$setup/workflows"

echo "[start] n8n with n8n-nodes-push-tokens on http://localhost:$N8N_PORT (data in $N8N_USER_FOLDER)" >&2
exec "$n8n_bin" start
