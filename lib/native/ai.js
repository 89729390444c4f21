'use strict';

// Background AI analysis of errors. One native call per error hands the error to the Rust
// pipeline (fingerprint, advice cache, de-duplication, bounded queue, rate limit, circuit
// breaker, HTTP to the provider, parsing); finished advice comes back as one small string.
// With no API key configured, the built-in offline advisor answers and nothing leaves the
// process. See docs/ai-pipeline.md.

const os = require('node:os');
const path = require('node:path');

const OWN_ERROR = Symbol.for('qerrors.aiPipelineError');
const NO_FINGERPRINT = '0000000000000000';
const HEX16 = /^[0-9a-f]{16}$/;

const OPENAI_DEFAULT_URL = 'https://api.openai.com/v1/chat/completions';
const GEMINI_BASE = 'https://generativelanguage.googleapis.com/v1beta/models/';
const MODELS = {
  openai: { models: ['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'gpt-3.5-turbo'], defaultModel: 'gpt-4o', maxTokens: 4096 },
  gemini: {
    models: ['gemini-2.5-flash-lite', 'gemini-2.0-flash-exp', 'gemini-pro', 'gemini-1.5-pro', 'gemini-1.5-flash'],
    defaultModel: 'gemini-2.5-flash-lite',
    maxTokens: 8192,
  },
};
const JSON_MODE_MODELS = new Set(['gpt-4o', 'gpt-4o-mini', 'gpt-4-turbo']);

const CONTEXT_BUDGET = 4000;
// Only this much of a message and a stack is used (the fingerprint reads 2 KB of message and
// ten frames, the prompt 2000 characters and twenty lines); slicing in JS is O(1) and keeps a
// huge message or an unlimited stack trace from being copied across the boundary.
const MAX_MESSAGE_CHARS = 4096;
const MAX_STACK_CHARS = 8192;
// Context keys whose values never go into a prompt: the one vocabulary of the redaction policy.
const { sanitizeContext, _isSensitiveKey: isSensitiveKey } = require('../policy/redaction');

const warned = new Set();
/** Warns once per key (an invalid env var warns once per process, not per error). */
function warnOnce(key, message) {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, { type: 'QerrorsWarning', code: 'QERRORS_INVALID_ENV' });
}

/**
 * Reads a numeric env var. Unset or empty → default; invalid or out of range → warning + default.
 * @param {NodeJS.ProcessEnv} env
 * @param {string} name
 * @param {number} def
 * @param {number} min
 * @param {number} max
 */
function envNumber(env, name, def, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    warnOnce(name, `${name}=${JSON.stringify(raw)} is not a number from ${min} to ${max}; using ${def}`);
    return def;
  }
  return n;
}

function validUrl(s) {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Pipeline options from the environment (spec §16). Invalid values warn once and fall back.
 * @param {NodeJS.ProcessEnv} [env]
 */
function optionsFromEnv(env = process.env) {
  let requested = (env.QERRORS_AI_PROVIDER || '').trim().toLowerCase();
  if (requested === 'google') requested = 'gemini';
  if (requested && requested !== 'openai' && requested !== 'gemini') {
    warnOnce('QERRORS_AI_PROVIDER', `QERRORS_AI_PROVIDER=${JSON.stringify(env.QERRORS_AI_PROVIDER)} is not 'openai' or 'google'; using the default`);
    requested = '';
  }
  const keys = { gemini: env.GEMINI_API_KEY || '', openai: env.OPENAI_API_KEY || '' };
  // Unset provider: the spec's default (google) when its key exists, else OpenAI when that
  // key exists, else the offline advisor.
  let provider = requested || (keys.gemini ? 'gemini' : keys.openai ? 'openai' : 'offline');
  if (provider !== 'offline' && !keys[provider]) {
    const v = provider === 'gemini' ? 'GEMINI_API_KEY' : 'OPENAI_API_KEY';
    warnOnce(`missing:${v}`, `Missing ${v} in environment variables; AI analysis uses the offline advisor`);
    provider = 'offline';
  }
  const opts = { provider, apiKey: provider === 'offline' ? '' : keys[provider] };

  let url = '';
  if (provider === 'openai') {
    if (env.QERRORS_OPENAI_URL) url = env.QERRORS_OPENAI_URL;
    else if (env.OPENAI_BASE_URL) url = env.OPENAI_BASE_URL.replace(/\/+$/, '') + '/chat/completions';
    if (url && !validUrl(url)) {
      warnOnce('QERRORS_OPENAI_URL', `AI endpoint ${JSON.stringify(url)} is not an http(s) URL; using ${OPENAI_DEFAULT_URL}`);
      url = '';
    }
  } else if (provider === 'gemini' && env.QERRORS_GEMINI_URL) {
    url = validUrl(env.QERRORS_GEMINI_URL) ? env.QERRORS_GEMINI_URL : '';
    if (!url) warnOnce('QERRORS_GEMINI_URL', 'QERRORS_GEMINI_URL is not an http(s) URL; using the Gemini API');
  }
  if (provider !== 'offline') {
    const m = MODELS[provider];
    let model = env.QERRORS_AI_MODEL || m.defaultModel;
    // A custom endpoint (a proxy, a local server) may serve any model name.
    if (!url && !m.models.includes(model)) {
      warnOnce('QERRORS_AI_MODEL', `QERRORS_AI_MODEL=${JSON.stringify(model)} is not a ${provider} model; using ${m.defaultModel}`);
      model = m.defaultModel;
    }
    opts.model = model;
    opts.url = url || (provider === 'openai' ? OPENAI_DEFAULT_URL : `${GEMINI_BASE}${encodeURIComponent(model)}:generateContent`);
    opts.maxTokens = envNumber(env, 'QERRORS_MAX_TOKENS', m.maxTokens, 1, 1e6);
    opts.jsonMode = provider === 'openai' && JSON_MODE_MODELS.has(model);
  }

  const cpus = Math.max(1, (os.availableParallelism ? os.availableParallelism() : os.cpus().length) || 1);
  const freeMb = os.freemem() / (1024 * 1024);
  const dynConcurrency = Math.min(Math.max(5, Math.min(50, cpus * 3)), Math.max(5, Math.min(30, Math.floor(freeMb / 100))));
  const dynQueue = Math.min(Math.max(100, Math.min(2000, Math.floor(freeMb / 10))), cpus * 100);
  const safe = envNumber(env, 'QERRORS_SAFE_THRESHOLD', Math.max(2000, dynQueue * 2), 1, 1e6);
  const clamp = (name, v) => {
    if (v <= safe) return v;
    warnOnce(`${name}:clamp`, `${name}=${v} is above QERRORS_SAFE_THRESHOLD (${safe}); using ${safe}`);
    return safe;
  };
  opts.concurrency = clamp('QERRORS_CONCURRENCY', Math.floor(envNumber(env, 'QERRORS_CONCURRENCY', dynConcurrency, 1, 1e4)));
  opts.queueLimit = clamp('QERRORS_QUEUE_LIMIT', Math.floor(envNumber(env, 'QERRORS_QUEUE_LIMIT', dynQueue, 0, 1e6)));
  const cacheVar = env.QERRORS_CACHE_LIMIT !== undefined && env.QERRORS_CACHE_LIMIT !== '' ? 'QERRORS_CACHE_LIMIT' : 'QERRORS_CACHE_SIZE';
  opts.cacheLimit = clamp(cacheVar, Math.floor(envNumber(env, cacheVar, 50, 0, 1e7)));
  opts.cacheTtlMs = envNumber(env, 'QERRORS_CACHE_TTL', 86400, 1, 1e10) * 1000;
  opts.timeoutMs = envNumber(env, 'QERRORS_TIMEOUT', 10000, 1, 864e5);
  opts.connectTimeoutMs = Math.min(opts.timeoutMs, 5000);
  opts.retryAttempts = Math.floor(envNumber(env, 'QERRORS_RETRY_ATTEMPTS', 2, 0, 10));
  opts.retryBaseMs = envNumber(env, 'QERRORS_RETRY_BASE_MS', 100, 0, 864e5);
  opts.retryMaxMs = envNumber(env, 'QERRORS_RETRY_MAX_MS', 2000, 0, 864e5);
  opts.maxResponseBytes = Math.floor(envNumber(env, 'QERRORS_AI_MAX_RESPONSE_BYTES', 1048576, 1024, 1e9));
  if (env.QERRORS_RATE_LIMIT_ENABLED === 'false') {
    opts.rateLimitBurst = 0;
  } else {
    const isOpenAi = (opts.url || '').includes('openai.com');
    const kind = isOpenAi ? 'OPENAI' : 'GENERIC';
    opts.rateLimitBurst = Math.floor(envNumber(env, `QERRORS_RATE_LIMIT_${kind}_TOKENS`, isOpenAi ? 60 : 30, 1, 1e6));
    opts.rateLimitPerSec = envNumber(env, `QERRORS_RATE_LIMIT_${kind}_REFILL`, isOpenAi ? 1 : 0.5, 0.001, 1e6);
  }
  // Advice shared through Redis by every process of the service (docs/redis.md).
  const redisUrl = env.QERRORS_REDIS_URL;
  if (redisUrl) {
    if (/^redis:\/\/[^\s]+$/.test(redisUrl)) opts.redisUrl = redisUrl;
    else warnOnce('QERRORS_REDIS_URL', `QERRORS_REDIS_URL=${JSON.stringify(redisUrl)} is not a redis:// URL; the advice cache stays local`);
  }
  return opts;
}

const OPTION_TYPES = {
  provider: 'string',
  apiKey: 'string',
  url: 'string',
  model: 'string',
  maxTokens: 'number',
  jsonMode: 'boolean',
  timeoutMs: 'number',
  connectTimeoutMs: 'number',
  retryAttempts: 'number',
  retryBaseMs: 'number',
  retryMaxMs: 'number',
  retryAfterMaxMs: 'number',
  concurrency: 'number',
  queueLimit: 'number',
  cacheLimit: 'number',
  cacheTtlMs: 'number',
  maxResponseBytes: 'number',
  rateLimit: 'object',
  breakerThreshold: 'number',
  breakerResetMs: 'number',
  failureTtlMs: 'number',
  redisUrl: 'string',
};

function optionError(Ctor, message) {
  const err = new Ctor(message);
  err.code = 'ERR_QERRORS_AI_OPTION';
  err[OWN_ERROR] = true;
  return err;
}

/**
 * Validates `configure()` options and merges them over the environment's.
 * @param {Record<string, unknown>} overrides
 */
function resolveOptions(overrides) {
  const o = { ...overrides };
  for (const [k, v] of Object.entries(o)) {
    if (!(k in OPTION_TYPES)) throw optionError(TypeError, `Unknown AI pipeline option '${k}'`);
    if (v === undefined) continue;
    if (k === 'rateLimit') {
      if (v !== false && (v === null || typeof v !== 'object')) {
        throw optionError(TypeError, 'AI pipeline option rateLimit must be false or { burst, perSec }');
      }
      continue;
    }
    if (typeof v !== OPTION_TYPES[k]) throw optionError(TypeError, `AI pipeline option ${k} must be a ${OPTION_TYPES[k]}`);
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) {
      throw optionError(RangeError, `AI pipeline option ${k} must be a finite number >= 0, got ${v}`);
    }
  }
  if (o.provider === 'google') o.provider = 'gemini';
  if (o.provider !== undefined && !['offline', 'openai', 'gemini'].includes(o.provider)) {
    throw optionError(RangeError, `AI pipeline option provider must be 'offline', 'openai' or 'gemini', got '${o.provider}'`);
  }
  if (o.url !== undefined && !validUrl(o.url)) throw optionError(TypeError, 'AI pipeline option url must be an http(s) URL');
  const base = optionsFromEnv();
  const provider = o.provider || base.provider;
  const merged = { ...base };
  if (provider !== base.provider) {
    // Switching provider: the env's key, URL and model belong to the other one.
    const keyVar = provider === 'gemini' ? 'GEMINI_API_KEY' : 'OPENAI_API_KEY';
    merged.apiKey = provider === 'offline' ? '' : process.env[keyVar] || '';
    if (provider !== 'offline') {
      const m = MODELS[provider];
      merged.model = m.defaultModel;
      merged.maxTokens = m.maxTokens;
      merged.url = provider === 'openai' ? OPENAI_DEFAULT_URL : `${GEMINI_BASE}${m.defaultModel}:generateContent`;
    }
  }
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined && k !== 'rateLimit') merged[k] = v;
  }
  merged.provider = provider;
  if (o.model !== undefined && o.url === undefined && provider === 'gemini') {
    merged.url = `${GEMINI_BASE}${encodeURIComponent(o.model)}:generateContent`;
  }
  if (o.jsonMode === undefined) merged.jsonMode = provider === 'openai' && JSON_MODE_MODELS.has(merged.model);
  if (o.rateLimit === false) merged.rateLimitBurst = 0;
  else if (o.rateLimit) {
    const { burst, perSec } = /** @type {{burst?: number, perSec?: number}} */ (o.rateLimit);
    if (burst !== undefined) merged.rateLimitBurst = burst;
    if (perSec !== undefined) merged.rateLimitPerSec = perSec;
  }
  return merged;
}

// ---- state ----

/** @type {any} */
let pipeline = null;
/** @type {Record<string, unknown>} */
let overrides = {};
/** fingerprint → { promise, resolve, errorLike, awaited } for analyses in flight. */
const pending = new Map();
/** @type {Set<Function>} */
const listeners = new Set();
let awaitedCount = 0;
/** @type {NodeJS.Timeout | null} */
let keepAlive = null;

function native() {
  return require('./loader');
}

let tracked = false;

/** The pipeline's counters for `getMetrics()` (component `ai`); the free-text lastError stays out. */
function metricsSource() {
  if (!pipeline) return null;
  const { lastError, ...counters } = JSON.parse(pipeline.stats());
  return counters;
}

/** Detaches the current pipeline from the memory-pressure policy; null while not attached. */
let detachPressure = null;

/** Puts the pipeline under the memory-pressure policy (lib/ops/memoryPressure.js), which starts its timers. */
function watchPressure(p) {
  try {
    detachPressure = require('../ops/memoryPressure')
      .shared()
      .attach(p, () => {
        detachPressure = null;
      });
  } catch {
    // The policy is a safeguard; the pipeline works without it.
    detachPressure = () => {};
  }
}

function unwatchPressure() {
  const detach = detachPressure;
  detachPressure = null;
  if (detach) detach();
}

function ensure() {
  if (!pipeline) pipeline = native().createAiPipeline(resolveOptions(overrides), onResult);
  if (!detachPressure) watchPressure(pipeline);
  if (!tracked) {
    tracked = true;
    try {
      require('../ops/metrics').track('ai', metricsSource);
    } catch {
      // Metrics are optional; the pipeline works without them.
    }
  }
  return pipeline;
}

// An awaited analyze() keeps the process alive until it settles, like a pending fetch;
// fire-and-forget schedule() never does (the native callback is unref'd).
function holdAlive(delta) {
  awaitedCount += delta;
  if (awaitedCount > 0 && !keepAlive) keepAlive = setInterval(() => {}, 1 << 30);
  else if (awaitedCount === 0 && keepAlive) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}

function parseAdvice(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

const LOGGER_FILE = path.join(__dirname, '..', 'logging', 'logger.js');
/** The qerrors logger if the application already loaded it, else null (never loads it). */
function loadedLogger() {
  const m = require.cache[LOGGER_FILE];
  return m && m.loaded ? m.exports : null;
}

/**
 * Logs new advice through the qerrors logger when the application already uses it (a
 * process that only uses this module never builds a logger).
 */
function logAdvice(advice, fingerprint) {
  try {
    const logger = loadedLogger();
    if (logger && typeof logger.logInfo === 'function') {
      logger.logInfo(`AI advice for error ${fingerprint}`, { fingerprint, source: advice.source, advice: advice.advice }).catch(() => {});
    }
  } catch {
    // Logging advice is best effort.
  }
}

function emit(advice, fingerprint, errorLike) {
  logAdvice(advice, fingerprint);
  for (const fn of [...listeners]) {
    try {
      fn(advice, fingerprint, errorLike);
    } catch (err) {
      const msg = err && typeof err === 'object' && 'message' in err ? err.message : String(err);
      process.emitWarning(`qerrors onAdvice listener threw: ${msg}`, { type: 'QerrorsWarning', code: 'QERRORS_AI_LISTENER' });
    }
  }
}

/** Settles an in-flight analysis. Called from the native side; never throws. */
function onResult(text) {
  try {
    const fp = text.slice(0, 16);
    const advice = text.length > 16 ? parseAdvice(text.slice(16)) : null;
    const entry = pending.get(fp);
    if (!entry) return;
    pending.delete(fp);
    if (entry.awaited) holdAlive(-1);
    entry.resolve(advice);
    if (advice) emit(advice, fp, entry.errorLike);
  } catch {
    // Delivery must never throw into the native callback.
  }
}

function str(v) {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  try {
    return String(v);
  } catch {
    return '';
  }
}

function field(obj, key) {
  try {
    return str(obj[key]);
  } catch {
    return '';
  }
}

function hasFields(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function');
}

function nameOf(errorLike) {
  return (hasFields(errorLike) && field(errorLike, 'name').slice(0, 200)) || 'Error';
}

function codeOf(errorLike) {
  return hasFields(errorLike) ? field(errorLike, 'code').slice(0, 100) : '';
}

/** name, code, message, stack of anything thrown; getters that throw give ''. */
function partsOf(errorLike) {
  if (hasFields(errorLike)) {
    return [
      nameOf(errorLike),
      codeOf(errorLike),
      field(errorLike, 'message').slice(0, MAX_MESSAGE_CHARS),
      field(errorLike, 'stack').slice(0, MAX_STACK_CHARS),
    ];
  }
  return ['Error', '', str(errorLike).slice(0, MAX_MESSAGE_CHARS), ''];
}

/** Errors raised by AI calls themselves (spec §14.6's AxiosError guard, our codes, our marker). */
function isOwnError(errorLike, name, code) {
  if (name.includes('AxiosError') || code.startsWith('ERR_QERRORS_AI')) return true;
  if (errorLike === null || typeof errorLike !== 'object') return false;
  try {
    return errorLike[OWN_ERROR] === true;
  } catch {
    return false;
  }
}

/** Bounded, cycle-safe rendering of a context object for the prompt. */
function renderContext(value) {
  let budget = CONTEXT_BUDGET;
  const seen = new WeakSet();
  const walk = (v, depth) => {
    if (budget <= 0) return '…';
    if (v === null || typeof v !== 'object') {
      let s = typeof v === 'string' ? JSON.stringify(v.length > 500 ? v.slice(0, 500) + '…' : v) : typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? '[Function]' : String(v);
      budget -= s.length;
      return s;
    }
    if (seen.has(v)) return '[Circular]';
    if (depth >= 4) return Array.isArray(v) ? '[Array]' : '[Object]';
    seen.add(v);
    const out = [];
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const k of keys.slice(0, 50)) {
      if (budget <= 0) break;
      let item;
      try {
        item = !Array.isArray(v) && isSensitiveKey(String(k)) ? '"[REDACTED]"' : walk(v[k], depth + 1);
      } catch {
        item = '[Unreadable]';
      }
      out.push(Array.isArray(v) ? item : `${JSON.stringify(String(k))}:${item}`);
      budget -= String(k).length + 2;
    }
    seen.delete(v);
    return Array.isArray(v) ? `[${out.join(',')}]` : `{${out.join(',')}}`;
  };
  try {
    return walk(value, 0);
  } catch {
    return '';
  }
}

function contextArg(context) {
  if (context === undefined || context === null) return '';
  if (typeof context === 'string') return context.length > CONTEXT_BUDGET ? context.slice(0, CONTEXT_BUDGET) : context;
  // Walked with the redaction policy's budget first (a Buffer or a huge object costs nothing).
  if (typeof context === 'object') return () => renderContext(sanitizeContext(context, 'ERROR', 10));
  return str(context);
}

// What advice text the native call returns: none, new offline advice, or cached advice too.
const WANT_NONE = 0;
const WANT_NEW = 1;
const WANT_ALL = 2;

/**
 * One native call: returns { fp, status, text } where text is advice JSON when wanted.
 * @param {unknown} errorLike
 * @param {unknown} context
 * @param {number} wantAdvice WANT_NONE, WANT_NEW or WANT_ALL
 */
function submit(errorLike, context, wantAdvice) {
  const [name, code, message, stack] = partsOf(errorLike);
  const p = ensure();
  if (isOwnError(errorLike, name, code)) return { fp: p.fingerprint(name, code, message, stack), status: 'own', text: '' };
  return decode(p.submit(name, code, message, stack, contextArg(context), wantAdvice));
}

/** The native call's result string: status letter, fingerprint, advice JSON. */
function decode(r) {
  return { fp: r.slice(1, 17), status: r[0], text: r.length > 17 ? r.slice(17) : '' };
}

function track(fp, errorLike) {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  const entry = { promise, resolve, errorLike, awaited: false };
  pending.set(fp, entry);
  return entry;
}

/**
 * Hands an error to the background pipeline. Synchronous, never throws.
 * @param {unknown} errorLike
 * @param {unknown} [context]
 * @returns {string} the 16-hex fingerprint
 */
function schedule(errorLike, context) {
  try {
    return scheduled(submit(errorLike, context, wantNew()), errorLike);
  } catch {
    return NO_FINGERPRINT;
  }
}

/** New offline advice is only worth returning when someone will see it. */
function wantNew() {
  return listeners.size > 0 || loadedLogger() ? WANT_NEW : WANT_NONE;
}

/** schedule()'s handling of a submission's outcome; returns the fingerprint. */
function scheduled({ fp, status, text }, errorLike) {
  if (status === 's') track(fp, errorLike);
  else if (status === 'r' && text) {
    const advice = parseAdvice(text);
    if (advice) queueMicrotask(() => emit(advice, fp, errorLike));
  }
  return fp;
}

/**
 * schedule() for qerrors(), which has already read the error's message and stack (at most
 * 10 000 and 20 000 characters) and needs them redacted: the same native call also redacts
 * them (the stack line by line, through a cache of recent lines: storms repeat frames).
 * The fingerprint is schedule()'s for the same error. Non-string message or stack read as
 * ''. Unchanged text comes back as the same string. Custom patterns are the caller's.
 * Never throws.
 * @param {unknown} errorLike
 * @param {unknown} context
 * @param {string} message
 * @param {string} stack
 * @returns {{ fp: string, message: string, stack: string } | null} null on any failure
 *   (the caller then redacts in JS)
 */
function intake(errorLike, context, message, stack) {
  try {
    const msg = typeof message === 'string' ? message : '';
    const stk = typeof stack === 'string' ? stack : '';
    const name = nameOf(errorLike);
    const code = codeOf(errorLike);
    const p = ensure();
    if (isOwnError(errorLike, name, code)) {
      // Rare: the pipeline's own failures are not analysed, only fingerprinted.
      const { sanitizeMessage } = require('../policy/redaction');
      const fp = p.fingerprint(name, code, msg.slice(0, MAX_MESSAGE_CHARS), stk.slice(0, MAX_STACK_CHARS));
      return { fp, message: sanitizeMessage(msg), stack: sanitizeMessage(stk) };
    }
    const r = p.submit(name, code, msg, stk, contextArg(context), wantNew(), true);
    if (typeof r === 'string') return { fp: scheduled(decode(r), errorLike), message: msg, stack: stk };
    const fp = scheduled(decode(r[0]), errorLike);
    return { fp, message: r[1] === null ? msg : r[1], stack: r[2] === null ? stk : r[2] };
  } catch {
    return null;
  }
}

/**
 * Analyses an error and resolves with its advice (immediately on a cache hit), or null on
 * any failure. Never rejects.
 * @param {unknown} errorLike
 * @param {unknown} [context]
 * @returns {Promise<object|null>}
 */
function analyze(errorLike, context) {
  try {
    const { fp, status, text } = submit(errorLike, context, WANT_ALL);
    if (status === 'c' || status === 'r') {
      const advice = text ? parseAdvice(text) : null;
      if (status === 'r' && advice) queueMicrotask(() => emit(advice, fp, errorLike));
      return Promise.resolve(advice);
    }
    if (status === 's' || status === 'j') {
      const entry = pending.get(fp) || track(fp, errorLike);
      if (!entry.awaited) {
        entry.awaited = true;
        holdAlive(1);
      }
      return entry.promise;
    }
    return Promise.resolve(null);
  } catch {
    return Promise.resolve(null);
  }
}

/**
 * Cached advice for a fingerprint.
 * @param {string} fingerprint
 * @returns {object|undefined}
 */
function getAdvice(fingerprint) {
  if (typeof fingerprint !== 'string' || !HEX16.test(fingerprint)) return undefined;
  const text = ensure().get(fingerprint);
  return text === undefined ? undefined : parseAdvice(text) || undefined;
}

/**
 * Subscribes to new advice: `listener(advice, fingerprint, errorLike)`, called once per
 * finished analysis (not for cache hits). A throwing listener is isolated.
 * @param {(advice: object, fingerprint: string, errorLike: unknown) => void} listener
 * @returns {() => void} unsubscribe
 */
function onAdvice(listener) {
  if (typeof listener !== 'function') {
    throw optionError(TypeError, 'onAdvice(listener) needs a function');
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/** Counters of the pipeline: plain numbers plus provider, model and breaker state. */
function stats() {
  const s = JSON.parse(ensure().stats());
  s.listeners = listeners.size;
  s.awaiting = awaitedCount;
  return s;
}

/** Empties the advice cache. */
function clearCache() {
  ensure().clear();
}

function settleAll() {
  for (const entry of pending.values()) entry.resolve(null);
  pending.clear();
  awaitedCount = 0;
  holdAlive(0);
}

/**
 * Cancels pending and running analyses (their promises resolve null) and releases the
 * pipeline; the next call starts a fresh one.
 * @returns {Promise<void>}
 */
function shutdown() {
  const p = pipeline;
  pipeline = null;
  unwatchPressure();
  if (p) p.shutdown();
  settleAll();
  return Promise.resolve();
}

/**
 * Replaces the option overrides (merged over the environment) and restarts the pipeline.
 * Pending analyses of the previous pipeline are cancelled. `configure()` returns to the
 * environment's settings.
 * @param {Record<string, unknown>} [options]
 */
function configure(options = {}) {
  if (options === null || typeof options !== 'object') throw optionError(TypeError, 'configure(options) needs an object');
  const next = { ...options };
  const created = native().createAiPipeline(resolveOptions(next), onResult);
  const old = pipeline;
  overrides = next;
  unwatchPressure();
  pipeline = created;
  if (old) old.shutdown();
  settleAll();
  ensure();
}

module.exports = { schedule, analyze, getAdvice, onAdvice, stats, clearCache, shutdown, configure };
// Internal, for lib/handler/qerrors.js; not enumerable, so the public namespace keeps its keys.
Object.defineProperty(module.exports, '_intake', { value: intake });
