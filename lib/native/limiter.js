'use strict';

// Rate limiting: a native keyed GCRA limiter (`RateLimiter`), an express-rate-limit v8
// compatible store around it (`RateLimiterStore`), and an Express middleware
// (`rateLimit`) that speaks express-rate-limit's options and headers and accepts any
// compatible store. Decisions run in Rust (src/core/rate_limit.rs); see
// docs/rate-limiter.md.

const net = require('node:net');
const { createHash } = require('node:crypto');
const native = require('./loader');
const { readSetting } = require('../policy/config');
const { registerSourceList } = require('../ops/metrics');
const { codedError, shown } = require('../policy/errors');

/** How often an idle limiter sweeps refilled keys out of its table. */
const SWEEP_INTERVAL_MS = 1000;

const LIMITER_OPTIONS = new Set(['limit', 'windowMs', 'burst', 'maxKeys', 'ipv6Subnet', 'clock', 'sweepIntervalMs']);
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

const CLOCKED_METHODS = ['check', 'consume', 'retryAfterMs', 'resetMs', 'remaining', 'penalty', 'reward', 'checkBatch', 'sweep'];

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
   * @param {{ limit: number, windowMs?: number, burst?: number, maxKeys?: number,
   *   ipv6Subnet?: number | false, clock?: 'coarse' | 'precise' | 'manual' | 'js',
   *   sweepIntervalMs?: number }} options
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
    return this.#n.check(key);
  }

  /**
   * A request of weight `cost` (default 1; 0 only reads). @param {string} key @param {number} [cost]
   * @returns {number} remaining requests, or -1 when limited (nothing is taken then)
   */
  consume(key, cost) {
    return this.#n.consume(key, cost);
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

const STORE_OPTIONS = new Set([...LIMITER_OPTIONS]);
/** rateLimit()'s defaults (express-rate-limit's too), for a store given no limit or window. */
const DEFAULT_LIMIT = 5;
const DEFAULT_WINDOW_MS = 60000;
/**
 * Bucket size of a store serving a limit function: a request under limit `l` costs
 * `floor(UNITS / l)` units of a bucket refilled at UNITS per window, which is a bucket of
 * exactly `l` requests for `l` up to 3162 and of at most `l * (1 + l / UNITS)` above.
 */
const UNITS = 10000000;
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

// ---- IP keys --------------------------------------------------------------------------

/**
 * Parses an IPv6 address into 8 hextets, or null; `dotted` tells whether it was written
 * with an IPv4 tail (`::1.2.3.4`).
 * @param {string} ip @returns {{ h: number[], dotted: boolean } | null}
 */
function ipv6Hextets(ip) {
  let s = ip.split('%')[0];
  let tail = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  const dotted = last.includes('.');
  if (dotted) {
    // An embedded IPv4 tail (`::ffff:1.2.3.4`) fills the last two hextets.
    const o = last.split('.').map(Number);
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const want = 8 - tail.length;
  let parts;
  const dbl = s.indexOf('::');
  if (dbl === -1) {
    parts = s.split(':');
  } else {
    const head = dbl > 0 ? s.slice(0, dbl).split(':') : [];
    const rest = s.length > dbl + 2 ? s.slice(dbl + 2).split(':') : [];
    const fill = want - head.length - rest.length;
    if (fill < 0) return null;
    parts = [...head, ...new Array(fill).fill('0'), ...rest];
  }
  if (parts.length !== want) return null;
  return { h: [...parts.map((x) => parseInt(x, 16)), ...tail], dotted };
}

/** RFC 5952 text of 8 hextets: lower-case hex, the longest run of 2+ zero hextets as `::`. */
function formatIpv6(h) {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (h[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && h[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = h.map((x) => x.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * The rate-limit key of an IP address (express-rate-limit v8's `ipKeyGenerator`): IPv4
 * addresses as they are; IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, however written)
 * and IPv4-compatible ones written with a dotted tail (`::1.2.3.4`) as their IPv4
 * address; other IPv6 addresses as their `/ipv6Subnet` network (default 56), so one
 * client cannot rotate through its own subnet, or unchanged with `ipv6Subnet: false`.
 * @param {string} ip @param {number | false} [ipv6Subnet]
 * @returns {string}
 */
function ipKeyGenerator(ip, ipv6Subnet = 56) {
  if (!net.isIPv6(ip)) return ip;
  const parsed = ipv6Hextets(ip);
  if (parsed === null) return ip;
  const { h, dotted } = parsed;
  if (h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && (h[5] === 0xffff || (h[5] === 0 && dotted))) {
    return `${h[6] >> 8}.${h[6] & 255}.${h[7] >> 8}.${h[7] & 255}`;
  }
  if (ipv6Subnet === false) return ip;
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) {
    throw codedError(RangeError, 'ERR_QERRORS_INVALID_IPV6_SUBNET', `ipKeyGenerator: ipv6Subnet must be false or an integer from 1 to 128, got ${shown(ipv6Subnet)}`);
  }
  const masked = h.map((x, i) => {
    const bits = Math.min(16, Math.max(0, ipv6Subnet - i * 16));
    return bits === 0 ? 0 : x & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${formatIpv6(masked)}/${ipv6Subnet}`;
}

// ---- Middleware -----------------------------------------------------------------------

const MIDDLEWARE_OPTIONS = new Set([
  'windowMs', 'limit', 'max', 'burst', 'maxKeys', 'message', 'statusCode', 'legacyHeaders', 'headers',
  'standardHeaders', 'identifier', 'retryAfter', 'requestPropertyName', 'skipFailedRequests',
  'skipSuccessfulRequests', 'requestWasSuccessful', 'keyGenerator', 'ipv6Subnet', 'handler', 'skip',
  'store', 'validate', 'passOnStoreError', 'logger',
]);
const DRAFTS = new Set(['draft-6', 'draft-7', 'draft-8']);
const VALIDATIONS = ['ip', 'trustProxy', 'xForwardedForHeader', 'positiveHits', 'singleCount'];
const usedStores = new WeakSet();

/**
 * A misconfiguration found while serving requests: reported once through the logger,
 * never thrown into the request.
 */
class RateLimitValidationError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'RateLimitValidationError';
    this.code = code;
  }
}

/** @param {any} store */
function adaptStore(store) {
  // express-rate-limit v5 and older stores: `incr(key, cb)` instead of `increment`.
  if (typeof store.incr === 'function' && typeof store.increment !== 'function') {
    return {
      increment: (key) =>
        new Promise((resolve, reject) => {
          store.incr(key, (err, totalHits, resetTime) => (err ? reject(err) : resolve({ totalHits, resetTime })));
        }),
      decrement: (key) => store.decrement(key),
      resetKey: (key) => store.resetKey(key),
      resetAll: typeof store.resetAll === 'function' ? () => store.resetAll() : undefined,
    };
  }
  return store;
}

/** @param {number} windowMs @param {Date | undefined} resetTime */
function resetSeconds(windowMs, resetTime) {
  if (resetTime instanceof Date) return Math.max(0, Math.ceil((resetTime.getTime() - Date.now()) / 1000));
  return Math.ceil(windowMs / 1000);
}

/** @param {string} key */
function partitionKey(key) {
  return Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
}

/** @param {number} limit @param {number} windowMs */
function defaultIdentifier(limit, windowMs) {
  const s = windowMs / 1000;
  const m = s / 60;
  const h = m / 60;
  const d = h / 24;
  let duration;
  if (s < 60) duration = `${s}sec`;
  else if (m < 60) duration = `${m}min`;
  else if (h < 24) duration = `${h}hr${h > 1 ? 's' : ''}`;
  else duration = `${d}day${d > 1 ? 's' : ''}`;
  return `${limit}-in-${duration}`;
}

/** Log texts kept identical to express-rate-limit's, so a service's log alerts keep matching. */
const LOG_INIT_FAILED = 'express-rate-limit: error during store initialization.';
const LOG_ASYNC_INIT_FAILED = 'express-rate-limit: async error during store initialization.';
const LOG_STORE_FAILED = 'express-rate-limit: error from store, allowing request without rate-limiting.';

/**
 * The default logger. Loggers are called as `(error, message)` (pino's order, as in
 * express-rate-limit); the console prints the message first. `console` is looked up per
 * call so a replaced or spied console is used.
 */
const consoleLogger = {
  error: (...args) => console.error(...args.reverse()),
  warn: (...args) => console.warn(...args.reverse()),
};

// Every rateLimit() middleware, for lib/ops/metrics.js (held weakly: a dropped middleware
// and its store can still be collected).
/** @type {Map<string, WeakRef<{ stats: () => object }>>} */
const tracked = new Map();
const untrackOnCollect = new FinalizationRegistry((name) => {
  const ref = tracked.get(name);
  if (ref !== undefined && ref.deref() === undefined) tracked.delete(name);
});
let trackedSeq = 0;

/**
 * The stats of every live rateLimit() middleware, by name (`rateLimit.<n>`, or
 * `rateLimit.<identifier>` when `identifier` is a string).
 * @returns {Array<[string, object]>}
 */
function trackedLimiterStats() {
  const out = [];
  for (const [name, ref] of tracked) {
    const source = ref.deref();
    if (source === undefined) tracked.delete(name);
    else out.push([name, source.stats()]);
  }
  return out;
}

/**
 * Express middleware limiting requests per client, compatible with express-rate-limit
 * v8's options and headers. Without a `store`, decisions run in the native limiter;
 * with one, any express-rate-limit compatible store (sync or async) is used.
 * @param {Record<string, any>} [options]
 */
function rateLimit(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit(options): options must be an object');
  }
  rejectUnknownOptions(options, MIDDLEWARE_OPTIONS, 'rateLimit');
  const o = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
  const limit = o.limit ?? o.max ?? DEFAULT_LIMIT;
  if (typeof windowMs !== 'number' || !Number.isInteger(windowMs) || windowMs < 1 || windowMs > 2147483647) {
    throw codedError(typeof windowMs === 'number' ? RangeError : TypeError, 'ERR_QERRORS_INVALID_WINDOW', `rateLimit: windowMs must be an integer from 1 to 2147483647 (about 24.8 days), got ${shown(windowMs)}`);
  }
  if (typeof limit !== 'function' && !validLimit(limit)) {
    throw codedError(typeof limit === 'number' ? RangeError : TypeError, 'ERR_QERRORS_INVALID_LIMIT', `rateLimit: limit must be an integer from 0 (refuse every request) to ${UNITS}, or a function returning one, got ${shown(limit)}`);
  }
  let standardHeaders = o.standardHeaders ?? false;
  if (standardHeaders === true) standardHeaders = 'draft-6';
  if (standardHeaders !== false && !DRAFTS.has(standardHeaders)) {
    throw codedError(RangeError, 'ERR_QERRORS_HEADERS_DRAFT', `rateLimit: standardHeaders must be false, true, 'draft-6', 'draft-7' or 'draft-8', got ${shown(standardHeaders)}`);
  }
  const logger = o.logger ?? consoleLogger;
  if (logger === null || typeof logger !== 'object' || typeof logger.error !== 'function' || typeof logger.warn !== 'function') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit: logger must have error() and warn() methods');
  }
  for (const name of ['keyGenerator', 'handler', 'skip', 'requestWasSuccessful']) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', `rateLimit: ${name} must be a function`);
    }
  }
  const ipv6Subnet = o.ipv6Subnet ?? 56;
  if (ipv6Subnet !== false && typeof ipv6Subnet !== 'function' && (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128)) {
    throw codedError(RangeError, 'ERR_QERRORS_INVALID_IPV6_SUBNET', `rateLimit: ipv6Subnet must be false or an integer from 1 to 128, got ${shown(ipv6Subnet)}`);
  }

  let store;
  let nativeStore;
  if (o.store !== undefined) {
    if (o.burst !== undefined || o.maxKeys !== undefined) {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit: burst and maxKeys configure the built-in store; set them on your store instead');
    }
    const s = o.store;
    const ok =
      s !== null &&
      typeof s === 'object' &&
      (typeof s.increment === 'function' || typeof s.incr === 'function') &&
      typeof s.decrement === 'function' &&
      typeof s.resetKey === 'function' &&
      (s.resetAll === undefined || typeof s.resetAll === 'function') &&
      (s.init === undefined || typeof s.init === 'function');
    if (!ok) {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_STORE', 'rateLimit: store must implement the express-rate-limit Store interface (increment, decrement, resetKey; optional init, resetAll, get)');
    }
    if (usedStores.has(s)) {
      throw codedError(Error, 'ERR_QERRORS_STORE_REUSE', 'rateLimit: a store instance must not be shared by two rate limiters; create one store per limiter');
    }
    usedStores.add(s);
    store = adaptStore(s);
    if (s instanceof RateLimiterStore) nativeStore = s;
  } else {
    nativeStore = new RateLimiterStore({ burst: o.burst, maxKeys: o.maxKeys });
    store = nativeStore;
  }

  const cfg = {
    windowMs,
    limit,
    message: o.message ?? 'Too many requests, please try again later.',
    statusCode: o.statusCode ?? 429,
    legacyHeaders: o.legacyHeaders ?? o.headers ?? true,
    standardHeaders,
    requestPropertyName: o.requestPropertyName ?? 'rateLimit',
    skipFailedRequests: o.skipFailedRequests ?? false,
    skipSuccessfulRequests: o.skipSuccessfulRequests ?? false,
    requestWasSuccessful: o.requestWasSuccessful ?? ((_req, res) => res.statusCode < 400),
    skip: o.skip ?? (() => false),
    passOnStoreError: o.passOnStoreError ?? false,
    retryAfter: o.retryAfter,
    identifier: o.identifier ?? ((req) => defaultIdentifier(req[cfg.requestPropertyName].limit, windowMs)),
    ipv6Subnet,
    logger,
  };

  // Each validation reports at most once per middleware, like express-rate-limit.
  const enabled = {};
  const v = o.validate ?? true;
  for (const name of VALIDATIONS) enabled[name] = typeof v === 'boolean' ? v : (v[name] ?? v.default ?? true);
  const report = (name, code, message) => {
    if (!enabled[name]) return;
    enabled[name] = false;
    logger.error(new RateLimitValidationError(code, message));
  };

  const defaultKeyGenerator = async (req, res) => {
    const ip = req.ip;
    if (ip === undefined) {
      report('ip', 'ERR_QERRORS_UNDEFINED_IP_ADDRESS', "rateLimit: request.ip is undefined (was the connection destroyed?); pass a keyGenerator if your server does not set it");
    }
    const trust = req.app && typeof req.app.get === 'function' ? req.app.get('trust proxy') : undefined;
    if (trust === true) {
      report('trustProxy', 'ERR_QERRORS_PERMISSIVE_TRUST_PROXY', "rateLimit: Express 'trust proxy' is true, so any client can pick its own IP through X-Forwarded-For; set it to the number of proxies in front of the app (e.g. app.set('trust proxy', 1))");
    }
    if (req.headers && req.headers['x-forwarded-for'] && trust === false) {
      report('xForwardedForHeader', 'ERR_QERRORS_UNEXPECTED_X_FORWARDED_FOR', "rateLimit: the request has an X-Forwarded-For header but Express 'trust proxy' is unset, so every client behind the proxy shares one limit; set app.set('trust proxy', <number of proxies>)");
    }
    const subnet = typeof cfg.ipv6Subnet === 'function' ? await cfg.ipv6Subnet(req, res) : cfg.ipv6Subnet;
    return ipKeyGenerator(String(ip), subnet);
  };
  const keyGenerator = o.keyGenerator ?? defaultKeyGenerator;
  const handler =
    o.handler ??
    (async (req, res) => {
      res.status(cfg.statusCode);
      const message = typeof cfg.message === 'function' ? await cfg.message(req, res) : cfg.message;
      if (!res.writableEnded) res.send(message);
    });

  const optionsUsed = { ...o, windowMs, limit, standardHeaders, store: o.store ?? nativeStore };
  // With a limit function, the built-in store scales each request's cost to its limit.
  let perRequest = false;
  if (nativeStore !== undefined) {
    // Our own store's misconfiguration is thrown here, at setup.
    if (typeof limit === 'function') perRequest = nativeStore[kPerRequest](windowMs);
    else nativeStore.init(optionsUsed);
  } else if (typeof store.init === 'function') {
    try {
      const r = store.init(optionsUsed);
      if (r && typeof r.then === 'function') r.then(undefined, (e) => logger.error(e, LOG_ASYNC_INIT_FAILED));
    } catch (e) {
      logger.error(e, LOG_INIT_FAILED);
    }
  }
  const countedRequests = new WeakMap();
  // Requests counted by a store that keeps no stats of its own.
  const counts = nativeStore ? undefined : { allowed: 0, limited: 0 };
  const watchOutcome = cfg.skipFailedRequests || cfg.skipSuccessfulRequests;

  const middleware = async function rateLimitMiddleware(req, res, next) {
    // Listening starts before any await: a response that ends or closes while the key or
    // the store is awaited must still give its hit back.
    const outcome = watchOutcome ? watch(res) : undefined;
    try {
      if (await cfg.skip(req, res)) return next();
      const key = await keyGenerator(req, res);
      const reqLimit = typeof cfg.limit === 'function' ? await cfg.limit(req, res) : cfg.limit;
      if (!validLimit(reqLimit)) {
        throw codedError(RangeError, 'ERR_QERRORS_INVALID_LIMIT', `rateLimit: the limit function returned ${reqLimit}; it must return an integer from 0 to ${UNITS}`);
      }
      let r;
      try {
        if (nativeStore !== undefined && reqLimit === 0) r = { totalHits: 1, resetTime: undefined };
        else if (perRequest) r = nativeStore[kIncrementFor](key, reqLimit);
        else r = nativeStore !== undefined ? nativeStore.incrementSync(key) : await store.increment(key);
      } catch (err) {
        if (cfg.passOnStoreError) {
          logger.error(err, LOG_STORE_FAILED);
          return next();
        }
        throw err;
      }
      const { totalHits, resetTime } = r;
      if (typeof totalHits !== 'number' || totalHits < 1 || !Number.isInteger(totalHits)) {
        report('positiveHits', 'ERR_QERRORS_INVALID_HITS', `rateLimit: the store returned totalHits ${totalHits}; it must be a positive integer`);
      }
      const seen = countedRequests.get(req) || [];
      if (seen.includes(key)) {
        report('singleCount', 'ERR_QERRORS_DOUBLE_COUNT', `rateLimit: the hit count for ${key} was incremented twice for one request (is the middleware mounted twice?)`);
      }
      countedRequests.set(req, [...seen, key]);
      const info = new RateLimitInfo(reqLimit, totalHits, resetTime, key);
      req[cfg.requestPropertyName] = info;
      setHeaders(res, info, req, key);
      const limited = totalHits > reqLimit;
      if (counts !== undefined) counts[limited ? 'limited' : 'allowed'] += 1;
      // A request the native limiter refused took nothing, so there is nothing to give back.
      if (outcome !== undefined && (!limited || nativeStore === undefined)) {
        const giveBack = perRequest ? () => nativeStore[kDecrementFor](key, r.cost) : () => store.decrement(key);
        outcome.decide(req, giveBack, resetTime);
      }
      if (limited) {
        if ((cfg.legacyHeaders || cfg.standardHeaders) && !res.headersSent) {
          const ra = typeof cfg.retryAfter === 'function' ? await cfg.retryAfter(req, res) : cfg.retryAfter;
          res.setHeader('Retry-After', String(ra ?? resetSeconds(windowMs, resetTime)));
        }
        return await handler(req, res, next, optionsUsed);
      }
      next();
    } catch (err) {
      next(err);
    }
  };

  /** Sets the headers express-rate-limit sets for the chosen draft. */
  function setHeaders(res, info, req, key) {
    if (res.headersSent) return;
    if (cfg.legacyHeaders) {
      res.setHeader('X-RateLimit-Limit', String(info.limit));
      res.setHeader('X-RateLimit-Remaining', String(info.remaining));
      if (info.resetTime instanceof Date) {
        res.setHeader('Date', new Date().toUTCString());
        res.setHeader('X-RateLimit-Reset', String(Math.ceil(info.resetTime.getTime() / 1000)));
      }
    }
    if (!cfg.standardHeaders) return;
    const w = Math.ceil(windowMs / 1000);
    const reset = resetSeconds(windowMs, info.resetTime);
    if (cfg.standardHeaders === 'draft-6') {
      res.setHeader('RateLimit-Policy', `${info.limit};w=${w}`);
      res.setHeader('RateLimit-Limit', String(info.limit));
      res.setHeader('RateLimit-Remaining', String(info.remaining));
      res.setHeader('RateLimit-Reset', String(reset));
    } else if (cfg.standardHeaders === 'draft-7') {
      res.setHeader('RateLimit-Policy', `${info.limit};w=${w}`);
      res.setHeader('RateLimit', `limit=${info.limit}, remaining=${info.remaining}, reset=${reset}`);
    } else {
      const name = typeof cfg.identifier === 'function' ? cfg.identifier(req, res) : cfg.identifier;
      res.append('RateLimit', `"${name}"; r=${info.remaining}; t=${reset}`);
      res.append('RateLimit-Policy', `"${name}"; q=${info.limit}; w=${w}; pk=:${partitionKey(key)}:`);
    }
  }

  /**
   * Records how the response ends, from the start of the request; `decide` then gives the
   * hit back when skipFailedRequests / skipSuccessfulRequests says so (at most once, and
   * not after the quota has refilled by itself).
   */
  function watch(res) {
    const happened = [];
    let onEvent;
    const note = (kind) => (onEvent ? onEvent(kind) : happened.push(kind));
    if (res !== null && typeof res === 'object' && typeof res.once === 'function') {
      if (cfg.skipFailedRequests || cfg.skipSuccessfulRequests) res.once('finish', () => note('finish'));
      if (cfg.skipFailedRequests) {
        res.once('close', () => note('close'));
        res.once('error', () => note('error'));
      }
    }
    return {
      decide(req, giveBack, resetTime) {
        let done = false;
        const undo = async () => {
          if (done) return;
          done = true;
          if (resetTime instanceof Date && Date.now() >= resetTime.getTime()) return;
          try {
            await giveBack();
          } catch (err) {
            logger.error(err);
          }
        };
        onEvent = (kind) => {
          if (kind === 'close') {
            if (!res.writableEnded) void undo();
          } else if (kind === 'error') {
            void undo();
          } else {
            Promise.resolve()
              .then(() => cfg.requestWasSuccessful(req, res))
              .then(
                (ok) => ((ok && cfg.skipSuccessfulRequests) || (!ok && cfg.skipFailedRequests) ? undo() : undefined),
                (err) => logger.error(err)
              );
          }
        };
        for (const kind of happened.splice(0)) onEvent(kind);
      },
    };
  }

  middleware.resetKey = (key) => store.resetKey(key);
  middleware.getKey = (key) => {
    if (typeof store.get !== 'function') throw codedError(TypeError, 'ERR_QERRORS_STORE_NO_GET', 'rateLimit: this store has no get() method');
    return store.get(key);
  };
  middleware.store = o.store ?? nativeStore;

  const source = nativeStore !== undefined ? nativeStore : { stats: () => ({ ...counts }) };
  let name = `rateLimit.${typeof o.identifier === 'string' ? o.identifier : ++trackedSeq}`;
  // Two live middlewares with one identifier are reported apart.
  if (tracked.has(name) && tracked.get(name).deref() !== undefined) name = `${name}#${++trackedSeq}`;
  // The stats source lives as long as the middleware does.
  middleware.stats = () => source.stats();
  tracked.set(name, new WeakRef(middleware));
  untrackOnCollect.register(middleware, name);
  return middleware;
}

/** `req.rateLimit`: five own fields, as express-rate-limit sets them. */
class RateLimitInfo {
  constructor(limit, used, resetTime, key) {
    this.limit = limit;
    this.used = used;
    this.remaining = Math.max(limit - used, 0);
    this.resetTime = resetTime;
    this.key = key;
  }

  /** express-rate-limit's deprecated name for `used`; on the prototype, so out of iteration and JSON. */
  get current() {
    return this.used;
  }
}

/** @param {unknown} n */
function validLimit(n) {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= UNITS;
}

registerSourceList(trackedLimiterStats);

module.exports = { RateLimiter, RateLimiterStore, rateLimit, ipKeyGenerator, trackedLimiterStats };
