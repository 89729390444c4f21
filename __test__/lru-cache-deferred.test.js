'use strict';

// Operations made without a native call (lib/native/cache/deferred.js): hits on memoised
// strings, and sets of new keys into a full plain cache, which take the next listed
// victim; the native side applies them, in order, before its next call.

const test = require('node:test');
const assert = require('node:assert/strict');
const { LRUCache } = require('lru-cache');
const native = require('../lib/native/loader');
const { LruCache } = require('../lib/native/cache');
const { rng } = require('../benchmark/support');

/**
 * Runs `body` with every native call of the caches it creates counted by method name.
 * @param {() => void} body
 * @returns {Record<string, number>}
 */
function countCalls(body) {
  const counts = {};
  const create = native.createLruCache;
  native.createLruCache = (o) => {
    const h = create(o);
    for (const [name, f] of Object.entries(h)) {
      if (typeof f === 'function') {
        h[name] = (...args) => {
          counts[name] = (counts[name] ?? 0) + 1;
          return f(...args);
        };
      }
    }
    return h;
  };
  try {
    body();
  } finally {
    native.createLruCache = create;
  }
  return counts;
}

test('recorded hits (no call): exact recency and counts, past the buffer, through expiry', () => {
  for (const updateAgeOnGet of [false, true]) {
    const c = new LruCache({ max: 3, ttl: 100, updateAgeOnGet, fakeClock: true });
    c.set('a', 'A');
    c.set('b', 'B');
    c.set('c', 'C');
    for (const k of ['a', 'b', 'c']) c.get(k); // memoises all three
    // More hits than the shared buffer holds (256): applied in order, none lost.
    for (let i = 0; i < 1000; i++) assert.equal(c.get(i % 2 ? 'a' : 'c'), i % 2 ? 'A' : 'C');
    assert.equal(c.stats().hits, 1003);
    // b is least recently used: a new key evicts it, then the next-oldest (c).
    c.set('d', 'D');
    assert.deepEqual([...c.keys()], ['d', 'a', 'c']);
    c.set('e', 'E');
    assert.deepEqual([...c.keys()], ['e', 'd', 'a']);
    // A memoised entry past its TTL is not a recorded hit: it expires as a get would.
    c.get('a');
    c.advanceClock(60);
    assert.equal(c.get('a'), 'A');
    c.advanceClock(60);
    // Without updateAgeOnGet a's TTL ran out at 100 ms; with it, the last get restarted it.
    assert.equal(c.get('a'), updateAgeOnGet ? 'A' : undefined, `updateAgeOnGet ${updateAgeOnGet}`);
    assert.equal(c.stats().hits, updateAgeOnGet ? 1006 : 1005);
  }
});

test('sets of new keys into a full plain cache make no call but one per listed batch', () => {
  let c;
  const calls = countCalls(() => {
    c = new LruCache({ max: 100, ttl: 60_000 });
    for (let i = 0; i < 1100; i++) c.set(`k${i}`, i % 2 ? `v${i}` : i);
  });
  // 100 calls fill the cache; the 1000 sets after it take listed victims, 64 a call.
  const made = (calls.setHeld ?? 0) + (calls.set ?? 0) + (calls.applyHits ?? 0);
  assert.ok(made <= 100 + Math.ceil(1000 / 32), `calls: ${JSON.stringify(calls)}`);
  assert.ok(made >= 100, `calls: ${JSON.stringify(calls)}`);
  assert.equal(c.size, 100);
  // A string just set is memoised with its TTL: its first get makes no call either
  // (these are not among the least recently used, listed as victims).
  const before = { ...calls };
  assert.equal(c.get('k1099'), 'v1099');
  assert.equal(c.get('k1097'), 'v1097');
  assert.deepEqual(calls, before);
  assert.deepEqual([...c.keys()].slice(0, 3), ['k1097', 'k1099', 'k1098']);
  assert.equal(c.get('k1000'), 1000);
  assert.equal(c.get('k999'), undefined);
  assert.equal(c.stats().evictions, 1000);
});

test('deferred sets: same results, order and evictions as lru-cache 11 with sparse checks', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = rng(seed);
    // Sizes around the 64 listed victims and the 256 recorded operations.
    const max = 1 + Math.floor(rnd() * 90);
    const keys = Math.max(2, Math.floor(max * (1 + rnd() * 2)));
    const ttl = seed % 3 === 0 ? 0 : 60_000;
    const ours = new LruCache({ max, ttl, fakeClock: true });
    let evicted = 0;
    const ref = new LRUCache({ max, dispose: (v, k, reason) => reason === 'evict' && evicted++ });
    for (let step = 0; step < 3000; step++) {
      const k = `k${Math.floor(rnd() * keys)}`;
      const r = rnd();
      const where = `seed ${seed} max ${max} step ${step}`;
      if (r < 0.5) assert.equal(ours.get(k), ref.get(k), where);
      else if (r < 0.9) {
        const v = step % 5 === 0 ? step : `v${step}`;
        ours.set(k, v);
        ref.set(k, v);
      } else if (r < 0.93) assert.equal(ours.delete(k), ref.delete(k), where);
      else if (r < 0.96) assert.equal(ours.has(k), ref.has(k), where);
      else if (r < 0.98) assert.equal(ours.peek(k), ref.peek(k), where);
      else assert.deepEqual([...ours.keys()], [...ref.keys()], where);
      assert.equal(ours.size, ref.size, where);
      if (step % 16 === 0) ours.advanceClock(1);
    }
    assert.deepEqual([...ours.keys()], [...ref.keys()], `seed ${seed}`);
    assert.deepEqual([...ours.values()], [...ref.values()], `seed ${seed}`);
    assert.equal(ours.stats().evictions, evicted, `seed ${seed}`);
  }
});

test('deferred sets keep their time: entries expire by the time they were set', () => {
  const c = new LruCache({ max: 2, ttl: 10, fakeClock: true });
  c.set('a', 'A');
  c.set('b', 'B');
  c.advanceClock(5);
  c.set('c', 'C'); // deferred: evicts a, set at 5
  c.advanceClock(5);
  c.set('d', 'D'); // deferred: evicts b, set at 10
  c.advanceClock(6); // 16: c is 11 ms old, d 6
  assert.equal(c.get('c'), undefined);
  assert.equal(c.get('d'), 'D');
  assert.deepEqual(c.info('d')?.ttl, 4);
});

test('a hit on a listed victim reorders them: the next set evicts the right entry', () => {
  const c = new LruCache({ max: 3 });
  c.set('a', 'A');
  c.set('b', 'B');
  c.set('c', 'C');
  c.set('d', 'D'); // evicts a
  // b and c are the listed victims now; a memoised hit on b makes it most recent.
  assert.equal(c.get('b'), 'B');
  c.set('e', 'E'); // must evict c, not b
  assert.deepEqual([...c.keys()], ['e', 'b', 'd']);
  c.delete('d');
  c.set('f', 'F'); // a free place: nothing evicted
  c.set('g', 'G'); // evicts b
  assert.deepEqual([...c.keys()], ['g', 'f', 'e']);
  assert.equal(c.stats().evictions, 3);
});

test('a set after a get that missed the same key adds it once, whatever came between', async () => {
  const c = new LruCache({ max: 4, fetchMethod: async (k) => `f${k}` });
  assert.equal(c.get('a'), undefined);
  c.set('a', 1, { ttl: 0 }); // added by the general path
  c.set('a', 2); // the plain path must see it held
  assert.deepEqual([...c.entries()], [['a', 2]]);
  assert.equal(c.get('b'), undefined);
  assert.equal(await c.fetch('b'), 'fb'); // added by a load
  c.set('b', 'B');
  assert.deepEqual([...c.keys()], ['b', 'a']);
  // undefined and NaN are keys like any other.
  c.set(undefined, 'u');
  assert.equal(c.get(NaN), undefined);
  c.set(NaN, 'n');
  c.set(NaN, 'n2');
  c.set(undefined, 'u2');
  assert.equal(c.size, 4);
  assert.deepEqual([c.get(undefined), c.get(NaN)], ['u2', 'n2']);
});
