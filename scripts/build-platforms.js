#!/usr/bin/env node
'use strict';

// `npm run build:platforms [-- <key>...]`: cross-builds the addon for every platform of
// lib/native/platforms.js (or the keys given) with cargo-zigbuild, one target at a
// time, in the `dist` cargo profile, and writes each npm/<key>/ package: its
// package.json (version = the main package's) and its `.node`. docs/packaging.md
// explains the toolchain and how to publish.
//
// Needs: cargo-zigbuild and zig (`pip install cargo-zigbuild ziglang`) and the Rust
// targets (`rustup target add <triple>`). The cross builds keep their own target
// folder, target/cross (QERRORS_CROSS_TARGET_DIR overrides), so they never evict the
// local build's artifacts.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { PLATFORMS, packageName, binaryName } = require('../lib/native/platforms');

const root = path.resolve(__dirname, '..');
const pkg = require('../package.json');
/** The newest glibc symbol version a gnu binary may need (see docs/packaging.md). */
const GLIBC_FLOOR = [2, 17];

/**
 * The package.json of a platform package.
 * @param {import('../lib/native/platforms').Platform} p
 * @param {string} version
 */
function manifest(p, version) {
  return {
    name: packageName(p.key),
    version,
    description: `The prebuilt ${p.key} native addon of qerrors (installed by qerrors itself)`,
    license: pkg.license,
    os: [p.os],
    cpu: [p.cpu],
    ...(p.libc ? { libc: [p.libc] } : {}),
    main: binaryName(p.key),
    files: [binaryName(p.key)],
    engines: pkg.engines,
  };
}

/** The README of a platform package. */
function readme(p) {
  return (
    `# ${packageName(p.key)}\n\n` +
    `The prebuilt native addon of the \`qerrors\` package for ${p.key} ` +
    `(Rust target \`${p.rustTarget}\`). Do not install it directly: \`npm install qerrors\` ` +
    'picks the package that fits the machine from its optionalDependencies.\n'
  );
}

/** Writes npm/<key>/package.json and README.md. */
function writePackage(p) {
  const dir = path.join(root, 'npm', p.key);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest(p, pkg.version), null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'README.md'), readme(p));
  return dir;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return r;
}

/** Fails early, with the command that fixes it, when a tool or target is missing. */
function checkToolchain(platforms) {
  const zigbuild = spawnSync('cargo-zigbuild', ['--version'], { encoding: 'utf8' });
  if (zigbuild.error || zigbuild.status !== 0) {
    throw new Error('cargo-zigbuild not found: `pip install cargo-zigbuild ziglang` (see docs/packaging.md)');
  }
  const installed = run('rustup', ['target', 'list', '--installed']).stdout.split('\n');
  const missing = platforms.map((p) => p.rustTarget).filter((t) => !installed.includes(t));
  if (missing.length > 0) throw new Error(`missing Rust targets: rustup target add ${missing.join(' ')}`);
}

/** The highest `GLIBC_x.y` symbol version the binary needs, as [x, y]. */
function maxGlibc(file) {
  const out = run('objdump', ['-T', file]).stdout;
  let max = [0, 0];
  for (const m of out.matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
    const v = [Number(m[1]), Number(m[2])];
    if (v[0] > max[0] || (v[0] === max[0] && v[1] > max[1])) max = v;
  }
  return max;
}

/**
 * Extra environment of one target's build.
 * @param {import('../lib/native/platforms').Platform} p
 */
function targetEnv(p) {
  const env = {};
  const upper = p.rustTarget.toUpperCase().replace(/-/g, '_');
  // Rust links musl statically by default, and a static-CRT target cannot build a
  // cdylib; the addon must use the musl that `node` itself is linked with.
  if (p.libc === 'musl') env[`CARGO_TARGET_${upper}_RUSTFLAGS`] = '-C target-feature=-crt-static';
  if (p.os === 'darwin') {
    // Without an install name the linker records the build folder's path in the
    // binary; `@rpath/<file>` is neutral (node loads the addon by its full path).
    env[`CARGO_TARGET_${upper}_RUSTFLAGS`] = `-C link-arg=-Wl,-install_name,@rpath/${binaryName(p.key)}`;
    // The frameworks the TLS certificate verifier links (Security, CoreFoundation),
    // as text stubs (scripts/macos-sdk/), so no macOS SDK is needed; see
    // docs/packaging.md for how their symbols are bound.
    env.SDKROOT = path.join(__dirname, 'macos-sdk');
    // The oldest macOS that Node 20 itself runs on; left unset, zig records the newest
    // macOS it knows as the binary's minimum.
    env.MACOSX_DEPLOYMENT_TARGET = p.cpu === 'arm64' ? '11.0' : '10.15';
  }
  return env;
}

function build(p, targetDir) {
  const started = Date.now();
  console.log(`\n== ${p.key}: cargo zigbuild --profile dist --target ${p.zigTarget}`);
  const r = spawnSync(
    'cargo',
    ['zigbuild', '--profile', 'dist', '--locked', '--lib', '--target', p.zigTarget, '--target-dir', targetDir],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ...targetEnv(p) } }
  );
  if (r.status !== 0) throw new Error(`${p.key}: cargo zigbuild failed (exit ${r.status})`);
  const lib = p.os === 'darwin' ? 'libqerrors.dylib' : p.os === 'win32' ? 'qerrors.dll' : 'libqerrors.so';
  const built = path.join(targetDir, p.rustTarget, 'dist', lib);
  const dir = writePackage(p);
  const dest = path.join(dir, binaryName(p.key));
  fs.copyFileSync(built, `${dest}.tmp`);
  fs.renameSync(`${dest}.tmp`, dest);
  const result = { key: p.key, bytes: fs.statSync(dest).size, seconds: (Date.now() - started) / 1000, glibc: '' };
  if (p.libc === 'glibc') {
    const [major, minor] = maxGlibc(dest);
    result.glibc = `GLIBC_${major}.${minor}`;
    if (major > GLIBC_FLOOR[0] || (major === GLIBC_FLOOR[0] && minor > GLIBC_FLOOR[1])) {
      throw new Error(`${p.key}: needs ${result.glibc}, above the GLIBC_${GLIBC_FLOOR.join('.')} floor`);
    }
  }
  return result;
}

function main() {
  const keys = process.argv.slice(2);
  const unknown = keys.filter((k) => !PLATFORMS.some((p) => p.key === k));
  if (unknown.length > 0) {
    throw new Error(`unknown platform ${unknown.join(', ')}; known: ${PLATFORMS.map((p) => p.key).join(', ')}`);
  }
  const chosen = keys.length > 0 ? PLATFORMS.filter((p) => keys.includes(p.key)) : PLATFORMS;
  checkToolchain(chosen);
  const targetDir = path.resolve(root, process.env.QERRORS_CROSS_TARGET_DIR || path.join('target', 'cross'));
  const results = chosen.map((p) => build(p, targetDir));
  console.log('\nplatform            size (bytes)  build (s)  glibc');
  for (const r of results) {
    console.log(`${r.key.padEnd(18)}  ${String(r.bytes).padStart(12)}  ${r.seconds.toFixed(1).padStart(9)}  ${r.glibc}`);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`build:platforms: ${err.message}`);
    process.exitCode = 1;
  }
}

module.exports = { manifest, readme };
