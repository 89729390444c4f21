'use strict';

// lru-cache v11 methods beyond get/set: fetch, memo, rkeys and friends, dump/load.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { LruCache } = require('../lib/native/cache');

/** A promise with its resolve/reject exposed, so a test decides when a load ends. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('fetch: loads a missing key once for concurrent callers and stores it', async () => {
  const calls = [];
  const d = deferred();
  const c = new LruCache({
    max: 10,
    fetchMethod: (key, stale, { signal, context }) => {
      calls.push([key, stale, context, signal instanceof AbortSignal]);
      return d.promise;
    },
  });
  const a = c.fetch(1, { context: 'ctx' });
  const b = c.fetch(1);
  assert.equal(calls.length, 1, 'one load for two callers');
  d.resolve({ n: 1 });
  const [va, vb] = await Promise.all([a, b]);
  assert.deepEqual(va, { n: 1 });
  assert.equal(va, vb);
  assert.equal(c.get(1), va);
  assert.deepEqual(calls, [[1, undefined, 'ctx', true]]);
  assert.equal(await c.fetch(1), va, 'a fresh value is answered without loading');
  assert.equal(calls.length, 1);
});

test('fetch: stale-while-revalidate answers the stale value and refreshes it', async () => {
  let n = 0;
  const c = new LruCache({
    max: 10,
    ttl: 100,
    allowStale: true,
    fakeClock: true,
    fetchMethod: async (key, stale) => `${key}:${++n}:${stale}`,
  });
  assert.equal(await c.fetch('k'), 'k:1:undefined');
  c.advanceClock(150);
  assert.equal(await c.fetch('k'), 'k:1:undefined', 'stale value answered at once');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(c.get('k'), 'k:2:k:1:undefined', 'refreshed in the background');
});

test('fetch: a rejected load rejects, or answers stale with allowStaleOnFetchRejection', async () => {
  const c = new LruCache({ max: 10, fetchMethod: async () => Promise.reject(new Error('down')) });
  await assert.rejects(c.fetch('x'), /down/);
  assert.equal(c.has('x'), false);
  const s = new LruCache({
    max: 10,
    ttl: 10,
    allowStale: true,
    fakeClock: true,
    allowStaleOnFetchRejection: true,
    fetchMethod: async () => Promise.reject(new Error('down')),
  });
  s.set('x', 'old');
  s.advanceClock(20);
  assert.equal(await s.fetch('x', { allowStale: false }), 'old');
});

test('fetch: a set while loading wins; the load is aborted and not stored', async () => {
  const d = deferred();
  let signal;
  const c = new LruCache({
    max: 10,
    fetchMethod: (key, stale, opts) => {
      signal = opts.signal;
      return d.promise;
    },
  });
  const p = c.fetch('k');
  c.set('k', 'direct');
  assert.equal(signal.aborted, true);
  d.resolve('loaded');
  await assert.rejects(p, /replaced/);
  assert.equal(c.get('k'), 'direct');
});

test('fetch without fetchMethod is get; ttl set by the loader applies', async () => {
  const c = new LruCache({ max: 10 });
  c.set('a', 'A');
  assert.equal(await c.fetch('a'), 'A');
  const t = new LruCache({
    max: 10,
    fakeClock: true,
    fetchMethod: async (key, stale, { options }) => {
      options.ttl = 5;
      return 'v';
    },
  });
  await t.fetch('k');
  t.advanceClock(10);
  assert.equal(t.get('k'), undefined);
});

test('memo: computes once, forceRefresh recomputes, needs memoMethod', () => {
  let n = 0;
  const c = new LruCache({ max: 10, memoMethod: (key, stale, { context }) => [key, ++n, stale, context] });
  const v = c.memo('k', { context: 7 });
  assert.deepEqual(v, ['k', 1, undefined, 7]);
  assert.equal(c.memo('k'), v);
  assert.deepEqual(c.memo('k', { forceRefresh: true }), ['k', 2, v, undefined]);
  assert.throws(() => new LruCache({ max: 1 }).memo('k'), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_OPTION' });
  assert.throws(() => new LruCache({ max: 1, memoMethod: 1 }), { code: 'ERR_QERRORS_CACHE_INVALID_OPTION' });
});

test('rkeys/rvalues/rentries/rforEach: least recently used first', () => {
  const c = new LruCache({ max: 10 });
  c.set('a', 'A').set(2, 'B').set('c', { c: 1 });
  c.get('a');
  assert.deepEqual([...c.keys()], ['a', 'c', 2]);
  assert.deepEqual([...c.rkeys()], [2, 'c', 'a']);
  assert.deepEqual([...c.rvalues()], ['B', { c: 1 }, 'A']);
  assert.deepEqual([...c.rentries()][0], [2, 'B']);
  const seen = [];
  c.rforEach((v, k) => seen.push(k));
  assert.deepEqual(seen, [2, 'c', 'a']);
});

test('dump/load: same entries and recency order in another cache', () => {
  const c = new LruCache({ max: 5 });
  for (let i = 0; i < 9; i++) c.set(i, i % 2 ? `s${i}` : { i });
  c.get(5);
  const d = new LruCache({ max: 5 });
  d.set('gone', 'x');
  d.load(c.dump());
  assert.deepEqual([...d.entries()], [...c.entries()]);
  assert.equal(d.has('gone'), false);
});

test('pop, find, onInsert, disposeAfter', () => {
  const log = [];
  const c = new LruCache({
    max: 5,
    dispose: (v, k, r) => log.push(['dispose', v, k, r]),
    disposeAfter: (v, k, r) => log.push(['after', v, k, r]),
    onInsert: (v, k, r) => log.push(['insert', v, k, r]),
  });
  const o = { n: 1 };
  c.set(1, o).set(1, o).set(1, 'one').set('b', 'B');
  assert.deepEqual(log.filter((e) => e[0] === 'insert').map((e) => e[3]), ['add', 'update', 'replace', 'add']);
  assert.equal(c.find((v) => v === 'B'), 'B');
  assert.equal(c.find(() => false), undefined);
  log.length = 0;
  assert.equal(c.pop(), 'one', 'the least recently used first');
  assert.deepEqual(log, [
    ['dispose', 'one', 1, 'evict'],
    ['after', 'one', 1, 'evict'],
  ]);
  assert.equal(c.pop(), 'B');
  assert.equal(c.pop(), undefined);
  assert.equal(c.size, 0);
});

test('clear(): a disposeAfter that sets a key again keeps it, with its new value of any kind', () => {
  const again = new Map([
    ['n', (v) => v + 1],
    ['o', (v) => ({ n: v.n + 1 })],
    ['s', (v) => `${v}!`],
  ]);
  const c = new LruCache({
    max: 10,
    disposeAfter: (v, k) => {
      if (again.has(k)) c.set(k, again.get(k)(v), { noDisposeOnSet: true });
    },
  });
  c.set('n', 1).set('o', { n: 1 }).set('s', 'x').set('gone', 'y');
  c.clear();
  assert.deepEqual(Object.fromEntries(c.entries()), { n: 2, o: { n: 2 }, s: 'x!' });
});

test('maxEntrySize: larger entries are not stored and remove the old value', () => {
  const disposed = [];
  const c = new LruCache({
    max: 10,
    maxEntrySize: 3,
    sizeCalculation: (v) => v.length,
    dispose: (v, k, r) => disposed.push([v, k, r]),
  });
  c.set('a', 'abc');
  c.set('a', 'abcd');
  assert.equal(c.has('a'), false);
  // The reason lru-cache gives: the set of the key removed its old value.
  assert.deepEqual(disposed, [['abc', 'a', 'set']]);
  assert.equal(c.set('b', 'xy').get('b'), 'xy');
  for (const bad of [-1, 1.5, Infinity, 'banana']) {
    assert.throws(() => new LruCache({ max: 1, maxEntrySize: bad }), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_OPTION' });
  }
  assert.throws(() => new LruCache({ max: 1, maxEntrySize: 5 }).set('k', 'v'), { name: 'TypeError', code: 'ERR_QERRORS_CACHE_INVALID_SIZE' });
});

test('fetch: a failing background refresh keeps the stale answer and rejects nothing unhandled', async () => {
  const unhandled = [];
  const onUnhandled = (err) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    const outer = new AbortController();
    const c = new LruCache({
      max: 10,
      ttl: 10,
      allowStale: true,
      fakeClock: true,
      fetchMethod: async () => {
        throw new Error('down');
      },
    });
    c.set('k', 'old');
    c.advanceClock(20);
    assert.equal(await c.fetch('k', { signal: outer.signal }), 'old');
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    // A settled load leaves no listener on the caller's signal: aborting it now is a no-op.
    outer.abort();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('status objects report what set/get/has/peek did, as lru-cache fills them', () => {
  const c = new LruCache({ max: 2 });
  const s = () => ({});
  const st = [s(), s(), s(), s(), s(), s()];
  c.set('a', 'A', { status: st[0] });
  c.set('a', 'B', { status: st[1] });
  c.get('a', { status: st[2] });
  c.get('x', { status: st[3] });
  c.has('a', { status: st[4] });
  c.peek('x', { status: st[5] });
  assert.deepEqual(st, [
    { op: 'set', key: 'a', value: 'A', set: 'add' },
    { op: 'set', key: 'a', value: 'B', set: 'replace', oldValue: 'A' },
    { op: 'get', key: 'a', get: 'hit', value: 'B' },
    { op: 'get', key: 'x', get: 'miss' },
    { op: 'has', key: 'a', has: 'hit' },
    { op: 'peek', key: 'x', peek: 'miss' },
  ]);
});

test('a ttl alone bounds a cache; ttlAutopurge removes each entry by timer when it expires', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 1;
  const disposed = [];
  const c = new LruCache({ ttl: 10, ttlAutopurge: true, perf: { now: () => now }, dispose: (v, k, r) => disposed.push([k, r]) });
  c.set('a', 'A');
  c.set('b', 'B', { ttl: 0 });
  now += 11;
  t.mock.timers.tick(11);
  assert.deepEqual(disposed, [['a', 'expire']]);
  assert.deepEqual([...c.keys()], ['b']);
  assert.equal(c.size, 1);
});

test('a cache bounded by ttl alone warns once per process, in lru-cache\'s words, on stderr without emitWarning', () => {
  // The warning is once per process: each case runs in a child of its own.
  const run = (script) => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: __dirname });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const prelude = "const { LruCache } = require('../lib/native/cache'); const seen = [];";
  const msg = 'TTL caching without ttlAutopurge, max, or maxSize can result in unbounded memory consumption.';
  const emitted = run(
    `${prelude} process.emitWarning = (...a) => seen.push(a);` +
      'new LruCache({ ttl: 100 }); new LruCache({ ttl: 100 }); new LruCache({ max: 1, ttl: 100 });' +
      'new LruCache({ ttl: 100, ttlAutopurge: true }); process.stdout.write(JSON.stringify(seen));'
  );
  assert.deepEqual(emitted, [[msg, 'UnboundedCacheWarning', 'LRU_CACHE_UNBOUNDED']]);
  const printed = run(
    `${prelude} process.emitWarning = undefined; console.error = (m) => seen.push(m);` +
      'new LruCache({ ttl: 100 }); new LruCache({ ttl: 100 }); process.stdout.write(JSON.stringify(seen));'
  );
  assert.deepEqual(printed, [`[LRU_CACHE_UNBOUNDED] UnboundedCacheWarning: ${msg}`]);
  assert.throws(() => new LruCache({ max: 1, perf: {} }), {
    name: 'TypeError',
    code: 'ERR_QERRORS_CACHE_INVALID_OPTION',
    message: 'perf option must have a now() method if specified',
  });
});

test('fetch: a first load holds a placeholder that counts in size, reads as absent and aborts when evicted', async () => {
  let resolve;
  let aborted = false;
  const c = new LruCache({
    max: 2,
    fetchMethod: (k, stale, { signal }) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise((r) => (resolve = r));
    },
  });
  const p = c.fetch('a');
  assert.equal(c.size, 1);
  assert.equal(c.has('a'), false);
  assert.equal(c.get('a'), undefined);
  assert.deepEqual([...c.keys()], []);
  c.set('b', 'B').set('c', 'C');
  assert.equal(aborted, true, 'the bound evicted the placeholder');
  resolve('A');
  await assert.rejects(p);
  assert.deepEqual([...c.keys()], ['c', 'b']);
});

test('fetch with json: true: the placeholder stays a placeholder, the result is stored as JSON', async () => {
  const c = new LruCache({ max: 2, json: true, fetchMethod: async (k) => ({ k }) });
  const p = c.fetch('a');
  assert.equal(c.get('a'), undefined);
  assert.deepEqual(await p, { k: 'a' });
  assert.deepEqual(c.get('a'), { k: 'a' });
});
