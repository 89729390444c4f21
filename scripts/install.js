#!/usr/bin/env node
'use strict';

// Install step: use a prebuilt addon when one is present, otherwise build it from
// source with plain cargo (no napi CLI needed) and copy it where binding.js looks.
//
//   node scripts/install.js           build only when no addon is present
//   node scripts/install.js --force   always run cargo (a no-op when nothing changed)
//
// QERRORS_SKIP_BUILD=1 skips the build entirely (for packagers that ship the binary).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force');

/** The napi-rs platform suffix for this machine, e.g. `linux-x64-gnu`. */
function platformSuffix() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
    const glibc = report && report.header && report.header.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function cdylibName() {
  if (process.platform === 'win32') return 'qerrors.dll';
  if (process.platform === 'darwin') return 'libqerrors.dylib';
  return 'libqerrors.so';
}

function hasPrebuilt(suffix) {
  if (fs.existsSync(path.join(root, `qerrors.${suffix}.node`))) return true;
  try {
    require.resolve(`qerrors-${suffix}`, { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

function main() {
  if (process.env.QERRORS_SKIP_BUILD === '1') {
    console.log('qerrors: QERRORS_SKIP_BUILD=1, not building the native addon');
    return 0;
  }
  const suffix = platformSuffix();
  if (!force && hasPrebuilt(suffix)) return 0;

  const cargo = process.env.CARGO || 'cargo';
  const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error(
      `qerrors: no prebuilt native addon for ${suffix} and no Rust toolchain found ('${cargo} --version' failed).\n` +
        'Install Rust 1.88 or newer (rustup), then run `npm rebuild qerrors`.'
    );
    return 1;
  }

  const started = Date.now();
  console.log(`qerrors: building the native addon for ${suffix} with ${probe.stdout.trim()} (release)...`);
  const build = spawnSync(cargo, ['build', '--release', '--locked', '--lib'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('qerrors: cargo build failed; see the output above.');
    return build.status || 1;
  }
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  const built = path.join(targetDir, 'release', cdylibName());
  const dest = path.join(root, `qerrors.${suffix}.node`);
  // Copy to a temporary name and rename, so a running process never sees half a file.
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, dest);
  console.log(`qerrors: native addon ready (${path.basename(dest)}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return 0;
}

process.exitCode = main();
