'use strict';

// Our rateLimit() middleware on real Express servers on 127.0.0.1: headers per draft,
// 429 + Retry-After, handler/skip/keyGenerator, any store (sync, async, legacy, failing),
// misconfiguration reports, and setup errors.

const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const express5 = require('express5');
const erl = require('express-rate-limit');
const { rateLimit, RateLimiterStore } = require('../native');

async function serve(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((r) => server.close(r)) };
}

function recordingLogger() {
  const errors = [];
  return { errors, error: (e) => errors.push(e), warn: (e) => errors.push(e) };
}

/** An app with `mw` on GET / (and /fail answering 500), serving until `fn` returns. */
async function withApp(mw, fn, { framework = express, setup } = {}) {
  const app = framework();
  if (setup) setup(app);
  app.use(mw);
  app.get('/', (req, res) => res.json(req.rateLimit ?? req.custom ?? null));
  app.get('/fail', (_req, res) => res.status(500).send('fail'));
  app.use((err, _req, res, _next) => res.status(500).json({ code: err.code, message: err.message }));
  const { base, close } = await serve(app);
  try {
    await fn(base);
  } finally {
    await close();
  }
}

const manualStore = (opts = {}) => new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0, ...opts });

test('built-in store: 200, 200, 429 with draft-7 + legacy headers and Retry-After', async () => {
  const store = manualStore({ algorithm: 'gcra' });
  const mw = rateLimit({ windowMs: 60000, limit: 2, standardHeaders: 'draft-7', store });
  await withApp(mw, async (base) => {
    const r1 = await fetch(base);
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('ratelimit-policy'), '2;w=60');
    assert.equal(r1.headers.get('ratelimit'), 'limit=2, remaining=1, reset=30');
    assert.equal(r1.headers.get('x-ratelimit-limit'), '2');
    assert.equal(r1.headers.get('x-ratelimit-remaining'), '1');
    assert.match(r1.headers.get('x-ratelimit-reset'), /^\d{10}$/);
    assert.equal(r1.headers.get('retry-after'), null);
    const body = await r1.json();
    assert.equal(body.limit, 2);
    assert.equal(body.used, 1);
    assert.equal(body.remaining, 1);
    assert.match(body.key, /127\.0\.0\.1$/);
    assert.equal((await fetch(base)).headers.get('ratelimit'), 'limit=2, remaining=0, reset=60');
    const r3 = await fetch(base);
    assert.equal(r3.status, 429);
    assert.equal(await r3.text(), 'Too many requests, please try again later.');
    assert.equal(r3.headers.get('retry-after'), '30');
    assert.equal(r3.headers.get('ratelimit'), 'limit=2, remaining=0, reset=30');
    store.limiter.advanceTime(29999);
    assert.equal((await fetch(base)).status, 429);
    store.limiter.advanceTime(1);
    assert.equal((await fetch(base)).status, 200);
  });
});

test('the default algorithm is a fixed window: every hit counts until the window ends, headers as express-rate-limit', async () => {
  const store = manualStore();
  assert.equal(store.algorithm, 'fixed-window');
  const mw = rateLimit({ windowMs: 60000, limit: 2, standardHeaders: 'draft-7', store });
  await withApp(mw, async (base) => {
    const r1 = await fetch(base);
    assert.equal(r1.headers.get('ratelimit'), 'limit=2, remaining=1, reset=60');
    store.limiter.advanceTime(20000);
    assert.equal((await fetch(base)).headers.get('ratelimit'), 'limit=2, remaining=0, reset=40');
    const r3 = await fetch(base);
    assert.equal(r3.status, 429);
    assert.equal(r3.headers.get('retry-after'), '40');
    assert.equal((await store.get('127.0.0.1')).totalHits, 3, 'the refused hit counted too');
    store.limiter.advanceTime(39999);
    assert.equal((await fetch(base)).status, 429, 'no refill inside the window');
    store.limiter.advanceTime(1);
    const fresh = await fetch(base);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get('ratelimit'), 'limit=2, remaining=1, reset=60', 'a new window');
  });
});

test('the default store uses the real clock and the same headers', async () => {
  const mw = rateLimit({ windowMs: 60000, limit: 1, standardHeaders: 'draft-7', legacyHeaders: false });
  await withApp(mw, async (base) => {
    const r1 = await fetch(base);
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('ratelimit'), 'limit=1, remaining=0, reset=60');
    assert.equal(r1.headers.get('x-ratelimit-limit'), null, 'legacyHeaders: false');
    const r2 = await fetch(base);
    assert.equal(r2.status, 429);
    assert.equal(r2.headers.get('retry-after'), '60');
    assert.ok(mw.store instanceof RateLimiterStore);
    assert.equal(mw.store.limiter.stats().limited, 1);
  });
});

test('draft-8 headers match express-rate-limit for the same key and limit', async () => {
  const ours = rateLimit({ windowMs: 60000, limit: 3, standardHeaders: 'draft-8', legacyHeaders: false, store: manualStore() });
  const gcra = rateLimit({ windowMs: 60000, limit: 3, standardHeaders: 'draft-8', legacyHeaders: false, store: manualStore({ algorithm: 'gcra' }) });
  const theirs = erl.rateLimit({ windowMs: 60000, limit: 3, standardHeaders: 'draft-8', legacyHeaders: false });
  const app = express();
  app.get('/ours', ours, (_req, res) => res.send('ok'));
  app.get('/theirs', theirs, (_req, res) => res.send('ok'));
  app.get('/gcra', gcra, (_req, res) => res.send('ok'));
  const { base, close } = await serve(app);
  try {
    const a = await fetch(`${base}/ours`);
    const b = await fetch(`${base}/theirs`);
    assert.equal(a.headers.get('ratelimit-policy'), b.headers.get('ratelimit-policy'));
    assert.equal(a.headers.get('ratelimit-policy'), b.headers.get('ratelimit-policy'));
    assert.match(a.headers.get('ratelimit-policy'), /^"3-in-1min"; q=3; w=60; pk=:[A-Za-z0-9+/=]+:$/);
    assert.equal(a.headers.get('ratelimit'), '"3-in-1min"; r=2; t=60');
    assert.equal(b.headers.get('ratelimit'), '"3-in-1min"; r=2; t=60');
    // GCRA refills one request every 20 s, so "t" is when the quota is full again.
    assert.equal((await fetch(`${base}/gcra`)).headers.get('ratelimit'), '"3-in-1min"; r=2; t=20');
  } finally {
    await close();
  }
});

test('draft-6 headers (standardHeaders: true)', async () => {
  const mw = rateLimit({ windowMs: 10000, limit: 5, standardHeaders: true, legacyHeaders: false, store: manualStore({ algorithm: 'gcra' }) });
  await withApp(mw, async (base) => {
    const r = await fetch(base);
    assert.equal(r.headers.get('ratelimit-policy'), '5;w=10');
    assert.equal(r.headers.get('ratelimit-limit'), '5');
    assert.equal(r.headers.get('ratelimit-remaining'), '4');
    assert.equal(r.headers.get('ratelimit-reset'), '2');
    assert.equal(r.headers.get('ratelimit'), null);
  });
});

test('handler, message, statusCode, skip, keyGenerator, requestPropertyName, retryAfter', async () => {
  const seen = [];
  const mw = rateLimit({
    limit: 1,
    store: manualStore(),
    keyGenerator: async (req) => req.headers['x-user'] || 'anon',
    skip: (req) => req.headers['x-skip'] === '1',
    requestPropertyName: 'custom',
    statusCode: 503,
    message: async () => ({ error: 'slow down' }),
    retryAfter: 7,
  });
  await withApp(mw, async (base) => {
    assert.equal((await fetch(base, { headers: { 'x-user': 'u1' } })).status, 200);
    const r = await fetch(base, { headers: { 'x-user': 'u1' } });
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), { error: 'slow down' });
    assert.equal(r.headers.get('retry-after'), '7');
    assert.equal((await fetch(base, { headers: { 'x-user': 'u2' } })).status, 200, 'another key');
    assert.equal((await fetch(base, { headers: { 'x-user': 'u1', 'x-skip': '1' } })).status, 200, 'skipped');
    const info = await (await fetch(base, { headers: { 'x-user': 'u3' } })).json();
    assert.equal(info.key, 'u3');
  });
  const custom = rateLimit({
    limit: 1,
    store: manualStore(),
    handler: (req, res, _next, options) => {
      seen.push(options.limit);
      res.status(418).send(`no ${req.rateLimit.used}`);
    },
  });
  await withApp(custom, async (base) => {
    await fetch(base);
    const r = await fetch(base);
    assert.equal(r.status, 418);
    assert.equal(await r.text(), 'no 2');
    assert.deepEqual(seen, [1]);
  });
});

test('any express-rate-limit store works: its MemoryStore, a slow async store, a legacy callback store', async () => {
  const memory = new erl.MemoryStore();
  await withApp(rateLimit({ limit: 2, windowMs: 60000, store: memory, standardHeaders: 'draft-7' }), async (base) => {
    assert.equal((await fetch(base)).headers.get('ratelimit'), 'limit=2, remaining=1, reset=60');
    assert.equal((await fetch(base)).status, 200);
    const r = await fetch(base);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '60');
  });
  memory.shutdown();

  const calls = [];
  const counts = new Map();
  const later = (v) => new Promise((r) => setTimeout(() => r(v), 5));
  const slow = {
    init: async (o) => calls.push(['init', o.windowMs, o.limit]),
    increment: async (k) => {
      calls.push(['increment', k]);
      counts.set(k, (counts.get(k) || 0) + 1);
      return later({ totalHits: counts.get(k), resetTime: new Date(Date.now() + 5000) });
    },
    decrement: async (k) => {
      calls.push(['decrement', k]);
      counts.set(k, counts.get(k) - 1);
    },
    resetKey: async (k) => counts.delete(k),
    get: async (k) => later(counts.has(k) ? { totalHits: counts.get(k), resetTime: undefined } : undefined),
  };
  const mw = rateLimit({ limit: 1, windowMs: 5000, store: slow, keyGenerator: () => 'k', skipFailedRequests: true });
  await withApp(mw, async (base) => {
    assert.equal((await fetch(`${base}/fail`)).status, 500);
    await new Promise((r) => setImmediate(r));
    assert.equal((await fetch(base)).status, 200, 'the failed request was given back');
    const r = await fetch(base);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '5');
    await new Promise((r) => setImmediate(r));
    // Like express-rate-limit, the refused (429) request counts as failed and is given back.
    assert.deepEqual(await mw.getKey('k'), { totalHits: 1, resetTime: undefined });
    await mw.resetKey('k');
    assert.equal((await fetch(base)).status, 200);
  });
  assert.deepEqual(calls[0], ['init', 5000, 1]);
  assert.ok(calls.some((c) => c[0] === 'decrement'));

  const legacyCounts = new Map();
  const legacy = {
    incr(key, cb) {
      legacyCounts.set(key, (legacyCounts.get(key) || 0) + 1);
      setImmediate(() => cb(undefined, legacyCounts.get(key), new Date(Date.now() + 1000)));
    },
    decrement() {},
    resetKey() {},
  };
  await withApp(rateLimit({ limit: 1, store: legacy }), async (base) => {
    assert.equal((await fetch(base)).status, 200);
    assert.equal((await fetch(base)).status, 429);
  });
});

test('a failing store: error to next(), or allowed with passOnStoreError', async () => {
  const failing = () => ({
    increment: async () => {
      throw Object.assign(new Error('store down'), { code: 'STORE_DOWN' });
    },
    decrement: async () => {},
    resetKey: async () => {},
  });
  await withApp(rateLimit({ store: failing() }), async (base) => {
    const r = await fetch(base);
    assert.equal(r.status, 500);
    assert.equal((await r.json()).code, 'STORE_DOWN');
  });
  const logger = recordingLogger();
  await withApp(rateLimit({ store: failing(), passOnStoreError: true, logger }), async (base) => {
    assert.equal((await fetch(base)).status, 200);
    assert.equal(logger.errors[0].code, 'STORE_DOWN');
  });
});

test('X-Forwarded-For with trust proxy unset is reported once with ERR_QERRORS_UNEXPECTED_X_FORWARDED_FOR', async () => {
  const logger = recordingLogger();
  await withApp(rateLimit({ limit: 10, store: manualStore(), logger }), async (base) => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(base, { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      assert.equal(r.status, 200, 'requests are still served');
    }
  });
  assert.equal(logger.errors.length, 1);
  assert.equal(logger.errors[0].code, 'ERR_QERRORS_UNEXPECTED_X_FORWARDED_FOR');
  assert.match(logger.errors[0].message, /trust proxy/);

  const permissive = recordingLogger();
  await withApp(
    rateLimit({ limit: 10, store: manualStore(), logger: permissive }),
    async (base) => {
      await fetch(base, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    },
    { setup: (app) => app.set('trust proxy', true) }
  );
  assert.deepEqual(permissive.errors.map((e) => e.code), ['ERR_QERRORS_PERMISSIVE_TRUST_PROXY']);

  const off = recordingLogger();
  await withApp(rateLimit({ limit: 10, store: manualStore(), logger: off, validate: { xForwardedForHeader: false } }), async (base) => {
    await fetch(base, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  });
  assert.deepEqual(off.errors, [], 'validate can turn a check off');
});

test('IPv6 clients are grouped by /56 by default (ipv6Subnet), IPv4-mapped as IPv4', async () => {
  const logger = recordingLogger();
  const mw = rateLimit({ limit: 1, store: manualStore(), logger });
  const get = (base, ip) => fetch(base, { headers: { 'x-forwarded-for': ip } });
  await withApp(
    mw,
    async (base) => {
      assert.equal((await get(base, '2001:db8:1:2::1')).status, 200);
      assert.equal((await get(base, '2001:db8:1:3:aaaa::9')).status, 429, 'same /56');
      const other = await get(base, '2001:db8:1:100::1');
      assert.equal(other.status, 200, 'another /56');
      assert.equal((await other.json()).key, '2001:db8:1:100::/56');
      assert.equal((await get(base, '198.51.100.7')).status, 200);
      assert.equal((await get(base, '::ffff:198.51.100.7')).status, 429, 'IPv4-mapped is the IPv4 client');
    },
    { setup: (app) => app.set('trust proxy', 1) }
  );
  const exact = rateLimit({ limit: 1, store: manualStore(), ipv6Subnet: false });
  await withApp(
    exact,
    async (base) => {
      assert.equal((await get(base, '2001:db8:1:2::1')).status, 200);
      assert.equal((await get(base, '2001:db8:1:2::2')).status, 200, 'no grouping');
    },
    { setup: (app) => app.set('trust proxy', 1) }
  );
  assert.deepEqual(logger.errors, []);
});

test("an unsupported standardHeaders or ipv6Subnet is logged once with its code and replaced by the default, as express-rate-limit does", async () => {
  const logger = recordingLogger();
  const mw = rateLimit({ limit: 1, store: manualStore(), standardHeaders: 'draft-9', ipv6Subnet: 48.5, logger });
  assert.deepEqual(
    logger.errors.map((e) => [e.name, e.code]),
    [
      ['RateLimitValidationError', 'ERR_QERRORS_HEADERS_DRAFT'],
      ['RateLimitValidationError', 'ERR_QERRORS_INVALID_IPV6_SUBNET'],
    ],
    'logged at setup, before any request'
  );
  assert.match(logger.errors[0].message, /draft-9.*sending no standard headers/);
  assert.match(logger.errors[1].message, /48\.5.*using 56/);
  const get = (base, ip) => fetch(base, { headers: { 'x-forwarded-for': ip } });
  await withApp(
    mw,
    async (base) => {
      const r = await get(base, '2001:db8:1:2::1');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit'), null, 'no standard headers');
      assert.equal(r.headers.get('ratelimit-policy'), null);
      assert.equal(r.headers.get('x-ratelimit-limit'), '1', 'legacy headers as configured');
      assert.equal((await get(base, '2001:db8:1:3::1')).status, 429, 'grouped by the default /56');
    },
    { setup: (app) => app.set('trust proxy', 1) }
  );
  assert.equal(logger.errors.length, 2, 'nothing more on requests');

  const quiet = recordingLogger();
  rateLimit({ store: manualStore(), standardHeaders: 'draft-9', ipv6Subnet: 200, logger: quiet, validate: { headersDraftVersion: false, ipv6Subnet: false } });
  assert.deepEqual(quiet.errors, [], 'validate turns each report off');

  const perRequest = recordingLogger();
  await withApp(
    rateLimit({ limit: 1, store: manualStore(), ipv6Subnet: () => 0, logger: perRequest }),
    async (base) => {
      assert.equal((await get(base, '2001:db8:1:2::1')).status, 200);
      assert.equal((await get(base, '2001:db8:1:3::1')).status, 429, 'the function\'s bad answer is replaced by /56');
    },
    { setup: (app) => app.set('trust proxy', 1) }
  );
  assert.deepEqual(perRequest.errors.map((e) => e.code), ['ERR_QERRORS_INVALID_IPV6_SUBNET'], 'reported once');
});

test('works on Express 5', async () => {
  await withApp(
    rateLimit({ limit: 1, store: manualStore(), standardHeaders: 'draft-7' }),
    async (base) => {
      assert.equal((await fetch(base)).status, 200);
      const r = await fetch(base);
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '60');
    },
    { framework: express5 }
  );
});

test('setup errors are thrown at once with named codes', () => {
  const bad = (opts, name, code) => assert.throws(() => rateLimit(opts), { name, code });
  bad({ limt: 5 }, 'TypeError', 'ERR_QERRORS_UNKNOWN_OPTION');
  bad({ limit: -1 }, 'RangeError', 'ERR_QERRORS_INVALID_LIMIT');
  bad({ limit: 10000001 }, 'RangeError', 'ERR_QERRORS_INVALID_LIMIT');
  bad({ limit: NaN }, 'RangeError', 'ERR_QERRORS_INVALID_LIMIT');
  bad({ limit: '5' }, 'TypeError', 'ERR_QERRORS_INVALID_LIMIT');
  bad({ windowMs: 25 * 24 * 3600 * 1000 }, 'RangeError', 'ERR_QERRORS_INVALID_WINDOW');
  bad({ windowMs: -1 }, 'RangeError', 'ERR_QERRORS_INVALID_WINDOW');
  bad({ store: {} }, 'TypeError', 'ERR_QERRORS_INVALID_STORE');
  bad({ store: { increment() {}, decrement() {}, resetKey() {}, init: 5 } }, 'TypeError', 'ERR_QERRORS_INVALID_STORE');
  bad({ keyGenerator: 'ip' }, 'TypeError', 'ERR_QERRORS_INVALID_OPTION');
  bad({ burst: 0 }, 'RangeError', 'ERR_QERRORS_INVALID_BURST');
  bad('x', 'TypeError', 'ERR_QERRORS_INVALID_OPTION');
  const shared = new RateLimiterStore({ limit: 1 });
  rateLimit({ store: shared });
  bad({ store: shared }, 'Error', 'ERR_QERRORS_STORE_REUSE');
});

test('a non-string key from keyGenerator reaches the error handler as a TypeError', async () => {
  await withApp(rateLimit({ store: manualStore({ limit: 1 }), keyGenerator: () => 42 }), async (base) => {
    const r = await fetch(base);
    assert.equal(r.status, 500);
    assert.equal((await r.json()).code, 'ERR_QERRORS_INVALID_KEY');
  });
});
