'use strict';

// Circuit breaker timing and the native boundary: per-call timeouts with late results,
// timers (one shared, unref'd; none per call), the reset timer, the raw native handle,
// and random call sequences compared with the reference model. Time is a native fake
// clock moved together with node:test's mocked setTimeout.

const test = require('node:test');
const assert = require('node:assert/strict');

const { CircuitBreaker } = require('../lib/native/breaker');
const native = require('../lib/native/loader');
const { BreakerModel } = require('./breaker-model');
const { rng } = require('../benchmark/support');

const { CircuitBreakerFakeClock, createCircuitBreakerHandle } = native;
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Moves the fake clock and the mocked timers together, then lets promises run. */
function timeline(t, start = 0) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const clock = new CircuitBreakerFakeClock(start);
  return {
    clock,
    async advance(ms) {
      for (let i = 0; i < ms; i++) {
        clock.advance(1);
        t.mock.timers.tick(1);
        await settle();
      }
    },
  };
}

/** An operation resolving (or rejecting) after `ms` of mocked time. */
const after = (ms, value, fail = false) =>
  new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error(value)) : resolve(value)), ms));

test('a call over the timeout rejects with ETIMEDOUT; its late result is ignored', async (t) => {
  const { clock, advance } = timeline(t);
  const b = new CircuitBreaker((ms, v) => after(ms, v), 'slow', { timeout: 100, failureThreshold: 5, log: false, clock });
  const events = [];
  for (const ev of ['success', 'failure', 'timeout']) b.on(ev, (x, latency) => events.push([ev, x instanceof Error ? x.code : x, latency]));
  const slow = b.fire(150, 'late');
  const fast = b.fire(50, 'quick');
  let slowErr;
  slow.catch((e) => (slowErr = e));
  await advance(99);
  assert.equal(await fast, 'quick');
  assert.equal(slowErr, undefined, 'not before the deadline');
  await advance(1);
  assert.ok(slowErr, 'rejected at the deadline');
  assert.equal(slowErr.code, 'ETIMEDOUT');
  assert.equal(slowErr.message, 'Timed out after 100ms');
  await advance(100); // the late result arrives and must change nothing
  assert.deepEqual(events, [
    ['success', 'quick', 50],
    ['timeout', 'ETIMEDOUT', 100],
    ['failure', 'ETIMEDOUT', 100],
  ]);
  const s = b.stats;
  assert.deepEqual([s.successes, s.failures, s.timeouts, s.fires], [1, 1, 1, 2]);
  assert.equal(clock.now(), 200);
  b.shutdown();
});

test('call records are reused, and a timed-out call\'s late result never reaches a later call', async (t) => {
  const { advance, clock } = timeline(t);
  const b = new CircuitBreaker((ms, v) => after(ms, v), 'reuse', { timeout: 100, log: false, clock });
  const state = (p) => {
    const s = { value: undefined, err: undefined };
    p.then((v) => (s.value = v), (e) => (s.err = e));
    return s;
  };
  const a = state(b.fire(10, 'a'));
  await advance(10);
  assert.equal(a.value, 'a');
  const late = state(b.fire(150, 'b')); // takes a's record, then times out
  await advance(100);
  assert.equal(late.err && late.err.code, 'ETIMEDOUT');
  const c = state(b.fire(80, 'c'));
  await advance(50); // b's result arrives now: it must settle nothing
  assert.deepEqual([c.value, c.err], [undefined, undefined]);
  await advance(30);
  assert.equal(c.value, 'c');
  const d = state(b.fire(5, 'd')); // takes c's record
  await advance(5);
  assert.equal(d.value, 'd');
  const s = b.stats;
  assert.deepEqual([s.fires, s.successes, s.failures, s.timeouts], [4, 3, 1, 1]);
  b.shutdown();
});

test('every number the breaker reports counts real events', async (t) => {
  const { advance, clock } = timeline(t);
  const op = (kind) => (kind === 'ok' ? Promise.resolve(1) : kind === 'fail' ? Promise.reject(new Error('x')) : after(50, 'slow'));
  const b = new CircuitBreaker(op, 'all', { failureThreshold: 2, recoveryTimeoutMs: 100, timeout: 10, fallback: () => 'fb', log: false, clock });
  assert.equal(await b.fire('ok'), 1);
  await advance(2);
  const slow = b.fire('slow');
  await advance(10);
  assert.equal(await slow, 'fb', 'timed out, served by the fallback');
  assert.equal(await b.fire('fail'), 'fb');
  assert.equal(b.getState(), 'OPEN', 'two consecutive failures');
  assert.equal(await b.fire('ok'), 'fb', 'rejected while open');
  const s = b.stats;
  assert.deepEqual(
    [s.fires, s.successes, s.failures, s.timeouts, s.rejects, s.fallbacks],
    [4, 1, 2, 1, 1, 3]
  );
  assert.equal(s.latencyMean, 10 / 3, 'latencies 0, 10 and 0 ms');
  assert.equal(s.percentiles[1], 10);
  const m = b.getMetrics();
  assert.deepEqual([m.totalRequests, m.successfulRequests, m.failedRequests], [4, 1, 2]);
  assert.equal(m.averageResponseTime, 10 / 3);
  assert.equal(typeof m.lastFailureTime, 'number');
  assert.equal(typeof m.lastSuccessTime, 'number');
  assert.deepEqual(m.opossumStats, { total: 4, successful: 1, failed: 2, timeouts: 1, circuitOpen: true, averageResponseTime: 10 / 3 });
  assert.equal(b.getSuccessRate(), 0.25);
  assert.equal(b.getFailureRate(), 0.5);
  const json = b.toJSON();
  assert.equal(json.state.open, true);
  assert.equal(typeof json.state.lastTimerAt, 'number');
  assert.equal(b.healthCheck().isOpen, true);
  await advance(100);
  assert.equal(b.pendingClose, true, 'half-open, no trial call yet');
  await advance(50); // the slow call's late result: ignored, counted nowhere
  assert.equal(b.stats.successes, 1);
  b.shutdown();
});

test('timeouts count as failures: consecutive timeouts open the breaker; fallback serves them', async (t) => {
  const { advance, clock } = timeline(t);
  const b = new CircuitBreaker(() => after(1000, 'never in time'), 'slow', {
    timeout: 10,
    failureThreshold: 2,
    recoveryTimeoutMs: 500,
    fallback: (err) => `fallback:${err.code}`,
    log: false,
    clock,
  });
  const first = b.fire();
  const second = b.fire();
  await advance(10);
  assert.deepEqual(await Promise.all([first, second]), ['fallback:ETIMEDOUT', 'fallback:ETIMEDOUT']);
  assert.equal(b.getState(), 'OPEN');
  assert.equal(await b.fire(), 'fallback:EOPENBREAKER');
  await advance(1000);
  b.shutdown();
});

test('one shared timer per breaker, none per call; it stops when idle and with shutdown', async (t) => {
  const { advance, clock } = timeline(t);
  let created = 0;
  const realSetTimeout = global.setTimeout;
  global.setTimeout = (...args) => {
    created++;
    return realSetTimeout(...args);
  };
  t.after(() => (global.setTimeout = realSetTimeout));
  const b = new CircuitBreaker(async (x) => x, 'fast', { timeout: 1000, log: false, clock });
  const out = await Promise.all(Array.from({ length: 500 }, (_, i) => b.fire(i)));
  for (let i = 0; i < 100; i++) await b.fire(i);
  assert.equal(out[499], 499);
  assert.equal(created, 1, 'one timer for 600 calls');
  await advance(1000); // it fires once, finds nothing in flight, and is not re-armed
  await b.fire('again');
  assert.equal(created, 2);
  const noTimeout = new CircuitBreaker(async (x) => x, 'fast', { timeout: false, log: false, clock });
  for (let i = 0; i < 100; i++) await noTimeout.fire(i);
  assert.equal(created, 2, 'no timer at all without a timeout');
  b.shutdown();
  noTimeout.shutdown();
});

test('calls in flight at shutdown still time out', async (t) => {
  const { advance, clock } = timeline(t);
  const b = new CircuitBreaker(() => new Promise(() => {}), 'hung', { timeout: 50, log: false, clock });
  const hung = b.fire();
  let err;
  hung.catch((e) => (err = e));
  b.shutdown();
  await advance(50);
  assert.equal(err && err.code, 'ETIMEDOUT');
  await assert.rejects(b.fire(), { code: 'ESHUTDOWN' });
});

test('the queue of timed calls stays bounded behind a slow call', async (t) => {
  const { advance, clock } = timeline(t);
  let slow = true;
  const b = new CircuitBreaker(() => (slow ? after(5000, 'slow') : Promise.resolve('fast')), 'q', {
    timeout: 10000,
    log: false,
    clock,
  });
  const stuck = b.fire();
  slow = false;
  for (let i = 0; i < 5000; i++) await b.fire();
  // Nothing observable but memory: the slow call must still time out correctly after
  // thousands of completions behind it were compacted away.
  await advance(5000);
  assert.equal(await stuck, 'slow');
  assert.equal(b.stats.successes, 5001);
  b.shutdown();
});

test('the reset timer emits halfOpen after resetTimeout without traffic', async (t) => {
  const { advance, clock } = timeline(t);
  const b = new CircuitBreaker(async () => 1, 'idle', { recoveryTimeoutMs: 300, timeout: false, log: false, clock });
  const seen = [];
  b.on('halfOpen', (ms) => seen.push([clock.now(), ms]));
  b.open();
  await advance(299);
  assert.deepEqual(seen, []);
  await advance(1);
  assert.deepEqual(seen, [[300, 300]]);
  b.shutdown();
});

test('native handle: tickets, numbers only, state shared without a call', () => {
  const clock = new CircuitBreakerFakeClock(10);
  const h = createCircuitBreakerHandle({ failureThreshold: 2, resetTimeout: 100, errorThresholdPercentage: false }, clock);
  assert.ok(h.shared instanceof Float64Array);
  assert.equal(h.shared.length, 40);
  assert.ok(h.batch instanceof Float64Array);
  const t1 = h.acquire();
  clock.advance(7);
  assert.equal(h.failure(t1), 7);
  assert.equal(h.shared[0], 0);
  h.failed(3);
  assert.equal(h.shared[0], 1, 'open, visible without a call');
  assert.equal(h.shared[1], 1, 'one transition');
  assert.equal(h.acquire(), -1);
  clock.advance(100);
  assert.equal(h.state(), 2);
  const probe = h.acquire();
  assert.ok(probe >= 0);
  assert.equal(h.acquire(), -1, 'one probe at a time');
  h.success(probe);
  assert.equal(h.shared[0], 0);
  h.batch[0] = 4;
  h.batch[1] = 6;
  h.flush(2, clock.now());
  h.stats();
  assert.equal(h.shared[16 + 1], 3, 'window successes');
  assert.equal(h.shared[3], 3, 'total successes');
  assert.throws(() => h.success('x'), (e) => e instanceof TypeError && e.code === 'ERR_QERRORS_INVALID_TICKET');
  assert.throws(() => h.success(-5), { code: 'ERR_QERRORS_INVALID_TICKET' });
  const bad = (opts, Type) => assert.throws(() => createCircuitBreakerHandle(opts), (e) => e instanceof Type && e.code === 'ERR_QERRORS_INVALID_OPTION');
  bad({ resetTimeout: -1 }, RangeError); // 0 is accepted, as opossum does (half-open at once)
  bad({ resetTimeout: 2 ** 31 }, RangeError);
  bad({ windowRule: 1 }, TypeError);
  bad({ resetTimeout: 'x' }, TypeError);
  bad({ rollingCountBuckets: 1001 }, RangeError);
  bad({ errorThresholdPercentage: true }, TypeError);
  bad({ errorThresholdPercentage: -1 }, RangeError);
  bad({ halfOpenMaxProbes: 0 }, RangeError);
  assert.throws(() => new CircuitBreakerFakeClock(-1), { code: 'ERR_QERRORS_INVALID_OPTION' });
  assert.throws(() => clock.advance(1.5), { code: 'ERR_QERRORS_INVALID_OPTION' });
});

test('the real clock moves while breakers exist', async () => {
  const clockView = native.circuitBreakerClock();
  const h = createCircuitBreakerHandle({});
  const t0 = clockView[0];
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 25));
  // On a loaded machine the ticker thread may wait for a core: poll, with no call made.
  while (clockView[0] - t0 < 15 && Date.now() - started < 2000) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(clockView[0] - t0 >= 15, `advanced ${clockView[0] - t0} ms in ${Date.now() - started} ms`);
  assert.ok(Math.abs(h.now() - clockView[0]) <= 2);
});

test('the clock ticker parks when unused and a breaker call wakes it with a fresh time', async () => {
  const view = native.circuitBreakerClock();
  const b = new CircuitBreaker(async (x) => x, 'ticker', { timeout: false, log: false });
  await b.fire(1);
  // Parking takes ~100 idle ticks; poll instead of sleeping a fixed time.
  const deadline = Date.now() + 3000;
  while (view[1] !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(view[1], 0, 'parked after being unused');
  const parkedAt = view[0];
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(view[0], parkedAt, 'a parked ticker does not tick');
  assert.equal(await b.fire(2), 2);
  assert.equal(view[1], 1, 'awake again');
  assert.ok(view[0] - parkedAt >= 25, 'the time was refreshed on wake');
  b.shutdown();
});

test('random sequences: admissions and transitions equal the reference model', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let transitions = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed);
    const o = {
      failureThreshold: 1 + Math.floor(r() * 4),
      errorThresholdPercentage: r() < 0.3 ? false : Math.floor(r() * 100),
      volumeThreshold: Math.floor(r() * 6),
      resetTimeout: 10 + Math.floor(r() * 200),
      rollingCountTimeout: 1000,
      rollingCountBuckets: 1 + Math.floor(r() * 5),
      halfOpenMaxProbes: 1 + Math.floor(r() * 3),
    };
    const clock = new CircuitBreakerFakeClock(0);
    const model = new BreakerModel(o);
    // Calls stay in flight until the sequence settles them, in random order.
    const inflight = [];
    const b = new CircuitBreaker(() => new Promise((resolve, reject) => inflight.push({ resolve, reject })), 'model', {
      ...o,
      timeout: false,
      log: false,
      clock,
    });
    const trace = [];
    const modelTrace = [];
    for (const ev of ['open', 'halfOpen', 'close']) b.on(ev, () => trace.push(`${clock.now()}:${ev}`));
    let last = 0;
    const note = (now) => {
      if (model.state !== last) {
        last = model.state;
        modelTrace.push(`${now}:${['close', 'open', 'halfOpen'][last]}`);
      }
    };
    const permits = [];
    for (let step = 0; step < 300; step++) {
      const x = r();
      const now = clock.now();
      if (x < 0.45) {
        const permit = model.acquire(now);
        note(now);
        const before = inflight.length;
        b.fire().catch(() => {});
        await settle();
        assert.equal(inflight.length - before, permit >= 0 ? 1 : 0, `seed ${seed} step ${step}: admission`);
        if (permit >= 0) permits.push(permit);
      } else if (x < 0.85 && inflight.length) {
        const i = Math.floor(r() * inflight.length);
        const failed = r() < 0.5;
        const [call] = inflight.splice(i, 1);
        const [permit] = permits.splice(i, 1);
        model.record(permit, failed, now);
        note(now);
        if (failed) call.reject(new Error('x'));
        else call.resolve('ok');
        await settle();
      } else {
        const ms = Math.floor(r() * 150);
        clock.advance(ms);
        t.mock.timers.tick(ms);
        model.poll(clock.now()); // the breaker's reset timer polls at the due time
        note(clock.now());
        await settle();
      }
    }
    assert.deepEqual(trace, modelTrace, `seed ${seed}: ${JSON.stringify(o)}`);
    transitions += trace.length;
    b.shutdown();
  }
  assert.ok(transitions > 100, `the sequences exercise the state machine (${transitions} transitions)`);
});
