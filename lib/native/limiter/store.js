'use strict';

// `RateLimiterStore`: an express-rate-limit v8 Store backed by a native `RateLimiter`.

const { codedError, shown } = require('../../policy/errors');
const { RateLimiter } = require('./limiter');
const { LIMITER_OPTIONS, DEFAULT_LIMIT, DEFAULT_WINDOW_MS, UNITS, rejectUnknownOptions } = require('./options');

const STORE_OPTIONS = new Set([...LIMITER_OPTIONS]);
// The middleware's private entry points into its built-in store (a limit function).
const kPerRequest = Symbol('perRequestLimit');
const kIncrementFor = Symbol('incrementFor');
const kDecrementFor = Symbol('decrementFor');

const ALGORITHMS = new Set(['fixed-window', 'gcra']);

/**
 * An express-rate-limit v8 `Store` backed by a native `RateLimiter`.
 *
 * With `algorithm: 'fixed-window'` (the default) it counts as express-rate-limit's
 * MemoryStore does: `totalHits` is every hit in the key's window, refused ones included,
 * and `resetTime` the window's end. With `'gcra'` the quota refills smoothly: `totalHits`
 * is the quota used so far for an allowed request and `limit + 1` for a limited one (which
 * takes nothing); `resetTime` is when the quota is full again or, for a limited request,
 * when the next one will be allowed (so `Retry-After` says exactly when to come back).
 */
class RateLimiterStore {
  /** @type {RateLimiter | undefined} */
  #limiter;
  #options;
  /** The store was given its own limit: init() changes nothing. */
  #fixed;
  /** Serving a limit function through rateLimit(): costs scale with each request's limit. */
  #perRequest = false;

  /** @param {{ limit?: number, windowMs?: number, burst?: number, maxKeys?: number, ipv6Subnet?: number | false, clock?: 'coarse' | 'precise' | 'manual' | 'js', sweepIntervalMs?: number, algorithm?: 'fixed-window' | 'gcra' }} [options] */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'RateLimiterStore options must be an object');
    }
    rejectUnknownOptions(options, STORE_OPTIONS, 'RateLimiterStore');
    // Undefined entries must not override the middleware's values in init().
    this.#options = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const algorithm = this.#options.algorithm ?? 'fixed-window';
    if (!ALGORITHMS.has(algorithm)) {
      throw codedError(typeof algorithm === 'string' ? RangeError : TypeError, 'ERR_QERRORS_INVALID_OPTION', `RateLimiterStore: algorithm must be 'fixed-window' or 'gcra', got ${shown(algorithm)}`);
    }
    this.#options.algorithm = algorithm;
    /** `fixed-window` (default, as express-rate-limit's MemoryStore) or `gcra`. */
    this.algorithm = algorithm;
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
    // A fixed window counts hits and leaves the comparison with the limit to the
    // middleware, so a limit function is fine; the native limit then only shapes stats().
    if (typeof limit === 'function' && this.algorithm === 'fixed-window') limit = UNITS;
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
    const bucket = this.algorithm === 'gcra' ? { burst: UNITS } : {};
    this.#replace(new RateLimiter({ windowMs, ...this.#options, limit: UNITS, ...bucket }));
    this.#perRequest = true;
    return true;
  }

  /** One request under this request's `limit` (per-request mode). @param {string} key @param {number} limit */
  [kIncrementFor](key, limit) {
    const l = this.#need();
    if (this.algorithm === 'fixed-window') return { ...this.incrementSync(key), cost: 1 };
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
    if (this.#perRequest && this.algorithm === 'gcra') {
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
    if (this.algorithm === 'fixed-window') {
      const totalHits = l.hit(key);
      return { totalHits, resetTime: new Date(Date.now() + l.resetMs(key)) };
    }
    return hitsOf(l, key, l.check(key));
  }

  /** @param {string} key @returns {Promise<{ totalHits: number, resetTime: Date }>} */
  async increment(key) {
    return this.incrementSync(key);
  }

  /** Gives one hit back (never below zero hits, never above a full quota). @param {string} key @returns {Promise<void>} */
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
   * The key's usage, or `undefined` when it has no window (fixed window) or a full quota
   * (GCRA), or is unknown.
   * @param {string} key @returns {Promise<{ totalHits: number, resetTime: Date } | undefined>}
   */
  async get(key) {
    const l = this.#counting();
    const resetMs = l.resetMs(key);
    if (resetMs === 0) return undefined;
    if (this.algorithm === 'fixed-window') return { totalHits: l.hit(key, 0), resetTime: new Date(Date.now() + resetMs) };
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
