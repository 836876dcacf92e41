#!/usr/bin/env bash
# Runs every test on other Node.js majors (22 and 24 unless named), each in a clean clone of this
# checkout's HEAD with its own node_modules: the node binary is the npm registry's
# node-linux-<arch> package, and better-sqlite3 is compiled against that binary's headers (a C++
# toolchain is needed, as for any source build). As root it includes the OS-user tests, as
# `npm test` does. Nothing outside a temporary directory is changed.
set -euo pipefail

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The OS-user tests run node and the agent as unprivileged users: they must reach both.
chmod 755 "$work"
for major in "${versions[@]}"; do
  echo "== Node.js ${major}"
  npm install --silent --prefix "$work/node-$major" --no-save --no-package-lock \
    "node-linux-${arch}@${major}"
  nodedir="$work/node-$major/node_modules/node-linux-${arch}"
  git clone --quiet "$repo" "$work/repo-$major"
  (
    cd "$work/repo-$major"
    export PATH="$nodedir/bin:$PATH"
    export npm_config_nodedir="$nodedir"
    echo "node $(node --version)"
    npm ci --silent
    node scripts/run-tests.mjs
  )
done
