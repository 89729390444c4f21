#!/usr/bin/env node
'use strict';

// Builds the native addon from source with plain cargo (no napi CLI needed) and copies
// it to `qerrors.<platform>.node` in the package root, the first place the loader
// (lib/native/loader.js) looks.
//
//   node scripts/install.js           build unless this folder has its own build (a checkout's
//                                     `npm install` runs this as its `prepare` step)
//   node scripts/install.js --force   always run cargo (a no-op when nothing changed)
//
// The published package has no install script: consumers get the prebuilt addon from
// the qerrors-<platform> package (docs/packaging.md). npm runs `prepare` only in a
// checkout (and for git dependencies), so a registry install never compiles anything.
// `--force` also works in an installed node_modules/qerrors, which ships the sources,
// for a platform without a prebuilt package.
//
// QERRORS_SKIP_BUILD=1 skips the build entirely.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { binaryName, platformKey } = require('../lib/native/platforms');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force');

function cdylibName() {
  if (process.platform === 'win32') return 'qerrors.dll';
  if (process.platform === 'darwin') return 'libqerrors.dylib';
  return 'libqerrors.so';
}

/**
 * Whether this folder already holds a build of its own sources. A published
 * qerrors-<platform> package does not count: in a checkout the sources may differ
 * from the published release, and the loader prefers the local build anyway.
 */
function hasLocalBuild(key) {
  return fs.existsSync(path.join(root, binaryName(key)));
}

function main() {
  if (process.env.QERRORS_SKIP_BUILD === '1') {
    console.log('qerrors: QERRORS_SKIP_BUILD=1, not building the native addon');
    return 0;
  }
  const key = platformKey();
  if (!force && hasLocalBuild(key)) return 0;

  const cargo = process.env.CARGO || 'cargo';
  const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error(
      `qerrors: building the native addon for ${key} needs a Rust toolchain ('${cargo} --version' failed).\n` +
        'Install Rust 1.88 or newer (rustup), then run `node scripts/install.js --force` here.'
    );
    return 1;
  }

  const started = Date.now();
  console.log(`qerrors: building the native addon for ${key} with ${probe.stdout.trim()} (release)...`);
  const build = spawnSync(cargo, ['build', '--release', '--locked', '--lib'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('qerrors: cargo build failed; see the output above.');
    return build.status || 1;
  }
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  const built = path.join(targetDir, 'release', cdylibName());
  const dest = path.join(root, binaryName(key));
  // Copy to a temporary name and rename, so a running process never sees half a file.
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, dest);
  console.log(`qerrors: native addon ready (${path.basename(dest)}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return 0;
}

process.exitCode = main();
