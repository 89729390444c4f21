'use strict';

// Rate-limit keys are told apart by their exact UTF-16 content: lone surrogates and
// U+FFFD (which N-API's UTF-8 read would all turn into U+FFFD) get a bucket each, in the
// in-process RateLimiter and in the Redis store, while well-formed keys keep their bytes.

const test = require('node:test');
const assert = require('node:assert/strict');

const { RateLimiter } = require('../native');
const { redisStore } = require('../lib/native/redis');
const { startRedis, redisSkip } = require('./redis-server');

const LONE = ['user-\ud800', 'user-\udbff', 'user-\udc00', 'user-\udfff', 'user-\ufffd'];
// Past the 256-byte stack buffer, the other read path.
const LONG = LONE.map((k) => 'x'.repeat(300) + k);

test('RateLimiter: each lone surrogate key has its own bucket', () => {
  for (const keys of [LONE, LONG]) {
    const l = new RateLimiter({ clock: 'manual', sweepIntervalMs: 0, limit: 1, windowMs: 60_000 });
    for (const k of keys) assert.equal(l.check(k), 0, `first hit of ${JSON.stringify(k)} is allowed`);
    assert.equal(l.stats().keys, keys.length);
    for (const k of keys) assert.equal(l.check(k), -1);
    l.reset(keys[0]);
    assert.equal(l.check(keys[0]), 0, 'reset frees only its own key');
    assert.equal(l.check(keys[1]), -1);
  }
});

test('RateLimiter: well-formed keys, including a real U+FFFD, keep their UTF-8 bucket (checkBatch agrees)', () => {
  const l = new RateLimiter({ clock: 'manual', sweepIntervalMs: 0, limit: 2, windowMs: 60_000 });
  const keys = ['user-\ufffd', 'é日本🦀', 'plain'];
  for (const k of keys) assert.equal(l.check(k), 1);
  const out = new Int32Array(keys.length);
  l.checkBatch(Buffer.from(keys.join('\n')), out);
  assert.deepEqual([...out], [0, 0, 0], 'the batch (UTF-8 bytes) hit the same buckets');
  assert.equal(l.check('user-\ud800'), 1, 'a lone surrogate is not U+FFFD');
});

// Like every Redis test: skipped without redis-server, except under CI, where it fails.
test('RedisStore: each lone surrogate key has its own Redis key and bucket; resetKey resets its own', { skip: redisSkip() }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const store = redisStore({ url: server.url, prefix: 'sur:', windowMs: 60_000, limit: 1 });
  t.after(() => store.close());
  for (const k of LONE) assert.equal((await store.check(k)).allowed, true, JSON.stringify(k));
  for (const k of LONE) assert.equal((await store.check(k)).allowed, false, JSON.stringify(k));
  const names = await server.command('KEYS', 'sur:*');
  assert.equal(new Set(names).size, LONE.length, `Redis keys: ${JSON.stringify(names)}`);
  await store.resetKey(LONE[0]);
  assert.equal((await store.check(LONE[0])).allowed, true, 'resetKey freed its own key');
  assert.equal((await store.check(LONE[1])).allowed, false, 'and only that one');
  assert.equal((await store.check('plain-é')).allowed, true);
  const plain = await server.command('KEYS', 'sur:plain*');
  assert.deepEqual(plain, ['sur:plain-é'], 'a well-formed key is its own text in Redis');
});
