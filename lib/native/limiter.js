'use strict';

// Rate limiting: a native keyed GCRA limiter (`RateLimiter`), an express-rate-limit v8
// compatible store around it (`RateLimiterStore`), and an Express middleware
// (`rateLimit`) that speaks express-rate-limit's options and headers and accepts any
// compatible store. Decisions run in Rust (src/core/rate_limit.rs); see
// docs/rate-limiter.md.

const net = require('node:net');
const { createHash } = require('node:crypto');
const native = require('./loader');

/** How often an idle limiter sweeps refilled keys out of its table. */
const SWEEP_INTERVAL_MS = 1000;

const LIMITER_OPTIONS = new Set(['limit', 'windowMs', 'burst', 'maxKeys', 'ipv6Subnet', 'clock', 'sweepIntervalMs']);

/**
 * @param {new (message: string) => Error} Kind
 * @param {string} code
 * @param {string} message
 */
function coded(Kind, code, message) {
  const err = new Kind(message);
  err.code = code;
  return err;
}

/**
 * @param {unknown} options
 * @param {Set<string>} known
 * @param {string} what
 */
function rejectUnknownOptions(options, known, what) {
  for (const k of Object.keys(options)) {
    if (!known.has(k)) {
      throw coded(TypeError, 'ERR_QERRORS_UNKNOWN_OPTION', `${what}: unknown option '${k}' (known: ${[...known].join(', ')})`);
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
   *   ipv6Subnet?: number | false, clock?: 'coarse' | 'precise' | 'manual',
   *   sweepIntervalMs?: number }} options
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw coded(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'RateLimiter options must be an object such as { limit: 100, windowMs: 60000 }');
    }
    rejectUnknownOptions(options, LIMITER_OPTIONS, 'RateLimiter');
    const sweepMs = options.sweepIntervalMs === undefined ? SWEEP_INTERVAL_MS : options.sweepIntervalMs;
    if (typeof sweepMs !== 'number' || !(sweepMs >= 0) || sweepMs > 2147483647) {
      throw coded(RangeError, 'ERR_QERRORS_INVALID_OPTION', `sweepIntervalMs must be a number of ms from 0 (no timer) to 2147483647, got ${sweepMs}`);
    }
    this.#n = native.createRateLimiter(options);
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
      throw coded(TypeError, 'ERR_QERRORS_NO_MANUAL_CLOCK', "advanceTime() needs a limiter created with clock: 'manual'");
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

  /** @param {{ limit?: number, windowMs?: number, burst?: number, maxKeys?: number, ipv6Subnet?: number | false, clock?: 'coarse' | 'precise' | 'manual', sweepIntervalMs?: number }} [options] */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw coded(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'RateLimiterStore options must be an object');
    }
    rejectUnknownOptions(options, STORE_OPTIONS, 'RateLimiterStore');
    // Undefined entries must not override the middleware's values in init().
    this.#options = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    /** Keys are local to this store (express-rate-limit reads this). */
    this.localKeys = true;
    if (options.limit !== undefined) this.#limiter = new RateLimiter(this.#options);
  }

  /** The native limiter (after `init`, or at once when `limit` was given). */
  get limiter() {
    return this.#limiter;
  }

  /**
   * Called by express-rate-limit with its options; the store's own options win.
   * @param {{ windowMs?: number, limit?: unknown }} options
   */
  init(options) {
    if (this.#limiter) return;
    const limit = options && options.limit;
    if (typeof limit !== 'number') {
      throw coded(
        TypeError,
        'ERR_QERRORS_STORE_NEEDS_LIMIT',
        'RateLimiterStore needs a numeric limit: pass { limit } to the store when the middleware limit is a function'
      );
    }
    this.#limiter = new RateLimiter({ windowMs: options.windowMs, ...this.#options, limit });
  }

  #need() {
    if (!this.#limiter) {
      throw coded(Error, 'ERR_QERRORS_STORE_NOT_INITIALIZED', 'RateLimiterStore was used before init(); pass { limit } to it or give it to a rate limiter first');
    }
    return this.#limiter;
  }

  /**
   * Counts one request synchronously (the middleware's fast path).
   * @param {string} key @returns {{ totalHits: number, resetTime: Date }}
   */
  incrementSync(key) {
    const l = this.#need();
    const remaining = l.check(key);
    return hitsOf(l, key, remaining);
  }

  /** @param {string} key @returns {Promise<{ totalHits: number, resetTime: Date }>} */
  async increment(key) {
    return this.incrementSync(key);
  }

  /** Gives one request back. @param {string} key @returns {Promise<void>} */
  async decrement(key) {
    this.#need().reward(key, 1);
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
    const l = this.#need();
    const resetMs = l.resetMs(key);
    if (resetMs === 0) return undefined;
    return { totalHits: Math.max(0, l.limit - l.remaining(key)), resetTime: new Date(Date.now() + resetMs) };
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
 * Parses an IPv6 address into 8 hextets, or null.
 * @param {string} ip
 */
function ipv6Hextets(ip) {
  let s = ip.split('%')[0];
  let tail = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
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
  return [...parts.map((h) => parseInt(h, 16)), ...tail];
}

/**
 * The key for an IP: IPv4 (and IPv4-mapped IPv6) as the IPv4 address, other IPv6
 * addresses as their `/subnet` network, so one client cannot rotate through its subnet.
 * @param {string} ip @param {number | false} subnet
 */
function ipKey(ip, subnet) {
  if (!net.isIPv6(ip)) return ip;
  const h = ipv6Hextets(ip);
  if (h === null) return ip;
  if (h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff) {
    return `${h[6] >> 8}.${h[6] & 255}.${h[7] >> 8}.${h[7] & 255}`;
  }
  if (subnet === false) return ip;
  const out = h.map((x, i) => {
    const bits = Math.min(16, Math.max(0, subnet - i * 16));
    return (bits === 0 ? 0 : x & (0xffff << (16 - bits)) & 0xffff).toString(16);
  });
  return `${out.join(':')}/${subnet}`;
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

/**
 * Express middleware limiting requests per client, compatible with express-rate-limit
 * v8's options and headers. Without a `store`, decisions run in the native limiter;
 * with one, any express-rate-limit compatible store (sync or async) is used.
 * @param {Record<string, any>} [options]
 */
function rateLimit(options = {}) {
  if (options === null || typeof options !== 'object') {
    throw coded(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit(options): options must be an object');
  }
  rejectUnknownOptions(options, MIDDLEWARE_OPTIONS, 'rateLimit');
  const o = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const windowMs = o.windowMs ?? 60000;
  const limit = o.limit ?? o.max ?? 5;
  if (typeof windowMs !== 'number' || !Number.isInteger(windowMs) || windowMs < 1 || windowMs > 2147483647) {
    throw coded(typeof windowMs === 'number' ? RangeError : TypeError, 'ERR_QERRORS_INVALID_WINDOW', `rateLimit: windowMs must be an integer from 1 to 2147483647 (about 24.8 days), got ${windowMs}`);
  }
  if (typeof limit !== 'function' && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw coded(typeof limit === 'number' ? RangeError : TypeError, 'ERR_QERRORS_INVALID_LIMIT', `rateLimit: limit must be a positive integer or a function returning one, got ${limit}`);
  }
  let standardHeaders = o.standardHeaders ?? false;
  if (standardHeaders === true) standardHeaders = 'draft-6';
  if (standardHeaders !== false && !DRAFTS.has(standardHeaders)) {
    throw coded(RangeError, 'ERR_QERRORS_HEADERS_DRAFT', `rateLimit: standardHeaders must be false, true, 'draft-6', 'draft-7' or 'draft-8', got ${String(standardHeaders)}`);
  }
  const logger = o.logger ?? console;
  if (typeof logger.error !== 'function' || typeof logger.warn !== 'function') {
    throw coded(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit: logger must have error() and warn() methods');
  }
  for (const name of ['keyGenerator', 'handler', 'skip', 'requestWasSuccessful']) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw coded(TypeError, 'ERR_QERRORS_INVALID_OPTION', `rateLimit: ${name} must be a function`);
    }
  }
  const ipv6Subnet = o.ipv6Subnet ?? 56;
  if (ipv6Subnet !== false && typeof ipv6Subnet !== 'function' && (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128)) {
    throw coded(RangeError, 'ERR_QERRORS_INVALID_IPV6_SUBNET', `rateLimit: ipv6Subnet must be false or an integer from 1 to 128, got ${ipv6Subnet}`);
  }

  let store;
  let nativeStore;
  if (o.store !== undefined) {
    if (o.burst !== undefined || o.maxKeys !== undefined) {
      throw coded(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit: burst and maxKeys configure the built-in store; set them on your store instead');
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
      throw coded(TypeError, 'ERR_QERRORS_INVALID_STORE', 'rateLimit: store must implement the express-rate-limit Store interface (increment, decrement, resetKey; optional init, resetAll, get)');
    }
    if (usedStores.has(s)) {
      throw coded(Error, 'ERR_QERRORS_STORE_REUSE', 'rateLimit: a store instance must not be shared by two rate limiters; create one store per limiter');
    }
    usedStores.add(s);
    store = adaptStore(s);
    if (s instanceof RateLimiterStore) nativeStore = s;
  } else {
    if (typeof limit === 'function') {
      throw coded(TypeError, 'ERR_QERRORS_LIMIT_FUNCTION', 'rateLimit: a limit function needs a store; the built-in store takes a fixed numeric limit');
    }
    nativeStore = new RateLimiterStore({ limit, windowMs, burst: o.burst, maxKeys: o.maxKeys, ipv6Subnet: undefined });
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
    if (req.headers['x-forwarded-for'] && trust === false) {
      report('xForwardedForHeader', 'ERR_QERRORS_UNEXPECTED_X_FORWARDED_FOR', "rateLimit: the request has an X-Forwarded-For header but Express 'trust proxy' is unset, so every client behind the proxy shares one limit; set app.set('trust proxy', <number of proxies>)");
    }
    const subnet = typeof cfg.ipv6Subnet === 'function' ? await cfg.ipv6Subnet(req, res) : cfg.ipv6Subnet;
    return ipKey(String(ip), subnet);
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
  if (store instanceof RateLimiterStore) {
    // Our own store's misconfiguration (e.g. no numeric limit) is thrown here, at setup.
    store.init(optionsUsed);
  } else if (typeof store.init === 'function') {
    try {
      const r = store.init(optionsUsed);
      if (r && typeof r.then === 'function') r.then(undefined, (e) => logger.error(e));
    } catch (e) {
      logger.error(e);
    }
  }
  const countedRequests = new WeakMap();

  const middleware = async function rateLimitMiddleware(req, res, next) {
    try {
      if (await cfg.skip(req, res)) return next();
      const key = await keyGenerator(req, res);
      let totalHits;
      let resetTime;
      try {
        const r = nativeStore ? nativeStore.incrementSync(key) : await store.increment(key);
        totalHits = r.totalHits;
        resetTime = r.resetTime;
      } catch (err) {
        if (cfg.passOnStoreError) {
          logger.error(err);
          return next();
        }
        throw err;
      }
      if (typeof totalHits !== 'number' || totalHits < 1 || !Number.isInteger(totalHits)) {
        report('positiveHits', 'ERR_QERRORS_INVALID_HITS', `rateLimit: the store returned totalHits ${totalHits}; it must be a positive integer`);
      }
      const seen = countedRequests.get(req) || [];
      if (seen.includes(key)) {
        report('singleCount', 'ERR_QERRORS_DOUBLE_COUNT', `rateLimit: the hit count for ${key} was incremented twice for one request (is the middleware mounted twice?)`);
      }
      countedRequests.set(req, [...seen, key]);
      const reqLimit = typeof cfg.limit === 'function' ? await cfg.limit(req, res) : cfg.limit;
      const info = { limit: reqLimit, used: totalHits, remaining: Math.max(reqLimit - totalHits, 0), resetTime, key };
      req[cfg.requestPropertyName] = info;
      setHeaders(res, info, req, key);
      const limited = totalHits > reqLimit;
      // A request the native limiter refused took nothing, so there is nothing to give back.
      if ((!limited || !nativeStore) && (cfg.skipFailedRequests || cfg.skipSuccessfulRequests)) undoOnOutcome(req, res, key, resetTime);
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

  /** Gives the request back when skipFailedRequests / skipSuccessfulRequests says so. */
  function undoOnOutcome(req, res, key, resetTime) {
    let done = false;
    const undo = async () => {
      if (done) return;
      done = true;
      if (resetTime instanceof Date && Date.now() >= resetTime.getTime()) return;
      try {
        await store.decrement(key);
      } catch (err) {
        logger.error(err);
      }
    };
    const decide = async () => {
      try {
        const ok = await cfg.requestWasSuccessful(req, res);
        if ((ok && cfg.skipSuccessfulRequests) || (!ok && cfg.skipFailedRequests)) await undo();
      } catch (err) {
        logger.error(err);
      }
    };
    res.once('finish', decide);
    if (cfg.skipFailedRequests) {
      res.once('close', () => {
        if (!res.writableEnded) void undo();
      });
      res.once('error', () => void undo());
    }
  }

  middleware.resetKey = (key) => store.resetKey(key);
  middleware.getKey = (key) => {
    if (typeof store.get !== 'function') throw coded(TypeError, 'ERR_QERRORS_STORE_NO_GET', 'rateLimit: this store has no get() method');
    return store.get(key);
  };
  middleware.store = o.store ?? nativeStore;
  return middleware;
}

module.exports = { RateLimiter, RateLimiterStore, rateLimit };
