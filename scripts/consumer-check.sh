#!/usr/bin/env bash
# Packs the package, installs the tarball into a fresh temporary project (which builds
# the addon from source, as a consumer's install would) and requires it there.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
cd "$tmp"
npm init -y >/dev/null
# A real consumer build in the installed package's own target directory, so a file
# missing from the tarball fails here (a shared target dir could reuse stale artifacts).
npm install --no-audit --no-fund "./$tarball"
node -e "
const q = require('qerrors');
const n = require('qerrors/native');
if (Object.keys(q).length !== 111) throw new Error('expected 111 exports, got ' + Object.keys(q).length);
if (typeof n.nativeVersion !== 'function' || n.nativeVersion() !== require('qerrors/package.json').version) throw new Error('native addon did not load');
console.log('consumer check: qerrors', n.nativeVersion(), 'loaded with', Object.keys(q).length, 'exports');
"
