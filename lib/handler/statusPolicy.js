'use strict';

// The HTTP status of a handled error, from what failed: an explicit `statusCode`/`status`
// first, then the error's `code` (a system or breaker code, also on its `cause`), then its
// qerrors type, else 500. Also the seconds a client should wait (`Retry-After`) when the
// error says when the service can take the request again.

const { ErrorTypes, _statusForType } = require('./errorTypes');

const ERROR_TYPE_VALUES = new Set(Object.values(ErrorTypes));

/** Error codes and the status that says what failed. */
const STATUS_BY_CODE = new Map([
  // Our circuit breaker refused the call: the dependency is known to be down.
  ['EOPENBREAKER', 503],
  // A dependency could not be reached or hung up: the service is a gateway that got nothing.
  ['ECONNREFUSED', 502],
  ['ECONNRESET', 502],
  ['ENOTFOUND', 502],
  ['EAI_AGAIN', 502],
  ['EHOSTUNREACH', 502],
  ['ENETUNREACH', 502],
  ['EPIPE', 502],
  // A dependency did not answer in time.
  ['ETIMEDOUT', 504],
  ['ESOCKETTIMEDOUT', 504],
  ['UND_ERR_CONNECT_TIMEOUT', 504],
  ['UND_ERR_HEADERS_TIMEOUT', 504],
  ['UND_ERR_BODY_TIMEOUT', 504],
]);

/** An HTTP error status (integer 400..599, or its 3-digit string) or undefined. */
function errorStatus(value) {
  const n = typeof value === 'string' && /^[0-9]{3}$/.test(value) ? Number(value) : value;
  return Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
}

function read(obj, key) {
  try {
    return obj !== null && (typeof obj === 'object' || typeof obj === 'function') ? obj[key] : undefined;
  } catch {
    return undefined;
  }
}

/** The status for an error's `code`, or for its cause's (`fetch failed` carries the socket error there). */
function statusForCode(error) {
  const code = read(error, 'code');
  if (typeof code === 'string' && STATUS_BY_CODE.has(code)) return STATUS_BY_CODE.get(code);
  // AbortSignal.timeout() rejects with a DOMException named TimeoutError.
  if (read(error, 'name') === 'TimeoutError') return 504;
  const cause = read(error, 'cause');
  const causeCode = read(cause, 'code');
  if (typeof causeCode === 'string' && STATUS_BY_CODE.has(causeCode)) return STATUS_BY_CODE.get(causeCode);
  if (read(cause, 'name') === 'TimeoutError') return 504;
  return undefined;
}

/**
 * The status qerrors answers with.
 * @param {unknown} error
 * @param {{ statusCode?: unknown, status?: unknown, type?: unknown }} fields the error's fields, read once
 */
function statusOf(error, fields) {
  return (
    errorStatus(fields.statusCode) ||
    errorStatus(fields.status) ||
    statusForCode(error) ||
    (typeof fields.type === 'string' && ERROR_TYPE_VALUES.has(fields.type) ? _statusForType(fields.type) : 500)
  );
}

const MAX_RETRY_AFTER_S = 86400;

/**
 * Whole seconds for `Retry-After` (at least 1), from `retryAfterMs` (our breaker's open error,
 * or set by the application from a limiter's `retryAfterMs(key)`) or `retryAfter` (seconds), for
 * a 429 or a 503; undefined when the error does not say.
 * @param {unknown} error
 * @param {number} status
 */
function retryAfterSeconds(error, status) {
  if (status !== 429 && status !== 503) return undefined;
  const ms = read(error, 'retryAfterMs');
  let seconds;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) seconds = Math.ceil(ms / 1000);
  else {
    const s = read(error, 'retryAfter');
    if (typeof s === 'number' && Number.isFinite(s) && s >= 0) seconds = Math.ceil(s);
  }
  if (seconds === undefined) return undefined;
  return Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_S);
}

module.exports = { statusOf, errorStatus, retryAfterSeconds, STATUS_BY_CODE, ERROR_TYPE_VALUES };
