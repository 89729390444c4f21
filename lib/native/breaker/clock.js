'use strict';

// The breakers' millisecond clock, read on every call without crossing into Rust.
//
// The shared clock is a Float64Array over native memory (src/binding/breaker/clock.rs):
// [0] ms, [1] 1 while its ticker runs, [2] set on use (the ticker parks after ~100 ms
// without use). A breaker with a fake clock asks that clock instead. The two are read at
// separate sites, so the hot path's element read only ever sees the Float64Array: one
// process mixing both kinds (a test suite) keeps it monomorphic.

const native = require('../loader');

/** @type {Float64Array | undefined} the shared clock, created by the first breaker */
let sharedClock;

/**
 * The shared clock, created on first use.
 * @returns {Float64Array}
 */
function sharedClockView() {
  return (sharedClock ??= native.circuitBreakerClock());
}

/**
 * Milliseconds from the shared clock, waking its ticker if it parked.
 * @param {Float64Array} c
 */
function readClock(c) {
  if (c[1] !== 1) native.circuitBreakerClockWake();
  c[2] = 1;
  return c[0];
}

module.exports = { sharedClockView, readClock };
