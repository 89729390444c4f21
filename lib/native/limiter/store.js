'use strict';

// `RateLimiterStore`: an express-rate-limit v8 Store backed by a native `RateLimiter`.

const { codedError } = require('../../policy/errors');
const { RateLimiter } = require('./limiter');
const { LIMITER_OPTIONS, DEFAULT_LIMIT, DEFAULT_WINDOW_MS, UNITS, rejectUnknownOptions } = require('./options');

const STORE_OPTIONS = new Set([...LIMITER_OPTIONS]);
// The middleware's private entry points into its built-in store (a limit function).
const kPerRequest = Symbol('perRequestLimit');
const kIncrementFor = Symbol('incrementFor');
const kDecrementFor = Symbol('decrementFor');

/**
 * An express-rate-limit v8 `Store` backed by a native `RateLimiter`.
 *
 * `totalHits` is what express-rate-limit compares with its `limit`: the quota used so far
 * for an allowed request, and `limit + 1` for a limited one. `resetTime` is when the
 * quota is full again, or, for a limited request, when the next request will be allowed
 * (so `Retry-After` tells the client exactly when to come back).
 */
class RateLimiterStore {
  /** @type {RateLimiter | undefined} */
  #limiter;
  #options;
  /** The store was given its own limit: init() changes nothing. */
  #fixed;
  /** Serving a limit function through rateLimit(): costs scale with each request's limit. */
  #perRequest = false;

  /** @param {{ limit?: number, windowMs?: number, burst?: number, maxKeys?: number, ipv6Subnet?: number | false, clock?: 'coarse' | 'precise' | 'manual' | 'js', sweepIntervalMs?: number }} [options] */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'RateLimiterStore options must be an object');
    }
    rejectUnknownOptions(options, STORE_OPTIONS, 'RateLimiterStore');
    // Undefined entries must not override the middleware's values in init().
    this.#options = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    /** Keys are local to this store (express-rate-limit reads this). */
    this.localKeys = true;
    this.#fixed = options.limit !== undefined;
    if (this.#fixed) this.#limiter = new RateLimiter(this.#options);
  }

  /** The native limiter (after `init` or the first use, or at once when `limit` was given). */
  get limiter() {
    return this.#limiter;
  }

  /**
   * Called by the middleware with its options (express-rate-limit passes all of them);
   * the store's own options win, and a missing limit or window takes rateLimit()'s
   * defaults (5 per 60000 ms). Calling it again starts afresh.
   * @param {{ windowMs?: number, limit?: unknown }} [options]
   */
  init(options) {
    if (this.#fixed) return;
    const o = options !== null && typeof options === 'object' ? options : {};
    let limit = o.limit ?? DEFAULT_LIMIT;
    if (typeof limit === 'function') {
      throw codedError(TypeError, 'ERR_QERRORS_STORE_NEEDS_LIMIT', "RateLimiterStore: this middleware's limit is a function it evaluates per request, and the store decides with a numeric limit; give the store its own { limit }, or use qerrors' rateLimit(), which passes each request's limit to its store");
    }
    // A limit of 0 refuses every request (every hit is over it); the bucket keeps 1 so hits are still counted.
    if (limit === 0) limit = 1;
    this.#replace(new RateLimiter({ windowMs: o.windowMs ?? DEFAULT_WINDOW_MS, ...this.#options, limit }));
    this.#perRequest = false;
  }

  /** @param {RateLimiter} limiter */
  #replace(limiter) {
    if (this.#limiter) this.#limiter.close();
    this.#limiter = limiter;
  }

  /** Prepares the store for rateLimit()'s limit function. @returns {boolean} false when the store has its own limit */
  [kPerRequest](windowMs) {
    if (this.#fixed) return false;
    this.#replace(new RateLimiter({ windowMs, ...this.#options, limit: UNITS, burst: UNITS }));
    this.#perRequest = true;
    return true;
  }

  /** One request under this request's `limit` (per-request mode). @param {string} key @param {number} limit */
  [kIncrementFor](key, limit) {
    const l = this.#need();
    const cost = Math.max(1, Math.floor(UNITS / limit));
    const units = l.consume(key, cost);
    if (units < 0) {
      const missing = cost - Math.max(0, l.remaining(key));
      return { totalHits: limit + 1, resetTime: new Date(Date.now() + Math.ceil((missing * l.windowMs) / UNITS)), cost: 0 };
    }
    const used = Math.min(limit, Math.max(1, limit - Math.floor(units / cost)));
    return { totalHits: used, resetTime: new Date(Date.now() + l.resetMs(key)), cost };
  }

  /** Gives back what `kIncrementFor` took. @param {string} key @param {number} cost */
  [kDecrementFor](key, cost) {
    if (cost > 0) this.#need().reward(key, cost);
  }

  #need() {
    // Used before init() (express-rate-limit's MemoryStore allows it): rateLimit()'s defaults.
    if (!this.#limiter) this.#replace(new RateLimiter({ windowMs: DEFAULT_WINDOW_MS, limit: DEFAULT_LIMIT, ...this.#options }));
    return this.#limiter;
  }

  #counting() {
    if (this.#perRequest) {
      throw codedError(Error, 'ERR_QERRORS_STORE_PER_REQUEST_LIMIT', 'RateLimiterStore: this store serves a limit function of its rateLimit() middleware, so hits are counted only through it');
    }
    return this.#need();
  }

  /**
   * Counts one request synchronously (the middleware's fast path).
   * @param {string} key @returns {{ totalHits: number, resetTime: Date }}
   */
  incrementSync(key) {
    const l = this.#counting();
    const remaining = l.check(key);
    return hitsOf(l, key, remaining);
  }

  /** @param {string} key @returns {Promise<{ totalHits: number, resetTime: Date }>} */
  async increment(key) {
    return this.incrementSync(key);
  }

  /** Gives one request back (never above a full quota). @param {string} key @returns {Promise<void>} */
  async decrement(key) {
    this.#counting().reward(key, 1);
  }

  /** @param {string} key @returns {Promise<void>} */
  async resetKey(key) {
    this.#need().reset(key);
  }

  /** @returns {Promise<void>} */
  async resetAll() {
    this.#need().resetAll();
  }

  /**
   * The key's usage, or `undefined` when it has a full quota (or is unknown).
   * @param {string} key @returns {Promise<{ totalHits: number, resetTime: Date } | undefined>}
   */
  async get(key) {
    const l = this.#counting();
    const resetMs = l.resetMs(key);
    if (resetMs === 0) return undefined;
    return { totalHits: Math.max(0, l.limit - l.remaining(key)), resetTime: new Date(Date.now() + resetMs) };
  }

  /** The native limiter's counters. */
  stats() {
    return this.#need().stats();
  }

  /** Stops the limiter's idle sweep timer. */
  shutdown() {
    if (this.#limiter) this.#limiter.close();
  }
}

/**
 * @param {RateLimiter} l @param {string} key @param {number} remaining
 */
function hitsOf(l, key, remaining) {
  if (remaining < 0) {
    return { totalHits: l.limit + 1, resetTime: new Date(Date.now() + l.retryAfterMs(key)) };
  }
  const used = Math.min(l.limit, Math.max(1, l.limit - remaining));
  return { totalHits: used, resetTime: new Date(Date.now() + l.resetMs(key)) };
}

module.exports = { RateLimiterStore, kPerRequest, kIncrementFor, kDecrementFor };
