'use strict';

// Background AI analysis of errors. One native call per error hands the error to the Rust
// pipeline (fingerprint, advice cache, de-duplication, bounded queue, rate limit, circuit
// breaker, HTTP to the provider, parsing); finished advice comes back as one small string.
// With no API key configured, the built-in offline advisor answers and nothing leaves the
// process. See docs/ai-pipeline.md.

const config = require('../policy/config');
const { codedError } = require('../policy/errors');
const keptStack = require('./keptStack');

const OWN_ERROR = Symbol.for('qerrors.aiPipelineError');
const NO_FINGERPRINT = '0000000000000000';
const HEX16 = /^[0-9a-f]{16}$/;

const CONTEXT_BUDGET = 4000;
// Only this much of a message and a stack is used (the fingerprint reads 2 KB of message and
// ten frames, the prompt 2000 characters and twenty lines); slicing in JS is O(1) and keeps a
// huge message or an unlimited stack trace from being copied across the boundary.
const { aiSubmit } = require('./contract');
const MAX_MESSAGE_CHARS = aiSubmit.MAX_MESSAGE_UNITS;
const MAX_STACK_CHARS = aiSubmit.MAX_STACK_UNITS;
// Context keys whose values never go into a prompt: the one vocabulary of the redaction policy.
const { sanitizeContext, _isSensitiveKey: isSensitiveKey } = require('../policy/redaction');

/**
 * The pipeline's settings: the environment with the configure() overrides on top, resolved
 * and checked by lib/policy/config.js (one object, every field present; see
 * docs/configuration.md).
 * @param {Record<string, unknown>} overrides
 */
function resolveOptions(overrides) {
  return config.resolveAi(overrides);
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

/** The pending attachment of a new pipeline to the policy and the metrics (`attachOps`). */
let attaching = null;

/**
 * Puts the pipeline under the memory-pressure policy and registers its metrics source, the
 * first time in the turn after the first use: loading and starting both (2-5 ms) would
 * otherwise lengthen the turn that handles the first error, the longest of an error storm.
 * Later attachments (after `cleanup()` or a new configuration) are immediate.
 */
function attachOps() {
  attaching = null;
  if (!pipeline) return;
  if (!detachPressure) watchPressure(pipeline);
  if (!tracked) {
    tracked = true;
    try {
      require('../ops/metrics').track('ai', metricsSource);
    } catch {
      // Metrics are optional; the pipeline works without them.
    }
  }
}

function unwatchPressure() {
  if (attaching !== null) {
    clearImmediate(attaching);
    attaching = null;
  }
  const detach = detachPressure;
  detachPressure = null;
  if (detach) detach();
}

function ensure() {
  if (!pipeline) pipeline = native().createAiPipeline(resolveOptions(overrides), onResult);
  if (!tracked) {
    // unref: a process that handled one error and is done still exits.
    if (attaching === null) attaching = setImmediate(attachOps).unref();
  } else if (!detachPressure) watchPressure(pipeline);
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

/** The logger new advice is written to: set by qerrors() when it first hands an error over. */
let adviceLogger = null;
/**
 * Writes new advice through `logger` from now on (qerrors() passes its own logger, so a
 * process that only uses this module never builds one).
 * @param {{ logInfo: (message: string, context?: object) => Promise<unknown> } | null} logger
 */
function setAdviceLogger(logger) {
  adviceLogger = logger;
}

/** Logs new advice through the logger qerrors() registered, if any. */
function logAdvice(advice, fingerprint) {
  try {
    const logger = adviceLogger;
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

/** Errors raised by AI calls themselves (the original's AxiosError guard, our codes, our marker). */
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
const WANT_NONE = aiSubmit.WANT_NONE;
const WANT_NEW = aiSubmit.WANT_NEW;
const WANT_ALL = aiSubmit.WANT_ALL;

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
  const end = 1 + aiSubmit.HEX_DIGITS;
  return { fp: r.slice(1, end), status: r[0], text: r.length > end ? r.slice(end) : '' };
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
  return listeners.size > 0 || adviceLogger ? WANT_NEW : WANT_NONE;
}

/** schedule()'s handling of a submission's outcome; returns the fingerprint. */
function scheduled({ fp, status, text }, errorLike) {
  if (status === aiSubmit.SCHEDULED) track(fp, errorLike);
  else if (status === aiSubmit.READY && text) {
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
  keptStack.forget();
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
    // The native side keeps the redacted stack for the log entry (lib/native/keptStack.js).
    if (typeof r === 'string') {
      keptStack.keep(stk);
      return { fp: scheduled(decode(r), errorLike), message: msg, stack: stk };
    }
    const redactedStack = r[2] === null ? stk : r[2];
    keptStack.keep(redactedStack);
    const fp = scheduled(decode(r[0]), errorLike);
    return { fp, message: r[1] === null ? msg : r[1], stack: redactedStack };
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
    if (status === aiSubmit.CACHED || status === aiSubmit.READY) {
      const advice = text ? parseAdvice(text) : null;
      if (status === aiSubmit.READY && advice) queueMicrotask(() => emit(advice, fp, errorLike));
      return Promise.resolve(advice);
    }
    if (status === aiSubmit.SCHEDULED || status === aiSubmit.JOINED) {
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
    throw codedError(TypeError, 'ERR_QERRORS_AI_OPTION', 'onAdvice(listener) needs a function');
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
  if (options === null || typeof options !== 'object') throw codedError(TypeError, 'ERR_QERRORS_AI_OPTION', 'configure(options) needs an object');
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
/** stats() of the running pipeline, or null when none runs (never starts one). */
function peekStats() {
  return pipeline ? stats() : null;
}

// Internal, for lib/handler/qerrors.js (intake, the advice logger) and the queue metrics; not enumerable, so the public
// namespace keeps its keys.
// (`_peekStats` is configurable so that tests can stand in for a running pipeline.)
Object.defineProperties(module.exports, { _intake: { value: intake }, _setAdviceLogger: { value: setAdviceLogger }, _peekStats: { value: peekStats, configurable: true, writable: true } });
