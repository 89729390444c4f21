'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { RateLimiter } = require('../native');

const manual = (opts) => new RateLimiter({ clock: 'manual', sweepIntervalMs: 0, ...opts });

/** Asserts that `fn` throws `Kind` with `code`. */
function throwsCoded(fn, Kind, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Kind, `${e && e.constructor && e.constructor.name}: ${e && e.message}`);
    assert.equal(e.code, code);
    return true;
  });
}

test('check allows limit requests, then -1, then refills smoothly (GCRA)', () => {
  const l = manual({ limit: 3, windowMs: 3000 });
  assert.deepEqual([l.check('a'), l.check('a'), l.check('a'), l.check('a')], [2, 1, 0, -1]);
  assert.equal(l.retryAfterMs('a'), 1000);
  assert.equal(l.resetMs('a'), 3000);
  assert.equal(l.remaining('a'), 0);
  assert.equal(l.advanceTime(999), 999);
  assert.equal(l.check('a'), -1);
  l.advanceTime(1);
  assert.equal(l.check('a'), 0);
  assert.equal(l.check('b'), 2, 'keys are independent');
  assert.deepEqual(l.stats(), { keys: 2, allowed: 5, limited: 2, evicted: 0, swept: 0 });
});

test('the options are visible and the limiter is frozen', () => {
  const l = manual({ limit: 10 });
  assert.deepEqual([l.limit, l.windowMs, l.burst, l.maxKeys], [10, 60000, 10, 100000]);
  assert.ok(Object.isFrozen(l));
});

test('burst smaller than limit', () => {
  const l = manual({ limit: 10, windowMs: 10000, burst: 2 });
  assert.deepEqual([l.check('k'), l.check('k'), l.check('k')], [1, 0, -1]);
  l.advanceTime(1000);
  assert.equal(l.check('k'), 0);
});

test('consume weights, penalty, reward, reset, resetAll', () => {
  const l = manual({ limit: 10, windowMs: 10000 });
  assert.equal(l.consume('k', 4), 6);
  assert.equal(l.consume('k', 7), -1, 'a refused request takes nothing');
  assert.equal(l.consume('k'), 5, 'cost defaults to 1');
  assert.equal(l.consume('k', 0), 5, 'cost 0 only reads');
  assert.equal(l.penalty('k', 10), -1);
  assert.equal(l.retryAfterMs('k'), 6000);
  assert.equal(l.reward('k', 7), 2);
  assert.equal(l.reward('k', 100), 10, 'never above a full quota');
  assert.equal(l.penalty('k'), 9, 'penalty defaults to 1');
  assert.equal(l.reward('k'), 10, 'reward defaults to 1');
  assert.equal(l.reset('k'), true);
  assert.equal(l.reset('k'), false);
  l.check('a');
  l.check('b');
  l.resetAll();
  assert.equal(l.stats().keys, 0);
  assert.equal(l.check('a'), 9);
});

test('checkBatch equals single checks, in order, with one result per key', () => {
  const a = manual({ limit: 2 });
  const b = manual({ limit: 2 });
  const keys = ['x', 'y', 'x', 'x', 'z', 'é-ключ', 'é-ключ', 'é-ключ'];
  const out = new Int32Array(keys.length + 2).fill(99);
  assert.equal(a.checkBatch(Buffer.from(keys.join('\n') + '\n'), out), keys.length);
  assert.deepEqual([...out], [...keys.map((k) => b.check(k)), 99, 99]);
  assert.deepEqual([...out.subarray(0, 8)], [1, 1, 0, -1, 1, 1, 0, -1]);
  assert.equal(a.remaining('é-ключ'), 0, 'batch keys are the same keys as strings');
  assert.equal(a.checkBatch(Buffer.alloc(0), out), 0);
  assert.equal(a.checkBatch(new Uint8Array(Buffer.from('q')), out), 1);
});

test('checkBatch rejects bad arguments and a too small output', () => {
  const l = manual({ limit: 2 });
  throwsCoded(() => l.checkBatch('a\nb', new Int32Array(2)), TypeError, 'ERR_QERRORS_INVALID_BATCH');
  throwsCoded(() => l.checkBatch(Buffer.from('a'), new Float64Array(2)), TypeError, 'ERR_QERRORS_INVALID_BATCH');
  throwsCoded(() => l.checkBatch(Buffer.from('a\nb\nc'), new Int32Array(2)), RangeError, 'ERR_QERRORS_INVALID_BATCH');
  assert.equal(l.stats().allowed, 0, 'nothing was checked');
});

test('least recently seen key is evicted when maxKeys is reached, and counted', () => {
  const l = manual({ limit: 5, maxKeys: 3 });
  l.check('a');
  l.check('b');
  l.check('c');
  l.check('a');
  l.check('d');
  const s = l.stats();
  assert.equal(s.keys, 3);
  assert.equal(s.evicted, 1);
  assert.equal(l.remaining('b'), 5, 'b was forgotten');
  assert.equal(l.remaining('a'), 3, 'a was kept');
});

test('sweep deletes refilled keys and frees native memory', () => {
  const l = manual({ limit: 2, windowMs: 1000 });
  for (let i = 0; i < 20000; i++) l.check(`k${i}`);
  const before = l.heapBytes();
  l.check('hot');
  l.check('hot');
  l.advanceTime(600);
  l.check('hot');
  let swept = 0;
  for (let i = 0; i < 10; i++) swept += l.sweep(4096);
  assert.ok(swept >= 19990, `swept ${swept}`);
  assert.equal(l.stats().keys, 1);
  assert.ok(l.heapBytes() < before / 8, `${l.heapBytes()} < ${before} / 8`);
  assert.equal(l.check('hot'), -1, 'the busy key kept its state');
});

test('ipv6Subnet groups addresses; IPv4-mapped equals IPv4', () => {
  const l = manual({ limit: 2, ipv6Subnet: 64 });
  assert.equal(l.check('2001:db8:1:2:aaaa::1'), 1);
  assert.equal(l.check('2001:db8:1:2:ffff:eeee:dddd:cccc'), 0);
  assert.equal(l.check('2001:db8:1:3::1'), 1);
  assert.equal(l.check('10.0.0.1'), 1);
  assert.equal(l.check('::ffff:10.0.0.1'), 0);
  const plain = manual({ limit: 2 });
  assert.equal(plain.check('2001:db8:1:2:aaaa::1'), 1);
  assert.equal(plain.check('2001:db8:1:2:bbbb::1'), 1);
  throwsCoded(() => manual({ limit: 1, ipv6Subnet: 129 }), RangeError, 'ERR_QERRORS_INVALID_IPV6_SUBNET');
});

test('long keys are hashed whole, not rejected or truncated', () => {
  const l = manual({ limit: 1 });
  const a = 'x'.repeat(100000);
  const b = a.slice(0, -1) + 'y';
  assert.equal(l.check(a), 0);
  assert.equal(l.check(b), 0);
  assert.equal(l.check(a), -1);
  assert.equal(l.check(''), 0, 'the empty string is a key');
});

test('methods work detached from their object', () => {
  const l = manual({ limit: 2 });
  const { check } = l;
  assert.throws(() => check('a'), TypeError, 'facade methods need their limiter');
  const bound = l.check.bind(l);
  assert.equal(bound('a'), 1);
});

test('bad options throw TypeError/RangeError with a code', () => {
  throwsCoded(() => new RateLimiter(), TypeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => new RateLimiter(null), TypeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => new RateLimiter({}), TypeError, 'ERR_QERRORS_INVALID_LIMIT');
  throwsCoded(() => new RateLimiter({ limit: '5' }), TypeError, 'ERR_QERRORS_INVALID_LIMIT');
  for (const limit of [NaN, 0, -1, 1.5, Infinity, 1e8]) {
    throwsCoded(() => new RateLimiter({ limit }), RangeError, 'ERR_QERRORS_INVALID_LIMIT');
  }
  for (const windowMs of [0, -5, NaN, 25 * 24 * 3600 * 1000, 2 ** 31]) {
    throwsCoded(() => new RateLimiter({ limit: 1, windowMs }), RangeError, 'ERR_QERRORS_INVALID_WINDOW');
  }
  assert.equal(new RateLimiter({ limit: 1, windowMs: 2 ** 31 - 1, sweepIntervalMs: 0 }).windowMs, 2 ** 31 - 1);
  throwsCoded(() => new RateLimiter({ limit: 1, burst: 0 }), RangeError, 'ERR_QERRORS_INVALID_BURST');
  throwsCoded(() => new RateLimiter({ limit: 1, maxKeys: 0 }), RangeError, 'ERR_QERRORS_INVALID_MAX_KEYS');
  throwsCoded(() => new RateLimiter({ limit: 1, clock: 'sundial' }), RangeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => new RateLimiter({ limit: 1, clock: 5 }), TypeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => new RateLimiter({ limit: 1, sweepIntervalMs: -1 }), RangeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => new RateLimiter({ limit: 1, max: 5 }), TypeError, 'ERR_QERRORS_UNKNOWN_OPTION');
});

test('bad per-call input throws TypeError/RangeError with a code and changes nothing', () => {
  const l = manual({ limit: 2 });
  for (const key of [undefined, null, 1, {}, Symbol('k'), Buffer.from('a')]) {
    throwsCoded(() => l.check(key), TypeError, 'ERR_QERRORS_INVALID_KEY');
    throwsCoded(() => l.retryAfterMs(key), TypeError, 'ERR_QERRORS_INVALID_KEY');
    throwsCoded(() => l.reset(key), TypeError, 'ERR_QERRORS_INVALID_KEY');
  }
  for (const cost of [-1, 1.5, NaN, Infinity, 1e8]) {
    throwsCoded(() => l.consume('a', cost), RangeError, 'ERR_QERRORS_INVALID_COST');
    throwsCoded(() => l.penalty('a', cost), RangeError, 'ERR_QERRORS_INVALID_COST');
    throwsCoded(() => l.reward('a', cost), RangeError, 'ERR_QERRORS_INVALID_COST');
  }
  throwsCoded(() => l.consume('a', '1'), TypeError, 'ERR_QERRORS_INVALID_COST');
  throwsCoded(() => l.sweep(-1), RangeError, 'ERR_QERRORS_INVALID_COST');
  throwsCoded(() => l.advanceTime(-1), RangeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => new RateLimiter({ limit: 1, sweepIntervalMs: 0 }).advanceTime(1), TypeError, 'ERR_QERRORS_NO_MANUAL_CLOCK');
  assert.deepEqual(l.stats(), { keys: 0, allowed: 0, limited: 0, evicted: 0, swept: 0 });
});

test('the real clocks refill too', async () => {
  for (const clock of ['coarse', 'precise']) {
    const l = new RateLimiter({ limit: 1, windowMs: 1, clock, sweepIntervalMs: 0 });
    assert.equal(l.check('k'), 0);
    // 1 request per ms: waiting 20 ms (well over a coarse tick) must refill.
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(l.check('k'), 0, clock);
  }
});

test('a limiter with its sweep timer does not keep the process alive', () => {
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(
    process.execPath,
    ['-e', "const { RateLimiter } = require('./native'); const l = new RateLimiter({ limit: 5 }); l.check('a'); console.log('done')"],
    { cwd: root, encoding: 'utf8', timeout: 10000 }
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
});

test('ESM exports the same classes', async () => {
  const esm = await import('../native.mjs');
  const cjs = require('../native');
  assert.equal(esm.RateLimiter, cjs.RateLimiter);
  assert.equal(esm.RateLimiterStore, cjs.RateLimiterStore);
  assert.equal(esm.rateLimit, cjs.rateLimit);
});

test('the same key again (the no-argument native path) decides exactly as a fresh key string', () => {
  const a = manual({ limit: 3, windowMs: 3000 });
  const b = manual({ limit: 3, windowMs: 3000 });
  // `b` sees a new string object every call, so it never takes the repeated-key path.
  const fresh = (s) => JSON.parse(JSON.stringify(s));
  const ops = [['k', 1], ['k', 1], ['x', 1], ['k', 1], ['k', 1], ['k', 0], ['x', 2], ['x', 2], ['k', 1]];
  for (const [key, cost] of ops) {
    assert.equal(a.consume(key, cost), b.consume(fresh(key), cost), `${key} ${cost}`);
    assert.equal(a.check(key), b.check(fresh(key)), key);
  }
  a.advanceTime(1000);
  b.advanceTime(1000);
  assert.equal(a.check('k'), b.check(fresh('k')));
  // A refused key string does not become the remembered key.
  assert.throws(() => a.check(42), { code: 'ERR_QERRORS_INVALID_KEY' });
  assert.equal(a.check('k'), b.check(fresh('k')));
  assert.throws(() => a.consume('k', -1), { code: 'ERR_QERRORS_INVALID_COST' });
  assert.equal(a.remaining('k'), b.remaining('k'));
  // Grouped IPv6 keys: the remembered hash is the group's.
  const g = manual({ limit: 2, ipv6Subnet: 64 });
  assert.equal(g.check('2001:db8::1'), 1);
  assert.equal(g.check('2001:db8::1'), 0);
  assert.equal(g.check('2001:db8::2'), -1);
  assert.deepEqual(a.stats(), b.stats());
});

test("algorithm: 'fixed-window' counts every hit until the window ends; hit() is its own", () => {
  const l = manual({ limit: 2, windowMs: 1000, algorithm: 'fixed-window' });
  assert.equal(l.algorithm, 'fixed-window');
  assert.equal(l.check('k'), 1);
  assert.equal(l.check('k'), 0);
  assert.equal(l.check('k'), -1);
  assert.equal(l.hit('k', 0), 3, 'the refused hit counted');
  assert.equal(l.hit('k'), 4);
  assert.equal(l.resetMs('k'), 1000);
  l.advanceTime(1000);
  assert.equal(l.hit('k', 0), 0, 'the window ended');
  assert.equal(l.check('k'), 1);
  throwsCoded(() => manual({ limit: 1 }).hit('k'), TypeError, 'ERR_QERRORS_INVALID_OPTION');
  throwsCoded(() => manual({ limit: 2, burst: 3, algorithm: 'fixed-window' }), RangeError, 'ERR_QERRORS_INVALID_BURST');
  throwsCoded(() => manual({ limit: 2, algorithm: 'sliding' }), RangeError, 'ERR_QERRORS_INVALID_OPTION');
  assert.equal(manual({ limit: 1 }).algorithm, 'gcra');
});

test("the native handle's noop (the benchmark's floor) answers 0, reads nothing and changes nothing", () => {
  const native = require('../lib/native/loader');
  const h = native.createRateLimiter({ limit: 1, windowMs: 60000, clock: 'manual' });
  assert.equal(h.check('k'), 0);
  // Not a string, not a number: a method that read its arguments would throw here.
  assert.equal(h.noop({}, Symbol('x')), 0);
  assert.equal(h.noop('k', 5), 0);
  assert.deepEqual(h.stats(), { keys: 1, allowed: 1, limited: 0, evicted: 0, swept: 0 });
  assert.equal(h.check('k'), -1, 'the key kept its state');
});

test('keys are read exactly: lone surrogates, U+FFFD, non-ASCII and long keys each have their own bucket, the same as in checkBatch', () => {
  const l = manual({ limit: 1 });
  for (const k of ['user-\ud800', 'user-\udfff', 'user-\ufffd', 'user-?', 'é', 'e', '日本', 'a'.repeat(300), 'a'.repeat(299) + 'é']) {
    assert.equal(l.check(k), 0, `${JSON.stringify(k).slice(0, 20)} is a new key`);
  }
  assert.equal(l.stats().keys, 9);
  const out = new Int32Array(4);
  assert.equal(l.checkBatch(Buffer.from(['user-\ufffd', 'é', '日本', 'a'.repeat(299) + 'é'].join('\n')), out), 4);
  assert.deepEqual([...out], [-1, -1, -1, -1], 'the UTF-8 bytes of a key are the same key');
  assert.equal(l.check('a'.repeat(300)), -1);
});
