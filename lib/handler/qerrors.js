'use strict';

// The error handler (its documented contract, docs/api.md): `qerrors(error, context, req,
// res, next)` builds a redacted record, logs it, answers the request when it can, hands
// the error to the native AI pipeline without waiting, and resolves the record. It never
// throws into the host and never rejects, and a request it was given is always answered or
// passed to `next(error)`, even when handling the error itself fails.

const logger = require('../logging/logger');
const sanitization = require('../policy/redaction');

const { sanitizeMessage, sanitizeContext } = sanitization;
const applyCustomPatterns = sanitization._applyCustomPatterns;
const isSensitiveKey = sanitization._isSensitiveKey;
const { ErrorSeverity, ErrorTypes, _statusForType, _severityForType } = require('./errorTypes');
const memoryPressure = require('../ops/memoryPressure');
const { readSetting } = require('../policy/config');
const { statusOf, errorStatus, ERROR_TYPE_VALUES } = require('./statusPolicy');
const { publicView, writeAnswer, writeFallback, codeOf } = require('./answer');
const { requestIdOf: requestIdOfRequest, DEFAULT_HEADER: DEFAULT_REQUEST_ID_HEADER } = require('./requestId');

const MAX_MESSAGE = 10000;

const { randomUUID } = require('./randomId');

let pipeline;
/** The AI pipeline, loaded on the first error; null when it cannot load. */
function getPipeline() {
  if (pipeline === undefined) {
    try {
      pipeline = require('../native/ai');
      // New advice goes to the same logger as the errors it is about.
      pipeline._setAdviceLogger(logger);
    } catch (err) {
      pipeline = null;
      console.warn(`qerrors: background AI analysis is unavailable: ${err && err.message}`);
    }
  }
  return pipeline;
}

/** 12 lowercase hex characters from a random UUID. */
function generateErrorId() {
  return randomUUID().replace(/-/g, '').slice(0, 12);
}

function readProp(obj, key) {
  try {
    return obj[key];
  } catch {
    return undefined;
  }
}

const NO_FIELDS = Object.freeze({});

/**
 * The fields of an error the record uses. Read together with plain property loads; when
 * one of them throws (an exotic getter), each is read on its own and a throwing one is
 * undefined.
 */
function fieldsOf(error) {
  try {
    return {
      message: error.message,
      name: error.name,
      stack: error.stack,
      type: error.type,
      severity: error.severity,
      statusCode: error.statusCode,
      status: error.status,
      isOperational: error.isOperational,
    };
  } catch {
    return {
      message: readProp(error, 'message'),
      name: readProp(error, 'name'),
      stack: readProp(error, 'stack'),
      type: readProp(error, 'type'),
      severity: readProp(error, 'severity'),
      statusCode: readProp(error, 'statusCode'),
      status: readProp(error, 'status'),
      isOperational: readProp(error, 'isOperational'),
    };
  }
}

let isoAt = -1;
let isoText = '';
/** The current time as an ISO string, formatted once per millisecond (storms log many per ms). */
function isoNow() {
  const now = Date.now();
  if (now !== isoAt) {
    isoText = new Date(now).toISOString();
    isoAt = now;
  }
  return isoText;
}

/** True for an Express/Node request (as opposed to a plain extra-context object). */
function isRequest(x) {
  return (
    x !== null &&
    typeof x === 'object' &&
    (typeof x.get === 'function' || (x.headers !== null && typeof x.headers === 'object') || typeof x.method === 'string')
  );
}

function isResponse(x) {
  return x !== null && typeof x === 'object' && (typeof x.json === 'function' || typeof x.end === 'function');
}

/** `String(value)`, or a placeholder when the value cannot be turned into text (`Object.create(null)`, a revoked Proxy). */
function safeString(value) {
  try {
    return String(value);
  } catch {
    return '[unprintable value]';
  }
}

/**
 * Context given as a string stays a (redacted) string; objects are redacted copies. A context
 * that cannot be read (a revoked Proxy, a throwing trap) is recorded as such, never thrown.
 */
function normalizeContext(context, extra) {
  try {
    return readContext(context, extra);
  } catch {
    return '[unreadable context]';
  }
}

function readContext(context, extra) {
  let base;
  if (context === undefined || context === null || context === '') base = 'unknown context';
  else if (typeof context === 'string') base = sanitizeMessage(context);
  else if (typeof context === 'object') base = sanitizeContext(context, 'ERROR', 3);
  else base = sanitizeMessage(safeString(context));
  if (!extra) return base;
  const more = sanitizeContext(extra, 'ERROR', 3);
  return typeof base === 'string' ? { location: base, ...more } : { ...base, ...more };
}

/**
 * Redacts the message and stack and hands the error to the AI pipeline: one native call
 * does both (the stack's frame lines redacted through a cache: storms repeat them).
 * Without the pipeline, redaction runs here. Custom patterns apply on top.
 * @returns {{ fp?: string, message: string, stack: string }}
 */
function redactAndSchedule(error, context, message, stack) {
  let done = null;
  try {
    const p = getPipeline();
    if (p) done = p._intake(error, context, message, stack);
  } catch {
    // Analysis is best effort; the pipeline must never break error handling.
  }
  if (done === null) done = { message: sanitizeMessage(message), stack: sanitizeMessage(stack) };
  return { fp: done.fp, message: applyCustomPatterns(done.message), stack: applyCustomPatterns(done.stack) };
}

/**
 * Builds the record qerrors resolves to (the union documented in docs/api.md) and schedules the
 * error's analysis.
 * @returns {Record<string, unknown>}
 */
function buildRecord(error, context, extra) {
  const isObj = error !== null && (typeof error === 'object' || typeof error === 'function');
  const f = isObj ? fieldsOf(error) : NO_FIELDS;
  const rawMessage = isObj ? f.message : error;
  const name = typeof f.name === 'string' && f.name ? f.name.slice(0, 100) : 'Error';
  // One random UUID gives both: the public id is its first 12 hex digits.
  const uuid = randomUUID();
  const id = uuid.slice(0, 8) + uuid.slice(9, 13);
  const uniqueErrorName = `ERROR:${name}_${uuid}`;
  if (isObj) {
    try {
      error.uniqueErrorName = uniqueErrorName;
    } catch {
      // frozen or exotic error object: the record still carries the name
    }
  }
  const hasMessage = rawMessage !== undefined && rawMessage !== null;
  const normalized = normalizeContext(context, extra);
  const redacted = redactAndSchedule(
    error,
    normalized,
    hasMessage ? safeString(rawMessage).slice(0, MAX_MESSAGE) : '',
    typeof f.stack === 'string' ? f.stack.slice(0, 2 * MAX_MESSAGE) : ''
  );
  const ctxSeverity = context && typeof context === 'object' ? readProp(context, 'severity') : undefined;
  const extraSeverity = extra ? readProp(extra, 'severity') : undefined;
  const type = f.type;
  const severity =
    (typeof f.severity === 'string' && f.severity) ||
    (typeof extraSeverity === 'string' && extraSeverity) ||
    (typeof ctxSeverity === 'string' && ctxSeverity) ||
    (typeof type === 'string' ? _severityForType(type) : ErrorSeverity.MEDIUM);
  const statusCode = statusOf(error, f);
  const record = {
    id,
    uniqueErrorName,
    timestamp: isoNow(),
    message: hasMessage ? redacted.message : 'An error occurred',
    name,
    statusCode,
    isOperational: typeof f.isOperational === 'boolean' ? f.isOperational : true,
    context: normalized,
    severity,
  };
  if (redacted.stack) record.stack = redacted.stack;
  if (redacted.fp !== undefined) record.fingerprint = redacted.fp;
  const code = isObj ? codeOf(error) : undefined;
  if (code !== undefined) record.code = code;
  return record;
}

/**
 * The request's method and url (redacted), and its id, for the log entry.
 * @returns {{ method?: string, url?: string, requestId?: string }}
 */
function httpOf(req, requestId) {
  const out = {};
  if (requestId) out.requestId = requestId;
  if (!isRequest(req)) return out;
  const method = readProp(req, 'method');
  const url = readProp(req, 'originalUrl') || readProp(req, 'url');
  if (typeof method === 'string') out.method = method.slice(0, 32);
  if (typeof url === 'string') out.url = sanitizeMessage(url.slice(0, 2048));
  return out;
}

/**
 * What `qerrors()` does with no options; the middleware passes its own (lib/handler/express.js).
 * @typedef {{ exposeErrors?: boolean, mapStatus?: Function, shouldLog?: Function, onError?: Function,
 *   requestIdHeader?: string, requestId?: string }} HandleOptions
 */
const NO_OPTIONS = Object.freeze({});

/** Calls a user hook; a throwing hook is reported and never breaks the handling. */
function callHook(name, fn, args) {
  try {
    return fn(...args);
  } catch (err) {
    console.error(`qerrors: the ${name} option threw: ${err && err.message}`);
    return undefined;
  }
}

/**
 * The handler's work, synchronous: the returned promise adds no turns of its own.
 * @param {{ settled: boolean }} progress set once the request is answered or passed on
 * @param {HandleOptions} opts
 */
function handle(error, context, rest, opts, progress) {
  if (!error) {
    console.warn('qerrors called without an error object');
    return undefined;
  }
  // (error, context, req, res, next) or the original (error, location, contextObject).
  let [req, res, next] = rest;
  let extra = null;
  if (req !== undefined && req !== null && typeof req === 'object' && !isRequest(req) && !isResponse(req)) {
    extra = req;
    req = undefined;
  }
  const record = buildRecord(error, context, extra);
  const requestIdHeader = opts.requestIdHeader || DEFAULT_REQUEST_ID_HEADER;
  const requestId = opts.requestId || (isRequest(req) ? requestIdOfRequest(req, requestIdHeader) : undefined);
  if (opts.mapStatus) {
    const mapped = errorStatus(callHook('mapStatus', opts.mapStatus, [error, req]));
    if (mapped !== undefined) record.statusCode = mapped;
  }
  if (!opts.shouldLog || callHook('shouldLog', opts.shouldLog, [error, record, req]) !== false) {
    // The record is redacted already: the entry only applies the custom patterns on top.
    logger._logHandledError(record, httpOf(req, requestId));
  }
  let answered = false;
  if (isResponse(res) && !res.headersSent) {
    try {
      const accept = req && req.headers ? req.headers.accept : undefined;
      writeAnswer(res, publicView(record, error, opts.exposeErrors, requestId), error, accept, requestIdHeader);
      answered = true;
    } catch (err) {
      console.error(`qerrors: could not send the error response: ${safeString(err && err.message)}`);
      answered = fallbackAnswer(res, record.id, requestId, requestIdHeader);
    }
  }
  progress.settled = true;
  if (!answered && typeof next === 'function') {
    try {
      next(error);
    } catch (err) {
      console.error(`qerrors: next() threw: ${err && err.message}`);
    }
  }
  if (opts.onError) callHook('onError', opts.onError, [error, record, req]);
  return record;
}

/** Writes the bare 500 when the response has not started; true when it was written. */
function fallbackAnswer(res, id, requestId, requestIdHeader) {
  try {
    if (res.headersSent) return false;
    writeFallback(res, id, requestId, requestIdHeader);
    return true;
  } catch {
    return false;
  }
}

/**
 * When handling failed before the request was answered or passed on: answers a bare 500 with
 * an id, or calls `next(error)` when the response has started. Never throws.
 */
function rescue(error, rest, opts) {
  try {
    const res = rest[1];
    const next = rest[2];
    let headersSent = true;
    try {
      headersSent = !isResponse(res) || res.headersSent;
    } catch {
      // an unreadable response: pass the error on
    }
    if (!headersSent && fallbackAnswer(res, generateErrorId(), opts.requestId, opts.requestIdHeader || DEFAULT_REQUEST_ID_HEADER)) return;
    if (typeof next === 'function') next(error || new Error('qerrors could not handle an error'));
  } catch {
    // Nothing more can be done for this request.
  }
}

/**
 * Handles an error.
 * @param {unknown} error
 * @param {string|object} [context] a location string or a context object
 * @param {...unknown} rest `req, res, next`, or one extra context object
 * @returns {Promise<object|undefined>} the record; never rejects
 */
function qerrors(error, context, ...rest) {
  return handleWith(NO_OPTIONS, error, context, rest);
}

/**
 * `qerrors()` with the middleware's options.
 * @param {HandleOptions} opts
 * @returns {Promise<object|undefined>}
 */
function handleWith(opts, error, context, rest) {
  const started = performance.now();
  const progress = { settled: false };
  let record;
  try {
    record = handle(error, context, rest, opts, progress);
  } catch (err) {
    try {
      // The internal failure only: the error itself may hold secrets or be unprintable.
      console.error(`qerrors failed to handle error: ${safeString(err && err.message)}`);
    } catch {
      // console itself failed
    }
    if (!progress.settled) rescue(error, rest, opts);
    return Promise.resolve(undefined);
  }
  recordDuration(performance.now() - started);
  return Promise.resolve(record);
}

let metrics;
/** Feeds the call latency to lib/ops/metrics.js (getMetrics().qerrors), loaded on first use. */
function recordDuration(ms) {
  try {
    if (metrics === undefined) metrics = require('../ops/metrics');
    if (metrics) metrics.recordCall(ms);
  } catch {
    metrics = null;
  }
}

/**
 * Context of an error for diagnostics: type, message, first 10 stack lines, then
 * `context`; top-level keys the redaction policy calls sensitive (docs/redaction.md) removed.
 */
function extractContext(error, context = {}) {
  const timestamp = new Date().toISOString();
  try {
    const out = {
      timestamp,
      errorType: error.constructor.name,
      message: error.message,
      stack: typeof error.stack === 'string' ? error.stack.split('\n').slice(0, 10) : [],
      ...context,
    };
    for (const k of Object.keys(out)) if (isSensitiveKey(k)) delete out[k];
    return out;
  } catch (err) {
    console.error(`Failed to extract error context: ${err && err.message}`);
    return { timestamp, extractionFailed: true };
  }
}

/** The memory-pressure and cleanup policy, once the AI pipeline has loaded it. */
function pressurePolicy() {
  return memoryPressure.existing();
}

/** Clears the AI advice cache and stops the memory-pressure and cleanup timers (they restart with the next analysis). */
function cleanup() {
  try {
    if (pipeline) pipeline.clearCache();
    const policy = pressurePolicy();
    if (policy) policy.stop();
    console.log('qerrors cleanup completed');
  } catch (err) {
    console.error('Error during qerrors cleanup:', err);
  }
}

/** `{ length, rejectCount }` of the analysis queue (zeros before the first error). */
function getQueueStats() {
  try {
    const s = pipeline ? pipeline.stats() : null;
    return { length: (s && Number(s.queued)) || 0, rejectCount: (s && Number(s.rejected)) || 0 };
  } catch {
    return { length: 0, rejectCount: 0 };
  }
}

/**
 * The advice-cache controls of the original, over the memory-pressure policy that purges
 * expired advice every QERRORS_CLEANUP_INTERVAL ms (lib/ops/memoryPressure.js).
 */
function getAnalysisCache() {
  return {
    clear() {
      if (pipeline) pipeline.clearCache();
    },
    purgeExpired() {
      const policy = pressurePolicy();
      if (policy) policy.cleanup();
    },
    startCleanup() {
      // The timers serve attached pipelines; the next analysis attaches one and starts them anyway.
      const policy = pressurePolicy();
      if (policy && policy.stats().pipelines > 0) policy.start();
    },
    stopCleanup() {
      const policy = pressurePolicy();
      if (policy) policy.stop();
    },
  };
}

function requestIdOf(context) {
  if (context && typeof context.requestId === 'string' && context.requestId) return context.requestId;
  const h = context && context.req && context.req.headers;
  if (h) {
    for (const k of ['x-request-id', 'x-correlation-id', 'request-id']) {
      if (typeof h[k] === 'string' && h[k]) return h[k];
    }
  }
  return randomUUID();
}

function withoutReqRes(context) {
  if (!context || typeof context !== 'object') return {};
  const { req: _req, res: _res, ...rest } = context;
  return rest;
}

/**
 * Logs an error with a severity through qerrors. Never throws.
 * @returns {Promise<void>}
 */
async function logErrorWithSeverity(error, functionName, context = {}, severity = ErrorSeverity.MEDIUM) {
  try {
    const logContext = { ...withoutReqRes(context), severity, timestamp: new Date().toISOString(), requestId: requestIdOf(context) };
    await qerrors(error, functionName, logContext);
    const name = String(functionName).slice(0, 50);
    if (severity === ErrorSeverity.CRITICAL) console.error('CRITICAL ERROR in:', name);
    else if (severity === ErrorSeverity.HIGH) console.error('HIGH SEVERITY ERROR in:', name);
  } catch {
    // never throws
  }
}

/**
 * Logs and answers a controller error with the 1.2.7 body.
 * @returns {Promise<void>}
 */
async function handleControllerError(res, error, functionName, context = {}, userMessage = null) {
  try {
    const e = error || {};
    const type = ERROR_TYPE_VALUES.has(e.type) ? e.type : ErrorTypes.SYSTEM;
    await logErrorWithSeverity(error, functionName, context, _severityForType(type));
    if (res && !res.headersSent && typeof res.status === 'function') {
      res.status(_statusForType(type)).json({
        error: {
          code: e.code || 'INTERNAL_ERROR',
          message: userMessage || e.message || 'An internal error occurred',
          type,
          timestamp: new Date().toISOString(),
          requestId: requestIdOf(context),
          context: sanitizeContext(withoutReqRes(context), 'ERROR'),
        },
      });
    }
  } catch (err) {
    console.error(`qerrors: handleControllerError failed: ${err && err.message}`);
  }
}

/**
 * Runs `operation`; on failure logs it and resolves `fallback`. Never rejects.
 */
async function withErrorHandling(operation, functionName, context = {}, fallback = null) {
  try {
    const result = await operation();
    if (readSetting('QERRORS_VERBOSE')) console.log(`${functionName} completed successfully`);
    return result;
  } catch (error) {
    const severity = (error && typeof error.severity === 'string' && error.severity) || ErrorSeverity.MEDIUM;
    await logErrorWithSeverity(error, functionName, context, severity);
    return fallback;
  }
}

module.exports = qerrors;
// For lib/handler/express.js (required below: it uses `handleWith`).
Object.defineProperty(qerrors, '_handleWith', { value: handleWith });
const express = require('./express');

for (const [k, v] of Object.entries({ middleware: express.middleware, generateErrorId, extractContext, cleanup, getQueueStats, getAnalysisCache })) {
  Object.defineProperty(qerrors, k, { value: v, enumerable: true, writable: true, configurable: true });
}
// Reachable for createQerrorsCoreDeps(qerrors), but not own enumerable keys:
// Object.keys(qerrors) stays the measured six.
// The Express 4 helpers (lib/handler/express.js) are reachable the same way.
const hidden = {
  logErrorWithSeverity,
  handleControllerError,
  withErrorHandling,
  asyncHandler: express.asyncHandler,
  notFound: express.notFound,
  logUnhandledRejection: express.logUnhandledRejection,
  logUncaughtException: express.logUncaughtException,
};
for (const [k, v] of Object.entries(hidden)) {
  Object.defineProperty(qerrors, k, { value: v, enumerable: false, writable: true, configurable: true });
}
