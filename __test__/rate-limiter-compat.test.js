'use strict';

// express-rate-limit v8 behaviours of rateLimit() and RateLimiterStore that its own suite
// checks (docs/compatibility.md): the `js` clock under fake time, req.rateLimit.current,
// hits given back when a response closes early, passOnStoreError, store init errors, a
// store without a limit, limit functions on the built-in store, limit 0, ipKeyGenerator.

const test = require('node:test');
const assert = require('node:assert/strict');
const { fullGc } = require('./helpers/gc');
const http = require('node:http');
const express = require('express');
const { rateLimit, RateLimiterStore, RateLimiter, ipKeyGenerator } = require('../native');

async function serve(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** Replaces Date.now with a clock the test moves; returns { advance, restore }. */
function fakeDateNow(start = 1_700_000_000_000) {
  const real = Date.now;
  let now = start;
  Date.now = () => now;
  return {
    advance: (ms) => (now += ms),
    set: (t) => (now = t),
    restore: () => (Date.now = real),
  };
}

function recordingLogger() {
  const calls = [];
  return { calls, error: (...a) => calls.push(a), warn: (...a) => calls.push(a) };
}

test("clock 'js' follows Date.now(), so fake time refills the bucket; backwards is ignored", () => {
  const clock = fakeDateNow();
  try {
    const l = new RateLimiter({ limit: 1, windowMs: 50, clock: 'js', sweepIntervalMs: 0 });
    assert.equal(l.clock, 'js');
    assert.equal(l.check('k'), 0);
    assert.equal(l.check('k'), -1);
    assert.equal(l.retryAfterMs('k'), 50);
    clock.advance(60);
    assert.equal(l.check('k'), 0, 'refilled after 60 fake ms');
    clock.advance(-1000);
    assert.equal(l.check('k'), -1, 'time going back does not refill');
    assert.throws(() => l.advanceTime(1), { code: 'ERR_QERRORS_NO_MANUAL_CLOCK' });
  } finally {
    clock.restore();
  }
});

test('QERRORS_LIMITER_CLOCK sets the clock of limiters created without one', () => {
  const saved = process.env.QERRORS_LIMITER_CLOCK;
  const clock = fakeDateNow();
  try {
    process.env.QERRORS_LIMITER_CLOCK = 'js';
    const store = new RateLimiterStore({ sweepIntervalMs: 0 });
    store.init({ windowMs: 50, limit: 1 });
    assert.equal(store.limiter.clock, 'js');
    assert.equal(store.incrementSync('k').totalHits, 1);
    assert.equal(store.incrementSync('k').totalHits, 2, 'limited: limit + 1');
    clock.advance(60);
    assert.equal(store.incrementSync('k').totalHits, 1);
    assert.equal(new RateLimiter({ limit: 1, clock: 'precise', sweepIntervalMs: 0 }).clock, 'precise', 'an explicit clock wins');
    process.env.QERRORS_LIMITER_CLOCK = 'manual';
    // An invalid value warns once (lib/policy/config.js) and the default clock is used.
    assert.equal(new RateLimiter({ limit: 1, sweepIntervalMs: 0 }).clock, 'coarse');
    delete process.env.QERRORS_LIMITER_CLOCK;
    assert.equal(new RateLimiter({ limit: 1, sweepIntervalMs: 0 }).clock, 'coarse');
  } finally {
    clock.restore();
    if (saved === undefined) delete process.env.QERRORS_LIMITER_CLOCK;
    else process.env.QERRORS_LIMITER_CLOCK = saved;
  }
  assert.throws(() => new RateLimiter({ limit: 1, clock: 'sundial' }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_OPTION' });
});

test('a store without a limit takes rateLimit() defaults (5 per 60000 ms), before or after init', async () => {
  const early = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 });
  assert.equal((await early.increment('k')).totalHits, 1, 'used before init()');
  assert.equal(early.limiter.limit, 5);
  const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 });
  store.init({ windowMs: 1000 });
  assert.equal(store.limiter.limit, 5);
  assert.equal(store.limiter.windowMs, 1000);
  for (let i = 1; i <= 5; i++) assert.equal((await store.increment('k')).totalHits, i);
  assert.equal((await store.increment('k')).totalHits, 6, 'limited');
  store.init({ windowMs: 1000, limit: 2 });
  assert.equal(store.limiter.limit, 2, 'init() again starts afresh');
  assert.equal((await store.increment('k')).totalHits, 1);
});

test('req.rateLimit.current equals used and is hidden from iteration and JSON', async () => {
  const app = express();
  app.use(rateLimit({ limit: 3, store: new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 }) }));
  app.get('/', (req, res) => res.json({ current: req.rateLimit.current, keys: Object.keys(req.rateLimit), json: req.rateLimit }));
  const { base, close } = await serve(app);
  try {
    await fetch(base);
    const body = await (await fetch(base)).json();
    assert.equal(body.current, 2);
    assert.deepEqual(body.keys, ['limit', 'used', 'remaining', 'resetTime', 'key']);
    assert.equal(body.json.current, undefined);
  } finally {
    await close();
  }
});

test('skipFailedRequests gives the hit back when the response closes while the store is still answering', async () => {
  const hits = new Map();
  const decremented = [];
  let release;
  const gate = new Promise((r) => (release = r));
  const store = {
    async increment(key) {
      await gate; // the client has gone by the time the store answers
      const n = (hits.get(key) || 0) + 1;
      hits.set(key, n);
      return { totalHits: n, resetTime: new Date(Date.now() + 60000) };
    },
    async decrement(key) {
      decremented.push(key);
      hits.set(key, hits.get(key) - 1);
    },
    async resetKey(key) {
      hits.delete(key);
    },
  };
  const app = express();
  app.use(rateLimit({ limit: 5, store, skipFailedRequests: true, keyGenerator: () => 'k' }));
  app.get('/', (_req, res) => setTimeout(() => res.send('late'), 50));
  const { base, close } = await serve(app);
  try {
    await new Promise((resolve) => {
      const req = http.get(base);
      req.on('error', () => {}); // the abort below
      setTimeout(() => {
        req.destroy();
        setTimeout(() => {
          release();
          setTimeout(resolve, 100);
        }, 30);
      }, 30);
    });
    assert.deepEqual(decremented, ['k']);
    assert.equal(hits.get('k'), 0);
  } finally {
    await close();
  }
});

test('passOnStoreError: the request passes, next() has run when the middleware settles, the log says so', async () => {
  const logger = recordingLogger();
  const failure = new Error('store down');
  const store = { increment: async () => Promise.reject(failure), decrement: async () => {}, resetKey: async () => {} };
  const mw = rateLimit({ store, passOnStoreError: true, logger, validate: false });
  let nextCalls = 0;
  await mw({ ip: '1.2.3.4', headers: {} }, {}, () => nextCalls++);
  assert.equal(nextCalls, 1);
  assert.equal(logger.calls.length, 1);
  assert.equal(logger.calls[0][0], failure);
  assert.match(logger.calls[0][1], /allowing request without rate-limiting/);
  // Without passOnStoreError the error reaches next(err).
  const strict = rateLimit({ store: { ...store }, logger, validate: false });
  let got;
  await strict({ ip: '1.2.3.4', headers: {} }, {}, (err) => (got = err));
  assert.equal(got, failure);
});

test('store init() failures are logged with the store initialization message, sync and async', async () => {
  const logger = recordingLogger();
  const base = { increment: async () => ({ totalHits: 1 }), decrement: async () => {}, resetKey: async () => {} };
  const syncErr = new Error('sync init');
  rateLimit({ store: { ...base, init: () => { throw syncErr; } }, logger });
  assert.deepEqual(logger.calls[0], [syncErr, 'express-rate-limit: error during store initialization.']);
  const asyncErr = new Error('async init');
  rateLimit({ store: { ...base, init: () => Promise.reject(asyncErr) }, logger });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(logger.calls[1], [asyncErr, 'express-rate-limit: async error during store initialization.']);
});

test('the default logger prints the message before the error', async () => {
  const printed = [];
  const saved = console.error;
  console.error = (...a) => printed.push(a);
  try {
    const failure = new Error('boom');
    const mw = rateLimit({ store: { increment: async () => Promise.reject(failure), decrement: async () => {}, resetKey: async () => {} }, passOnStoreError: true, validate: false });
    await mw({ ip: '1.2.3.4', headers: {} }, {}, () => {});
    assert.equal(printed.length, 1);
    assert.match(printed[0][0], /allowing/);
    assert.equal(printed[0][1], failure);
  } finally {
    console.error = saved;
  }
});

test('a limit function runs on the built-in store: each request is measured against its own limit', async () => {
  const app = express();
  const limits = { a: 2, b: 3 };
  const mw = rateLimit({ windowMs: 60000, limit: (req) => limits[req.get('x-user')], keyGenerator: (req) => req.get('x-user') });
  app.use(mw);
  app.get('/', (req, res) => res.json(req.rateLimit));
  const { base, close } = await serve(app);
  const get = (user) => fetch(base, { headers: { 'x-user': user } });
  try {
    const a = [];
    for (let i = 0; i < 3; i++) a.push((await get('a')).status);
    assert.deepEqual(a, [200, 200, 429]);
    const b = [];
    for (let i = 0; i < 4; i++) b.push(await get('b'));
    assert.deepEqual(b.map((r) => r.status), [200, 200, 200, 429]);
    assert.deepEqual((await b[1].json()).used, 2);
    assert.equal(b[3].headers.get('x-ratelimit-limit'), '3');
    // The fixed window counts hits; the middleware counts its own decisions for the metrics.
    assert.deepEqual([mw.stats().allowed, mw.stats().limited, mw.stats().keys], [5, 2, 2]);
    // A bad value from the function is an error of the request, not a silent pass.
    limits.a = -1;
    assert.equal((await get('a')).status, 500);
  } finally {
    await close();
  }
});

test('a store with its own limit keeps it under a limit function; a foreign middleware cannot give it one', () => {
  const own = new RateLimiterStore({ limit: 4, clock: 'manual', sweepIntervalMs: 0 });
  rateLimit({ limit: () => 4, store: own });
  assert.equal(own.limiter.limit, 4);
  const bare = new RateLimiterStore({ sweepIntervalMs: 0, algorithm: 'gcra' });
  assert.throws(() => bare.init({ windowMs: 1000, limit: () => 5 }), { name: 'TypeError', code: 'ERR_QERRORS_STORE_NEEDS_LIMIT' });
  const served = new RateLimiterStore({ sweepIntervalMs: 0, algorithm: 'gcra' });
  rateLimit({ limit: () => 5, store: served });
  assert.rejects(served.increment('k'), { code: 'ERR_QERRORS_STORE_PER_REQUEST_LIMIT' });
});

test('limit 0 refuses every request', async () => {
  const app = express();
  app.use(rateLimit({ limit: 0 }));
  app.get('/', (_req, res) => res.send('ok'));
  const { base, close } = await serve(app);
  try {
    const r = await fetch(base);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('x-ratelimit-limit'), '0');
    assert.equal(r.headers.get('retry-after'), '60');
  } finally {
    await close();
  }
});

test('ipKeyGenerator: IPv4 as is, IPv4-mapped as IPv4, IPv6 as its subnet in RFC 5952 text', () => {
  assert.equal(ipKeyGenerator('1.2.3.4'), '1.2.3.4');
  assert.equal(ipKeyGenerator('::ffff:102:304'), '1.2.3.4');
  assert.equal(ipKeyGenerator('::1.2.3.4', false), '1.2.3.4');
  assert.equal(ipKeyGenerator('::1'), '::/56');
  assert.equal(ipKeyGenerator('2001:db8:1234:5678::1.2.3.4'), '2001:db8:1234:5600::/56');
  assert.equal(ipKeyGenerator('0123:4567:89ab:cdef:0123:4567:89ab:cdef', 63), '123:4567:89ab:cdee::/63');
  assert.equal(ipKeyGenerator('2001:0:0:1:0:0:0:1', 128), '2001:0:0:1::1/128');
  assert.equal(ipKeyGenerator('2001:db8::1', false), '2001:db8::1');
  assert.throws(() => ipKeyGenerator('2001:db8::1', 0), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_IPV6_SUBNET' });
});

test('a limit function on the native store: a burst of exactly l requests for l up to 3162, slightly more above', async () => {
  const burstOf = async (l) => {
    const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 });
    const mw = rateLimit({ limit: () => l, store, keyGenerator: () => 'k', validate: false, legacyHeaders: false, handler: () => {} });
    let allowed = 0;
    const res = { headersSent: false, setHeader() {} };
    for (let i = 0; i < l + 20; i++) await mw({}, res, () => allowed++);
    return allowed;
  };
  for (const l of [1, 2, 7, 100, 999, 3162]) assert.equal(await burstOf(l), l, `limit ${l}`);
  const big = await burstOf(10000);
  assert.ok(big >= 10000 && big <= 10010, `limit 10000 gave ${big}`);
});

test('RateLimiterStore.init({ limit: 0 }): express-rate-limit refuses every hit (totalHits 1 > 0)', async () => {
  const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 });
  store.init({ windowMs: 1000, limit: 0 });
  assert.equal((await store.increment('k')).totalHits, 1);
});

test('two middlewares with one identifier are tracked apart', () => {
  const { trackedLimiterStats } = require('../lib/native/limiter');
  const a = rateLimit({ limit: 1, identifier: 'twice' });
  const b = rateLimit({ limit: 1, identifier: 'twice' });
  const names = trackedLimiterStats().map(([n]) => n).filter((n) => n.startsWith('rateLimit.twice'));
  assert.equal(names.length, 2, names.join());
  assert.ok(a.stats() && b.stats());
});

test('a middleware that is dropped leaves the metrics', async () => {
  const { trackedLimiterStats } = require('../lib/native/limiter');
  (() => rateLimit({ limit: 1, identifier: 'dropped' }))();
  assert.ok(trackedLimiterStats().some(([n]) => n === 'rateLimit.dropped'));
  for (let i = 0; i < 5 && trackedLimiterStats().some(([n]) => n === 'rateLimit.dropped'); i++) {
    await new Promise((r) => setImmediate(r));
    fullGc();
  }
  assert.ok(!trackedLimiterStats().some(([n]) => n === 'rateLimit.dropped'));
});
