'use strict';

// The error handler (spec §1, with the [REIMPL] contract): `qerrors(error, context, req,
// res, next)` builds a redacted record, logs it, answers the request when it can, hands
// the error to the native AI pipeline without waiting, and resolves the record. It never
// throws into the host and never rejects.

const logger = require('../logging/logger');
const sanitization = require('../policy/redaction');

const { sanitizeMessage, sanitizeContext } = sanitization;
const applyCustomPatterns = sanitization._applyCustomPatterns;
const isSensitiveKey = sanitization._isSensitiveKey;
const { ErrorSeverity, ErrorTypes, _statusForType, _severityForType } = require('./errorTypes');
const { loadedSibling } = require('../compat/optional');
const { snapshot } = require('../logging/line');

const MAX_MESSAGE = 10000;
const ERROR_TYPE_VALUES = new Set(Object.values(ErrorTypes));

const { randomUUID } = require('./randomId');

let pipeline;
/** The AI pipeline, loaded on the first error; null when it cannot load. */
function getPipeline() {
  if (pipeline === undefined) {
    try {
      pipeline = require('../native/ai');
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

/** An HTTP error status (integer 400..599) or undefined. */
function errorStatus(value) {
  const n = typeof value === 'string' && /^[0-9]{3}$/.test(value) ? Number(value) : value;
  return Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
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

function escapeHtml(s) {
  return String(s).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function showStack() {
  return process.env.NODE_ENV === 'development' || process.env.DEBUG === 'true';
}

/** Context given as a string stays a (redacted) string; objects are redacted copies. */
function normalizeContext(context, extra) {
  let base;
  if (context === undefined || context === null || context === '') base = 'unknown context';
  else if (typeof context === 'string') base = sanitizeMessage(context);
  else if (typeof context === 'object') base = sanitizeContext(context, 'ERROR', 3);
  else base = sanitizeMessage(String(context));
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
 * Builds the record qerrors resolves to (spec §1.1 [REIMPL] union) and schedules the
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
    hasMessage ? String(rawMessage).slice(0, MAX_MESSAGE) : '',
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
  const statusCode =
    errorStatus(f.statusCode) || errorStatus(f.status) || (typeof type === 'string' && ERROR_TYPE_VALUES.has(type) ? _statusForType(type) : 500);
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
  return record;
}

/**
 * The record's copy for its log entry: keys in sorted order and a deep copy of the context,
 * the form the logger writes without another check (lib/logging/line.js `snapshot`); null when
 * the context cannot take that form. Written out here because the record's shape is known,
 * and the generic copy was a tenth of the handler's time.
 */
function logCopy(record) {
  const ctx = record.context;
  const context = ctx !== null && typeof ctx === 'object' ? snapshot(ctx) : ctx;
  if (context === null) return null;
  return {
    context,
    fingerprint: record.fingerprint,
    id: record.id,
    isOperational: record.isOperational,
    message: record.message,
    name: record.name,
    severity: record.severity,
    stack: record.stack,
    statusCode: record.statusCode,
    timestamp: record.timestamp,
    uniqueErrorName: record.uniqueErrorName,
  };
}

/** Writes the JSON or HTML answer. Returns true when a response was sent. */
function answer(record, req, res) {
  const accept = (req && req.headers && req.headers.accept) || '';
  const status = record.statusCode;
  const wantsHtml = typeof accept === 'string' && accept.includes('text/html');
  let body;
  let type;
  if (wantsHtml) {
    type = 'text/html; charset=utf-8';
    body =
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Error: ${status}</title></head>` +
      `<body><h1>Error: ${status}</h1><h2>${escapeHtml(record.message)}</h2><p>Error ID: ${escapeHtml(record.id)}</p>` +
      (showStack() && record.stack ? `<pre>${escapeHtml(record.stack)}</pre>` : '') +
      '</body></html>';
  } else {
    type = 'application/json; charset=utf-8';
    const { stack, ...publicRecord } = record;
    body = JSON.stringify({ error: showStack() && stack ? record : publicRecord });
  }
  if (typeof res.setHeader === 'function') {
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (wantsHtml) res.setHeader('Content-Security-Policy', "default-src 'none'");
  }
  if (typeof res.status === 'function' && typeof res.send === 'function') {
    res.status(status).send(body);
  } else {
    res.statusCode = status;
    res.end(body);
  }
  return true;
}

/** The handler's work, synchronous: the returned promise adds no turns of its own. */
function handle(error, context, rest) {
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
  // The record is redacted already: the entry only applies the custom patterns on top.
  logger._logRedactedError(`${record.name}: ${record.message}`, record, logCopy(record));
  let answered = false;
  if (isResponse(res) && !res.headersSent) {
    try {
      answered = answer(record, req, res);
    } catch (err) {
      console.error(`qerrors: could not send the error response: ${err && err.message}`);
    }
  }
  if (!answered && typeof next === 'function') {
    try {
      next(error);
    } catch (err) {
      console.error(`qerrors: next() threw: ${err && err.message}`);
    }
  }
  return record;
}

/**
 * Handles an error (spec §1.1 [REIMPL]).
 * @param {unknown} error
 * @param {string|object} [context] a location string or a context object
 * @param {...unknown} rest `req, res, next`, or one extra context object
 * @returns {Promise<object|undefined>} the record; never rejects
 */
function qerrors(error, context, ...rest) {
  const started = performance.now();
  let record;
  try {
    record = handle(error, context, rest);
  } catch (err) {
    try {
      console.error('qerrors failed to handle error:', err);
      console.error('Original error:', error);
    } catch {
      // console itself failed
    }
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
 * An Express error handler (exactly 4 parameters) answering through qerrors.
 * @param {object} [options] reserved
 */
function middleware(options = {}) {
  return function qerrorsMiddleware(err, req, res, next) {
    let ctx;
    try {
      const sock = req && req.socket;
      ctx = {
        url: req && (req.originalUrl || req.url),
        method: req && req.method,
        userAgent: req && req.headers ? req.headers['user-agent'] : undefined,
        ip: (req && req.ip) || (sock && sock.remoteAddress),
      };
    } catch {
      ctx = 'express';
    }
    qerrors(err || new Error('Unknown error (a falsy value was passed to next())'), ctx, req, res, next);
  };
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
  const m = loadedSibling('ops/memoryPressure');
  return m ? m.shared() : null;
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
 * Logs an error with a severity through qerrors (spec §1.2). Never throws.
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
 * Logs and answers a controller error with the 1.2.7 body (spec §1.3).
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
 * Runs `operation`; on failure logs it and resolves `fallback` (spec §1.4). Never rejects.
 */
async function withErrorHandling(operation, functionName, context = {}, fallback = null) {
  try {
    const result = await operation();
    if (process.env.QERRORS_VERBOSE !== 'false') console.log(`${functionName} completed successfully`);
    return result;
  } catch (error) {
    const severity = (error && typeof error.severity === 'string' && error.severity) || ErrorSeverity.MEDIUM;
    await logErrorWithSeverity(error, functionName, context, severity);
    return fallback;
  }
}

for (const [k, v] of Object.entries({ middleware, generateErrorId, extractContext, cleanup, getQueueStats, getAnalysisCache })) {
  Object.defineProperty(qerrors, k, { value: v, enumerable: true, writable: true, configurable: true });
}
// Reachable for createQerrorsCoreDeps(qerrors) (spec §9.1), but not own enumerable keys:
// Object.keys(qerrors) stays the measured six.
for (const [k, v] of Object.entries({ logErrorWithSeverity, handleControllerError, withErrorHandling })) {
  Object.defineProperty(qerrors, k, { value: v, enumerable: false, writable: true, configurable: true });
}

module.exports = qerrors;
