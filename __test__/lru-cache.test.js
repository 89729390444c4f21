'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { fullGc } = require('./helpers/gc');
const { LRUCache } = require('lru-cache');
const { LruCache } = require('../native');
const { rng } = require('../benchmark/support');

/** @param {Partial<import('../native').LruCacheOptions>} [o] */
const make = (o) => new LruCache({ max: 3, fakeClock: true, ...o });

const keysOf = (c) => [...c.keys()];

test('is exported from qerrors/native (CommonJS and ESM)', async () => {
  assert.equal(require('../native').LruCache, require('../lib/native/cache').LruCache);
  const esm = await import('../native.mjs');
  assert.equal(esm.LruCache, LruCache);
  assert.equal(Object.prototype.toString.call(make()), '[object LruCache]');
});

test('get/set/has/peek/delete and LRU eviction order', () => {
  const c = make();
  assert.equal(c.set('a', 'A'), c, 'set returns the cache');
  c.set('b', 'B').set('c', 'C');
  assert.equal(c.size, 3);
  assert.equal(c.get('a'), 'A'); // a becomes most recent: order a, c, b
  c.set('d', 'D'); // evicts b
  assert.equal(c.has('b'), false);
  assert.equal(c.get('b'), undefined);
  assert.deepEqual(keysOf(c), ['d', 'a', 'c']);
  // peek and has do not change recency: c stays the next victim.
  assert.equal(c.peek('c'), 'C');
  assert.equal(c.has('c'), true);
  c.set('e', 'E');
  assert.equal(c.has('c'), false);
  assert.deepEqual(keysOf(c), ['e', 'd', 'a']);
  assert.equal(c.delete('d'), true);
  assert.equal(c.delete('d'), false);
  assert.deepEqual(keysOf(c), ['e', 'a']);
  c.set('a', 'A2'); // overwrite moves to front
  assert.deepEqual([...c.entries()], [['a', 'A2'], ['e', 'E']]);
  assert.deepEqual([...c.values()], ['A2', 'E']);
  assert.deepEqual([...c], [['a', 'A2'], ['e', 'E']]);
  const seen = [];
  c.forEach(function (v, k, cache) {
    seen.push([k, v, cache === c, this.tag]);
  }, { tag: 't' });
  assert.deepEqual(seen, [['a', 'A2', true, 't'], ['e', 'E', true, 't']]);
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.calculatedSize, 0);
  assert.equal(c.get('a'), undefined);
});

test('keys()/entries() do not reorder the cache', () => {
  const c = make();
  c.set('a', '1').set('b', '2').set('c', '3');
  for (const _ of c.entries());
  for (const _ of c.keys());
  c.set('d', '4');
  assert.equal(c.has('a'), false, 'a was still least recently used');
});

test('values round-trip exactly: Latin-1, non-Latin-1, lone surrogates, empty, Buffers', () => {
  const c = new LruCache({ max: 100 });
  const samples = ['', 'plain ascii', 'café ÿ', 'emoji 😀 and 中文', 'lone \ud800 surrogate', 'x'.repeat(100_000)];
  samples.forEach((v, i) => c.set(`k${i}`, v));
  samples.forEach((v, i) => assert.equal(c.get(`k${i}`), v));
  const buf = Buffer.from([0, 1, 2, 255]);
  c.set('buf', buf);
  const out = c.get('buf');
  assert.ok(Buffer.isBuffer(out));
  assert.deepEqual(out, buf);
  assert.notEqual(out, buf, 'a copy, not the same object');
  buf[0] = 9;
  assert.equal(c.get('buf')[0], 0, 'later changes to the Buffer do not reach the cache');
  c.set('u16', new Uint16Array([1, 2]));
  assert.deepEqual(c.get('u16'), Buffer.from(new Uint16Array([1, 2]).buffer));
});

test('distinct JS strings are distinct keys (Latin-1, UTF-16, lone surrogates, long keys)', () => {
  const c = new LruCache({ max: 100 });
  const keys = ['', 'a', 'é', 'e\u0301', '\ud800', '\udc00', '\ufffd', '😀', 'ÿ', '\u0100', 'k'.repeat(500), 'k'.repeat(499) + 'é', '中'.repeat(300)];
  keys.forEach((k, i) => c.set(k, String(i)));
  assert.equal(c.size, keys.length);
  keys.forEach((k, i) => assert.equal(c.get(k), String(i), JSON.stringify(k)));
  assert.deepEqual(new Set(c.keys()), new Set(keys));
});

test('count bound: a same-millisecond burst of 10k inserts never exceeds max', () => {
  const c = new LruCache({ max: 10, ttl: 60_000 });
  for (let i = 0; i < 10_000; i++) {
    c.set(`key-${i}`, 'v');
    assert.ok(c.size <= 10, `size ${c.size} after ${i + 1} inserts`);
  }
  assert.equal(c.size, 10);
  assert.deepEqual(keysOf(c), Array.from({ length: 10 }, (_, i) => `key-${9999 - i}`));
  assert.equal(c.stats().evictions, 9_990);
});

test('byte bound: maxSize needs sizes; eviction until it fits; oversize is a counted rejection', () => {
  // As lru-cache: with maxSize and no sizeCalculation, a set must say its size.
  assert.throws(() => new LruCache({ maxSize: 20 }).set('a', 'x'), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_SIZE' });
  const c = new LruCache({ maxSize: 20, sizeCalculation: (v) => v.length });
  c.set('a', '123456789');
  c.set('b', '12345');
  assert.equal(c.calculatedSize, 14);
  c.set('c', '12345678'); // 22 > 20: a goes
  assert.deepEqual(keysOf(c), ['c', 'b']);
  assert.equal(c.calculatedSize, 13);
  c.set('b', 'x'.repeat(30)); // alone larger than maxSize
  assert.equal(c.has('b'), false, 'the old value of a rejected key is not served');
  assert.deepEqual(keysOf(c), ['c']);
  const s = c.stats();
  assert.equal(s.rejected, 1);
  assert.equal(s.evictions, 1);
  assert.equal(s.bytes, 8);
});

test('sizeCalculation and per-set size', () => {
  const calls = [];
  const c = new LruCache({
    max: 100,
    maxSize: 10,
    sizeCalculation: (v, k) => {
      calls.push([v, k]);
      return v.length;
    },
  });
  c.set('a', 'xxxx');
  c.set('b', 'yyyy');
  assert.deepEqual(calls, [['xxxx', 'a'], ['yyyy', 'b']]);
  assert.equal(c.calculatedSize, 8);
  c.set('c', 'z', { size: 5 }); // per-set size wins: 13 > 10, a goes
  assert.deepEqual(keysOf(c), ['c', 'b']);
  assert.equal(c.calculatedSize, 9);
  assert.throws(() => c.set('d', ''), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_SIZE' });
  assert.deepEqual(keysOf(c), ['c', 'b'], 'failed sets change nothing');
  // As lru-cache: a size that is not a positive integer falls back to sizeCalculation,
  // and throws without one.
  const plain = new LruCache({ maxSize: 10 });
  for (const size of [-1, NaN, 1.5, '3']) {
    assert.throws(() => plain.set('d', 'q', { size }), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_SIZE' });
  }
  c.set('d', 'qq', { size: -1 });
  assert.equal(c.calculatedSize, 11 - 4, 'b (4) evicted for d (2)');
});

test('TTL: default, per entry, lazy expiry on get, no expiry with ttl 0', () => {
  const c = new LruCache({ max: 10, ttl: 100, fakeClock: true });
  assert.equal(c.ttl, 100);
  c.set('a', 'A');
  c.set('forever', 'F', { ttl: 0 });
  c.set('long', 'L', { ttl: 1000 });
  assert.equal(c.advanceClock(99), 99);
  assert.equal(c.get('a'), 'A');
  c.advanceClock(1);
  assert.equal(c.has('a'), true, 'an entry expires once its age is greater than its ttl');
  c.advanceClock(1);
  assert.equal(c.has('a'), false);
  assert.equal(c.peek('a'), undefined);
  assert.equal(c.size, 3, 'not removed until touched');
  assert.deepEqual(keysOf(c), ['long', 'forever'], 'keys() skips expired entries');
  assert.equal(c.get('a'), undefined);
  assert.equal(c.size, 2, 'get removed it');
  c.advanceClock(10_000);
  assert.equal(c.get('forever'), 'F');
  assert.equal(c.get('long'), undefined);
  const s = c.stats();
  assert.equal(s.expirations, 2);
  assert.equal(s.hits, 2);
  assert.equal(s.misses, 2);
});

test('TTL: updateAgeOnGet restarts the TTL; without it the TTL runs from set', () => {
  for (const updateAgeOnGet of [true, false]) {
    const c = new LruCache({ max: 10, ttl: 100, updateAgeOnGet, fakeClock: true });
    c.set('a', 'A');
    c.advanceClock(80);
    assert.equal(c.get('a'), 'A');
    c.advanceClock(80);
    assert.equal(c.get('a'), updateAgeOnGet ? 'A' : undefined, `updateAgeOnGet ${updateAgeOnGet}`);
  }
});

test('TTL: allowStale returns an expired value once from get, always from peek', () => {
  const c = new LruCache({ max: 10, ttl: 10, allowStale: true, fakeClock: true });
  c.set('a', 'A');
  c.advanceClock(11);
  assert.equal(c.has('a'), false);
  assert.equal(c.peek('a'), 'A');
  assert.equal(c.peek('a'), 'A');
  assert.deepEqual(keysOf(c), ['a'], 'allowStale lists stale entries');
  assert.equal(c.get('a'), 'A');
  assert.equal(c.get('a'), undefined);
});

test('TTL: purgeStale and, in a cache bounded by ttl alone, the sweep on set reclaim expired entries', () => {
  const c = new LruCache({ ttl: 50, ttlAutopurge: true, fakeClock: true });
  for (let i = 0; i < 100; i++) c.set(`old-${i}`, 'x'.repeat(100));
  c.advanceClock(51);
  assert.equal(c.size, 100);
  // Each set examines a few slots: 100 sets reach every dead entry without any get.
  for (let i = 0; i < 100; i++) c.set(`new-${i}`, 'y', { ttl: 0 });
  assert.equal(c.size, 100);
  assert.equal(c.stats().expirations, 100);
  for (let i = 0; i < 10; i++) c.set(`t-${i}`, 'z', { ttl: 5 });
  c.advanceClock(6);
  assert.equal(c.purgeStale(), true);
  assert.equal(c.purgeStale(), false);
  assert.equal(c.size, 100);
});

test('TTL per set: Infinity means never; bad values are typed errors', () => {
  const c = make();
  c.set('a', 'A', { ttl: Infinity });
  c.advanceClock(1e12);
  assert.equal(c.get('a'), 'A');
  assert.throws(() => c.set('b', 'B', { ttl: -1 }), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_TTL' });
  assert.throws(() => c.set('b', 'B', { ttl: NaN }), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_TTL' });
  assert.throws(() => c.set('b', 'B', { ttl: '5' }), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_TTL' });
  assert.throws(() => c.set('b', 'B', 5), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_OPTION' });
  assert.equal(c.has('b'), false);
});

test('json: true stores any JSON value and returns a fresh copy', () => {
  const c = new LruCache({ max: 10, json: true });
  const advice = { advice: 'check the config', steps: [1, 2], nested: { ok: true } };
  c.set('x', advice);
  const got = c.get('x');
  assert.deepEqual(got, advice);
  assert.notEqual(got, advice);
  got.steps.push(3);
  assert.deepEqual(c.get('x').steps, [1, 2], 'callers cannot mutate the cached value');
  c.set('n', 42).set('s', 'str').set('null', null);
  assert.equal(c.peek('n'), 42);
  assert.equal(c.get('s'), 'str');
  assert.equal(c.get('null'), null);
  assert.deepEqual([...c.values()], [null, 'str', 42, advice]);
  assert.deepEqual([...c.entries()][3], ['x', advice]);
  // What JSON would not keep whole is kept by reference.
  const f = () => 1;
  const sym = Symbol('s');
  class Point {}
  const p = new Point();
  c.set('f', f).set('sym', sym).set('p', p);
  assert.equal(c.get('f'), f);
  assert.equal(c.get('sym'), sym);
  assert.equal(c.get('p'), p);
});

test('set(key, undefined) deletes, like lru-cache', () => {
  const c = make();
  c.set('a', 'A');
  c.set('a', undefined);
  assert.equal(c.has('a'), false);
  assert.equal(c.size, 0);
});

test('dispose gets every removal with its reason, and may use the cache', () => {
  const log = [];
  let c;
  c = new LruCache({
    max: 2,
    ttl: 10,
    fakeClock: true,
    dispose: (v, k, reason) => {
      log.push([k, v, reason]);
      // Re-entering the cache from dispose is allowed.
      c.has(k);
    },
  });
  c.set('a', 'A').set('b', 'B').set('c', 'C');
  assert.deepEqual(log.splice(0), [['a', 'A', 'evict']]);
  c.set('b', 'B2');
  assert.deepEqual(log.splice(0), [['b', 'B', 'set']]);
  c.delete('c');
  assert.deepEqual(log.splice(0), [['c', 'C', 'delete']]);
  c.advanceClock(11);
  assert.equal(c.get('b'), undefined);
  assert.deepEqual(log.splice(0), [['b', 'B2', 'expire']]);
  c.set('x', 'X').set('y', 'Y');
  c.clear();
  assert.deepEqual(log.splice(0).sort(), [['x', 'X', 'delete'], ['y', 'Y', 'delete']]);
});

test('dispose sees expirations found by the sweep on set and by purgeStale', () => {
  const log = [];
  const c = new LruCache({ ttl: 10, ttlAutopurge: true, fakeClock: true, dispose: (v, k, r) => log.push(`${k}:${r}`) });
  for (let i = 0; i < 20; i++) c.set(`old${i}`, 'v');
  c.advanceClock(11);
  for (let i = 0; i < 5; i++) c.set(`new${i}`, 'v', { ttl: 0 });
  const swept = log.length;
  assert.ok(swept > 0 && log.every((e) => /^old\d+:expire$/.test(e)), log.join());
  assert.equal(c.purgeStale(), true);
  assert.equal(log.length, 20);
  assert.equal(new Set(log).size, 20);
  assert.equal(c.size, 5);
});

test('dispose: a throwing callback still sees every removal, then the error surfaces', () => {
  const seen = [];
  const c = new LruCache({
    max: 10,
    dispose: (v, k) => {
      seen.push(k);
      throw new Error(`boom ${k}`);
    },
  });
  c.set('a', '1').set('b', '2');
  assert.throws(() => c.clear(), /boom/);
  assert.deepEqual(seen.sort(), ['a', 'b']);
  assert.equal(c.size, 0);
});

test('dispose with json: the parsed value', () => {
  const log = [];
  const c = new LruCache({ max: 1, json: true, dispose: (v, k, r) => log.push([k, v, r]) });
  c.set('a', { n: 1 }).set('b', { n: 2 });
  assert.deepEqual(log, [['a', { n: 1 }, 'evict']]);
});

test('stats counts hits, misses, evictions, expirations, rejections, size and bytes', () => {
  const c = new LruCache({ max: 2, maxSize: 100, sizeCalculation: (v) => v.length, ttl: 5, fakeClock: true });
  c.set('a', 'x');
  c.get('a');
  c.get('nope');
  c.set('b', 'y').set('c', 'z'); // evicts a
  c.set('big', 'q'.repeat(200));
  c.advanceClock(6);
  c.get('b');
  assert.deepEqual(c.stats(), { hits: 1, misses: 2, evictions: 1, expirations: 1, rejected: 1, size: 1, bytes: 1 });
});

test('keys of every primitive type stay distinct; identity keys by reference', () => {
  const c = new LruCache({ max: 100 });
  const sym = Symbol('k');
  const obj = {};
  const keys = ['1', 1, 1n, true, 'true', null, 'null', undefined, '', '\u0001n1', '\u0001', sym, obj, -1.5, NaN];
  keys.forEach((k, i) => c.set(k, `v${i}`));
  assert.equal(c.size, keys.length);
  keys.forEach((k, i) => {
    assert.equal(c.get(k), `v${i}`, String(k));
    assert.equal(c.has(k), true);
    assert.equal(c.peek(k), `v${i}`);
  });
  assert.deepEqual([...c.rkeys()], keys);
  assert.equal(c.get(-0), c.get(0));
  assert.equal(c.get(Symbol('k')), undefined, 'another symbol is another key');
  assert.equal(c.has({}), false);
  assert.equal(c.delete(sym), true);
  assert.equal(c.get(sym), undefined);
  assert.equal(c.delete(Symbol('x')), false);
});

test('values of any type: off-heap copies for strings and Buffers, others by reference', () => {
  const disposed = [];
  const c = new LruCache({ max: 2, dispose: (v, k, r) => disposed.push([v, k, r]) });
  const fn = () => 1;
  class Box {}
  const box = new Box();
  c.set('f', fn).set('b', box);
  assert.equal(c.get('f'), fn);
  assert.equal(c.get('b'), box);
  c.set(1, 42); // evicts 'f', the least recently used
  assert.deepEqual(disposed, [[fn, 'f', 'evict']]);
  assert.equal(c.get(1), 42);
  c.set('b', 'text'); // replaces a by-reference value with an off-heap string
  assert.deepEqual(disposed[1], [box, 'b', 'set']);
  assert.deepEqual([...c.entries()], [['b', 'text'], [1, 42]]);
  c.clear();
  assert.equal(disposed.length, 4);
  const buf = Buffer.from('abc');
  c.set('buf', buf);
  assert.deepEqual(c.get('buf'), buf);
  assert.notEqual(c.get('buf'), buf, 'a Buffer is copied off-heap');
});

test('values held by reference leave with their entries (bounded)', async () => {
  const c = new LruCache({ max: 3, fakeClock: true, ttl: 10 });
  const first = (() => {
    const key = { i: -1 };
    const value = { i: -1 };
    c.set(key, value);
    return [new WeakRef(key), new WeakRef(value)];
  })();
  for (let i = 0; i < 1000; i++) c.set({ i }, { i });
  await new Promise((resolve) => setImmediate(resolve));
  fullGc();
  assert.equal(first[0].deref(), undefined, 'an evicted identity key is not kept');
  assert.equal(first[1].deref(), undefined, 'an evicted value is not kept');
  assert.equal(c.size, 3);
  c.advanceClock(20);
  c.purgeStale();
  assert.equal(c.size, 0);
  assert.deepEqual([...c.values()], []);
  // The cache stores a new identity key without growing past its bound.
  const big = new LruCache({ maxSize: 10, sizeCalculation: () => 11 });
  big.set(Symbol('too big'), {});
  assert.equal(big.size, 0);
  assert.equal(big.stats().rejected, 1);
});

test('bad options: TypeError with a code, as lru-cache throws', () => {
  const cases = [
    [undefined, TypeError, 'ERR_QERRORS_CACHE_UNBOUNDED'],
    [null, TypeError, 'ERR_QERRORS_CACHE_UNBOUNDED'],
    [{}, TypeError, 'ERR_QERRORS_CACHE_UNBOUNDED'],
    [{ max: 0 }, TypeError, 'ERR_QERRORS_CACHE_UNBOUNDED'],
    [{ max: -1 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 1.5 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: NaN }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 2 ** 32 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: '10' }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, maxSize: -5 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, ttl: -1 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, ttl: Infinity }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, updateAgeOnGet: 'yes' }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, allowStale: 1 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, json: 'true' }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, dispose: 'f' }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
    [{ max: 10, sizeCalculation: 3 }, TypeError, 'ERR_QERRORS_CACHE_INVALID_OPTION'],
  ];
  for (const [options, Ctor, code] of cases) {
    assert.throws(() => new LruCache(options), (err) => err instanceof Ctor && err.code === code, JSON.stringify(options));
  }
  const c = new LruCache({ maxSize: 100 });
  assert.equal(c.max, 0);
  assert.equal(c.maxSize, 100);
  assert.throws(() => c.advanceClock(5), { code: 'ERR_QERRORS_CACHE_NO_FAKE_CLOCK' });
  assert.throws(() => make().advanceClock(-1), { name: 'RangeError' });
});

test('the native handle is not reachable from the instance', () => {
  const c = make();
  assert.deepEqual(Object.keys(c), []);
  assert.deepEqual(Object.getOwnPropertySymbols(c), []);
});

test('gets of long strings follow every change; a stale one is returned once', () => {
  const c = new LruCache({ max: 1000, ttl: 100, fakeClock: true, allowStale: true });
  const long = (tag) => `${tag}:`.padEnd(100, '.');
  c.set('a', long('a1'));
  const first = c.get('a');
  assert.equal(first, long('a1'));
  assert.equal(c.get('a'), first);
  c.set('a', long('a2'));
  assert.equal(c.get('a'), long('a2'), 'a new value after set');
  c.delete('a');
  assert.equal(c.get('a'), undefined);
  c.set('a', long('a3'));
  assert.equal(c.get('a'), long('a3'));
  c.clear();
  c.set('a', long('a4'));
  assert.equal(c.get('a'), long('a4'));
  c.advanceClock(101);
  assert.equal(c.get('a'), long('a4'), 'stale, returned once');
  assert.equal(c.get('a'), undefined);
  assert.equal(c.stats().hits, 5);
});

test('gets stay right across many entries, mixed value kinds and failed calls', () => {
  const rnd = rng(99);
  const c = new LruCache({ max: 700 });
  const want = new Map();
  const make = (i, step) => {
    const kind = i % 4;
    if (kind === 0) return `short ${step}`; // below the memo's minimum length
    if (kind === 1) return Buffer.from(`buffer ${i} ${step}`);
    if (kind === 2) return `é long value ${i} ${step} `.padEnd(200 + (i % 50), 'é');
    return `😀 long value ${i} ${step} `.padEnd(300, 'x');
  };
  for (let step = 0; step < 20_000; step++) {
    const i = Math.floor(rnd() * 900);
    const k = `key-${i}`;
    const r = rnd();
    if (r < 0.2) {
      const v = make(i, step);
      c.set(k, v);
      want.set(k, v);
    } else if (r < 0.23) {
      c.delete(k);
      want.delete(k);
    } else if (r < 0.24) {
      // A failed set changes nothing.
      assert.throws(() => c.set(k, 'x', { ttl: -1 }), { code: 'ERR_QERRORS_CACHE_INVALID_TTL' });
    } else {
      const got = c.get(k);
      if (got === undefined) {
        // Evicted (max 700 of 900 keys): the model forgets it too.
        want.delete(k);
      } else {
        assert.deepEqual(got, want.get(k), `step ${step} ${k}`);
      }
    }
  }
});

test('same results and recency order as lru-cache 11 over random operation sequences', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rnd = rng(seed);
    const max = 1 + Math.floor(rnd() * 8);
    const ours = new LruCache({ max });
    const ref = new LRUCache({ max });
    for (let step = 0; step < 400; step++) {
      const k = `k${Math.floor(rnd() * 12)}`;
      const r = rnd();
      const where = `seed ${seed} step ${step}`;
      if (r < 0.4) assert.equal(ours.get(k), ref.get(k), where);
      else if (r < 0.8) {
        const v = `v${step}`;
        ours.set(k, v);
        ref.set(k, v);
      } else if (r < 0.87) assert.equal(ours.delete(k), ref.delete(k), where);
      else if (r < 0.94) assert.equal(ours.peek(k), ref.peek(k), where);
      else assert.equal(ours.has(k), ref.has(k), where);
      assert.deepEqual([...ours.keys()], [...ref.keys()], where);
    }
  }
});

test('memo of returned strings: a hot key returns the same string, never a stale one', () => {
  const c = make({ max: 2, ttl: 100 });
  c.set('a', 'A1');
  const first = c.get('a');
  assert.equal(first, 'A1');
  assert.equal(c.get('a'), 'A1', 'a memoised hit answers the value');
  assert.equal(c.stats().hits, 2, 'and counts as a hit');
  // A set of the key invalidates its memoised string.
  c.set('a', 'A2');
  assert.equal(c.get('a'), 'A2');
  // A memoised hit still updates recency: b is evicted, not a.
  c.set('b', 'B');
  assert.equal(c.get('a'), 'A2');
  c.set('c', 'C');
  assert.equal(c.has('b'), false);
  assert.equal(c.get('a'), 'A2');
  // Eviction frees the slot; the key that reuses it must not read a's string.
  c.get('c');
  c.set('d', 'D'); // evicts a
  assert.equal(c.get('a'), undefined);
  assert.equal(c.get('d'), 'D');
  assert.equal(c.get('c'), 'C');
  // Expiry: a memoised entry past its TTL is gone (answered once with allowStale).
  c.advanceClock(101);
  assert.equal(c.get('d'), undefined);
  assert.equal(c.size, 1);
  c.set('e', 'E');
  assert.equal(c.get('e'), 'E');
  c.advanceClock(101);
  assert.equal(c.get('e', { allowStale: true }), 'E');
  assert.equal(c.get('e', { allowStale: true }), undefined);
  // delete and clear forget memoised strings; a reused slot reads its own value.
  c.set('f', 'F');
  c.get('f');
  c.delete('f');
  c.set('g', 'G');
  assert.equal(c.get('g'), 'G');
  c.clear();
  c.set('h', 'H');
  assert.equal(c.get('h'), 'H');
  assert.equal(c.get('g'), undefined);
});

test('memo: Buffers and json values are fresh copies on every get', () => {
  const c = make();
  c.set('b', Buffer.from('xy'));
  const b1 = c.get('b');
  b1[0] = 0;
  assert.deepEqual(c.get('b'), Buffer.from('xy'));
  const j = make({ json: true });
  j.set('o', { n: 1 });
  const o1 = j.get('o');
  o1.n = 2;
  assert.deepEqual(j.get('o'), { n: 1 });
});
