'use strict';

// Every bad-input error of the native classes and their facades carries an ERR_QERRORS_*
// `code`, napi-rs's own argument-conversion errors included: each public constructor,
// method and option of `qerrors/native` is called with values of every wrong type.
// A call may also accept a value; it may not throw (or reject with) an uncoded error.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const native = require('../native');

const BAD = [undefined, null, true, 0, -1, 1.5, NaN, Infinity, 2 ** 64, '', 'x', {}, [], Symbol('s'), 10n, () => {}, Object.create(null), new Date(NaN), { limit: 'x' }, [1, 'a']];

/** @param {unknown} v */
function show(v) {
  if (typeof v === 'symbol') return 'Symbol()';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'function';
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === null) return 'Object.create(null)';
  return JSON.stringify(v) ?? String(v);
}

// Sites in files other modules own, not yet coded (the report lists them): a failure
// here is allowed, any other is not.
const KNOWN_UNCODED = new Set([
  // src/binding/breaker.rs: napi-rs converts a class-instance argument before the body
  // runs, and its reference conversion needs the generated glue's scope; the facade
  // (lib/native/breaker/circuitBreaker.js) checks `clock instanceof CircuitBreakerFakeClock` first.
  'createCircuitBreakerHandle(options, clock)',
]);

/** @type {Map<string, string[]>} */
const uncoded = new Map();

/**
 * Calls `fn` with every bad value; records throws and rejections without a code.
 * @param {string} site
 * @param {(bad: unknown) => unknown} fn
 */
async function probe(site, fn) {
  for (const bad of BAD) {
    let err;
    try {
      const r = fn(bad);
      if (r && typeof (/** @type {any} */ (r).then) === 'function') await r;
    } catch (e) {
      err = e;
    }
    if (err !== undefined && !(err && /^ERR_QERRORS_/.test(err.code))) {
      if (!uncoded.has(site)) uncoded.set(site, []);
      /** @type {string[]} */ (uncoded.get(site)).push(`${show(bad)}: ${err && err.name}: ${err && err.message}`);
    }
  }
}

test('bad arguments to the native classes and facades throw errors with an ERR_QERRORS_ code', async () => {
  const rl = new native.RateLimiter({ limit: 5, clock: 'manual', sweepIntervalMs: 0 });
  const cache = new native.LruCache({ max: 10 });
  const breaker = new native.CircuitBreaker(async () => 1, 'svc', { failureThreshold: 5, log: false });
  const clock = new native.CircuitBreakerFakeClock();
  try {
    // Rate limiter
    await probe('new RateLimiter(options)', (a) => new native.RateLimiter(a));
    for (const o of ['limit', 'windowMs', 'burst', 'maxKeys', 'sweepIntervalMs', 'ipv6Subnet', 'clock']) {
      await probe(`new RateLimiter({${o}})`, (a) => new native.RateLimiter({ limit: 5, sweepIntervalMs: 0, [o]: a }));
    }
    for (const m of ['check', 'retryAfterMs', 'resetMs', 'remaining', 'reset', 'sweep', 'advanceTime']) await probe(`RateLimiter.${m}`, (a) => rl[m](a));
    for (const m of ['consume', 'penalty', 'reward']) {
      await probe(`RateLimiter.${m}(key)`, (a) => rl[m](a));
      await probe(`RateLimiter.${m}(k, n)`, (a) => rl[m]('k', a));
    }
    await probe('RateLimiter.checkBatch(keys)', (a) => rl.checkBatch(a, new Int32Array(4)));
    await probe('RateLimiter.checkBatch(buf, out)', (a) => rl.checkBatch(Buffer.from('a\nb'), a));
    await probe('new RateLimiterStore(options)', (a) => new native.RateLimiterStore(a));
    await probe('new RateLimiterStore({limit})', (a) => new native.RateLimiterStore({ limit: a }));
    await probe('rateLimit(options)', (a) => native.rateLimit(a));
    for (const o of ['limit', 'windowMs', 'max', 'keyGenerator', 'handler', 'skip', 'store', 'message', 'statusCode', 'standardHeaders', 'legacyHeaders', 'requestPropertyName', 'skipFailedRequests', 'skipSuccessfulRequests']) {
      await probe(`rateLimit({${o}})`, (a) => native.rateLimit({ [o]: a }));
    }
    // LRU cache
    await probe('new LruCache(options)', (a) => new native.LruCache(a));
    for (const o of ['max', 'maxSize', 'size', 'ttl', 'allowStale', 'updateAgeOnGet', 'json', 'fakeClock']) {
      await probe(`new LruCache({${o}})`, (a) => new native.LruCache({ max: 5, [o]: a }));
    }
    for (const m of ['get', 'has', 'peek', 'delete', 'advanceClock', 'purgeStale']) await probe(`LruCache.${m}`, (a) => cache[m](a));
    await probe('LruCache.forEach(fn)', (a) => cache.forEach(a));
    await probe('LruCache.set(key)', (a) => cache.set(a, 1));
    await probe('LruCache.set(k, value)', (a) => cache.set('k', a));
    await probe('LruCache.set(k, v, options)', (a) => cache.set('k', 1, a));
    // Circuit breaker
    await probe('new CircuitBreaker(operation)', (a) => new native.CircuitBreaker(a));
    await probe('new CircuitBreaker(fn, serviceName)', (a) => new native.CircuitBreaker(async () => 1, a, { failureThreshold: 1, log: false }));
    await probe('new CircuitBreaker(fn, s, options)', (a) => new native.CircuitBreaker(async () => 1, 's', a));
    for (const o of ['failureThreshold', 'recoveryTimeoutMs', 'timeout', 'clock', 'log']) {
      await probe(`new CircuitBreaker(fn,s,{${o}})`, (a) => new native.CircuitBreaker(async () => 1, 's', { failureThreshold: 1, log: false, [o]: a }));
    }
    await probe('CircuitBreaker.fallback', (a) => breaker.fallback(a));
    await probe('new CircuitBreakerFakeClock(startMs)', (a) => new native.CircuitBreakerFakeClock(a));
    await probe('CircuitBreakerFakeClock.advance', (a) => clock.advance(a));
    await probe('createCircuitBreakerHandle(options)', (a) => native.createCircuitBreakerHandle(a));
    await probe('createCircuitBreakerHandle(options, clock)', (a) => native.createCircuitBreakerHandle({}, a));
    await probe('createCircuitBreakerHandle({timeoutMs})', (a) => native.createCircuitBreakerHandle({ timeoutMs: a }));
    // JSON
    for (const m of ['parseAsync', 'parseSync', 'stringifyAsync', 'stringifySync', 'configure']) await probe(`json.${m}(input)`, (a) => native.json[m](a));
    for (const m of ['parseAsync', 'parseSync', 'stringifyAsync', 'stringifySync']) await probe(`json.${m}(x, options)`, (a) => native.json[m]('1', a));
    for (const m of ['extractAsync', 'extractSync']) {
      await probe(`json.${m}(input, p)`, (a) => native.json[m](a, '/a'));
      await probe(`json.${m}(x, pointers)`, (a) => native.json[m]('{}', a));
    }
    for (const o of ['maxBytes', 'maxDepth', 'signal']) {
      await probe(`json.parseSync({${o}})`, (a) => native.json.parseSync('1', { [o]: a }));
      await probe(`json.parseAsync({${o}})`, (a) => native.json.parseAsync('1', { [o]: a }));
      await probe(`json.stringifySync({${o}})`, (a) => native.json.stringifySync(1, { [o]: a }));
    }
    for (const o of ['concurrency', 'maxQueue']) await probe(`json.configure({${o}})`, (a) => native.json.configure({ [o]: a }));
    native.json.configure({ concurrency: 2, maxQueue: 1024 });
    // AI pipeline (offline: no provider is called)
    for (const m of ['schedule', 'analyze', 'getAdvice', 'onAdvice', 'configure']) await probe(`aiPipeline.${m}`, (a) => native.aiPipeline[m](a));
    await probe('aiPipeline.schedule(err, context)', (a) => native.aiPipeline.schedule(new Error('probe'), a));
    for (const o of ['provider', 'apiKey', 'url', 'model', 'maxTokens', 'jsonMode', 'timeoutMs', 'connectTimeoutMs', 'retryAttempts', 'retryBaseMs', 'retryMaxMs', 'retryAfterMaxMs', 'concurrency', 'queueLimit', 'cacheLimit', 'cacheTtlMs', 'maxResponseBytes', 'rateLimit', 'breakerThreshold', 'breakerResetMs', 'failureTtlMs', 'redisUrl']) {
      await probe(`aiPipeline.configure({${o}})`, (a) => native.aiPipeline.configure({ [o]: a }));
    }
    native.aiPipeline.configure({});
    // Redis store (options only: nothing connects)
    await probe('redisStore(options)', (a) => native.redisStore(a));
    await probe('new RedisStore(options)', (a) => new native.RedisStore(a));
    for (const o of ['url', 'cluster', 'insurance', 'limit', 'logger', 'maxInFlight', 'prefix', 'probeIntervalMs', 'timeoutMs', 'windowMs']) {
      await probe(`redisStore({${o}})`, (a) => native.redisStore({ url: 'redis://127.0.0.1:1', [o]: a }).close());
    }
    // Metrics
    await probe('trackMetrics(name)', (a) => native.trackMetrics(a));
    await probe('trackMetrics(name, source)', (a) => native.trackMetrics('probe', a));
    await probe('getMetrics(options)', (a) => native.getMetrics(a));
    await probe('toPrometheus(snapshot)', (a) => native.toPrometheus(a));
  } finally {
    rl.close();
    breaker.shutdown();
    await native.aiPipeline.shutdown();
  }
  const unexpected = [...uncoded].filter(([site]) => !KNOWN_UNCODED.has(site));
  assert.deepEqual(
    unexpected.map(([site, cases]) => `${site}: ${cases.join('; ')}`),
    [],
    'bad-input errors without an ERR_QERRORS_ code'
  );
});
