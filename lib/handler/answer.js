'use strict';

// The HTTP answer to a handled error: what the client may see (production-safe by default),
// in the format it asked for (JSON, RFC 9457 problem+json, or HTML), with the error's own
// headers, `Retry-After` when known, and the request id.
//
// What is shown: outside production (NODE_ENV !== 'production', as Express decides) or with
// `exposeErrors: true`, every message (redacted). In production, a 5xx says its status text
// ("Internal Server Error") unless the error sets `expose: true`; a 4xx shows its message when
// the error sets `expose: true` or is one of ours (a ServiceError or a qerrors type) and does
// not set `expose: false`.

const { STATUS_CODES } = require('node:http');
const { sanitizeContext } = require('../policy/redaction');
const { ServiceError } = require('./errorTypes');
const { retryAfterSeconds, ERROR_TYPE_VALUES } = require('./statusPolicy');

const CODE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function read(obj, key) {
  try {
    return obj !== null && (typeof obj === 'object' || typeof obj === 'function') ? obj[key] : undefined;
  } catch {
    return undefined;
  }
}

const statusCodes = new Map();
/** 'Bad Gateway' → 'BAD_GATEWAY': the code a hidden error is given (made once per status). */
function codeForStatus(status) {
  let code = statusCodes.get(status);
  if (code === undefined) {
    code = (STATUS_CODES[status] || 'Error').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    // Only the statuses Node names are kept, so the map stays as small as that table.
    if (STATUS_CODES[status] !== undefined) statusCodes.set(status, code);
  }
  return code;
}

/** A short code from the error (`err.code`), when it is a plain identifier. */
function codeOf(error) {
  const code = read(error, 'code');
  return typeof code === 'string' && CODE_PATTERN.test(code) ? code : undefined;
}

function isOurs(error, type) {
  try {
    if (error instanceof ServiceError) return true;
  } catch {
    // a Proxy whose getPrototypeOf trap throws
  }
  return typeof type === 'string' && ERROR_TYPE_VALUES.has(type);
}

// NODE_ENV is read once per answer: each read of process.env costs ~0.2 µs.
function exposeAllByDefault(nodeEnv) {
  return nodeEnv !== 'production';
}

function showStack(nodeEnv) {
  return nodeEnv === 'development' || process.env.DEBUG === 'true';
}

/** Details the client may see, redacted; undefined when none or unreadable. */
function detailsOf(error, ours, status) {
  let value = read(error, 'details');
  if (value === undefined && ours && status < 500) {
    const ctx = read(error, 'context');
    if (ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx) && Object.keys(ctx).length > 0) value = ctx;
  }
  if (value === undefined || value === null) return undefined;
  try {
    if (typeof value !== 'object') return sanitizeContext({ v: value }, 'ERROR', 3).v;
    return sanitizeContext(value, 'ERROR', 3);
  } catch {
    return undefined;
  }
}

/**
 * What the client is shown of a handled error.
 * @param {object} record the redacted record (`id`, `statusCode`, `message`, `stack`, `code`)
 * @param {unknown} error the original error (for `expose`, `details`, its type)
 * @param {boolean | undefined} exposeErrors the middleware's option (undefined: by NODE_ENV)
 * @param {string | undefined} requestId
 * @returns {{ id: string, code: string, message: string, status: number, requestId?: string, details?: unknown, stack?: string }}
 */
function publicView(record, error, exposeErrors, requestId) {
  const status = record.statusCode;
  const expose = read(error, 'expose');
  const ours = isOurs(error, read(error, 'type'));
  const nodeEnv = process.env.NODE_ENV;
  const all = exposeErrors === undefined ? exposeAllByDefault(nodeEnv) : exposeErrors === true;
  const shown = all || expose === true || (status < 500 && ours && expose !== false);
  const view = {
    id: record.id,
    code: (shown && record.code) || codeForStatus(status),
    message: shown ? record.message : STATUS_CODES[status] || 'Error',
    status,
  };
  if (requestId) view.requestId = requestId;
  if (shown) {
    const details = detailsOf(error, ours, status);
    if (details !== undefined) view.details = details;
  }
  if (record.stack && showStack(nodeEnv)) view.stack = record.stack;
  return view;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The format the client asked for: 'problem' (application/problem+json), 'html' (a browser),
 * else 'json'.
 * @param {unknown} accept the Accept header
 */
function formatFor(accept) {
  if (typeof accept !== 'string' || accept === '') return 'json';
  if (accept.includes('application/problem+json')) return 'problem';
  if (accept.includes('text/html')) return 'html';
  return 'json';
}

/** The body and content type of `view` in `format`. */
function render(view, format) {
  const status = view.status;
  if (format === 'html') {
    return {
      type: 'text/html; charset=utf-8',
      body:
        `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Error: ${status}</title></head>` +
        `<body><h1>Error: ${status}</h1><h2>${escapeHtml(view.message)}</h2><p>Error ID: ${escapeHtml(view.id)}</p>` +
        (view.requestId ? `<p>Request ID: ${escapeHtml(view.requestId)}</p>` : '') +
        (view.stack ? `<pre>${escapeHtml(view.stack)}</pre>` : '') +
        '</body></html>',
    };
  }
  if (format === 'problem') {
    // RFC 9457: `about:blank` problems carry the status phrase as their title; the rest are
    // extension members.
    const problem = { type: 'about:blank', title: STATUS_CODES[status] || 'Error', status, detail: view.message, id: view.id, code: view.code };
    if (view.requestId) problem.requestId = view.requestId;
    if (view.details !== undefined) problem.details = view.details;
    if (view.stack) problem.stack = view.stack;
    return { type: 'application/problem+json; charset=utf-8', body: JSON.stringify(problem) };
  }
  return { type: 'application/json; charset=utf-8', body: JSON.stringify({ error: view }) };
}

function setHeader(res, name, value) {
  try {
    res.setHeader(name, value);
  } catch {
    // An invalid header name or value from the error must not lose the answer.
  }
}

/** The error's own `headers` (http-errors' convention: `WWW-Authenticate` on a 401, …). */
function applyErrorHeaders(res, error) {
  const headers = read(error, 'headers');
  if (headers === null || typeof headers !== 'object') return;
  let names;
  try {
    names = Object.keys(headers);
  } catch {
    return;
  }
  for (const name of names.slice(0, 50)) {
    const value = read(headers, name);
    if (typeof value === 'string' || typeof value === 'number' || Array.isArray(value)) setHeader(res, name, value);
  }
}

/**
 * Writes the answer: status, headers, body. Express-like responses (`status`/`send`) and plain
 * `http.ServerResponse`s both work.
 * @param {object} res
 * @param {object} view from `publicView`
 * @param {unknown} error
 * @param {unknown} accept the request's Accept header
 * @param {string} [requestIdHeader] header that echoes `view.requestId`
 */
function writeAnswer(res, view, error, accept, requestIdHeader) {
  const format = formatFor(accept);
  const { type, body } = render(view, format);
  if (typeof res.setHeader === 'function') {
    applyErrorHeaders(res, error);
    const retry = retryAfterSeconds(error, view.status);
    if (retry !== undefined) setHeader(res, 'Retry-After', String(retry));
    if (view.requestId && requestIdHeader) setHeader(res, requestIdHeader, view.requestId);
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (format === 'html') res.setHeader('Content-Security-Policy', "default-src 'none'");
  }
  if (typeof res.status === 'function' && typeof res.send === 'function') {
    res.status(view.status).send(body);
  } else {
    res.statusCode = view.status;
    res.end(body);
  }
}

/**
 * The answer of last resort, when handling the error itself failed: a 500 that says nothing
 * but an id, written with the plainest calls.
 */
function writeFallback(res, id, requestId, requestIdHeader) {
  const view = { id, code: 'INTERNAL_SERVER_ERROR', message: 'Internal Server Error', status: 500 };
  if (requestId) view.requestId = requestId;
  const body = JSON.stringify({ error: view });
  if (typeof res.setHeader === 'function') {
    setHeader(res, 'Content-Type', 'application/json; charset=utf-8');
    setHeader(res, 'Cache-Control', 'no-store');
    if (requestId && requestIdHeader) setHeader(res, requestIdHeader, requestId);
  }
  res.statusCode = 500;
  res.end(body);
}

module.exports = { publicView, writeAnswer, writeFallback, formatFor, render, codeForStatus, codeOf };
