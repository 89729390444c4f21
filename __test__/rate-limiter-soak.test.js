'use strict';

// Soak: one million distinct keys through a limiter bounded at 100k keys. The table must
// stay within its bound, evict exactly the overflow, keep nothing on the V8 heap, and give
// its memory back once every key has refilled. Memory figures are printed, not asserted
// as timings.

const test = require('node:test');
const assert = require('node:assert/strict');
const { RateLimiter } = require('../native');
const { fullGc } = require('./helpers/gc');

const MB = (n) => `${(n / 1048576).toFixed(1)} MB`;

function memory() {
  fullGc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

test('1M distinct keys through maxKeys 100k stays bounded and returns its memory', (t) => {
  const l = new RateLimiter({ limit: 10, windowMs: 60000, maxKeys: 100000, clock: 'manual', sweepIntervalMs: 0 });
  const before = memory();
  let maxKeys = 0;
  for (let i = 0; i < 1000000; i++) {
    const key = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(l.check(key), 9);
    if ((i & 0xffff) === 0) maxKeys = Math.max(maxKeys, l.stats().keys);
  }
  const full = memory();
  const nativeFull = l.heapBytes();
  const s = l.stats();
  assert.equal(s.keys, 100000);
  assert.ok(maxKeys <= 100000);
  assert.equal(s.allowed, 1000000);
  assert.equal(s.evicted + s.swept, 900000, 'every key past the bound removed exactly one');
  assert.equal(s.evicted, 900000, 'no key had refilled yet (the clock did not move)');
  assert.ok(nativeFull < 16 * 1048576, `native table ${MB(nativeFull)} for 100k keys`);
  assert.ok(full.heapUsed - before.heapUsed < 8 * 1048576, `V8 heap grew ${MB(full.heapUsed - before.heapUsed)}`);

  // Idle past the window: the sweep deletes every refilled key in bounded steps.
  l.advanceTime(60000);
  let steps = 0;
  while (l.stats().keys > 0 && steps < 1000) {
    l.sweep(4096);
    steps++;
  }
  const after = memory();
  assert.equal(l.stats().keys, 0);
  assert.equal(l.stats().swept, 100000);
  assert.ok(l.heapBytes() < 64 * 1024, `native table back to ${l.heapBytes()} bytes`);
  t.diagnostic(`before: rss ${MB(before.rss)}, V8 heap ${MB(before.heapUsed)}`);
  t.diagnostic(`after 1M keys: rss ${MB(full.rss)}, V8 heap ${MB(full.heapUsed)}, native table ${MB(nativeFull)} (100k keys, ${(nativeFull / 100000).toFixed(0)} B/key)`);
  t.diagnostic(`after idle sweep (${steps} steps of 4096): rss ${MB(after.rss)}, V8 heap ${MB(after.heapUsed)}, native table ${l.heapBytes()} B`);
});

test('1M unique IPv6 addresses inside four /64s stay four keys with ipv6Subnet: 64', () => {
  const l = new RateLimiter({ limit: 1000000, windowMs: 60000, ipv6Subnet: 64, clock: 'manual', sweepIntervalMs: 0 });
  const before = l.heapBytes();
  for (let i = 0; i < 1000000; i++) {
    const net = i & 3;
    l.check(`2001:db8:${net}:1:${((i >>> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::${net}`);
  }
  const s = l.stats();
  assert.equal(s.keys, 4);
  assert.equal(s.allowed, 1000000);
  assert.equal(l.remaining('2001:db8:0:1::abcd'), 1000000 - 250000, 'each /64 shares one quota');
  assert.ok(l.heapBytes() - before < 4096, `native table grew ${l.heapBytes() - before} B`);
});
