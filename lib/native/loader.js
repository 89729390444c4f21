'use strict';

// The only module that loads the native addon. Everything else requires this file.
//
// Where the addon comes from, first found wins:
//   1. QERRORS_NATIVE_LIBRARY_PATH, one specific `.node` file;
//   2. `qerrors.<platform>.node` in the package root: a build from source
//      (`node scripts/install.js --force`, which a checkout's `npm install` runs);
//   3. the `qerrors-<platform>` package, the prebuilt addon that npm, pnpm and yarn
//      install from the optionalDependencies (lib/native/platforms.js lists them).
// When none loads, one Error says what was tried, why it failed and what to do.

const fs = require('node:fs');
const path = require('node:path');
const { PLATFORMS, packageName, binaryName, platformKey } = require('./platforms');

const root = path.resolve(__dirname, '..', '..');
const BUILD_FROM_SOURCE =
  'install Rust 1.88+ and run `node scripts/install.js --force` in the qerrors folder ' +
  '(a checkout, or node_modules/qerrors: the package ships its Rust sources)';

/**
 * An Error with the loader's code and without the loader's own stack frames, which
 * are noise for a user.
 * @param {string} message
 * @param {object} [props]
 */
function loadError(message, props) {
  const err = new Error(message);
  err.code = 'ERR_QERRORS_NATIVE_LOAD_FAILED';
  Object.assign(err, props);
  err.stack = `Error: ${err.message}`;
  return err;
}

/** The first line of `err`'s message. */
function firstLine(err) {
  return String((err && err.message) || err).split('\n')[0];
}

/**
 * Resolves the prebuilt package's addon, or null when the package is not installed.
 * @param {string} key
 */
function resolvePackaged(key) {
  const request = `${packageName(key)}/${binaryName(key)}`;
  try {
    return require.resolve(request, { paths: [root] });
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

/** Loads the addon; see the header for the order. */
function load() {
  const explicit = require('../policy/config').readSetting('QERRORS_NATIVE_LIBRARY_PATH');
  if (explicit) {
    const file = path.resolve(explicit);
    try {
      return require(file);
    } catch (cause) {
      throw loadError(
        'qerrors: cannot load its native addon.\n' +
          `  tried: ${file} (QERRORS_NATIVE_LIBRARY_PATH)\n` +
          `  reason: ${firstLine(cause)}\n` +
          '  fix: point QERRORS_NATIVE_LIBRARY_PATH at a built qerrors `.node` file, or unset it.',
        { tried: [file] }
      );
    }
  }

  const key = platformKey();
  const local = path.join(root, binaryName(key));
  const tried = [];
  const failures = [];
  const candidates = [local];
  const packaged = resolvePackaged(key);
  if (packaged) candidates.push(packaged);
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    tried.push(file);
    try {
      return require(file);
    } catch (cause) {
      failures.push(`${file}: ${firstLine(cause)}`);
    }
  }

  const supported = PLATFORMS.some((p) => p.key === key);
  let why;
  if (failures.length > 0) {
    why = `  reason: ${failures.join('; ')}\n`;
  } else if (supported) {
    why =
      `  reason: its prebuilt package ${packageName(key)} is not installed (installed with ` +
      '--omit=optional or --no-optional, or from a lockfile made on another platform?).\n' +
      `  fix: reinstall with optional dependencies (\`npm install qerrors\`), or ${BUILD_FROM_SOURCE}.\n`;
  } else {
    why =
      `  reason: no prebuilt addon for ${key}; prebuilt platforms: ${PLATFORMS.map((p) => p.key).join(', ')}.\n` +
      `  fix: ${BUILD_FROM_SOURCE}.\n`;
  }
  if (failures.length > 0) why += `  fix: reinstall qerrors, or ${BUILD_FROM_SOURCE}.\n`;
  throw loadError(
    `qerrors: cannot load its native addon for ${key}.\n` +
      `  looked for: ${local}, then the ${packageName(key)} package\n` +
      why.replace(/\n$/, ''),
    { tried, platform: key }
  );
}

/**
 * Refuses an addon built from another version of the sources: a stale `.node` next to
 * new JS fails in confusing ways later.
 * @param {{ nativeVersion?: () => string }} binding
 */
function checkVersion(binding) {
  const expected = require('../../package.json').version;
  const actual = typeof binding.nativeVersion === 'function' ? binding.nativeVersion() : 'unknown';
  if (actual !== expected) {
    throw loadError(
      `qerrors: native addon version ${actual} does not match the package version ${expected}.\n` +
        `  fix: install ${packageName(platformKey())}@${expected} (reinstall qerrors), or ${BUILD_FROM_SOURCE}.`
    );
  }
  return binding;
}

module.exports = checkVersion(load());
