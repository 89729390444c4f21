'use strict';

// What an Express service wires around qerrors: the error middleware and its options, a
// route wrapper for async handlers (Express 4 does not catch their rejections), a not-found
// handler answering in the client's format, and listeners for process-level failures that
// log through qerrors and leave the exit policy to the service.

const qerrors = require('./qerrors');
const { requestIdOf, DEFAULT_HEADER } = require('./requestId');
const { publicView, writeAnswer } = require('./answer');
const { sanitizeMessage } = require('../policy/redaction');
const { codedError } = require('../policy/errors');
const { randomUUID } = require('./randomId');

const OPTION_CODE = 'ERR_QERRORS_INVALID_OPTION';
const HOOKS = ['mapStatus', 'shouldLog', 'onError'];
const KNOWN = new Set(['exposeErrors', 'requestIdHeader', ...HOOKS]);
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

function optionError(message) {
  return codedError(TypeError, OPTION_CODE, message);
}

/**
 * Checks the middleware's options once, when it is made.
 * @returns {{ exposeErrors?: boolean, mapStatus?: Function, shouldLog?: Function, onError?: Function, requestIdHeader: string }}
 */
function readOptions(options) {
  if (options === undefined || options === null) return { requestIdHeader: DEFAULT_HEADER };
  if (typeof options !== 'object' || Array.isArray(options)) throw optionError('middleware(options): options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw optionError(`middleware(options): unknown option '${key}' (known: ${[...KNOWN].join(', ')})`);
  }
  const out = { requestIdHeader: DEFAULT_HEADER };
  if (options.exposeErrors !== undefined) {
    if (typeof options.exposeErrors !== 'boolean') throw optionError('middleware(options): exposeErrors must be a boolean');
    out.exposeErrors = options.exposeErrors;
  }
  for (const hook of HOOKS) {
    const fn = options[hook];
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw optionError(`middleware(options): ${hook} must be a function`);
    out[hook] = fn;
  }
  if (options.requestIdHeader !== undefined) {
    const h = options.requestIdHeader;
    if (typeof h !== 'string' || !HEADER_NAME.test(h)) throw optionError('middleware(options): requestIdHeader must be a header name such as "x-request-id"');
    out.requestIdHeader = h.toLowerCase();
  }
  return out;
}

/** The request fields recorded in the error's context; a request that cannot be read gives 'express'. */
function requestContext(req, requestId) {
  try {
    const sock = req && req.socket;
    return {
      url: req && (req.originalUrl || req.url),
      method: req && req.method,
      requestId,
      userAgent: req && req.headers ? req.headers['user-agent'] : undefined,
      ip: (req && req.ip) || (sock && sock.remoteAddress),
    };
  } catch {
    return 'express';
  }
}

/**
 * An Express error handler (exactly 4 parameters) answering through qerrors.
 * @param {object} [options]
 * @param {boolean} [options.exposeErrors] show every (redacted) message; default: outside production
 * @param {(err: unknown, req: object) => number | undefined} [options.mapStatus] the status to answer with, or undefined for qerrors' own
 * @param {(err: unknown, record: object, req: object) => boolean} [options.shouldLog] false: do not log this error
 * @param {(err: unknown, record: object, req: object) => void} [options.onError] called after the answer (Sentry, a pager)
 * @param {string} [options.requestIdHeader] the request id's header, 'x-request-id' by default
 */
function middleware(options = {}) {
  const base = readOptions(options);
  return function qerrorsMiddleware(err, req, res, next) {
    let requestId;
    try {
      requestId = requestIdOf(req, base.requestIdHeader);
    } catch {
      requestId = randomUUID();
    }
    const opts = { ...base, requestId };
    const error = err || new Error('Unknown error (a falsy value was passed to next())');
    qerrors._handleWith(opts, error, requestContext(req, requestId), [req, res, next]);
  };
}

/**
 * Wraps an async (or sync) route handler so that a rejection or a throw reaches `next(err)`:
 * Express 4 leaves a rejected promise unhandled (the process crashes); Express 5 does this itself.
 * @template {(req: any, res: any, next: Function) => unknown} F
 * @param {F} fn
 * @returns {(req: any, res: any, next: Function) => void}
 */
function asyncHandler(fn) {
  if (typeof fn !== 'function') throw optionError('asyncHandler(fn): fn must be a function');
  return function asyncRoute(req, res, next) {
    const fail = (err) => next(err || new Error('A route handler rejected with no reason'));
    try {
      const result = fn(req, res, next);
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') result.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  };
}

/**
 * A last route answering 404 in the client's format (JSON, problem+json or HTML) with an id
 * and the request id, like the error middleware. Nothing is logged: an unknown route is the
 * client's mistake, and access logs already have it.
 * @param {{ requestIdHeader?: string }} [options]
 */
function notFound(options = {}) {
  const { requestIdHeader } = readOptions(options === undefined || options === null ? {} : { requestIdHeader: options.requestIdHeader });
  return function notFoundHandler(req, res, next) {
    try {
      if (res.headersSent) return next();
      const requestId = requestIdOf(req, requestIdHeader);
      const url = sanitizeMessage(String(req.originalUrl || req.url || '/').slice(0, 2048));
      const record = { id: qerrors.generateErrorId(), statusCode: 404, message: `Cannot ${req.method} ${url}`, code: 'NOT_FOUND' };
      const headers = req.headers || {};
      // Ours to show: the client asked for the path it names.
      writeAnswer(res, publicView(record, { expose: true }, true, requestId), null, headers.accept, requestIdHeader);
    } catch (err) {
      next(err);
    }
    return undefined;
  };
}

/**
 * For `process.on('unhandledRejection', qerrors.logUnhandledRejection)`: logs the reason through
 * qerrors (redacted, like any handled error). It does not exit: with a listener, Node no longer
 * crashes on an unhandled rejection, so the service decides (see docs/api.md).
 * @param {unknown} reason
 * @returns {Promise<object | undefined>} the record
 */
function logUnhandledRejection(reason) {
  const error = reason instanceof Error ? reason : new Error(`Unhandled rejection: ${safeText(reason)}`);
  return qerrors(error, { source: 'unhandledRejection', severity: 'critical' });
}

/**
 * For `process.on('uncaughtException', (err, origin) => { qerrors.logUncaughtException(err, origin); process.exit(1); })`:
 * logs the exception through qerrors (redacted). Exiting is left to the service; entries
 * still queued when it exits are written synchronously.
 * @param {unknown} error
 * @param {string} [origin] 'uncaughtException' or 'unhandledRejection'
 * @returns {Promise<object | undefined>} the record
 */
function logUncaughtException(error, origin = 'uncaughtException') {
  const err = error instanceof Error ? error : new Error(`Uncaught exception: ${safeText(error)}`);
  return qerrors(err, { source: typeof origin === 'string' ? origin.slice(0, 64) : 'uncaughtException', severity: 'critical' });
}

function safeText(value) {
  try {
    return String(value).slice(0, 1000);
  } catch {
    return '[unprintable value]';
  }
}

module.exports = { middleware, asyncHandler, notFound, logUnhandledRejection, logUncaughtException };
