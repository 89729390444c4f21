'use strict';

// The `moduleInitializer` namespace. Initialization has nothing to set up (requiring
// qerrors already leaves it ready and idle), so these resolve `null` and log best-effort.

const logger = require('../logging/logger');
const { readSetting } = require('../policy/config');

/** Best effort: a logger failure never reaches the caller. */
function logInfo(message, data) {
  Promise.resolve()
    .then(() => logger.logInfo(message, data))
    .catch(() => {});
}

function initOptions(options) {
  const o = options !== null && typeof options === 'object' ? options : {};
  const { module = 'unnamed-module', version = '1.0.0', environment = readSetting('NODE_ENV') } = o;
  return { module, version, environment };
}

/**
 * Logs `qerrors initialized for npm module` with `{ module, version, environment }` through the
 * qerrors logger when it is present, and resolves `null`. Never rejects.
 * @param {{ module?: string, version?: string, environment?: string }} [options]
 * @returns {Promise<null>}
 */
async function initializeModule(options = {}) {
  try {
    logInfo('qerrors initialized for npm module', initOptions(options));
  } catch {
    // initialization never fails the caller
  }
  return null;
}

/** The same as `initializeModule`. */
async function initializeModuleESM(options = {}) {
  return initializeModule(options);
}

/** Always `true`. */
function shouldInitialize() {
  return true;
}

/**
 * Logs `Module initialized: <moduleName>` with `{ module, environment, ...metadata }` through the
 * qerrors logger. Never throws.
 * @param {string} moduleName
 * @param {object} [metadata]
 */
function logModuleInit(moduleName, metadata = {}) {
  try {
    const meta = metadata !== null && typeof metadata === 'object' ? metadata : {};
    const message = `Module initialized: ${moduleName}`;
    logInfo(message, { module: moduleName, environment: readSetting('NODE_ENV'), ...meta });
  } catch {
    // never throws
  }
}

module.exports = { initializeModule, initializeModuleESM, shouldInitialize, logModuleInit };
