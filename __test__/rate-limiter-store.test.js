'use strict';

// RateLimiterStore against the express-rate-limit v8 Store contract: called directly the
// way express-rate-limit calls it, and plugged into express-rate-limit itself on a real
// Express server.

const test = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const erl = require('express-rate-limit');
const { RateLimiterStore } = require('../native');

async function serve(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, close: () => new Promise((r) => server.close(r)) };
}

function recordingLogger() {
  const errors = [];
  return { errors, error: (...a) => errors.push(a), warn: (...a) => errors.push(a) };
}

test('increment/get/decrement/resetKey/resetAll return the shapes express-rate-limit expects (gcra)', async () => {
  const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0, algorithm: 'gcra' });
  assert.equal(store.localKeys, true);
  assert.equal(store.limiter, undefined);
  // express-rate-limit calls init with its whole options object.
  assert.equal(store.init({ windowMs: 60000, limit: 2, message: 'x', standardHeaders: 'draft-7' }), undefined);
  assert.equal(store.limiter.limit, 2);
  const p = store.increment('k');
  assert.ok(p instanceof Promise);
  const a = await p;
  assert.deepEqual(Object.keys(a), ['totalHits', 'resetTime']);
  assert.equal(a.totalHits, 1);
  assert.ok(a.resetTime instanceof Date);
  assert.ok(Math.abs(a.resetTime.getTime() - (Date.now() + 30000)) < 1000, 'full again in windowMs / limit');
  assert.equal((await store.increment('k')).totalHits, 2);
  const limited = await store.increment('k');
  assert.equal(limited.totalHits, 3, 'over the limit: limit + 1');
  assert.ok(Math.abs(limited.resetTime.getTime() - (Date.now() + 30000)) < 1000, 'limited: when the next request is allowed');
  const got = await store.get('k');
  assert.equal(got.totalHits, 2);
  assert.ok(got.resetTime instanceof Date);
  assert.equal(await store.get('unknown'), undefined);
  assert.equal(await store.decrement('k'), undefined);
  assert.equal((await store.get('k')).totalHits, 1);
  assert.equal(await store.resetKey('k'), undefined);
  assert.equal(await store.get('k'), undefined);
  await store.increment('a');
  await store.increment('b');
  assert.equal(await store.resetAll(), undefined);
  assert.equal(store.limiter.stats().keys, 0);
  store.limiter.advanceTime(1);
  store.shutdown();
});

test('fixed window (default): every hit counts, refused ones too, until the window ends; decrement stops at zero', async () => {
  const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 });
  assert.equal(store.algorithm, 'fixed-window');
  store.init({ windowMs: 60000, limit: 2 });
  const a = await store.increment('k');
  assert.deepEqual(Object.keys(a), ['totalHits', 'resetTime']);
  assert.equal(a.totalHits, 1);
  assert.ok(Math.abs(a.resetTime.getTime() - (Date.now() + 60000)) < 1000, 'the window ends windowMs after the first hit');
  store.limiter.advanceTime(10000);
  assert.equal((await store.increment('k')).totalHits, 2);
  const over = await store.increment('k');
  assert.equal(over.totalHits, 3);
  assert.ok(Math.abs(over.resetTime.getTime() - (Date.now() + 50000)) < 1000, 'same window end');
  assert.equal((await store.get('k')).totalHits, 3);
  for (let i = 0; i < 5; i++) await store.decrement('k');
  assert.equal((await store.get('k')).totalHits, 0, 'never below zero; the key keeps its window');
  assert.equal(await store.get('unknown'), undefined);
  store.limiter.advanceTime(50000);
  assert.equal(await store.get('k'), undefined, 'the window ended');
  assert.equal((await store.increment('k')).totalHits, 1);
  assert.deepEqual([store.limiter.stats().allowed, store.limiter.stats().limited], [3, 1]);
  // A limit function is fine: the window counts hits, the middleware compares.
  const served = new RateLimiterStore({ sweepIntervalMs: 0 });
  assert.equal(served.init({ windowMs: 1000, limit: () => 5 }), undefined);
  assert.equal((await served.increment('k')).totalHits, 1);
  assert.throws(() => new RateLimiterStore({ algorithm: 'sliding' }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_OPTION' });
  assert.throws(() => new RateLimiterStore({ limit: 5, burst: 6 }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_BURST' });
  store.shutdown();
  served.shutdown();
});

test('the store refills with its clock (gcra)', async () => {
  const store = new RateLimiterStore({ limit: 2, windowMs: 1000, clock: 'manual', sweepIntervalMs: 0, algorithm: 'gcra' });
  store.init({ windowMs: 60000, limit: 99 });
  assert.equal(store.limiter.limit, 2, "the store's own options win over the middleware's");
  await store.increment('k');
  await store.increment('k');
  assert.equal((await store.increment('k')).totalHits, 3);
  store.limiter.advanceTime(500);
  assert.equal((await store.increment('k')).totalHits, 2);
});

test('undefined store options do not hide the middleware values', () => {
  const store = new RateLimiterStore({ windowMs: undefined, burst: undefined, sweepIntervalMs: 0 });
  store.init({ windowMs: 1000, limit: 4 });
  assert.deepEqual([store.limiter.windowMs, store.limiter.limit, store.limiter.burst], [1000, 4, 4]);
});

test('store misuse gives coded errors', async () => {
  const store = new RateLimiterStore({ algorithm: 'gcra' });
  assert.throws(() => store.init({ windowMs: 1000, limit: () => 5 }), { name: 'TypeError', code: 'ERR_QERRORS_STORE_NEEDS_LIMIT', message: /limit is a function/ });
  assert.throws(() => new RateLimiterStore({ limit: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_LIMIT' });
  assert.throws(() => new RateLimiterStore({ prefix: 'x' }), { name: 'TypeError', code: 'ERR_QERRORS_UNKNOWN_OPTION' });
  assert.throws(() => new RateLimiterStore('x'), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_OPTION' });
  store.init({ windowMs: 1000, limit: 1 });
  await assert.rejects(store.increment(42), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_KEY' });
});

test('express-rate-limit itself runs on RateLimiterStore (gcra): 200, 200, 429 with its headers', async () => {
  const logger = recordingLogger();
  const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0, algorithm: 'gcra' });
  const app = express();
  const limiter = erl.rateLimit({ windowMs: 60000, limit: 2, store, standardHeaders: 'draft-7', legacyHeaders: true, logger });
  app.use(limiter);
  app.get('/', (_req, res) => res.send('ok'));
  const { base, close } = await serve(app);
  try {
    const r1 = await fetch(base);
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('ratelimit'), 'limit=2, remaining=1, reset=30');
    assert.equal(r1.headers.get('ratelimit-policy'), '2;w=60');
    assert.equal(r1.headers.get('x-ratelimit-remaining'), '1');
    const r2 = await fetch(base);
    assert.equal(r2.status, 200);
    assert.equal(r2.headers.get('ratelimit'), 'limit=2, remaining=0, reset=60');
    const r3 = await fetch(base);
    assert.equal(r3.status, 429);
    assert.equal(await r3.text(), 'Too many requests, please try again later.');
    assert.equal(r3.headers.get('retry-after'), '30');
    assert.equal(r3.headers.get('ratelimit'), 'limit=2, remaining=0, reset=30');
    store.limiter.advanceTime(30000);
    assert.equal((await fetch(base)).status, 200, 'one request refilled after windowMs / limit');
    const info = await limiter.getKey('::ffff:127.0.0.1').then((v) => v ?? limiter.getKey('127.0.0.1'));
    assert.equal(info.totalHits, 2);
    await limiter.resetKey('127.0.0.1');
    await limiter.resetKey('::ffff:127.0.0.1');
    assert.equal((await fetch(base)).status, 200);
    assert.deepEqual(logger.errors, [], 'express-rate-limit found nothing to complain about');
  } finally {
    await close();
  }
});

test('express-rate-limit skipSuccessfulRequests calls decrement on our store', async () => {
  const logger = recordingLogger();
  const store = new RateLimiterStore({ clock: 'manual', sweepIntervalMs: 0 });
  const app = express();
  app.use(erl.rateLimit({ windowMs: 60000, limit: 1, store, skipSuccessfulRequests: true, logger }));
  app.get('/ok', (_req, res) => res.send('ok'));
  app.get('/fail', (_req, res) => res.status(500).send('no'));
  const { base, close } = await serve(app);
  try {
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${base}/ok`)).status, 200);
    // The decrement runs on 'finish', after the response: wait for it to land.
    await new Promise((r) => setImmediate(r));
    assert.equal((await fetch(`${base}/fail`)).status, 500);
    assert.equal((await fetch(`${base}/ok`)).status, 429);
    assert.deepEqual(logger.errors, []);
  } finally {
    await close();
  }
});
