'use strict';

// The `config` namespace (spec §7.1-7.2, §15.2, §16): CONFIG_DEFAULTS, getEnv/getInt with the
// measured semantics, and the effective settings every other module reads (`readSettings`,
// non-enumerable so the namespace keeps its 8 spec keys).
//
// Requiring this module reads nothing and starts nothing: every lookup happens at call time.

const fs = require('node:fs');
const path = require('node:path');
const { parseEnv } = require('node:util');

/** The 22 documented defaults, as strings, in spec order (§16.2). */
const CONFIG_DEFAULTS = {
  QERRORS_CONCURRENCY: '5',
  QERRORS_CACHE_LIMIT: '50',
  QERRORS_CACHE_TTL: '86400',
  QERRORS_QUEUE_LIMIT: '100',
  QERRORS_SAFE_THRESHOLD: '1000',
  QERRORS_RETRY_ATTEMPTS: '2',
  QERRORS_RETRY_BASE_MS: '100',
  QERRORS_RETRY_MAX_MS: '2000',
  QERRORS_TIMEOUT: '10000',
  QERRORS_MAX_SOCKETS: '50',
  QERRORS_MAX_FREE_SOCKETS: '256',
  QERRORS_MAX_TOKENS: '2048',
  QERRORS_OPENAI_URL: 'https://api.openai.com/v1/chat/completions',
  QERRORS_LOG_MAXSIZE: '1048576',
  QERRORS_LOG_MAXFILES: '5',
  QERRORS_LOG_MAX_DAYS: '0',
  QERRORS_VERBOSE: 'true',
  QERRORS_LOG_DIR: 'logs',
  QERRORS_DISABLE_FILE_LOGS: '',
  QERRORS_SERVICE_NAME: 'qerrors',
  QERRORS_LOG_LEVEL: 'info',
  QERRORS_METRIC_INTERVAL_MS: '60000',
};

/**
 * @param {unknown} value
 * @param {string} what
 */
function requireName(value, what) {
  if (typeof value !== 'string') {
    const err = new TypeError(`${what} must be a string, got ${value === null ? 'null' : typeof value}`);
    err.code = 'ERR_QERRORS_INVALID_ARG';
    throw err;
  }
}

/**
 * The string value of env var `name`, or undefined (process.env inherits Object.prototype, so a
 * plain index would turn `toString` into a "set" variable).
 * @param {string} name
 * @returns {string|undefined}
 */
function readEnv(name) {
  const value = process.env[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `process.env[name]`, else `defaultVal`, else `CONFIG_DEFAULTS[name]` (§7.1). An empty string
 * counts as set.
 * @param {string} name
 * @param {*} [defaultVal]
 */
function getEnv(name, defaultVal) {
  requireName(name, 'getEnv: name');
  const value = readEnv(name);
  if (value !== undefined) return value;
  if (defaultVal !== undefined) return defaultVal;
  return Object.prototype.hasOwnProperty.call(CONFIG_DEFAULTS, name) ? CONFIG_DEFAULTS[name] : undefined;
}

/**
 * The measured semantics of §7.2: the second argument is always the default, the minimum
 * defaults to 1, and the env value is read with `parseInt(…, 10)` ("42abc" → 42).
 * @param {string} name
 * @param {number} [defaultVal]
 * @param {number} [min]
 * @returns {number}
 */
function getInt(name, defaultVal, min) {
  requireName(name, 'getInt: name');
  const parsed = parseInt(readEnv(name) || '', 10);
  const fallback =
    typeof defaultVal === 'number'
      ? defaultVal
      : parseInt((Object.prototype.hasOwnProperty.call(CONFIG_DEFAULTS, name) && CONFIG_DEFAULTS[name]) || '0', 10);
  const minimum = typeof min === 'number' ? min : 1;
  const value = Number.isNaN(parsed) ? fallback : parsed;
  return value >= minimum ? value : minimum;
}

/**
 * `fn()`, or `fallback` after `console.error('<name> failed', info)` when it throws (§6.4).
 * Synchronous: a returned Promise is passed through as it is.
 */
function safeRun(name, fn, fallback, info) {
  try {
    return fn();
  } catch {
    console.error(`${name} failed`, info);
    return fallback;
  }
}

/**
 * @param {string[]} names
 * @returns {{ isValid: boolean, missing: string[], present: string[] }}
 */
function validateRequiredVars(names) {
  if (!Array.isArray(names)) {
    const err = new TypeError('validateRequiredVars: names must be an array of strings');
    err.code = 'ERR_QERRORS_INVALID_ARG';
    throw err;
  }
  const missing = [];
  const present = [];
  for (const name of names) {
    requireName(name, 'validateRequiredVars: each name');
    (readEnv(name) ? present : missing).push(name);
  }
  return { isValid: missing.length === 0, missing, present };
}

function configuredVars() {
  return Object.keys(CONFIG_DEFAULTS).filter((k) => readEnv(k) !== undefined);
}

function environment() {
  return process.env.NODE_ENV || 'development';
}

/** @returns {Promise<object>} */
async function getConfigSummary() {
  let hasEnvFile = true;
  try {
    await fs.promises.access(path.join(process.cwd(), '.env'));
  } catch {
    hasEnvFile = false;
  }
  return {
    environment: environment(),
    hasEnvFile,
    configuredVars: configuredVars(),
    totalVars: Object.keys(CONFIG_DEFAULTS).length,
  };
}

function getConfigSummarySync() {
  return {
    environment: environment(),
    hasEnvFile: fs.existsSync(path.join(process.cwd(), '.env')),
    configuredVars: configuredVars(),
    totalVars: Object.keys(CONFIG_DEFAULTS).length,
  };
}

/**
 * Reads `<cwd>/.env` into `process.env` without overwriting variables that are already set.
 * Shared by `config.loadDotenv` and `envUtils.loadDotenv`, each of which keeps its own "already
 * loaded" promise. Never rejects: resolves `true` when a file was read, `false` when there is
 * none or it cannot be read or parsed (which warns once).
 * @returns {Promise<boolean>}
 */
async function readDotenvFile() {
  const file = path.join(process.cwd(), '.env');
  let text;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if (err && err.code !== 'ENOENT') warnOnce('.env', `qerrors: cannot read ${file}: ${err.message}`);
    return false;
  }
  let parsed;
  try {
    parsed = parseEnv(text);
  } catch (err) {
    warnOnce('.env', `qerrors: cannot parse ${file}: ${err.message}`);
    return false;
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (readEnv(key) === undefined) process.env[key] = value;
  }
  return true;
}

let dotenvOnce = null;

/** Loads `./.env` once (§15.2, §17 row 19). Resolves `true` when a file was read. */
async function loadDotenv() {
  if (!dotenvOnce) dotenvOnce = readDotenvFile();
  return dotenvOnce;
}

// ---- effective settings ----------------------------------------------------------------------

// One warning per setting name: the set is bounded by the number of names below.
const warned = new Set();

/**
 * @param {string} key
 * @param {string} message
 */
function warnOnce(key, message) {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(message);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];
const AI_PROVIDERS = ['google', 'openai'];
const LOG_FORMATS = ['text', 'json'];

function invalid(name, raw, why, fallback) {
  warnOnce(name, `qerrors: ignoring ${name}=${JSON.stringify(raw)} (${why}); using ${JSON.stringify(fallback)}`);
  return fallback;
}

/**
 * A whole number from `name`, strict: "42abc" or "3.5" warn and give the default.
 * @param {string} name
 * @param {number|null} fallback
 * @param {number} min
 * @param {string} [alias] read when `name` is unset
 */
function intSetting(name, fallback, min, alias) {
  let key = name;
  let raw = readEnv(name);
  if ((raw === undefined || raw === '') && alias) {
    key = alias;
    raw = readEnv(alias);
  }
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) return invalid(key, raw, 'not a whole number', fallback);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return invalid(key, raw, 'out of range', fallback);
  if (n < min) return invalid(key, raw, `below the minimum ${min}`, fallback);
  return n;
}

function boolSetting(name, fallback) {
  const raw = readEnv(name);
  if (raw === undefined || raw.trim() === '') return fallback;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return invalid(name, raw, 'expected true or false', fallback);
}

function enumSetting(name, allowed, fallback) {
  const raw = readEnv(name);
  if (raw === undefined || raw.trim() === '') return fallback;
  const word = raw.trim().toLowerCase();
  if (allowed.includes(word)) return word;
  return invalid(name, raw, `expected one of ${allowed.join(', ')}`, fallback);
}

function stringSetting(name, fallback) {
  const raw = readEnv(name);
  return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
}

function urlSetting(name, fallback) {
  const raw = stringSetting(name, fallback);
  if (raw === fallback) return fallback;
  try {
    const u = new URL(raw);
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw;
  } catch {
    // falls through to the warning
  }
  return invalid(name, raw, 'not an http(s) URL', fallback);
}

/**
 * The effective configuration, read from `process.env` now (spec §16 with the corrected
 * defaults of §17 row 8). Invalid values warn once per variable and fall back to the default.
 * Callers on hot paths read it once and keep the result.
 */
function readSettings() {
  const safeThreshold = intSetting('QERRORS_SAFE_THRESHOLD', 1000, 1);
  const clamp = (name, n) => {
    if (n <= safeThreshold) return n;
    warnOnce(`${name}>safe`, `qerrors: ${name}=${n} exceeds QERRORS_SAFE_THRESHOLD=${safeThreshold}; using ${safeThreshold}`);
    return safeThreshold;
  };
  // QERRORS_CACHE_SIZE is an alias; QERRORS_CACHE_LIMIT wins when both are set.
  const cacheLimit = intSetting('QERRORS_CACHE_LIMIT', 50, 0, 'QERRORS_CACHE_SIZE');
  return {
    concurrency: clamp('QERRORS_CONCURRENCY', intSetting('QERRORS_CONCURRENCY', 5, 1)),
    queueLimit: clamp('QERRORS_QUEUE_LIMIT', intSetting('QERRORS_QUEUE_LIMIT', 100, 1)),
    safeThreshold,
    cacheLimit: clamp('QERRORS_CACHE_LIMIT', cacheLimit),
    cacheTtlSeconds: intSetting('QERRORS_CACHE_TTL', 86400, 0),
    retryAttempts: intSetting('QERRORS_RETRY_ATTEMPTS', 2, 0),
    retryBaseMs: intSetting('QERRORS_RETRY_BASE_MS', 100, 0),
    retryMaxMs: intSetting('QERRORS_RETRY_MAX_MS', 2000, 0),
    timeoutMs: intSetting('QERRORS_TIMEOUT', 10000, 1),
    maxSockets: intSetting('QERRORS_MAX_SOCKETS', 50, 1),
    maxFreeSockets: intSetting('QERRORS_MAX_FREE_SOCKETS', 256, 0),
    maxTokens: intSetting('QERRORS_MAX_TOKENS', null, 1),
    openaiUrl: urlSetting('QERRORS_OPENAI_URL', CONFIG_DEFAULTS.QERRORS_OPENAI_URL),
    logMaxSize: intSetting('QERRORS_LOG_MAXSIZE', 1048576, 1),
    logMaxFiles: intSetting('QERRORS_LOG_MAXFILES', 5, 1),
    logMaxDays: intSetting('QERRORS_LOG_MAX_DAYS', 0, 0),
    verbose: boolSetting('QERRORS_VERBOSE', true),
    logDir: stringSetting('QERRORS_LOG_DIR', 'logs'),
    // Any non-empty value disables file logs, as in the original (§16.3).
    disableFileLogs: stringSetting('QERRORS_DISABLE_FILE_LOGS', '') !== '',
    serviceName: stringSetting('QERRORS_SERVICE_NAME', 'qerrors'),
    logLevel: enumSetting('QERRORS_LOG_LEVEL', LOG_LEVELS, 'info'),
    metricIntervalMs: intSetting('QERRORS_METRIC_INTERVAL_MS', 60000, 1),
    memoryCheckIntervalMs: intSetting('QERRORS_MEMORY_CHECK_INTERVAL', 30000, 1),
    cleanupIntervalMs: intSetting('QERRORS_CLEANUP_INTERVAL', 300000, 1),
    aiProvider: enumSetting('QERRORS_AI_PROVIDER', AI_PROVIDERS, 'google'),
    aiModel: stringSetting('QERRORS_AI_MODEL', null),
    useSecureCacheKeys: boolSetting('QERRORS_USE_SECURE_CACHE_KEYS', false),
  };
}

module.exports = {
  defaults: CONFIG_DEFAULTS,
  getEnv,
  safeRun,
  getInt,
  validateRequiredVars,
  getConfigSummary,
  getConfigSummarySync,
  loadDotenv,
};

/** QERRORS_VERBOSE alone (verboseLog reads it on every call). */
function readVerbose() {
  return boolSetting('QERRORS_VERBOSE', true);
}

/** QERRORS_LOG_FORMAT alone (the logger reads it once, when it first writes). */
function readLogFormat() {
  return enumSetting('QERRORS_LOG_FORMAT', LOG_FORMATS, 'text');
}

// Shared with the sibling modules, kept off `Object.keys` so the namespace has its 8 spec keys.
Object.defineProperties(module.exports, {
  readEnv: { value: readEnv },
  readSettings: { value: readSettings },
  // One validated integer setting, for modules that must not re-validate (and re-warn about) the rest.
  readIntSetting: { value: intSetting },
  readVerbose: { value: readVerbose },
  readLogFormat: { value: readLogFormat },
  readDotenvFile: { value: readDotenvFile },
  warnOnce: { value: warnOnce },
});
