#!/usr/bin/env bash
# Installs this package into an n8n user folder the way n8n 2.x installs a community package:
# the packed tarball is extracted into <user folder>/.n8n/nodes/node_modules/<name>, its
# dev/peer/optional dependencies are dropped, and `npm install --ignore-scripts` runs inside it
# with the Node that runs n8n. (No install scripts run: better-sqlite3 13 ships N-API prebuilds.)
#
#   scripts/install-package.sh <n8n user folder> [tarball]   (packs the checkout when no tarball)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node24.sh
user_folder="$1"
tarball="${2:-}"
if [ -z "$tarball" ]; then
  out="$(mktemp -d)"
  [ -d dist ] || npm run build >&2
  tarball="$out/$(npm pack --silent --pack-destination "$out" | tail -n 1)"
fi
name=$(node -p 'require("./package.json").name')
version=$(node -p 'require("./package.json").version')
nodes="$user_folder/.n8n/nodes"
target="$nodes/node_modules/$name"
rm -rf "$target"
mkdir -p "$target"
tar -xzf "$tarball" -C "$target" --strip-components=1
node -e '
  const fs = require("fs"); const f = process.argv[1];
  const { devDependencies, peerDependencies, optionalDependencies, ...pkg } = JSON.parse(fs.readFileSync(f, "utf8"));
  fs.writeFileSync(f, JSON.stringify(pkg, null, 2));
' "$target/package.json"
(cd "$target" && npm install --audit=false --fund=false --bin-links=false --install-strategy=shallow --ignore-scripts=true --package-lock=false --loglevel=error >&2)
node -e '
  const fs = require("fs"); const [f, name, version] = process.argv.slice(1);
  const pkg = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) : { name: "installed-nodes", private: true, dependencies: {} };
  pkg.dependencies = { ...pkg.dependencies, [name]: version };
  fs.writeFileSync(f, JSON.stringify(pkg, null, 2));
' "$nodes/package.json" "$name" "$version"
echo "[package] $name@$version installed into $target" >&2
