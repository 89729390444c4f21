'use strict';

// The `envUtils` namespace (docs/configuration.md). The validators read the environment through
// lib/policy/config.js and report without printing (the original's printed as they checked);
// only `warnIfMissingEnvVars` prints, because warning is its job.

const fs = require('node:fs');
const path = require('node:path');
const config = require('../policy/config');
const { codedError } = require('../policy/errors');

/** The NODE_ENV qerrors was loaded with, as the original exported it. */
const NODE_ENV = config.readSetting('NODE_ENV');
const DEFAULT_ERROR_MESSAGE = 'An unexpected error occurred';

/**
 * @param {unknown} names
 * @param {string} fn
 * @returns {string[]}
 */
function checkNames(names, fn) {
  if (!Array.isArray(names)) {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', `${fn}: expected an array of variable names`);
  }
  for (const name of names) {
    if (typeof name !== 'string') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', `${fn}: every variable name must be a string`);
    }
  }
  return names;
}

/**
 * The names whose value is unset or empty, in input order.
 * @param {string[]} names
 * @returns {string[]}
 */
function getMissingEnvVars(names) {
  return checkNames(names, 'getMissingEnvVars').filter((name) => !config.readEnv(name));
}

/**
 * `[]` when every name is set; otherwise throws
 * `Error('Missing required environment variables: A, B')` carrying `missing`.
 * @param {string[]} names
 */
function throwIfMissingEnvVars(names) {
  const missing = getMissingEnvVars(names);
  if (missing.length > 0) {
    throw codedError(Error, 'ERR_QERRORS_MISSING_ENV', `Missing required environment variables: ${missing.join(', ')}`, { missing });
  }
  return missing;
}

/**
 * `true` when every name is set; otherwise warns (the custom message, or
 * `Missing optional environment variables: A, B`) and returns `false`. Never throws.
 * @param {string[]} names
 * @param {string} [customMessage]
 */
function warnIfMissingEnvVars(names, customMessage = '') {
  try {
    const missing = getMissingEnvVars(names);
    if (missing.length === 0) return true;
    console.warn(
      (typeof customMessage === 'string' && customMessage) ||
        `Missing optional environment variables: ${missing.join(', ')}`
    );
    return false;
  } catch (err) {
    console.error('Error in warnIfMissingEnvVars:', err.message);
    return false;
  }
}

/** Alias of `throwIfMissingEnvVars`. */
function validateRequiredEnvVars(names) {
  return throwIfMissingEnvVars(names);
}

/**
 * The namespace's one-argument wrapper: the custom message cannot be passed. The
 * top-level `warnMissingEnvVars` export is `warnIfMissingEnvVars` itself, as in the original.
 * @param {string[]} names
 */
function warnMissingEnvVars(names) {
  return warnIfMissingEnvVars(names);
}

// One cached answer per working directory (a single entry, so bounded).
let envFileCache = null;

function envFilePath() {
  return path.join(process.cwd(), '.env');
}

async function hasEnvFile() {
  const file = envFilePath();
  if (envFileCache && envFileCache.file === file) return envFileCache.exists;
  let exists = true;
  try {
    await fs.promises.access(file);
  } catch {
    exists = false;
  }
  envFileCache = { file, exists };
  return exists;
}

function hasEnvFileSync() {
  const file = envFilePath();
  if (envFileCache && envFileCache.file === file) return envFileCache.exists;
  const exists = fs.existsSync(file);
  envFileCache = { file, exists };
  return exists;
}

function healthReport(required, optional, envFile) {
  const missingRequired = getMissingEnvVars(required);
  const missingOptional = getMissingEnvVars(optional);
  const requiredConfigured = required.length - missingRequired.length;
  const optionalConfigured = optional.length - missingOptional.length;
  return {
    environment: config.readSetting('NODE_ENV'),
    hasEnvFile: envFile,
    isHealthy: missingRequired.length === 0,
    required: { total: required.length, configured: requiredConfigured, missing: missingRequired },
    optional: { total: optional.length, configured: optionalConfigured, missing: missingOptional },
    summary: {
      totalVars: required.length + optional.length,
      configuredVars: requiredConfigured + optionalConfigured,
    },
  };
}

/**
 * @param {string[]} [required]
 * @param {string[]} [optional]
 */
async function getEnvHealth(required = [], optional = []) {
  checkNames(required, 'getEnvHealth');
  checkNames(optional, 'getEnvHealth');
  return healthReport(required, optional, await hasEnvFile());
}

function getEnvHealthSync(required = [], optional = []) {
  checkNames(required, 'getEnvHealthSync');
  checkNames(optional, 'getEnvHealthSync');
  return healthReport(required, optional, hasEnvFileSync());
}

function validationOptions(options, fn) {
  if (options === null || typeof options !== 'object') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', `${fn}: options must be an object`);
  }
  const { required = [], optional = [], throwOnError = true } = options;
  return { required, optional, throwOnError };
}

/**
 * Resolves to the health report; rejects with the `throwIfMissingEnvVars` error when
 * `throwOnError` is on and a required variable is missing.
 */
async function validateEnvironment(options = {}) {
  const { required, optional, throwOnError } = validationOptions(options, 'validateEnvironment');
  const report = await getEnvHealth(required, optional);
  if (throwOnError) throwIfMissingEnvVars(required);
  return report;
}

function validateEnvironmentSync(options = {}) {
  const { required, optional, throwOnError } = validationOptions(options, 'validateEnvironmentSync');
  const report = getEnvHealthSync(required, optional);
  if (throwOnError) throwIfMissingEnvVars(required);
  return report;
}

let dotenvOnce = null;

/** Like `config.loadDotenv`, with its own "already loaded" flag. */
async function loadDotenv() {
  if (!dotenvOnce) dotenvOnce = config.readDotenvFile();
  return dotenvOnce;
}

module.exports = {
  getMissingEnvVars,
  throwIfMissingEnvVars,
  warnIfMissingEnvVars,
  validateRequiredEnvVars,
  warnMissingEnvVars,
  hasEnvFile,
  hasEnvFileSync,
  getEnvHealth,
  getEnvHealthSync,
  validateEnvironment,
  validateEnvironmentSync,
  NODE_ENV,
  DEFAULT_ERROR_MESSAGE,
  loadDotenv,
};

// The two test-marker constants the original documented but never defined; non-enumerable so the
// namespace keeps the original's 14 keys (docs/api.md).
Object.defineProperties(module.exports, {
  TEST_SUCCESS_MESSAGE: { value: '\u2713', enumerable: false },
  TEST_FAILURE_MESSAGE: { value: '\u2717', enumerable: false },
});
