'use strict';

// The `utils` namespace (spec §6, §15.4): timers, cloning, safe wrappers and best-effort logging
// helpers. Logging goes through the qerrors logger (lib/logging/logger.js) when it is present, loaded
// lazily at call time so that this module has no load-time dependency on it.

const crypto = require('node:crypto');
const path = require('node:path');
const config = require('../policy/config');
const { optionalSibling } = require('./optional');

function invalidArg(message) {
  const err = new TypeError(message);
  err.code = 'ERR_QERRORS_INVALID_ARG';
  return err;
}

function logger() {
  return optionalSibling('logging/logger');
}

/**
 * The structured log entry of spec §3.3, built by the qerrors logger.
 * @param {string} level
 * @param {*} message
 */
function createEnhancedLogEntry(level, message, context = {}, requestId = null) {
  const log = logger();
  if (!log || typeof log.createEnhancedLogEntry !== 'function' || log.createEnhancedLogEntry === createEnhancedLogEntry) {
    const err = new Error('createEnhancedLogEntry needs the qerrors logger (lib/logging/logger.js), which is not available');
    err.code = 'ERR_QERRORS_LOGGER_UNAVAILABLE';
    throw err;
  }
  return log.createEnhancedLogEntry(level, message, context, requestId);
}

/**
 * JSON text of `ctx` that never throws on cycles: a reference to an object that is its own
 * ancestor becomes "[Circular]" (§15.4 [REIMPL]). Strings come back as they are, `null` as
 * 'null', BigInts as decimal strings, Errors as { name, message, stack }.
 * @param {*} ctx
 * @returns {string}
 */
function stringifyContext(ctx) {
  if (typeof ctx === 'string') return ctx;
  if (ctx === null) return 'null';
  if (typeof ctx !== 'object') return String(ctx);
  try {
    // The chain of objects above the current value: `holders` are what JSON.stringify passes as
    // `this`, `originals` what the user's object graph holds (they differ for converted Errors).
    const holders = [];
    const originals = [];
    return JSON.stringify(ctx, function replacer(key, value) {
      if (typeof value === 'bigint') return value.toString();
      if (value === null || typeof value !== 'object') return value;
      while (holders.length > 0 && holders[holders.length - 1] !== this) {
        holders.pop();
        originals.pop();
      }
      if (originals.includes(value)) return '[Circular]';
      let out = value;
      if (value instanceof Error) {
        out = { name: value.name, message: value.message };
        if (value.stack) out.stack = value.stack;
        for (const k of Object.keys(value)) out[k] = value[k];
      }
      holders.push(out);
      originals.push(value);
      return out;
    });
  } catch {
    return 'unknown context';
  }
}

/**
 * The trimmed message of an error-like object, else the trimmed string, else `fallback`.
 * @param {*} error
 * @param {string} [fallback]
 */
function safeErrorMessage(error, fallback = 'Unknown error') {
  if (error !== null && typeof error === 'object') {
    const message = error.message;
    if (typeof message === 'string' && message.trim() !== '') return message.trim();
    return fallback;
  }
  if (typeof error === 'string' && error.trim() !== '') return error.trim();
  return fallback;
}

/**
 * `console.log(msg)` unless QERRORS_VERBOSE is off (read at call time, §6.5 [REIMPL]); returns
 * `false` when it prints nothing.
 */
function verboseLog(msg) {
  if (!config.readVerbose()) return false;
  console.log(msg);
  return undefined;
}

function formatDuration(ms) {
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)}s`;
  return `${(ms / 60000).toFixed(2)}m`;
}

function round2(n) {
  return Math.round(n * 100) / 100;
}

function plainObject(value) {
  return value !== null && typeof value === 'object' ? value : {};
}

/**
 * Writes one line through the logger's `method`, falling back to `console[fallback]`.
 * Never throws or rejects.
 */
async function writeLog(method, fallback, message, ...rest) {
  try {
    const log = logger();
    if (log && typeof log[method] === 'function') {
      await log[method](message, ...rest);
      return;
    }
  } catch {
    // falls back to the console below
  }
  try {
    if (typeof fallback === 'function') fallback(message, ...rest);
    else console[fallback](message, ...rest);
  } catch {
    // a broken console is not the caller's problem
  }
}

/**
 * A timer for `operation` (§3.2 [REIMPL]): a callable `logPerformance(success = true,
 * additionalContext = {})` that also carries `elapsed`, `elapsedFormatted`, `logPerformance` and
 * `end` (= `logPerformance(true)`). The result context includes `memory_delta` in KB.
 * @param {string} operation
 * @param {string|null} [requestId]
 */
function createPerformanceTimer(operation, requestId = null) {
  const started = process.hrtime.bigint();
  const startMem = process.memoryUsage();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  async function logPerformance(success = true, additionalContext = {}) {
    const mem = process.memoryUsage();
    const duration = round2(elapsed());
    const context = {
      operation,
      duration_ms: duration,
      success,
      ...plainObject(additionalContext),
      memory_delta: {
        heapUsed: Math.round((mem.heapUsed - startMem.heapUsed) / 1024),
        external: Math.round((mem.external - startMem.external) / 1024),
      },
    };
    const line = `${operation} completed in ${duration}ms (${success ? 'success' : 'failure'})`;
    if (success) await writeLog('logInfo', 'log', line, context, requestId);
    else await writeLog('logWarn', 'warn', line, context, requestId);
    return context;
  }
  logPerformance.elapsed = elapsed;
  logPerformance.elapsedFormatted = () => formatDuration(elapsed());
  logPerformance.logPerformance = logPerformance;
  logPerformance.end = () => logPerformance(true);
  return logPerformance;
}

/** Logs `safeErrorMessage(error)` with `{ context, ...metadata }` at error level. */
async function safeLogError(error, context = {}, metadata = {}) {
  await writeLog('logError', 'error', safeErrorMessage(error), { context, ...plainObject(metadata) });
}

async function safeLogInfo(message, metadata = {}) {
  await writeLog('logInfo', 'log', message, metadata);
}

async function safeLogWarn(message, metadata = {}) {
  await writeLog('logWarn', 'warn', message, metadata);
}

async function safeLogDebug(message, metadata = {}) {
  await writeLog('logDebug', () => verboseLog(message), message, metadata);
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

const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array);

/**
 * A shallow shell for `src` and whether its contents still need copying.
 * @returns {[*, boolean]}
 */
function shell(src) {
  if (src instanceof Date) return [new Date(src.getTime()), false];
  if (src instanceof RegExp) {
    const re = new RegExp(src.source, src.flags);
    re.lastIndex = src.lastIndex;
    return [re, false];
  }
  if (Buffer.isBuffer(src)) return [Buffer.from(src), false];
  if (src instanceof TYPED_ARRAY) return [new src.constructor(src), false];
  if (src instanceof ArrayBuffer) return [src.slice(0), false];
  if (src instanceof DataView) {
    return [new DataView(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength)), false];
  }
  if (src instanceof WeakMap || src instanceof WeakSet || src instanceof Promise) return [src, false];
  if (Array.isArray(src)) return [new Array(src.length), true];
  if (src instanceof Map) return [new Map(), true];
  if (src instanceof Set) return [new Set(), true];
  return [Object.create(Object.getPrototypeOf(src)), true];
}

/**
 * A deep copy with lodash `cloneDeep` semantics (§6.3): cycles and shared references are kept,
 * Date/RegExp/Map/Set/typed arrays/Buffers are copied, class instances keep their prototype,
 * functions are returned by reference. Iterative, so depth cannot overflow the stack.
 * @template T
 * @param {T} obj
 * @returns {T}
 */
function deepClone(obj) {
  if (obj === null || typeof obj !== 'object') return obj;
  const copies = new Map();
  const work = [];
  const copyOf = (value) => {
    if (value === null || typeof value !== 'object') return value;
    const known = copies.get(value);
    if (known !== undefined) return known;
    const [copy, hasContents] = shell(value);
    copies.set(value, copy);
    if (hasContents) work.push(value);
    return copy;
  };
  const root = copyOf(obj);
  while (work.length > 0) {
    const src = work.pop();
    const dst = copies.get(src);
    if (src instanceof Map) {
      for (const [k, v] of src) dst.set(k, copyOf(v));
    } else if (src instanceof Set) {
      for (const v of src) dst.add(copyOf(v));
    } else if (Array.isArray(src)) {
      for (let i = 0; i < src.length; i++) if (i in src) dst[i] = copyOf(src[i]);
    } else if (src instanceof Error) {
      // message and stack are own non-enumerable properties; keep them so the copy reads the same.
      for (const key of Reflect.ownKeys(src)) {
        const desc = Object.getOwnPropertyDescriptor(src, key);
        if ('value' in desc) desc.value = copyOf(desc.value);
        Object.defineProperty(dst, key, desc);
      }
    } else {
      for (const key of Object.keys(src)) dst[key] = copyOf(src[key]);
      for (const sym of Object.getOwnPropertySymbols(src)) {
        if (Object.prototype.propertyIsEnumerable.call(src, sym)) dst[sym] = copyOf(src[sym]);
      }
    }
  }
  return root;
}

/**
 * `{ elapsed(), elapsedFormatted(), logPerformance(success = true, ctx = {}), end() }` (§6.2).
 */
function createTimer() {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  async function logPerformance(success = true, additionalContext = {}) {
    const context = { operation: 'operation', duration_ms: round2(elapsed()), success, ...plainObject(additionalContext) };
    const line = `operation completed in ${context.duration_ms}ms (${success ? 'success' : 'failure'})`;
    // A logger line is attempted; without the logger nothing is printed (§6.2).
    const log = logger();
    if (log) await writeLog(success ? 'logInfo' : 'logWarn', () => {}, line, context);
    return context;
  }
  return { elapsed, elapsedFormatted: () => formatDuration(elapsed()), logPerformance, end: elapsed };
}

/**
 * `{ ok: true, value }` or `{ ok: false, error }`; silent, never rejects (§15.4).
 * @param {Function} fn
 */
async function attempt(fn) {
  if (typeof fn !== 'function') return { ok: false, error: invalidArg('attempt: fn must be a function') };
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Runs `options.operation()`. On failure it logs, prefixes the message with `failureMessage`
 * (only when one is given, §15.4 fixed) and rethrows, or resolves `fallbackValue` with
 * `rethrow: false`.
 */
async function executeWithQerrors(options) {
  if (options === null || typeof options !== 'object' || typeof options.operation !== 'function') {
    throw invalidArg('executeWithQerrors: options.operation must be a function');
  }
  const { opName, operation, context = {}, failureMessage, errorCode, errorType, logMessage, rethrow = true, fallbackValue, timer = null } =
    options;
  const track = async (success) => {
    if (timer && typeof timer.logPerformance === 'function') {
      try {
        await timer.logPerformance(success, { opName });
      } catch {
        // timing is best-effort
      }
    }
  };
  try {
    const result = await operation();
    await track(true);
    return result;
  } catch (error) {
    await track(false);
    await safeLogError(error, context, { opName, errorCode, errorType, logMessage });
    if (failureMessage && error !== null && typeof error === 'object' && typeof error.message === 'string') {
      try {
        error.message = `${failureMessage}: ${error.message}`;
      } catch {
        // a frozen error keeps its message
      }
    }
    if (rethrow !== false) throw error;
    return fallbackValue;
  }
}

/** `[context] message`, or just the message when `context` is falsy. */
function formatErrorMessage(error, context) {
  const message = safeErrorMessage(error);
  return context ? `[${context}] ${message}` : message;
}

/**
 * An async function that calls `require(modulePath)[functionName](...args)` and, when that is
 * missing or throws, `fallbackFn(...args)`; resolves `undefined` when nothing works. A relative
 * `modulePath` is resolved against qerrors' `lib/` directory (the original resolved it against a
 * folder where nothing could be found).
 */
function createSafeAsyncWrapper(options) {
  const {
    modulePath = './handler/qerrors',
    functionName = '',
    fallbackFn,
    silent = true,
    errorMessage,
  } = plainObject(options);
  const target = typeof modulePath === 'string' && modulePath.startsWith('.') ? path.resolve(__dirname, '..', modulePath) : modulePath;
  return async function safeAsyncWrapper(...args) {
    try {
      const cached = require.cache[target] || require.cache[`${target}.js`];
      const mod = cached && cached.loaded ? cached.exports : require(target);
      const fn = mod === null || mod === undefined ? undefined : mod[functionName];
      if (typeof fn === 'function') return await fn.apply(mod, args);
    } catch (err) {
      if (!silent) console.error(errorMessage || `qerrors: ${functionName || modulePath} failed:`, safeErrorMessage(err));
    }
    if (typeof fallbackFn !== 'function') return undefined;
    try {
      return await fallbackFn(...args);
    } catch {
      return undefined;
    }
  };
}

const CONSOLE_LEVELS = new Set(['error', 'warn', 'info', 'log', 'debug']);

/**
 * A logger function that calls the qerrors logger's `functionName`, falling back to
 * `console[fallbackLevel]` with the same arguments.
 */
function createSafeLogger(functionName, fallbackLevel = 'error') {
  const level = CONSOLE_LEVELS.has(fallbackLevel) ? fallbackLevel : 'error';
  return createSafeAsyncWrapper({
    modulePath: './logging/logger',
    functionName,
    fallbackFn: (...args) => console[level](...args),
  });
}

/**
 * An async wrapper resolving `asyncFn(...args)`, or `fallbackValue` after `onError(error, ...args)`
 * when it throws.
 */
function createSafeOperation(asyncFn, fallbackValue, onError) {
  return async function safeOperation(...args) {
    try {
      return await asyncFn(...args);
    } catch (error) {
      if (typeof onError === 'function') {
        try {
          onError(error, ...args);
        } catch {
          // the handler's own failure must not replace the fallback
        }
      }
      return fallbackValue;
    }
  };
}

/** `console.error('[context] message', extra)`, `extra` omitted when empty. Never throws. */
async function safeQerrors(error, context, extra = {}) {
  try {
    const line = `[${context}] ${safeErrorMessage(error)}`;
    if (extra !== null && typeof extra === 'object' && Object.keys(extra).length > 0) console.error(line, extra);
    else console.error(line);
  } catch {
    // never throws
  }
}

/** Legacy alias of `safeLogError` (not the top-level `logError`). */
function logError(error, context, metadata) {
  return safeLogError(error, context, metadata);
}

/** Legacy alias of `safeLogInfo`. */
function logInfo(message, metadata) {
  return safeLogInfo(message, metadata);
}

/** Legacy alias of `safeLogWarn`. */
function logWarn(message, metadata) {
  return safeLogWarn(message, metadata);
}

/**
 * `prefix + crypto.randomUUID()` (§6.1); the top-level `generateUniqueId` export.
 * @param {string} [prefix]
 */
function generateUniqueId(prefix = '') {
  return `${prefix}${crypto.randomUUID()}`;
}

module.exports = {
  createEnhancedLogEntry,
  stringifyContext,
  safeErrorMessage,
  verboseLog,
  createPerformanceTimer,
  safeLogError,
  safeLogInfo,
  safeLogWarn,
  safeLogDebug,
  safeRun,
  deepClone,
  createTimer,
  attempt,
  executeWithQerrors,
  formatErrorMessage,
  createSafeAsyncWrapper,
  createSafeLogger,
  createSafeOperation,
  safeQerrors,
  logError,
  logInfo,
  logWarn,
};

// Not a `utils` member in the spec (exports.json lists 22): reachable for index.js, not enumerable.
Object.defineProperty(module.exports, 'generateUniqueId', { value: generateUniqueId });
