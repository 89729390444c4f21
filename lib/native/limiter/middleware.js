'use strict';

// `rateLimit()`: Express middleware with express-rate-limit v8's options and headers,
// deciding in the native store by default or in any compatible store.

const { codedError, shown } = require('../../policy/errors');
const { RateLimiterStore, kPerRequest, kIncrementFor, kDecrementFor } = require('./store');
const { ipKeyGenerator } = require('./ip');
const { setHeaders, resetSeconds, defaultIdentifier } = require('./headers');
const { track } = require('./tracking');
const { DEFAULT_LIMIT, DEFAULT_WINDOW_MS, UNITS, rejectUnknownOptions, validLimit } = require('./options');

const MIDDLEWARE_OPTIONS = new Set([
  'windowMs', 'limit', 'max', 'burst', 'maxKeys', 'algorithm', 'message', 'statusCode', 'legacyHeaders', 'headers',
  'standardHeaders', 'identifier', 'retryAfter', 'requestPropertyName', 'skipFailedRequests',
  'skipSuccessfulRequests', 'requestWasSuccessful', 'keyGenerator', 'ipv6Subnet', 'handler', 'skip',
  'store', 'validate', 'passOnStoreError', 'logger',
]);
const DRAFTS = new Set(['draft-6', 'draft-7', 'draft-8']);
// express-rate-limit's validation names, so `validate: { name: false }` turns off the same checks.
const VALIDATIONS = ['ip', 'trustProxy', 'xForwardedForHeader', 'positiveHits', 'singleCount', 'headersDraftVersion', 'ipv6Subnet'];
const usedStores = new WeakSet();

/** @param {unknown} n @returns {boolean} whether `n` is an `ipv6Subnet` value (false or 1-128) */
function validSubnet(n) {
  return n === false || (Number.isInteger(n) && /** @type {number} */ (n) >= 1 && /** @type {number} */ (n) <= 128);
}

/**
 * A misconfiguration reported once through the logger rather than thrown: found while
 * serving requests, or an option express-rate-limit also logs and ignores at setup.
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
  const logger = o.logger ?? consoleLogger;
  if (logger === null || typeof logger !== 'object' || typeof logger.error !== 'function' || typeof logger.warn !== 'function') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit: logger must have error() and warn() methods');
  }

  // Each validation reports at most once per middleware, like express-rate-limit.
  const enabled = {};
  const v = o.validate ?? true;
  for (const name of VALIDATIONS) enabled[name] = typeof v === 'boolean' ? v : (v[name] ?? v.default ?? true);
  const report = (name, code, message) => {
    if (!enabled[name]) return;
    enabled[name] = false;
    logger.error(new RateLimitValidationError(code, message));
  };

  // An unsupported draft or subnet is logged at once and replaced by the default, as
  // express-rate-limit does, so a service moving from it starts with the same options.
  let standardHeaders = o.standardHeaders ?? false;
  if (standardHeaders === true) standardHeaders = 'draft-6';
  if (standardHeaders !== false && !DRAFTS.has(standardHeaders)) {
    report('headersDraftVersion', 'ERR_QERRORS_HEADERS_DRAFT', `rateLimit: standardHeaders must be false, true, 'draft-6', 'draft-7' or 'draft-8', got ${shown(standardHeaders)}; sending no standard headers`);
    standardHeaders = false;
  }
  for (const name of ['keyGenerator', 'handler', 'skip', 'requestWasSuccessful']) {
    if (o[name] !== undefined && typeof o[name] !== 'function') {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', `rateLimit: ${name} must be a function`);
    }
  }
  let ipv6Subnet = o.ipv6Subnet ?? 56;
  if (typeof ipv6Subnet !== 'function' && !validSubnet(ipv6Subnet)) {
    report('ipv6Subnet', 'ERR_QERRORS_INVALID_IPV6_SUBNET', `rateLimit: ipv6Subnet must be false or an integer from 1 to 128, got ${shown(ipv6Subnet)}; using 56`);
    ipv6Subnet = 56;
  }

  let store;
  let nativeStore;
  if (o.store !== undefined) {
    if (o.burst !== undefined || o.maxKeys !== undefined || o.algorithm !== undefined) {
      throw codedError(TypeError, 'ERR_QERRORS_INVALID_OPTION', 'rateLimit: burst, maxKeys and algorithm configure the built-in store; set them on your store instead');
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
    nativeStore = new RateLimiterStore({ burst: o.burst, maxKeys: o.maxKeys, algorithm: o.algorithm });
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
    let subnet = cfg.ipv6Subnet;
    if (typeof subnet === 'function') {
      subnet = await subnet(req, res);
      if (!validSubnet(subnet)) {
        report('ipv6Subnet', 'ERR_QERRORS_INVALID_IPV6_SUBNET', `rateLimit: the ipv6Subnet function returned ${shown(subnet)}; it must return false or an integer from 1 to 128; using 56`);
        subnet = 56;
      }
    }
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
  // Requests counted by a store that keeps no stats of its own, or by a fixed-window
  // store whose native limit is not the one each request is measured against.
  const ownCounts = nativeStore === undefined || (perRequest && nativeStore.algorithm === 'fixed-window');
  const counts = ownCounts ? { allowed: 0, limited: 0 } : undefined;
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
      setHeaders(res, info, cfg, () => (typeof cfg.identifier === 'function' ? cfg.identifier(req, res) : cfg.identifier), key);
      const limited = totalHits > reqLimit;
      if (counts !== undefined) counts[limited ? 'limited' : 'allowed'] += 1;
      // A request the native GCRA limiter refused took nothing, so there is nothing to give
      // back; a fixed window counted it.
      if (outcome !== undefined && (!limited || nativeStore === undefined || nativeStore.algorithm !== 'gcra')) {
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

  const source = {
    stats: () => {
      if (counts === undefined) return nativeStore.stats();
      return nativeStore === undefined ? { ...counts } : { ...nativeStore.stats(), ...counts };
    },
  };
  // The stats source lives as long as the middleware does.
  middleware.stats = () => source.stats();
  track(middleware, o.identifier);
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

module.exports = { rateLimit };
