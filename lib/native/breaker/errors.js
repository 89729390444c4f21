'use strict';

// The breaker's errors: coded option errors, and the errors it raises itself (open,
// timeout, shutdown, capacity), marked so `CircuitBreaker.isOurError` can tell them apart.

const { codedError } = require('../../policy/errors');

const CODE = 'ERR_QERRORS_INVALID_OPTION';

/**
 * @param {ErrorConstructor} Ctor
 * @param {string} message
 */
function optionError(Ctor, message) {
  return codedError(Ctor, CODE, message);
}

/** Marks the errors the breaker itself raises (`CircuitBreaker.isOurError`). */
const OUR_ERROR = Symbol('qerrors.circuitBreakerError');

/** An error the breaker raises itself, with opossum's codes (`EOPENBREAKER`, `ETIMEDOUT`, …). */
function ourError(code, message) {
  const err = codedError(Error, code, message);
  err[OUR_ERROR] = true;
  return err;
}

/** True for the errors the breaker raises itself. */
function isOurError(error) {
  return Boolean(error !== null && (typeof error === 'object' || typeof error === 'function') && error[OUR_ERROR]);
}

module.exports = { optionError, ourError, isOurError };
