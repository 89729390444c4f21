'use strict';

// The breakers' millisecond clock, read on every call without crossing into Rust.

const native = require('../loader');

/** @type {Float64Array | undefined} the shared clock, created by the first breaker */
let sharedClock;

/**
 * The shared clock's layout (src/binding/breaker/clock.rs): [0] ms, [1] 1 while its ticker
 * runs, [2] set on use (the ticker parks after ~100 ms without use). A fake clock gets
 * the same shape, always awake, so the hot path reads both kinds alike.
 */
function fakeClockView(clock) {
  return {
    get 0() {
      return clock.now();
    },
    1: 1,
    2: 0,
  };
}

/**
 * The clock view of a breaker: the fake clock's when one is given, else the shared one.
 * @param {{ now(): number } | undefined} fake
 */
function clockView(fake) {
  if (fake) return fakeClockView(fake);
  return (sharedClock ??= native.circuitBreakerClock());
}

/**
 * Milliseconds from a clock view, waking the shared clock's ticker if it parked.
 * @param {{ 0: number, 1: number, 2: number }} c
 */
function readClock(c) {
  if (c[1] !== 1) native.circuitBreakerClockWake();
  c[2] = 1;
  return c[0];
}

module.exports = { clockView, readClock };
