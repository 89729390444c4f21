'use strict';

// The `utils` namespace: timers, cloning, safe wrappers and best-effort logging helpers.
// Logging goes through the qerrors logger (lib/logging/logger.js). Members that the top-level
// API also has (`createEnhancedLogEntry`, `createPerformanceTimer`, `attempt`,
// `executeWithQerrors`) are the same functions, implemented once where they belong.

const crypto = require('node:crypto');
const path = require('node:path');
const config = require('../policy/config');
const logger = require('../logging/logger');
const errorTypes = require('../handler/errorTypes');

/**
 * JSON text of `ctx` that never throws on cycles: a reference to an object that is its own
 * ancestor becomes "[Circular]" (the original returned "[Circular *1]" for every object). Strings come back as they are, `null` as
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

const safeErrorMessage = errorTypes._safeErrorMessage;

/**
 * `console.log(msg)` unless QERRORS_VERBOSE is off (read at call time, so a test or a service
 * can turn it off after loading qerrors); returns `false` when it prints nothing.
 */
function verboseLog(msg) {
  if (!config.readSetting('QERRORS_VERBOSE')) return false;
  console.log(msg);
  return undefined;
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
    await logger[method](message, ...rest);
    return;
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

/** `config.safeRun`, as a function of its own: the original's two namespaces hold two distinct functions. */
function safeRun(name, fn, fallback, info) {
  return config.safeRun(name, fn, fallback, info);
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
 * A deep copy with lodash `cloneDeep` semantics: cycles and shared references are kept,
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
 * `{ elapsed(), elapsedFormatted(), logPerformance(success = true, ctx = {}), end() }`.
 */
function createTimer() {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  async function logPerformance(success = true, additionalContext = {}) {
    const context = { operation: 'operation', duration_ms: round2(elapsed()), success, ...plainObject(additionalContext) };
    const line = `operation completed in ${context.duration_ms}ms (${success ? 'success' : 'failure'})`;
    await writeLog(success ? 'logInfo' : 'logWarn', () => {}, line, context);
    return context;
  }
  return { elapsed, elapsedFormatted: () => logger._formatDuration(elapsed()), logPerformance, end: elapsed };
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
      const mod = require(target);
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
 * `prefix + crypto.randomUUID()`; the top-level `generateUniqueId` export.
 * @param {string} [prefix]
 */
function generateUniqueId(prefix = '') {
  return `${prefix}${crypto.randomUUID()}`;
}

const { createEnhancedLogEntry, createPerformanceTimer } = logger;
const { attempt, executeWithQerrors } = errorTypes;

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

// Not a `utils` member of the original (22 members): reachable for index.js, not enumerable.
Object.defineProperty(module.exports, 'generateUniqueId', { value: generateUniqueId });
