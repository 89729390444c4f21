'use strict';

// The one reader of process.env. Each variable is parsed by its row of lib/policy/variables.js
// (kind, default, bounds); an invalid value prints one warning and gives the default. Every
// module that needs a setting asks here: `readSetting(name)` for one variable,
// `readSettings()` for all of them, with `ai` the resolved object handed to the native AI
// pipeline (docs/configuration.md). The public `config` namespace (`defaults`, `getEnv`,
// `getInt`, …) keeps the original package's semantics on top of the same table.
//
// Requiring this module reads nothing and starts nothing: every lookup happens at call time.

const fs = require('node:fs');
const path = require('node:path');
const { parseEnv } = require('node:util');
const { codedError } = require('./errors');
const { VARIABLES, BY_NAME } = require('./variables');
const models = require('./models');

// The original's 22 defaults, in its order, as strings (`config.defaults`, `getEnv`'s fallback).
// QERRORS_MAX_TOKENS is '' because its default is the model's limit (the original's '2048'
// was never used); getEnv and getInt report that limit instead.
const ORIGINAL_NAMES = [
  'QERRORS_CONCURRENCY',
  'QERRORS_CACHE_LIMIT',
  'QERRORS_CACHE_TTL',
  'QERRORS_QUEUE_LIMIT',
  'QERRORS_SAFE_THRESHOLD',
  'QERRORS_RETRY_ATTEMPTS',
  'QERRORS_RETRY_BASE_MS',
  'QERRORS_RETRY_MAX_MS',
  'QERRORS_TIMEOUT',
  'QERRORS_MAX_SOCKETS',
  'QERRORS_MAX_FREE_SOCKETS',
  'QERRORS_MAX_TOKENS',
  'QERRORS_OPENAI_URL',
  'QERRORS_LOG_MAXSIZE',
  'QERRORS_LOG_MAXFILES',
  'QERRORS_LOG_MAX_DAYS',
  'QERRORS_VERBOSE',
  'QERRORS_LOG_DIR',
  'QERRORS_DISABLE_FILE_LOGS',
  'QERRORS_SERVICE_NAME',
  'QERRORS_LOG_LEVEL',
  'QERRORS_METRIC_INTERVAL_MS',
];

/** @param {import('./variables').Variable} row */
function defaultText(row) {
  if (row.default === null || row.default === false) return '';
  return String(row.default);
}

const CONFIG_DEFAULTS = Object.fromEntries(ORIGINAL_NAMES.map((name) => [name, defaultText(BY_NAME.get(name))]));

/**
 * @param {unknown} value
 * @param {string} what
 */
function requireName(value, what) {
  if (typeof value !== 'string') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', `${what} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
}

/**
 * The string value of env var `name`, or undefined (process.env inherits Object.prototype, so a
 * plain index would turn `toString` into a "set" variable).
 * @param {string} name
 * @returns {string|undefined}
 */
function readEnv(name) {
  if (!Object.prototype.hasOwnProperty.call(process.env, name)) return undefined;
  const value = process.env[name];
  return typeof value === 'string' ? value : undefined;
}

// Variables whose unset value is the default clamped to QERRORS_SAFE_THRESHOLD.
const CLAMPED = { QERRORS_CONCURRENCY: 'concurrency', QERRORS_QUEUE_LIMIT: 'queueLimit', QERRORS_CACHE_LIMIT: 'cacheLimit' };

/**
 * What qerrors uses for a variable that is not set, as a string (undefined: nothing).
 * @param {string} name
 */
function effectiveDefault(name) {
  if (Object.prototype.hasOwnProperty.call(CLAMPED, name)) return String(limits()[CLAMPED[name]]);
  if (name === 'QERRORS_MAX_TOKENS') {
    const ai = readSettings().ai;
    return ai.provider === 'offline' ? undefined : String(ai.maxTokens);
  }
  return Object.prototype.hasOwnProperty.call(CONFIG_DEFAULTS, name) ? CONFIG_DEFAULTS[name] : undefined;
}

/**
 * `process.env[name]`, else `defaultVal`, else the default qerrors uses (`config.defaults`,
 * docs/configuration.md). An empty string counts as set.
 * @param {string} name
 * @param {*} [defaultVal]
 */
function getEnv(name, defaultVal) {
  requireName(name, 'getEnv: name');
  const value = readEnv(name);
  if (value !== undefined) return value;
  if (defaultVal !== undefined) return defaultVal;
  return effectiveDefault(name);
}

/**
 * The original package's semantics (docs/configuration.md): the second argument is always the default, the minimum
 * defaults to 1, and the env value is read with `parseInt(…, 10)` ("42abc" → 42).
 * @param {string} name
 * @param {number} [defaultVal]
 * @param {number} [min]
 * @returns {number}
 */
function getInt(name, defaultVal, min) {
  requireName(name, 'getInt: name');
  const parsed = parseInt(readEnv(name) || '', 10);
  const fallback = typeof defaultVal === 'number' ? defaultVal : parseInt(effectiveDefault(name) || '0', 10);
  const minimum = typeof min === 'number' ? min : 1;
  const value = Number.isNaN(parsed) ? fallback : parsed;
  return value >= minimum ? value : minimum;
}

/**
 * `fn()`, or `fallback` after `console.error('<name> failed', info)` when it throws.
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
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'validateRequiredVars: names must be an array of strings');
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
  return ORIGINAL_NAMES.filter((k) => readEnv(k) !== undefined);
}

/** @returns {Promise<object>} */
async function getConfigSummary() {
  let hasEnvFile = true;
  try {
    await fs.promises.access(path.join(process.cwd(), '.env'));
  } catch {
    hasEnvFile = false;
  }
  return { environment: nodeEnv(), hasEnvFile, configuredVars: configuredVars(), totalVars: ORIGINAL_NAMES.length };
}

function getConfigSummarySync() {
  return {
    environment: nodeEnv(),
    hasEnvFile: fs.existsSync(path.join(process.cwd(), '.env')),
    configuredVars: configuredVars(),
    totalVars: ORIGINAL_NAMES.length,
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

/** Loads `./.env` once. Resolves `true` when a file was read. */
async function loadDotenv() {
  if (!dotenvOnce) dotenvOnce = readDotenvFile();
  return dotenvOnce;
}

// ---- one variable, parsed by its row ---------------------------------------------------------

// One warning per variable and value: reading the same bad value again stays quiet, a new bad
// value is reported. Bounded: past this many, further warnings are dropped.
const MAX_WARNINGS = 256;
const warned = new Set();

/**
 * @param {string} key
 * @param {string} message
 */
function warnOnce(key, message) {
  if (warned.has(key) || warned.size >= MAX_WARNINGS) return;
  warned.add(key);
  console.warn(message);
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/**
 * @param {import('./variables').Variable} row
 * @param {string} raw
 * @param {string} why
 */
function invalid(row, raw, why) {
  const shown = row.kind === 'secret' ? '(hidden)' : JSON.stringify(raw);
  const fallback = row.default === null ? 'no value' : JSON.stringify(row.default);
  warnOnce(`${row.name}=${raw}`, `qerrors: ignoring ${row.name}=${shown} (${why}); using ${fallback}`);
  return row.default;
}

function httpUrl(text) {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Parses `raw` (set and non-blank) by the row's kind; invalid values warn and give the default.
 * @param {import('./variables').Variable} row
 * @param {string} raw
 */
function parse(row, raw) {
  const text = raw.trim();
  switch (row.kind) {
    case 'int':
    case 'number': {
      const shape = row.kind === 'int' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)$/;
      if (!shape.test(text)) return invalid(row, raw, row.kind === 'int' ? 'not a whole number' : 'not a number');
      const n = Number(text);
      if (!Number.isFinite(n) || n < row.min || n > row.max) return invalid(row, raw, `not from ${row.min} to ${row.max}`);
      return n;
    }
    case 'bool': {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return invalid(row, raw, 'expected true/1/yes/on or false/0/no/off');
    }
    case 'enum': {
      let word = text.toLowerCase();
      if (row.aliases && Object.prototype.hasOwnProperty.call(row.aliases, word)) word = row.aliases[word];
      if (row.values.includes(word)) return word;
      return invalid(row, raw, `expected one of ${[...row.values, ...Object.keys(row.aliases || {})].join(', ')}`);
    }
    case 'flag':
      return true;
    case 'url':
      return httpUrl(text) ? text : invalid(row, raw, 'not an http(s) URL');
    case 'redisUrl':
      return /^redis:\/\/\S+$/.test(text) ? text : invalid(row, raw, 'not a redis:// URL');
    default:
      return row.kind === 'secret' ? raw : text;
  }
}

/**
 * The value of one variable of the table: parsed, bounded, or its default when unset, blank or
 * invalid (with one warning).
 * @param {string} name
 */
function readSetting(name) {
  const row = BY_NAME.get(name);
  if (!row) throw codedError(RangeError, 'ERR_QERRORS_INVALID_ARG', `readSetting: ${name} is not a qerrors variable`);
  const raw = readEnv(name);
  if (raw === undefined || raw.trim() === '') return row.default;
  return parse(row, raw);
}

function nodeEnv() {
  return readSetting('NODE_ENV');
}

// ---- the AI settings --------------------------------------------------------------------------

// Pipeline settings that have no variable (docs/configuration.md, "The AI settings object").
const AI_FIXED = { retryAfterMaxMs: 30000, breakerThreshold: 5, breakerResetMs: 30000, failureTtlMs: 60000, connectTimeoutCapMs: 5000 };

/** The bounds of every numeric field of the AI settings object (checked for overrides too). */
const AI_BOUNDS = {
  maxTokens: [1, 1e6],
  timeoutMs: [1, 864e5],
  connectTimeoutMs: [1, 864e5],
  retryAttempts: [0, 10],
  retryBaseMs: [0, 864e5],
  retryMaxMs: [0, 864e5],
  retryAfterMaxMs: [0, 864e5],
  concurrency: [1, 1e4],
  queueLimit: [0, 1e6],
  cacheLimit: [0, 1e7],
  cacheTtlMs: [1, 1e13],
  maxResponseBytes: [1024, 1e9],
  breakerThreshold: [1, 1e6],
  breakerResetMs: [1, 864e5],
  failureTtlMs: [0, 864e5],
};
const AI_STRINGS = ['provider', 'apiKey', 'url', 'model', 'redisUrl'];
/** Every option `configure()` accepts. */
const AI_OPTION_NAMES = [...AI_STRINGS, ...Object.keys(AI_BOUNDS), 'jsonMode', 'rateLimit'];

function optionError(Ctor, message) {
  return codedError(Ctor, 'ERR_QERRORS_AI_OPTION', message);
}

/**
 * Checks `configure()` overrides: known names, types and bounds. Returns the provider they ask
 * for in its canonical name (or undefined).
 * @param {Record<string, unknown>} o
 */
function checkAiOverrides(o) {
  for (const [k, v] of Object.entries(o)) {
    if (!AI_OPTION_NAMES.includes(k)) throw optionError(TypeError, `Unknown AI pipeline option '${k}'`);
    if (v === undefined) continue;
    if (k === 'rateLimit') {
      if (v !== false && (v === null || typeof v !== 'object')) throw optionError(TypeError, 'AI pipeline option rateLimit must be false or { burst, perSec }');
      const { burst, perSec } = /** @type {any} */ (v);
      if (burst !== undefined && !(Number.isInteger(burst) && burst >= 0 && burst <= 1e6)) throw optionError(RangeError, `AI pipeline option rateLimit.burst must be a whole number from 0 to 1000000, got ${burst}`);
      if (perSec !== undefined && !(typeof perSec === 'number' && perSec > 0 && perSec <= 1e6)) throw optionError(RangeError, `AI pipeline option rateLimit.perSec must be a number above 0 and at most 1000000, got ${perSec}`);
      continue;
    }
    const type = AI_STRINGS.includes(k) ? 'string' : k === 'jsonMode' ? 'boolean' : 'number';
    if (typeof v !== type) throw optionError(TypeError, `AI pipeline option ${k} must be a ${type}`);
    if (type === 'number') {
      const [min, max] = AI_BOUNDS[k];
      if (!Number.isFinite(v) || v < min || v > max) throw optionError(RangeError, `AI pipeline option ${k} must be a number from ${min} to ${max}, got ${v}`);
    }
  }
  if (o.url !== undefined && !httpUrl(o.url)) throw optionError(TypeError, 'AI pipeline option url must be an http(s) URL');
  if (o.provider === undefined || o.provider === 'offline') return o.provider;
  const provider = models.providerName(o.provider);
  if (!provider) throw optionError(RangeError, `AI pipeline option provider must be 'offline', 'openai' or 'gemini' ('google'), got '${o.provider}'`);
  return provider;
}

/**
 * The provider the environment selects, and whether QERRORS_AI_PROVIDER chose it.
 * @returns {{ provider: 'offline'|'openai'|'gemini', requested: 'openai'|'gemini'|null }}
 */
function envProvider() {
  const requested = readSetting('QERRORS_AI_PROVIDER');
  const hasKey = (p) => Boolean(readSetting(models.PROVIDERS[p].keyVar));
  if (requested) {
    if (hasKey(requested)) return { provider: requested, requested };
    const keyVar = models.PROVIDERS[requested].keyVar;
    warnOnce(`missing:${keyVar}`, `qerrors: QERRORS_AI_PROVIDER=${requested} needs ${keyVar}, which is not set; AI analysis uses the offline advisor`);
    return { provider: 'offline', requested };
  }
  if (hasKey('gemini')) return { provider: 'gemini', requested: null };
  if (hasKey('openai')) return { provider: 'openai', requested: null };
  return { provider: 'offline', requested: null };
}

/** The endpoint the environment gives for `provider`, or '' for its default. */
function envUrl(provider) {
  if (provider === 'openai') {
    if (readEnv('QERRORS_OPENAI_URL')) return readSetting('QERRORS_OPENAI_URL');
    const base = readSetting('OPENAI_BASE_URL');
    return base ? `${base.replace(/\/+$/, '')}/chat/completions` : '';
  }
  return readSetting('QERRORS_GEMINI_URL') || '';
}

/**
 * Concurrency, queue and cache limits from the environment, clamped to QERRORS_SAFE_THRESHOLD.
 */
function limits() {
  const safe = readSetting('QERRORS_SAFE_THRESHOLD');
  const clamp = (name, n) => {
    if (n <= safe) return n;
    warnOnce(`${name}>${safe}`, `qerrors: ${name}=${n} exceeds QERRORS_SAFE_THRESHOLD=${safe}; using ${safe}`);
    return safe;
  };
  // QERRORS_CACHE_SIZE is an alias; QERRORS_CACHE_LIMIT wins when both are set.
  const size = (readEnv('QERRORS_CACHE_LIMIT') || '').trim() === '' ? readSetting('QERRORS_CACHE_SIZE') : null;
  const cacheVar = size === null ? 'QERRORS_CACHE_LIMIT' : 'QERRORS_CACHE_SIZE';
  const cacheLimit = size ?? readSetting('QERRORS_CACHE_LIMIT');
  return {
    safeThreshold: safe,
    concurrency: clamp('QERRORS_CONCURRENCY', readSetting('QERRORS_CONCURRENCY')),
    queueLimit: clamp('QERRORS_QUEUE_LIMIT', readSetting('QERRORS_QUEUE_LIMIT')),
    cacheLimit: clamp(cacheVar, cacheLimit),
  };
}

/**
 * The AI pipeline's settings: the environment, with `overrides` (from `configure()`, checked
 * here) on top. Every field of docs/configuration.md's table is present.
 * @param {Record<string, unknown>} [overrides]
 * @param {ReturnType<typeof limits>} [bounded] the environment's limits, when already read
 */
function resolveAi(overrides = {}, bounded = limits()) {
  const o = overrides;
  const asked = checkAiOverrides(o);
  const env = envProvider();
  const provider = asked || env.provider;
  // A provider chosen by configure() other than the environment's does not inherit the
  // environment's endpoint or model (they belong to the other provider).
  const own = provider === env.provider || (asked && asked === env.requested);
  // Offline there is no model and no token limit: maxTokens is the bound's upper end.
  const ai = { provider, apiKey: '', url: '', model: '', maxTokens: o.maxTokens ?? readSetting('QERRORS_MAX_TOKENS') ?? AI_BOUNDS.maxTokens[1], jsonMode: false };
  if (provider !== 'offline') {
    const table = models.PROVIDERS[provider];
    ai.apiKey = o.apiKey ?? (readSetting(table.keyVar) || '');
    const customUrl = o.url ?? (own ? envUrl(provider) : '');
    let model = o.model ?? ((own && readSetting('QERRORS_AI_MODEL')) || table.defaultModel);
    // A custom endpoint (a proxy, a local server) may serve any model name.
    if (o.model === undefined && !customUrl && !table.models.includes(model)) {
      warnOnce(`QERRORS_AI_MODEL=${model}`, `qerrors: ignoring QERRORS_AI_MODEL=${JSON.stringify(model)} (not a ${provider} model); using ${JSON.stringify(table.defaultModel)}`);
      model = table.defaultModel;
    }
    ai.model = model;
    ai.url = customUrl || models.defaultUrl(provider, model);
    ai.maxTokens = o.maxTokens ?? readSetting('QERRORS_MAX_TOKENS') ?? table.maxTokens;
    ai.jsonMode = o.jsonMode ?? (provider === 'openai' && models.JSON_MODE_MODELS.has(model));
  } else if (o.apiKey !== undefined || o.url !== undefined || o.model !== undefined) {
    Object.assign(ai, { apiKey: o.apiKey ?? '', url: o.url ?? '', model: o.model ?? '' });
  }
  const timeoutMs = o.timeoutMs ?? readSetting('QERRORS_TIMEOUT');
  Object.assign(ai, {
    timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? Math.min(timeoutMs, AI_FIXED.connectTimeoutCapMs),
    retryAttempts: o.retryAttempts ?? readSetting('QERRORS_RETRY_ATTEMPTS'),
    retryBaseMs: o.retryBaseMs ?? readSetting('QERRORS_RETRY_BASE_MS'),
    retryMaxMs: o.retryMaxMs ?? readSetting('QERRORS_RETRY_MAX_MS'),
    retryAfterMaxMs: o.retryAfterMaxMs ?? AI_FIXED.retryAfterMaxMs,
    concurrency: o.concurrency ?? bounded.concurrency,
    queueLimit: o.queueLimit ?? bounded.queueLimit,
    cacheLimit: o.cacheLimit ?? bounded.cacheLimit,
    cacheTtlMs: o.cacheTtlMs ?? readSetting('QERRORS_CACHE_TTL') * 1000,
    maxResponseBytes: o.maxResponseBytes ?? readSetting('QERRORS_AI_MAX_RESPONSE_BYTES'),
    ...rateLimit(o.rateLimit, ai.url),
    breakerThreshold: o.breakerThreshold ?? AI_FIXED.breakerThreshold,
    breakerResetMs: o.breakerResetMs ?? AI_FIXED.breakerResetMs,
    failureTtlMs: o.failureTtlMs ?? AI_FIXED.failureTtlMs,
    redisUrl: o.redisUrl ?? (readSetting('QERRORS_REDIS_URL') || ''),
  });
  return ai;
}

/**
 * Provider-call rate limit: `false` or `{ burst, perSec }` from configure(), else the
 * environment's limit for api.openai.com or for any other endpoint.
 * @param {unknown} option
 * @param {string} url
 */
function rateLimit(option, url) {
  const kind = url.includes('openai.com') ? 'OPENAI' : 'GENERIC';
  const env = {
    rateLimitBurst: readSetting('QERRORS_RATE_LIMIT_ENABLED') ? readSetting(`QERRORS_RATE_LIMIT_${kind}_TOKENS`) : 0,
    rateLimitPerSec: readSetting(`QERRORS_RATE_LIMIT_${kind}_REFILL`),
  };
  if (option === false) return { ...env, rateLimitBurst: 0 };
  if (option && typeof option === 'object') {
    const { burst, perSec } = /** @type {{burst?: number, perSec?: number}} */ (option);
    return { rateLimitBurst: burst ?? env.rateLimitBurst, rateLimitPerSec: perSec ?? env.rateLimitPerSec };
  }
  return env;
}

/**
 * The effective configuration, read from process.env now. Invalid values warn once and fall
 * back to the default. Callers on hot paths read it once and keep the result (or read the one
 * variable they need with `readSetting`).
 */
function readSettings() {
  const bounded = limits();
  const ai = resolveAi({}, bounded);
  return {
    concurrency: ai.concurrency,
    queueLimit: ai.queueLimit,
    safeThreshold: bounded.safeThreshold,
    cacheLimit: ai.cacheLimit,
    cacheTtlSeconds: ai.cacheTtlMs / 1000,
    retryAttempts: ai.retryAttempts,
    retryBaseMs: ai.retryBaseMs,
    retryMaxMs: ai.retryMaxMs,
    timeoutMs: ai.timeoutMs,
    maxSockets: readSetting('QERRORS_MAX_SOCKETS'),
    maxFreeSockets: readSetting('QERRORS_MAX_FREE_SOCKETS'),
    maxTokens: ai.maxTokens,
    openaiUrl: readSetting('QERRORS_OPENAI_URL'),
    openaiApiVersion: readSetting('OPENAI_API_VERSION'),
    logMaxSize: readSetting('QERRORS_LOG_MAXSIZE'),
    logMaxFiles: readSetting('QERRORS_LOG_MAXFILES'),
    logMaxDays: readSetting('QERRORS_LOG_MAX_DAYS'),
    verbose: readSetting('QERRORS_VERBOSE'),
    logDir: readSetting('QERRORS_LOG_DIR'),
    disableFileLogs: readSetting('QERRORS_DISABLE_FILE_LOGS'),
    serviceName: readSetting('QERRORS_SERVICE_NAME'),
    logLevel: readSetting('QERRORS_LOG_LEVEL'),
    nodeEnv: nodeEnv(),
    metricIntervalMs: readSetting('QERRORS_METRIC_INTERVAL_MS'),
    memoryCheckIntervalMs: readSetting('QERRORS_MEMORY_CHECK_INTERVAL'),
    cleanupIntervalMs: readSetting('QERRORS_CLEANUP_INTERVAL'),
    aiProvider: ai.provider,
    aiModel: ai.model || null,
    useSecureCacheKeys: readSetting('QERRORS_USE_SECURE_CACHE_KEYS'),
    ai,
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

// Shared with the other modules, kept off `Object.keys` so the namespace has its 8 original keys.
Object.defineProperties(module.exports, {
  readEnv: { value: readEnv },
  readSetting: { value: readSetting },
  readSettings: { value: readSettings },
  resolveAi: { value: resolveAi },
  readDotenvFile: { value: readDotenvFile },
  VARIABLES: { value: VARIABLES },
});
