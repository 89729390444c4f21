'use strict';

// opossum's form of the breaker, `new CircuitBreaker(action, options)`: its defaults and
// opening rule, breaker.options, status (window, snapshots, rotation), cache and
// coalescing counters, capacity, warm-up, state restore, health check, abort controller.
// Time is the native fake clock plus node:test's mocked timers; nothing sleeps.
// (opossum's own suite runs against this class through compat/run.js.)

const test = require('node:test');
const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');

const { CircuitBreaker } = require('../lib/native/breaker');
const { CircuitBreakerFakeClock } = require('../lib/native/loader');

const settle = () => new Promise((resolve) => setImmediate(resolve));
const passFail = async (x) => {
  if (x > 0) return x;
  throw new Error(`${x} is < 0`);
};

/** An opossum-form breaker on a fake clock, timeout off unless given. */
function make(options = {}, action = passFail) {
  const clock = new CircuitBreakerFakeClock(1000);
  return { clock, breaker: new CircuitBreaker(action, { timeout: false, clock, ...options }) };
}

test("opossum's form: defaults filled into a copy of the options, zeros accepted", () => {
  const given = { name: 'tacos' };
  const b = new CircuitBreaker(passFail, given);
  const o = b.options;
  assert.deepEqual(
    [o.timeout, o.resetTimeout, o.errorThresholdPercentage, o.rollingCountTimeout, o.rollingCountBuckets, o.capacity],
    [10000, 30000, 50, 10000, 10, Number.MAX_SAFE_INTEGER]
  );
  assert.equal(o.enableSnapshots, true);
  assert.equal(o.rollingPercentilesEnabled, true);
  assert.deepEqual(given, { name: 'tacos' }, 'the caller object is not mutated');
  assert.equal(b.name, 'tacos');
  assert.equal(b.group, 'tacos');
  assert.equal(b.action, passFail);
  assert.equal(b.volumeThreshold, 0);
  b.shutdown();
  const zeros = new CircuitBreaker(passFail, { resetTimeout: 0, rollingCountTimeout: 0, rollingCountBuckets: 0, timeout: 0 });
  assert.deepEqual([zeros.options.resetTimeout, zeros.options.rollingCountTimeout, zeros.options.rollingCountBuckets], [0, 0, 0]);
  assert.equal(zeros.status.window.length, 10, '0 buckets means the default, as in opossum');
  zeros.shutdown();
  assert.throws(() => new CircuitBreaker(), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_OPTION' });
  assert.throws(() => new CircuitBreaker(passFail, { abortController: {} }), { name: 'TypeError', message: 'AbortController does not contain `abort()` method' });
  // The spec's form is unchanged: a service name selects it, and its options are required.
  assert.throws(() => new CircuitBreaker(passFail, 'svc'), { message: 'failureThreshold must be positive' });
});

test("opossum's rule: the first failure opens (50 % of the window's fires, volume 0); our errors are marked", async () => {
  const { breaker: b } = make();
  const err = await b.fire(-1).catch((e) => e);
  assert.equal(err.message, '-1 is < 0');
  assert.equal(CircuitBreaker.isOurError(err), false);
  assert.ok(b.opened, '1 failure of 1 fire');
  b.shutdown();
  const { breaker: c } = make();
  await c.fire(1);
  await assert.rejects(c.fire(-1));
  assert.ok(c.closed, '1 failure of 2 fires is not more than 50 %');
  c.shutdown();
});

test('rejects count as fires; volumeThreshold counts fires in the window', async () => {
  const { breaker: b } = make({ errorThresholdPercentage: 1, volumeThreshold: 3 });
  for (let i = 0; i < 2; i++) await assert.rejects(b.fire(-1));
  assert.ok(b.closed, 'two fires are under the volume');
  await assert.rejects(b.fire(-1));
  assert.ok(b.opened);
  const rejected = await b.fire(1).catch((e) => e);
  assert.equal(rejected.code, 'EOPENBREAKER');
  assert.equal(CircuitBreaker.isOurError(rejected), true);
  assert.deepEqual([b.stats.fires, b.stats.failures, b.stats.rejects], [4, 3, 1]);
  b.shutdown();
});

test("a 'fallback' key in the options is ignored (opossum's form); fallback(breaker) delegates", async () => {
  const { breaker: b } = make({ fallback: () => 'from options' });
  await assert.rejects(b.fire(-1), { message: '-1 is < 0' });
  const { breaker: other } = make({}, (x) => `other:${x}`);
  const { breaker: c } = make({ errorThresholdPercentage: 100 });
  c.fallback(other);
  assert.equal(await c.fire(-2), 'other:-2');
  for (const x of [b, other, c]) x.shutdown();
});

test('a value instead of a function: every call resolves to it', async () => {
  const b = new CircuitBreaker('foobar', { timeout: false });
  assert.equal(await b.fire(), 'foobar');
  b.shutdown();
});

test('status: buckets newest first with the open flag; a rotate controller moves them', async () => {
  const rotate = new EventEmitter();
  const { breaker: b } = make({ rotateBucketController: rotate, rollingCountBuckets: 3, rollingCountTimeout: 30 });
  await assert.rejects(b.fire(-1));
  let w = b.status.window;
  assert.equal(w.length, 3);
  assert.equal(w[0].failures, 1);
  assert.equal(w[0].isCircuitBreakerOpen, true);
  assert.equal('isCircuitBreakerOpen' in w[1], false);
  rotate.emit('rotate');
  w = b.status.window;
  assert.equal(w[0].failures, 0);
  assert.equal(w[1].failures, 1);
  b.disable();
  rotate.emit('rotate');
  assert.equal(b.status.window[1].failures, 1, 'a disabled breaker stops listening');
  b.shutdown();
  assert.equal(rotate.listenerCount('rotate'), 0);
});

test("status 'snapshot' events run only while someone listens; percentiles off reads -1", (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { breaker: b } = make({ rollingCountTimeout: 100, rollingCountBuckets: 10 });
  const snaps = [];
  t.mock.timers.tick(50);
  const listener = (s) => snaps.push(s.fires);
  b.status.on('snapshot', listener);
  t.mock.timers.tick(25);
  assert.deepEqual(snaps, [0, 0]);
  b.status.removeListener('snapshot', listener);
  t.mock.timers.tick(50);
  assert.equal(snaps.length, 2);
  b.shutdown();
  const { breaker: off } = make({ rollingPercentilesEnabled: false, enableSnapshots: false });
  assert.equal(off.status.stats.latencyMean, -1);
  assert.equal(off.status.stats.percentiles[0.5], -1);
  assert.equal(off.status.enableSnapshots, false);
  off.shutdown();
});

test('cache and coalescing: hits and misses are real window counters', async () => {
  let runs = 0;
  const slow = (x) => {
    runs++;
    return new Promise((resolve) => setImmediate(resolve, x));
  };
  const { breaker: b } = make({ cache: true, coalesce: true }, slow);
  const three = await Promise.all([b.fire(1), b.fire(1), b.fire(1)]);
  assert.deepEqual(three, [1, 1, 1]);
  assert.equal(runs, 1);
  await settle();
  assert.equal(await b.fire(1), 1);
  const s = b.stats;
  assert.deepEqual(
    [s.fires, s.successes, s.cacheHits, s.cacheMisses, s.coalesceCacheHits, s.coalesceCacheMisses],
    [4, 1, 1, 3, 2, 1]
  );
  b.clearCache();
  await b.fire(1);
  assert.equal(runs, 2);
  b.shutdown();
});

test('capacity: calls over it are refused with ESEMLOCKED and counted as semaphoreRejections', async () => {
  let release;
  const { breaker: b } = make({ capacity: 1, errorThresholdPercentage: 100 }, () => new Promise((r) => (release = r)));
  const first = b.fire();
  assert.equal(b.semaphore.count, 0);
  const err = await b.fire().catch((e) => e);
  assert.equal(err.code, 'ESEMLOCKED');
  assert.equal(CircuitBreaker.isOurError(err), true);
  release('done');
  assert.equal(await first, 'done');
  assert.equal(b.semaphore.count, 1);
  assert.equal(b.stats.semaphoreRejections, 1);
  b.shutdown();
});

test('warm-up: no opening during the first rollingCountTimeout ms', async () => {
  const { clock, breaker: b } = make({ allowWarmUp: true, rollingCountTimeout: 500, errorThresholdPercentage: 1 });
  assert.equal(b.warmUp, true);
  await assert.rejects(b.fire(-1));
  assert.ok(b.closed);
  clock.advance(500);
  assert.equal(b.warmUp, false);
  await assert.rejects(b.fire(-1));
  assert.ok(b.opened);
  b.shutdown();
});

test('state restore: toJSON() of an open breaker restores open; half-open restores pendingClose', async () => {
  const { breaker: a } = make({ resetTimeout: 1000 });
  await assert.rejects(a.fire(-1));
  const saved = a.toJSON();
  assert.equal(saved.state.open, true);
  const { breaker: b } = make({ resetTimeout: 1000, state: saved.state, status: saved.status });
  assert.ok(b.opened);
  assert.equal(b.stats.failures, 1, 'the exported stats are imported');
  const { breaker: c } = make({ state: { closed: false, halfOpen: true } });
  assert.ok(c.halfOpen && c.pendingClose);
  assert.equal(await c.fire(5), 5);
  assert.ok(c.closed && !c.pendingClose);
  const { breaker: d } = make({ state: { shutdown: true } });
  assert.ok(d.isShutdown && !d.enabled);
  await assert.rejects(d.fire(1), { code: 'ESHUTDOWN' });
  for (const x of [a, b, c]) x.shutdown();
});

test('healthCheck(fn, interval) opens on a rejection; healthCheck() is the spec snapshot', async () => {
  const { breaker: b } = make();
  const failed = [];
  b.on('healthCheckFailed', (e) => failed.push(e.message));
  b.healthCheck(function check() {
    assert.equal(this, b);
    return Promise.reject(new Error('sick'));
  }, 60000);
  await settle();
  assert.deepEqual(failed, ['sick']);
  assert.ok(b.opened);
  assert.equal(b.healthCheck().state, 'OPEN');
  assert.throws(() => b.healthCheck('x'), { name: 'TypeError', message: 'Health check function must be a function' });
  assert.throws(() => b.healthCheck(() => Promise.resolve(), 'x'), { name: 'TypeError', message: 'Health check interval must be a number' });
  b.shutdown();
});

test('abortController: aborted on timeout; autoRenewAbortController renews it when half-open', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { clock, breaker: b } = make({ timeout: 10, resetTimeout: 50, autoRenewAbortController: true }, () => new Promise(() => {}));
  const first = b.getAbortController();
  const p = b.fire().catch((e) => e);
  clock.advance(10);
  t.mock.timers.tick(10);
  assert.equal((await p).code, 'ETIMEDOUT');
  assert.equal(first.signal.aborted, true);
  assert.ok(b.opened);
  clock.advance(50);
  t.mock.timers.tick(50);
  assert.ok(b.halfOpen);
  assert.notEqual(b.getAbortController(), first);
  assert.equal(b.getSignal().aborted, false);
  b.shutdown();
});

test("an idle opossum-form breaker keeps nothing alive: open, snapshots listened, health check running", () => {
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  const script = `
    const { CircuitBreaker } = require('./lib/native/breaker');
    const b = new CircuitBreaker(async () => { throw new Error('down'); }, { resetTimeout: 60000, allowWarmUp: false });
    b.status.on('snapshot', () => {});
    b.healthCheck(() => Promise.resolve(), 60000);
    b.fire().catch((e) => console.log('rejected', e.message, b.opened));
  `;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'rejected down true');
  assert.ok(Date.now() - started < 5000, 'exits by itself although the breaker is open with timers armed');
});
