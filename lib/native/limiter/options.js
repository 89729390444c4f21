'use strict';

// Option names, defaults and checks shared by the limiter, the store and the middleware.

const { readSetting } = require('../../policy/config');
const { codedError, shown } = require('../../policy/errors');

/** How often an idle limiter sweeps refilled keys out of its table. */
const SWEEP_INTERVAL_MS = 1000;

const LIMITER_OPTIONS = new Set(['limit', 'windowMs', 'burst', 'maxKeys', 'ipv6Subnet', 'clock', 'sweepIntervalMs', 'algorithm']);
const CLOCKS = new Set(['coarse', 'precise', 'manual', 'js']);

/** @param {unknown} clock */
function clockOf(clock) {
  if (clock !== undefined) {
    if (typeof clock !== 'string') throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', "clock must be 'coarse', 'precise', 'manual' or 'js'");
    if (!CLOCKS.has(clock)) {
      throw codedError(RangeError, 'ERR_QERRORS_INVALID_OPTION', `clock must be 'coarse', 'precise', 'manual' or 'js', got ${shown(clock)}`);
    }
    return clock;
  }
  // Limiters created without a `clock` option (e.g. `js` in a fake-timer test suite).
  return readSetting('QERRORS_LIMITER_CLOCK');
}

/**
 * @param {unknown} options
 * @param {Set<string>} known
 * @param {string} what
 */
function rejectUnknownOptions(options, known, what) {
  for (const k of Object.keys(options)) {
    if (!known.has(k)) {
      throw codedError(TypeError, 'ERR_QERRORS_UNKNOWN_OPTION', `${what}: unknown option '${k}' (known: ${[...known].join(', ')})`);
    }
  }
}

/** rateLimit()'s defaults (express-rate-limit's too), for a store given no limit or window. */
const DEFAULT_LIMIT = 5;
const DEFAULT_WINDOW_MS = 60000;
/**
 * Bucket size of a store serving a limit function: a request under limit `l` costs
 * `floor(UNITS / l)` units of a bucket refilled at UNITS per window, which is a bucket of
 * exactly `l` requests for `l` up to 3162 and of at most `l * (1 + l / UNITS)` above.
 */
const UNITS = 10000000;

/** @param {unknown} n @returns {boolean} whether `n` is a limit rateLimit() accepts */
function validLimit(n) {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= UNITS;
}

module.exports = { SWEEP_INTERVAL_MS, LIMITER_OPTIONS, DEFAULT_LIMIT, DEFAULT_WINDOW_MS, UNITS, clockOf, rejectUnknownOptions, validLimit };
