'use strict';

// A rate-limit store in Redis, shared by every process and host that points at the same
// server: `rateLimit({ store: redisStore({ url }) })`. The work runs in Rust (one atomic
// GCRA script per check, EVALSHA with a NOSCRIPT fallback, reconnects, timeouts); this
// file validates options, speaks the express-rate-limit v8 Store interface and logs
// Redis availability changes once per outage.

const native = require('./loader');
const { redisResults } = require('./contract');
const { readSetting } = require('../policy/config');
const { codedError, shown } = require('../policy/errors');

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_PREFIX = 'qerrors:rl:';
const DEFAULT_TIMEOUT_MS = 200;
const DEFAULT_PROBE_INTERVAL_MS = 1000;
const DEFAULT_MAX_IN_FLIGHT = 10000;
const MAX_KEY_CHARS = 4096;
/** Completions per delivery batch; each takes SLOTS doubles (see src/binding/redis_store.rs). */
const BATCH = 256;
const { SLOTS, ALLOWED, NO_QUOTA, COUNT_DENIED } = redisResults;
const MODE_CHECK = 0;
const MODE_INCREMENT = 1;
const MODE_DECREMENT = 2;
const MODE_GET = 3;

/**
 * @param {unknown} v
 * @param {string} name
 * @param {number} min
 * @param {number} max
 * @param {string} code
 */
function intOption(v, name, min, max, code) {
  if (typeof v !== 'number') {
    throw codedError(TypeError, code, `${name} must be a number, got ${typeof v}`);
  }
  if (!Number.isInteger(v) || v < min || v > max) {
    throw codedError(RangeError, code, `${name} must be an integer from ${min} to ${max}, got ${shown(v)}`);
  }
  return v;
}

/**
 * @typedef {object} RedisStoreOptions
 * @property {string} [url] Redis URL; default `QERRORS_REDIS_URL`, then redis://127.0.0.1:6379.
 * @property {string} [prefix] Prepended to every key (default 'qerrors:rl:').
 * @property {number} [windowMs] Window; taken from rateLimit() when omitted.
 * @property {number} [limit] Requests per window; taken from rateLimit() when omitted.
 * @property {number} [timeoutMs] Budget per Redis call, connecting included (default 200).
 * @property {'local'|'open'|'closed'} [insurance] What answers while Redis cannot (default 'local').
 * @property {number} [probeIntervalMs] While Redis is down, how often one call probes it (default 1000).
 * @property {boolean} [cluster] `url` is a seed node of a Redis Cluster (default false).
 * @property {number} [maxInFlight] Checks waiting on Redis at once; more are answered by the insurance (default 10000).
 * @property {{ warn: (msg: string) => void }} [logger] Gets one line per outage and per recovery (default console).
 */

/**
 * @typedef {object} CheckResult
 * @property {boolean} allowed
 * @property {number} remaining Requests still allowed now.
 * @property {number} retryAfterMs When denied, ms until one request is allowed; 0 when allowed.
 * @property {number} resetMs Ms until the key is back to its full limit.
 */

class RedisStore {
  /** @param {RedisStoreOptions} [options] */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'redisStore options must be an object');
    }
    const url = options.url ?? readSetting('QERRORS_REDIS_URL') ?? DEFAULT_URL;
    if (typeof url !== 'string' || url === '') {
      throw codedError(TypeError, 'ERR_QERRORS_REDIS_URL', 'url must be a non-empty string such as redis://127.0.0.1:6379');
    }
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string') {
      throw codedError(TypeError, 'ERR_QERRORS_REDIS_PREFIX', 'prefix must be a string');
    }
    const insurance = options.insurance ?? 'local';
    if (insurance !== 'local' && insurance !== 'open' && insurance !== 'closed') {
      throw codedError(TypeError, 'ERR_QERRORS_REDIS_INSURANCE', `insurance must be 'local', 'open' or 'closed', got ${shown(insurance)}`);
    }
    const logger = options.logger ?? console;
    if (!logger || typeof logger.warn !== 'function') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'logger must have a warn(message) method');
    }
    const timeoutMs = intOption(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', 1, 600000, 'ERR_QERRORS_REDIS_TIMEOUT');
    const probeIntervalMs = intOption(
      options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
      'probeIntervalMs',
      1,
      3600000,
      'ERR_QERRORS_REDIS_PROBE_INTERVAL'
    );
    const maxInFlight = intOption(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 'maxInFlight', 1, 1000000, 'ERR_QERRORS_REDIS_MAX_IN_FLIGHT');
    // A window or limit given here wins over rateLimit()'s; a missing one comes from init().
    if (options.windowMs !== undefined) intOption(options.windowMs, 'windowMs', 1, 2147483647, 'ERR_QERRORS_INVALID_WINDOW');
    if (options.limit !== undefined) intOption(options.limit, 'limit', 1, 10000000, 'ERR_QERRORS_INVALID_LIMIT');
    const cluster = options.cluster ?? false;
    if (typeof cluster !== 'boolean') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'cluster must be a boolean');
    }
    /** Keys live in Redis, shared: express-rate-limit must not assume per-instance keys. */
    this.localKeys = false;
    this.prefix = prefix;
    /** @private */
    this._logger = logger;
    /** @private */
    this._closed = false;
    /** @private */
    this._quota = null;
    /** @private */
    this._native = new native.NativeRedisStore({ url, prefix, timeoutMs, probeIntervalMs, insurance, maxInFlight, cluster });
    // Checks go through raw entry points: submit() returns at once and completions come
    // back in batches through one callback, written into this array (SLOTS doubles each).
    /** @private */
    this._hot = this._native.hot();
    /** @private */
    this._results = new Float64Array(BATCH * SLOTS);
    /** @private @type {Map<number, { resolve: Function, reject: Function, mode: number }>} */
    this._pending = new Map();
    /** @private */
    this._nextId = 0;
    /** @private @type {Array<() => void>} */
    this._drained = [];
    this._hot.start((count, event) => this._deliver(count, event), this._results);
    /** @private */
    this._given = { windowMs: options.windowMs, limit: options.limit };
    if (options.windowMs !== undefined && options.limit !== undefined) this._setQuota(options.windowMs, options.limit);
  }

  /** @private */
  _setQuota(windowMs, limit) {
    intOption(windowMs, 'windowMs', 1, 2147483647, 'ERR_QERRORS_INVALID_WINDOW');
    intOption(limit, 'limit', 1, 10000000, 'ERR_QERRORS_INVALID_LIMIT');
    this._native.setQuota(windowMs, limit);
    this._quota = { windowMs, limit };
  }

  /**
   * express-rate-limit calls this once with its options; a window or limit not given
   * to redisStore() is taken from there.
   * @param {{ windowMs?: number, limit?: unknown, max?: unknown }} options
   */
  init(options) {
    if (this._quota) return;
    const given = typeof options?.limit === 'number' ? options.limit : options?.max;
    const limit = this._given.limit ?? given;
    if (typeof limit !== 'number') {
      throw codedError(TypeError, 'ERR_QERRORS_REDIS_NO_QUOTA', 'rateLimit() was given a limit function: pass a numeric limit to redisStore({ limit }) as well');
    }
    this._setQuota(this._given.windowMs ?? options?.windowMs, limit);
  }

  /** @private */
  _log(line) {
    try {
      this._logger.warn(line);
    } catch {
      // A broken logger must not turn a rate-limit decision into a failure.
    }
  }

  /**
   * Starts one native check; the promise settles in `_deliver`.
   * @private
   * @param {unknown} key
   * @param {number} cost
   * @param {number} mode
   */
  _call(key, cost, mode) {
    if (this._closed) {
      return Promise.reject(codedError(Error, 'ERR_QERRORS_REDIS_CLOSED', 'this redisStore was closed'));
    }
    if (!this._quota) {
      return Promise.reject(
        codedError(TypeError, 'ERR_QERRORS_REDIS_NO_QUOTA', 'set windowMs and limit in redisStore() (or use it through rateLimit()) before checking')
      );
    }
    if (typeof key !== 'string') {
      return Promise.reject(codedError(TypeError, 'ERR_QERRORS_INVALID_KEY', `key must be a string, got ${typeof key}`));
    }
    if (key.length > MAX_KEY_CHARS) {
      return Promise.reject(codedError(RangeError, 'ERR_QERRORS_INVALID_KEY', `key must be at most ${MAX_KEY_CHARS} characters`));
    }
    return new Promise((resolve, reject) => {
      const id = this._nextId;
      this._nextId = id === 0x7fffffff ? 0 : id + 1;
      // Throws synchronously (rejecting this promise) before anything is registered.
      this._hot.submit(key, cost, mode === MODE_INCREMENT ? COUNT_DENIED : 0, id);
      if (this._pending.size === 0) this._hot.ref();
      this._pending.set(id, { resolve, reject, mode });
    });
  }

  /**
   * Settles `count` completions from the results array, or logs `event`.
   * @private
   * @param {number} count
   * @param {string} [event]
   */
  _deliver(count, event) {
    if (event !== undefined) {
      this._log(event);
      return;
    }
    const r = this._results;
    const limit = this._quota ? this._quota.limit : 0;
    for (let i = 0, o = 0; i < count; i++, o += SLOTS) {
      const id = r[o];
      const p = this._pending.get(id);
      if (p === undefined) continue;
      this._pending.delete(id);
      const flags = r[o + 1];
      if (flags === NO_QUOTA) {
        p.reject(codedError(TypeError, 'ERR_QERRORS_REDIS_NO_QUOTA', 'set windowMs and limit before checking'));
        continue;
      }
      const allowed = (flags & ALLOWED) !== 0;
      const remaining = r[o + 2];
      const retryAfterMs = r[o + 3];
      const resetMs = r[o + 4];
      switch (p.mode) {
        case MODE_CHECK:
          p.resolve({ allowed, remaining, retryAfterMs, resetMs });
          break;
        case MODE_INCREMENT:
          // Denied hits are counted too (limit + n), so the decrement express-rate-limit
          // sends for a failed (e.g. 429) response cancels one instead of returning a unit.
          p.resolve({
            totalHits: allowed ? limit - remaining : limit + Math.max(r[o + 5], 1),
            resetTime: new Date(Date.now() + (allowed ? resetMs : retryAfterMs)),
          });
          break;
        case MODE_DECREMENT:
          p.resolve(undefined);
          break;
        default: {
          const totalHits = limit - remaining + r[o + 5];
          p.resolve(totalHits === 0 && resetMs === 0 ? undefined : { totalHits, resetTime: new Date(Date.now() + resetMs) });
        }
      }
    }
    if (this._pending.size === 0) {
      this._hot.unref();
      if (this._drained.length) this._finishClose();
    }
  }

  /**
   * Consumes `cost` (default 1) from `key`.
   * @param {string} key
   * @param {number} [cost]
   * @returns {Promise<CheckResult>}
   */
  check(key, cost = 1) {
    if (!Number.isInteger(cost) || cost < 1 || (this._quota && cost > this._quota.limit)) {
      return Promise.reject(
        codedError(RangeError, 'ERR_QERRORS_INVALID_COST', `cost must be an integer from 1 to the limit, got ${shown(cost)}`)
      );
    }
    return this._call(key, cost, MODE_CHECK);
  }

  /**
   * express-rate-limit Store: counts a hit. Denied hits are counted too (reported as
   * `limit + n`), so the decrement express-rate-limit sends for a failed (e.g. 429)
   * response cancels a denied hit instead of returning a real unit.
   * @param {string} key
   * @returns {Promise<{ totalHits: number, resetTime: Date }>}
   */
  increment(key) {
    return this._call(key, 1, MODE_INCREMENT);
  }

  /**
   * express-rate-limit Store: gives one hit back (skipSuccessfulRequests / skipFailedRequests).
   * @param {string} key
   * @returns {Promise<void>}
   */
  decrement(key) {
    return this._call(key, -1, MODE_DECREMENT);
  }

  /**
   * express-rate-limit Store: where `key` stands, without counting a hit.
   * @param {string} key
   * @returns {Promise<{ totalHits: number, resetTime: Date } | undefined>}
   */
  get(key) {
    return this._call(key, 0, MODE_GET);
  }

  /** @private */
  _maintenance(promise) {
    return promise.then((r) => {
      if (r.event) this._log(r.event);
      if (!r.ok) throw codedError(Error, 'ERR_QERRORS_REDIS_UNAVAILABLE', `Redis did not complete the command: ${r.error}`);
      return r.count;
    });
  }

  /**
   * Forgets `key` everywhere (Redis and the local fallback).
   * @param {string} key
   * @returns {Promise<void>}
   */
  resetKey(key) {
    if (this._closed) return Promise.reject(codedError(Error, 'ERR_QERRORS_REDIS_CLOSED', 'this redisStore was closed'));
    if (typeof key !== 'string') {
      return Promise.reject(codedError(TypeError, 'ERR_QERRORS_INVALID_KEY', `key must be a string, got ${typeof key}`));
    }
    return this._maintenance(this._native.resetKey(key)).then(() => undefined);
  }

  /**
   * Deletes every key under this store's prefix (SCAN + UNLINK).
   * @returns {Promise<void>}
   */
  resetAll() {
    if (this._closed) return Promise.reject(codedError(Error, 'ERR_QERRORS_REDIS_CLOSED', 'this redisStore was closed'));
    return this._maintenance(this._native.resetAll()).then(() => undefined);
  }

  /** Counters and Redis availability, as plain numbers, booleans and strings. */
  stats() {
    return { ...this._native.stats(), windowMs: this._quota?.windowMs ?? 0, limit: this._quota?.limit ?? 0 };
  }

  /**
   * Stops taking checks, waits for the ones in flight (each ends within `timeoutMs`),
   * then closes the connection. Later calls reject with ERR_QERRORS_REDIS_CLOSED.
   * @returns {Promise<void>}
   */
  close() {
    this._closed = true;
    return new Promise((resolve) => {
      this._drained.push(resolve);
      if (this._pending.size === 0) this._finishClose();
    });
  }

  /** @private */
  _finishClose() {
    this._hot.close();
    const waiters = this._drained;
    this._drained = [];
    for (const w of waiters) w();
  }
}

/**
 * Creates a Redis-backed store: `rateLimit({ store: redisStore({ url, prefix }) })`.
 * @param {RedisStoreOptions} [options]
 */
function redisStore(options) {
  return new RedisStore(options);
}

module.exports = { redisStore, RedisStore };
