#!/usr/bin/env bash
# Installs n8n (the version the e2e suite and the main job run) once per machine, in a cache
# folder outside the checkout, with the Node 24 of scripts/node24.sh. Prints the n8n binary.
#
# Measured recipe: a plain `npm install n8n` fails here (a dependency downloads zlib in its
# build), so scripts are skipped and only the native modules n8n needs are rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24.sh
N8N_VERSION="${N8N_VERSION:-2.41.1}"
N8N_HOME="${PUSH_TOKENS_N8N_HOME:-$HOME/.cache/n8n-nodes-push-tokens/n8n-$N8N_VERSION}"
bin="$N8N_HOME/node_modules/.bin/n8n"
if [ ! -f "$N8N_HOME/.installed" ]; then
  mkdir -p "$N8N_HOME"
  exec 9>"$N8N_HOME.lock"
  flock 9
  if [ ! -f "$N8N_HOME/.installed" ]; then
    echo "[n8n] installing n8n@$N8N_VERSION into $N8N_HOME (once per machine; ~5 min, ~3 GB)" >&2
    start=$(date +%s)
    (cd "$N8N_HOME" && [ -f package.json ] || echo '{"name":"n8n-runtime","private":true}' > "$N8N_HOME/package.json")
    npm install --prefix "$N8N_HOME" --no-audit --no-fund --loglevel=error --ignore-scripts "n8n@$N8N_VERSION" >&2
    npm rebuild --prefix "$N8N_HOME" --loglevel=error sqlite3 isolated-vm >&2
    touch "$N8N_HOME/.installed"
    echo "[n8n] installed in $(( $(date +%s) - start )) s" >&2
  fi
fi
echo "$bin"
