'use strict';

// `RateLimiter`: the native keyed GCRA limiter (src/core/rate_limit) behind a class whose
// per-request methods take a string key and return a number.

const native = require('../loader');
const { codedError, shown } = require('../../policy/errors');
const { SWEEP_INTERVAL_MS, LIMITER_OPTIONS, clockOf, rejectUnknownOptions } = require('./options');

const CLOCKED_METHODS = ['check', 'consume', 'checkLast', 'consumeLast', 'retryAfterMs', 'resetMs', 'remaining', 'penalty', 'reward', 'checkBatch', 'sweep', 'hit'];

/**
 * A native limiter on a manual clock that follows `Date.now()`: every call first moves the
 * native clock to the time elapsed since creation, so jest/sinon fake timers drive it.
 * `Date.now()` going backwards (a fake clock set back) is ignored: the native clock never
 * goes back. The default coarse clock stays free of this per-call step.
 * @param {any} n a native limiter created with clock 'manual'
 */
function followDateNow(n) {
  const origin = Date.now();
  let last = 0;
  const out = { resetAll: n.resetAll, stats: n.stats, heapBytes: n.heapBytes, reset: n.reset };
  for (const name of CLOCKED_METHODS) {
    const method = n[name];
    if (method === undefined) continue;
    out[name] = (a, b) => {
      const t = Date.now() - origin;
      if (t > last) {
        n.advanceTime(t - last);
        last = t;
      }
      return method(a, b);
    };
  }
  return out;
}


/**
 * A keyed rate limiter: `limit` requests per `windowMs` per key, refilled smoothly
 * (GCRA), at most `maxKeys` keys in native memory. Every per-request method takes a
 * string key and returns a number.
 */
class RateLimiter {
  /** @type {any} */
  #n;
  #timer;
  /**
   * The key of the last check/consume; the native side kept its hash, so the same key
   * again is decided by checkLast/consumeLast without reading the string (see the
   * per-check cost in docs/rate-limiter.md). Starts as an object, equal to no key.
   * @type {unknown}
   */
  #lastKey = {};

  /**
   * @param {{ limit: number, windowMs?: number, burst?: number, maxKeys?: number,
   *   ipv6Subnet?: number | false, clock?: 'coarse' | 'precise' | 'manual' | 'js',
   *   sweepIntervalMs?: number, algorithm?: 'gcra' | 'fixed-window' }} options
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'RateLimiter options must be an object such as { limit: 100, windowMs: 60000 }');
    }
    rejectUnknownOptions(options, LIMITER_OPTIONS, 'RateLimiter');
    const sweepMs = options.sweepIntervalMs === undefined ? SWEEP_INTERVAL_MS : options.sweepIntervalMs;
    if (typeof sweepMs !== 'number' || !(sweepMs >= 0) || sweepMs > 2147483647) {
      throw codedError(RangeError, 'ERR_QERRORS_INVALID_OPTION', `sweepIntervalMs must be a number of ms from 0 (no timer) to 2147483647, got ${shown(sweepMs)}`);
    }
    const clock = clockOf(options.clock);
    this.#n =
      clock === 'js'
        ? followDateNow(native.createRateLimiter({ ...options, clock: 'manual' }))
        : native.createRateLimiter(clock === options.clock ? options : { ...options, clock });
    /** `coarse` (default), `precise`, `manual` or `js`. */
    this.clock = clock;
    /** Requests allowed per window. */
    this.limit = options.limit;
    this.windowMs = options.windowMs === undefined ? 60000 : options.windowMs;
    this.burst = options.burst === undefined ? options.limit : options.burst;
    this.maxKeys = options.maxKeys === undefined ? 100000 : options.maxKeys;
    /** `gcra` (default) or `fixed-window`. */
    this.algorithm = options.algorithm === undefined ? 'gcra' : options.algorithm;
    Object.freeze(this);
    if (sweepMs > 0) this.#startSweeper(sweepMs);
  }

  /** Keeps memory bounded while no requests arrive; never keeps the process alive. */
  #startSweeper(ms) {
    // The timer holds the limiter weakly so an abandoned limiter can still be collected.
    const ref = new WeakRef(this);
    const steps = Math.min(65536, Math.max(1024, Math.ceil(this.maxKeys / 16)));
    const timer = setInterval(() => {
      const self = ref.deref();
      if (self === undefined) clearInterval(timer);
      else self.sweep(steps);
    }, ms);
    timer.unref();
    this.#timer = timer;
  }

  /**
   * One request for `key`. @param {string} key
   * @returns {number} requests still allowed after this one, or -1 when limited
   */
  check(key) {
    if (key === this.#lastKey) return this.#n.checkLast();
    const r = this.#n.check(key);
    this.#lastKey = key;
    return r;
  }

  /**
   * A request of weight `cost` (default 1; 0 only reads). @param {string} key @param {number} [cost]
   * @returns {number} remaining requests, or -1 when limited (nothing is taken then)
   */
  consume(key, cost) {
    if (key === this.#lastKey) return this.#n.consumeLast(cost);
    const r = this.#n.consume(key, cost);
    this.#lastKey = key;
    return r;
  }

  /** @param {string} key @returns {number} ms until `key` may make one request (0 = now) */
  retryAfterMs(key) {
    return this.#n.retryAfterMs(key);
  }

  /** @param {string} key @returns {number} ms until `key`'s quota is full again */
  resetMs(key) {
    return this.#n.resetMs(key);
  }

  /** @param {string} key @returns {number} requests `key` could make now, without taking any */
  remaining(key) {
    return this.#n.remaining(key);
  }

  /**
   * Takes `n` requests' worth from `key` (it may go below zero and wait longer).
   * @param {string} key @param {number} [n] @returns {number} remaining, or -1 when now limited
   */
  penalty(key, n) {
    return this.#n.penalty(key, n);
  }

  /**
   * Gives `n` requests' worth back (never above a full quota).
   * @param {string} key @param {number} [n] @returns {number} remaining, or -1 when still limited
   */
  reward(key, n) {
    return this.#n.reward(key, n);
  }

  /** Forgets `key`. @param {string} key @returns {boolean} whether it was held */
  reset(key) {
    return this.#n.reset(key);
  }

  /** Forgets every key. */
  resetAll() {
    this.#n.resetAll();
  }

  /**
   * Checks many keys in one call.
   * @param {Uint8Array} keys UTF-8 keys separated by `\n` (a trailing `\n` is allowed)
   * @param {Int32Array} out receives each result in order (remaining or -1)
   * @returns {number} how many keys were checked
   */
  checkBatch(keys, out) {
    return this.#n.checkBatch(keys, out);
  }

  /** Deletes refilled keys, inspecting at most `steps` slots. @returns {number} keys deleted */
  sweep(steps) {
    return this.#n.sweep(steps);
  }

  /** @returns {{ keys: number, allowed: number, limited: number, evicted: number, swept: number }} */
  stats() {
    return this.#n.stats();
  }

  /** @returns {number} bytes the native table holds (outside the V8 heap) */
  heapBytes() {
    return this.#n.heapBytes();
  }

  /**
   * Counts `n` hits of `key` (default 1; 0 only reads): `algorithm: 'fixed-window'` only.
   * @param {string} key @param {number} [n] @returns {number} the hits in `key`'s current window
   */
  hit(key, n) {
    if (typeof this.#n.hit !== 'function') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', "hit() needs a limiter created with algorithm: 'fixed-window' (GCRA counts no hits)");
    }
    return this.#n.hit(key, n);
  }

  /**
   * Moves a `clock: 'manual'` limiter's time forward.
   * @param {number} ms @returns {number} the new time in ms
   */
  advanceTime(ms) {
    if (typeof this.#n.advanceTime !== 'function') {
      throw codedError(TypeError, 'ERR_QERRORS_NO_MANUAL_CLOCK', "advanceTime() needs a limiter created with clock: 'manual'");
    }
    return this.#n.advanceTime(ms);
  }

  /** Stops the idle sweep timer (the limiter keeps working). */
  close() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

module.exports = { RateLimiter };
