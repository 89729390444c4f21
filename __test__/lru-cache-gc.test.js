'use strict';

// Finalization: a cache that JS drops frees its native memory.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { LruCache } = require('../native');
const { fullGc } = require('./helpers/gc');

const root = path.resolve(__dirname, '..');

/** Several full GCs with turns of the event loop between them: N-API finalizers run after GC. */
async function collect(until) {
  for (let i = 0; i < 20; i++) {
    fullGc();
    await new Promise((resolve) => setImmediate(resolve));
    if (until()) return true;
  }
  return until();
}

function fill(n) {
  const c = new LruCache({ max: n, ttl: 60_000 });
  // Longer than a young string (lib/native/cache/young.js): copied off the heap at once.
  const value = 'v'.repeat(4096);
  for (let i = 0; i < n; i++) c.set(`key-${i}`, value);
  return c;
}

test('a dropped cache frees its native memory', async () => {
  await collect(() => false);
  const before = LruCache.nativeMemory();
  let c = fill(2000);
  const during = LruCache.nativeMemory();
  assert.equal(during.caches, before.caches + 1);
  assert.ok(during.bytes - before.bytes >= 2000 * 4096, `native bytes grew by ${during.bytes - before.bytes}`);
  assert.equal(c.size, 2000);
  c = null;
  const freed = await collect(() => {
    const now = LruCache.nativeMemory();
    return now.caches === before.caches && now.bytes === before.bytes;
  });
  assert.ok(freed, `still held after GCs: ${JSON.stringify(LruCache.nativeMemory())} vs ${JSON.stringify(before)}`);
});

test('live bytes (values only) follow eviction, delete, expiry and clear exactly', async () => {
  const base = LruCache.nativeMemory().bytes;
  // With dispose, every string is copied at set (no young strings, see young.js).
  const c = new LruCache({ max: 2, ttl: 10, fakeClock: true, dispose() {} });
  c.set('a', 'x'.repeat(100)); // keys stay in JS: only the value counts
  assert.equal(LruCache.nativeMemory().bytes - base, 100);
  c.set('b', 'é'.repeat(10)); // Latin-1: 1 byte a unit
  c.set('c', '😀'); // UTF-16: 2 bytes a unit; evicts a
  assert.equal(LruCache.nativeMemory().bytes - base, 10 + 4);
  c.delete('b');
  assert.equal(LruCache.nativeMemory().bytes - base, 4);
  c.advanceClock(11);
  c.get('c');
  assert.equal(LruCache.nativeMemory().bytes - base, 0);
  c.set('d', Buffer.alloc(50));
  c.clear();
  assert.equal(LruCache.nativeMemory().bytes - base, 0);
});

test('young strings: held by reference until SIZE later sets, never copied when they leave first', () => {
  const { SIZE } = require('../lib/native/cache/young');
  const base = LruCache.nativeMemory().bytes;
  const c = new LruCache({ max: 4 * SIZE });
  c.set('first', 'f'.repeat(100));
  c.set('gone', 'g'.repeat(100));
  c.delete('gone');
  assert.equal(LruCache.nativeMemory().bytes - base, 0, 'young strings are on the JS heap');
  assert.equal(c.get('first'), 'f'.repeat(100));
  for (let i = 0; i < SIZE - 2; i++) c.set(`k${i}`, 'k');
  assert.equal(LruCache.nativeMemory().bytes - base, 0, 'nothing moved before the ring comes round');
  c.set('next', 'n');
  // The ring came round to `first`: copied off the heap, its recency and value unchanged.
  assert.equal(LruCache.nativeMemory().bytes - base, 100);
  assert.equal(c.get('first'), 'f'.repeat(100));
  assert.deepEqual([...c.keys()].slice(0, 2), ['first', 'next']);
  c.set('k0', 'replaced');
  c.set('k1', 'x'.repeat(5000)); // too long to be young: copied at once
  assert.equal(LruCache.nativeMemory().bytes - base, 100 + 5000);
  assert.equal(c.get('k0'), 'replaced');
  assert.equal(c.peek('k1'), 'x'.repeat(5000));
  c.clear();
  assert.equal(LruCache.nativeMemory().bytes - base, 0);
  // After clear, the ring's old records find nothing to move.
  for (let i = 0; i < 2 * SIZE; i++) c.set(`z${i % 10}`, `v${i}`);
  assert.equal(c.size, 10);
  for (let i = 2 * SIZE - 10; i < 2 * SIZE; i++) assert.equal(c.get(`z${i % 10}`), `v${i}`);
});

test('young strings: a set replacing the string due to move off the heap copies nothing', () => {
  const { SIZE } = require('../lib/native/cache/young');
  const base = LruCache.nativeMemory().bytes;
  const c = new LruCache({ max: 4 * SIZE });
  c.set('a', 'a'.repeat(100));
  for (let i = 0; i < SIZE - 1; i++) c.set(`k${i}`, 'k');
  // The ring is back at a's place: this set replaces a's value, so a is not copied first.
  c.set('a', 'b'.repeat(50));
  assert.equal(LruCache.nativeMemory().bytes - base, 0);
  assert.equal(c.get('a'), 'b'.repeat(50));
  // The next set moves k0 (1 byte); the SIZE - 1 after it move the other k's, then a.
  c.set('x', 'x');
  assert.equal(LruCache.nativeMemory().bytes - base, 1);
  for (let i = 0; i < SIZE - 1; i++) c.set(`y${i}`, 'y');
  assert.equal(LruCache.nativeMemory().bytes - base, SIZE - 1 + 50); // every k, then a
  assert.equal(c.get('a'), 'b'.repeat(50));
});

test('many short-lived caches do not accumulate', async () => {
  await collect(() => false);
  const before = LruCache.nativeMemory();
  for (let i = 0; i < 200; i++) fill(20);
  const ok = await collect(() => LruCache.nativeMemory().caches === before.caches);
  assert.ok(ok, `caches alive: ${JSON.stringify(LruCache.nativeMemory())} vs ${JSON.stringify(before)}`);
  assert.equal(LruCache.nativeMemory().bytes, before.bytes);
});

test('a process that uses a cache exits by itself', () => {
  const r = spawnSync(
    process.execPath,
    ['-e', "const { LruCache } = require('./native'); const c = new LruCache({ max: 10, ttl: 1000 }); c.set('a', 'b'); console.log(c.get('a'))"],
    { cwd: root, encoding: 'utf8', timeout: 10_000 }
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'b');
});

test('works in a worker thread, which then exits and frees its caches', async () => {
  const { Worker } = require('node:worker_threads');
  const before = LruCache.nativeMemory();
  const w = new Worker(
    "const { parentPort } = require('node:worker_threads'); const { LruCache } = require('./native');" +
      "const c = new LruCache({ max: 10, ttl: 1000 }); c.set('a', 'x'.repeat(100));" +
      "parentPort.postMessage([c.get('a'), c.get('a') === c.get('a'), c.stats().hits]);",
    { eval: true, cwd: root }
  );
  const [message, code] = await Promise.all([
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }),
    new Promise((resolve) => w.once('exit', resolve)),
  ]);
  assert.deepEqual(message, ['x'.repeat(100), true, 3]);
  assert.equal(code, 0);
  // The worker's environment is torn down with it, finalizers included.
  assert.deepEqual(LruCache.nativeMemory(), before);
});
