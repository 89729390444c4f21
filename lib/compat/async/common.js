'use strict';

// What the asyncContracts modules share: coded argument errors and the injectable clock
// (every wait goes through it, so tests need no real sleeps; every real timer is unref'd).

const { performance } = require('node:perf_hooks');
const { codedError } = require('../../policy/errors');

function typeError(message) {
  return codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', message);
}

function rangeError(message) {
  return codedError(RangeError, 'ERR_QERRORS_INVALID_ARG', message);
}

const MAX_TIMER_MS = 2147483647;

/** The process clock: epoch milliseconds with sub-millisecond precision, unref'd timers. */
const systemClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t),
};

/**
 * @param {unknown} clock
 * @returns {{ now(): number, setTimeout(fn: Function, ms: number): unknown, clearTimeout(t: unknown): void }}
 */
function checkClock(clock) {
  if (clock === undefined) return systemClock;
  if (
    clock === null ||
    typeof clock !== 'object' ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw typeError('clock must be an object with now(), setTimeout(fn, ms) and clearTimeout(handle)');
  }
  return clock;
}

module.exports = { typeError, rangeError, MAX_TIMER_MS, systemClock, checkClock };
