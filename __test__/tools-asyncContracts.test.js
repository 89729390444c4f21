'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const express = require('express');
const ac = require('../lib/compat/asyncContracts');
const { FakeClock, flush } = require('./helpers/tools-env');

const { RetryHandler, StandardAsyncExecutor, AsyncOperationFactory, CircuitBreaker, withRetry, retryOperation } = ac;
const root = path.resolve(__dirname, '..');

/** An operation failing `failures` times ("fail#1", …) then resolving 'ok'. */
function flaky(failures) {
  const op = async () => {
    op.calls++;
    if (op.calls <= failures) throw new Error(`fail#${op.calls}`);
    return 'ok';
  };
  op.calls = 0;
  return op;
}

/** A sleep that records the requested waits and resolves at once. */
function recordingSleep() {
  const waits = [];
  const sleep = async (ms) => {
    waits.push(ms);
  };
  return { waits, sleep };
}

test('asyncContracts namespace: 8 members in the original order; shapes and arities', () => {
  assert.deepEqual(Object.keys(ac), [
    'StandardAsyncExecutor',
    'AsyncOperationFactory',
    'CircuitBreaker',
    'RetryHandler',
    'asyncHandlerMiddleware',
    'DEFAULT_ASYNC_CONFIG',
    'withRetry',
    'retryOperation',
  ]);
  assert.equal(RetryHandler.length, 0);
  assert.equal(RetryHandler.executeWithRetry.length, 1);
  assert.equal(RetryHandler.executeWithPreset.length, 2);
  assert.equal(RetryHandler.delay.length, 1);
  assert.equal(withRetry.length, 0);
  assert.equal(withRetry().length, 3);
  assert.equal(retryOperation.length, 1);
  assert.equal(retryOperation.constructor.name, 'AsyncFunction');
  assert.equal(StandardAsyncExecutor.length, 1);
  const proto = StandardAsyncExecutor.prototype;
  assert.equal(proto.execute.length, 1);
  assert.equal(proto.executeWithTimeout.length, 2);
  assert.equal(proto.executeWithRetry.length, 2);
  assert.equal(proto.getMetrics.length, 0);
  assert.equal(proto.resetMetrics.length, 0);
  assert.deepEqual(Object.keys(new StandardAsyncExecutor('x')), ['name', 'config', 'metrics', 'circuitBreaker']);
  assert.equal(AsyncOperationFactory.length, 0);
  for (const m of ['getExecutor', 'createOperation', 'createBatchOperation', 'executeParallel', 'executeSequential', 'executeLimited']) {
    assert.equal(AsyncOperationFactory[m].length, 1, m);
  }
  assert.ok(AsyncOperationFactory.executors instanceof Map);
  assert.equal(ac.asyncHandlerMiddleware.length, 0);
  assert.equal(ac.asyncHandlerMiddleware().length, 3);
  assert.equal(CircuitBreaker.length, 1);
  assert.deepEqual(ac.DEFAULT_ASYNC_CONFIG, {
    enableTiming: true,
    enableLogging: true,
    enableMetrics: true,
    timeoutMs: null,
    retryAttempts: 0,
    retryDelayMs: 1000,
    retryBackoffMultiplier: 2,
    retryMaxDelayMs: null,
    retryJitter: false,
    circuitBreakerThreshold: 5,
    circuitBreakerTimeoutMs: 60000,
  });
});

test('RetryConfigPresets: the original table, key order, mutable and shared', () => {
  const p = ac.RetryConfigPresets;
  assert.equal(Object.keys(ac).includes('RetryConfigPresets'), false, 'not a namespace member');
  assert.deepEqual(Object.keys(p), ['network', 'database', 'externalAPI', 'filesystem', 'aggressive', 'conservative']);
  const row = (maxAttempts, baseDelay, maxDelay, backoffFactor, jitter) => ({ maxAttempts, baseDelay, maxDelay, backoffFactor, jitter });
  assert.deepEqual(p.network, row(5, 1000, 30000, 2, true));
  assert.deepEqual(p.database, row(3, 500, 5000, 2, true));
  assert.deepEqual(p.externalAPI, row(4, 2000, 60000, 2.5, true));
  assert.deepEqual(p.filesystem, row(3, 100, 1000, 2, false));
  assert.deepEqual(p.aggressive, row(10, 200, 10000, 1.5, true));
  assert.deepEqual(p.conservative, row(2, 5000, 15000, 2, true));
  for (const v of Object.values(p)) assert.deepEqual(Object.keys(v), ['maxAttempts', 'baseDelay', 'maxDelay', 'backoffFactor', 'jitter']);
  assert.equal(Object.isFrozen(p), false);
});

test('executeWithRetry: call counts and onRetry arguments', async () => {
  const once = flaky(5);
  await assert.rejects(RetryHandler.executeWithRetry(once), { message: 'fail#1' });
  assert.equal(once.calls, 1, 'no options: one call');

  const op = flaky(2);
  const seen = [];
  const { waits, sleep } = recordingSleep();
  const result = await RetryHandler.executeWithRetry(op, {
    retryAttempts: 2,
    retryDelayMs: 20,
    sleep,
    onRetry: async (err, n, total) => seen.push([err.message, n, total]),
  });
  assert.equal(result, 'ok');
  assert.equal(op.calls, 3);
  assert.deepEqual(seen, [
    ['fail#1', 1, 3],
    ['fail#2', 2, 3],
  ]);
  assert.deepEqual(waits, [20, 40]);

  const exhausted = flaky(10);
  await assert.rejects(RetryHandler.executeWithRetry(exhausted, { retryAttempts: 2, sleep }), { message: 'fail#3' }, 'the last error');
  assert.equal(exhausted.calls, 3);
});

test('maxAttempts counts total calls (deliberate deviation, docs/api.md); the legacy name wins', async () => {
  const { sleep } = recordingSleep();
  const op = flaky(10);
  await assert.rejects(RetryHandler.executeWithRetry(op, { maxAttempts: 2, sleep }));
  assert.equal(op.calls, 2, 'maxAttempts: 2 → 2 calls (6c16371 made 3)');
  const both = flaky(10);
  await assert.rejects(RetryHandler.executeWithRetry(both, { retryAttempts: 1, maxAttempts: 5, sleep }));
  assert.equal(both.calls, 2, 'retryAttempts wins over maxAttempts');
  const one = flaky(10);
  await assert.rejects(retryOperation(one, { maxAttempts: 1, sleep }));
  assert.equal(one.calls, 1);
});

test('waits follow backoff, jitter and the cap (the uncapped delay keeps growing)', async () => {
  const plain = recordingSleep();
  await assert.rejects(
    RetryHandler.executeWithRetry(flaky(10), { retryAttempts: 4, baseDelay: 100, backoffFactor: 3, maxDelay: 1000, sleep: plain.sleep })
  );
  assert.deepEqual(plain.waits, [100, 300, 900, 1000]);

  const jittered = recordingSleep();
  await assert.rejects(
    RetryHandler.executeWithRetry(flaky(10), {
      retryAttempts: 4,
      retryDelayMs: 100,
      retryBackoffMultiplier: 3,
      retryMaxDelayMs: 1000,
      jitter: true,
      random: () => 0.5,
      sleep: jittered.sleep,
    })
  );
  // delay + 0.5·delay·0.5, then capped.
  assert.deepEqual(jittered.waits, [125, 375, 1000, 1000]);

  const maxJitter = recordingSleep();
  await assert.rejects(
    RetryHandler.executeWithRetry(flaky(10), { retryAttempts: 1, baseDelay: 200, jitter: true, random: () => 0.999, sleep: maxJitter.sleep })
  );
  assert.ok(maxJitter.waits[0] >= 200 && maxJitter.waits[0] < 300);

  const legacyWins = recordingSleep();
  await assert.rejects(
    RetryHandler.executeWithRetry(flaky(10), { retryAttempts: 2, retryDelayMs: 7, baseDelay: 500, backoffFactor: 10, retryBackoffMultiplier: 1, sleep: legacyWins.sleep })
  );
  assert.deepEqual(legacyWins.waits, [7, 7]);
});

test('the default sleep waits on a (mocked) unref’d timer: no retry before the delay', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const op = flaky(1);
  const done = RetryHandler.executeWithRetry(op, { retryAttempts: 1, retryDelayMs: 1000 });
  await flush();
  assert.equal(op.calls, 1);
  t.mock.timers.tick(999);
  await flush();
  assert.equal(op.calls, 1, 'not before 1000 ms');
  t.mock.timers.tick(1);
  await flush();
  assert.equal(op.calls, 2);
  assert.equal(await done, 'ok');
});

test('retryableErrors and onRetry can stop the loop', async () => {
  const { sleep, waits } = recordingSleep();
  const op = flaky(10);
  const checked = [];
  await assert.rejects(
    RetryHandler.executeWithRetry(op, {
      retryAttempts: 5,
      sleep,
      retryableErrors: (e) => {
        checked.push(e.message);
        return e.message !== 'fail#2';
      },
    }),
    { message: 'fail#2' }
  );
  assert.equal(op.calls, 2);
  assert.deepEqual(checked, ['fail#1', 'fail#2']);
  const last = flaky(10);
  const consulted = [];
  await assert.rejects(
    RetryHandler.executeWithRetry(last, { retryAttempts: 1, sleep, retryableErrors: (e) => consulted.push(e.message) > 0 })
  );
  assert.deepEqual(consulted, ['fail#1'], 'not consulted after the final attempt');
  const aborted = flaky(10);
  await assert.rejects(
    RetryHandler.executeWithRetry(aborted, {
      retryAttempts: 5,
      sleep,
      onRetry: () => {
        throw new Error('abort');
      },
    }),
    { message: 'abort' }
  );
  assert.equal(aborted.calls, 1);
  assert.equal(waits.length, 2, 'one wait in each of the first two runs, none after the aborting onRetry');
});

test('executeWithPreset: presets, overrides, unknown names', async () => {
  const { sleep, waits } = recordingSleep();
  const op = flaky(10);
  await assert.rejects(RetryHandler.executeWithPreset(op, 'filesystem', { sleep }));
  assert.equal(op.calls, 3, 'filesystem: 3 total attempts');
  assert.deepEqual(waits, [100, 200]);
  const ok = flaky(1);
  assert.equal(await RetryHandler.executeWithPreset(ok, 'network', { sleep, jitter: false, baseDelay: 1 }), 'ok');
  await assert.rejects(RetryHandler.executeWithPreset(op, 'nope'), { message: 'Unknown retry preset: nope' });
  await assert.rejects(RetryHandler.executeWithPreset(op, 'toString'), { message: 'Unknown retry preset: toString' });
});

test('retry bad input is a typed error', async () => {
  await assert.rejects(RetryHandler.executeWithRetry('x'), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  await assert.rejects(RetryHandler.executeWithRetry(flaky(0), { retryAttempts: -1 }), { name: 'RangeError' });
  await assert.rejects(RetryHandler.executeWithRetry(flaky(0), { maxAttempts: 0 }), { name: 'RangeError' });
  await assert.rejects(RetryHandler.executeWithRetry(flaky(0), { baseDelay: -5 }), { name: 'RangeError' });
  await assert.rejects(RetryHandler.executeWithRetry(flaky(0), { backoffFactor: Number.NaN }), { name: 'RangeError' });
  await assert.rejects(RetryHandler.executeWithRetry(flaky(0), { onRetry: 'x' }), { name: 'TypeError' });
  await assert.rejects(RetryHandler.executeWithRetry(flaky(0), null), { name: 'TypeError' });
  await assert.rejects(RetryHandler.delay(-1), { name: 'RangeError' });
  await assert.rejects(RetryHandler.delay('5'), { name: 'RangeError' });
  assert.throws(() => withRetry({ retryAttempts: 'x' }), { name: 'RangeError' });
});

test('RetryHandler.delay uses an unref’d timer: a pending wait does not keep the process alive', () => {
  const script = `require('./lib/compat/asyncContracts').RetryHandler.delay(60000).then(() => console.log('waited'))`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.ok(Date.now() - started < 5000);
});

test('withRetry: legacy descriptors and TC39 method decorators', async () => {
  class Svc {
    constructor() {
      this.calls = 0;
    }
    async fetch(x) {
      this.calls++;
      if (this.calls < 2) throw new Error('once');
      return `got ${x}`;
    }
  }
  const { sleep } = recordingSleep();
  const descriptor = Object.getOwnPropertyDescriptor(Svc.prototype, 'fetch');
  const returned = withRetry({ maxAttempts: 2, sleep })(Svc.prototype, 'fetch', descriptor);
  assert.equal(returned, descriptor, 'the same descriptor, mutated');
  Object.defineProperty(Svc.prototype, 'fetch', descriptor);
  const svc = new Svc();
  assert.equal(await svc.fetch(1), 'got 1');
  assert.equal(svc.calls, 2);

  const method = async function (x) {
    this.n = (this.n || 0) + 1;
    if (this.n < 3) throw new Error('again');
    return x * 2;
  };
  const replaced = withRetry({ retryAttempts: 2, sleep })(method, { kind: 'method', name: 'm' });
  const obj = { m: replaced };
  assert.equal(await obj.m(21), 42);
  assert.equal(obj.n, 3);
  assert.throws(() => withRetry()({}, 'x', { value: 5 }), { name: 'TypeError' });
  assert.throws(() => withRetry()({}, 'x', undefined), { name: 'TypeError' });
});

test('count-based CircuitBreaker: CLOSED → OPEN → HALF_OPEN → CLOSED on a fake clock', async () => {
  let now = 1000;
  const cb = new CircuitBreaker('svc', { failureThreshold: 2, timeoutMs: 500, now: () => now });
  assert.deepEqual(Object.keys(cb), ['name', 'failureThreshold', 'timeoutMs', 'failureCount', 'state', 'nextAttemptTime', 'lastFailureTime']);
  const fail = () => Promise.reject(new Error('down'));
  await assert.rejects(cb.execute(fail), { message: 'down' });
  assert.equal(cb.state, 'CLOSED');
  await assert.rejects(cb.execute(fail), { message: 'down' });
  assert.deepEqual(cb.getState(), { name: 'svc', state: 'OPEN', failureCount: 2, lastFailureTime: 1000, nextAttemptTime: 1500 });
  let ran = false;
  await assert.rejects(
    cb.execute(async () => {
      ran = true;
    }),
    { message: 'Circuit breaker OPEN for svc', code: 'EOPENBREAKER' }
  );
  assert.equal(ran, false);
  now = 1500;
  await assert.rejects(cb.execute(fail));
  assert.equal(cb.state, 'OPEN', 'a half-open failure re-opens');
  assert.equal(cb.nextAttemptTime, 2000);
  now = 2000;
  assert.equal(await cb.execute(async () => 'up'), 'up');
  assert.deepEqual(cb.getState(), { name: 'svc', state: 'CLOSED', failureCount: 0, lastFailureTime: 1500, nextAttemptTime: null });
  const defaults = new CircuitBreaker('d');
  assert.equal(defaults.failureThreshold, 5);
  assert.equal(defaults.timeoutMs, 60000);
  await assert.rejects(defaults.execute('x'), { name: 'TypeError' });
});

test('count-based CircuitBreaker is the native breaker underneath: one probe at a time while half-open', async () => {
  let now = 0;
  const cb = new CircuitBreaker('probe', { failureThreshold: 1, timeoutMs: 100, now: () => now });
  await assert.rejects(cb.execute(() => Promise.reject(new Error('down'))), { message: 'down' });
  assert.equal(cb.state, 'OPEN');
  now = 100;
  let release;
  const probe = cb.execute(() => new Promise((resolve) => (release = resolve)));
  assert.equal(cb.state, 'HALF_OPEN');
  await assert.rejects(cb.execute(async () => 'second'), { code: 'EOPENBREAKER', message: 'Circuit breaker OPEN for probe' });
  release('first');
  assert.equal(await probe, 'first');
  assert.deepEqual(cb.getState(), { name: 'probe', state: 'CLOSED', failureCount: 0, lastFailureTime: 0, nextAttemptTime: null });
});

test('StandardAsyncExecutor: the default configuration runs operations (docs/api.md)', async () => {
  const clock = new FakeClock(Date.UTC(2025, 0, 1));
  const ex = new StandardAsyncExecutor('exA', { clock });
  const res = await ex.execute(async () => 42);
  assert.deepEqual(Object.keys(res), ['success', 'data', 'error', 'metadata', 'requestId', 'duration', 'context']);
  assert.deepEqual(res, {
    success: true,
    data: 42,
    error: null,
    metadata: { operationName: 'exA', timestamp: '2025-01-01T00:00:00.000Z' },
    requestId: null,
    duration: 0,
    context: {},
  });
  const m = ex.getMetrics();
  assert.equal(m.totalOperations, 1);
  assert.equal(m.successfulOperations, 1);
  assert.equal(m.successRate, 100);
  assert.equal(m.circuitBreaker.state, 'CLOSED');
});

test('StandardAsyncExecutor: envelopes, hooks, options and metrics', async () => {
  const clock = new FakeClock(0);
  const ex = new StandardAsyncExecutor('exB', { clock, enableLogging: false });
  const hooks = [];
  const slow = async () => {
    await clock.advance(0);
    return 'data';
  };
  const p = ex.execute(
    async () => {
      const v = await slow();
      return v;
    },
    {
      requestId: 'r-1',
      context: { user: 'u' },
      metrics: { tag: 't' },
      onSuccess: (r) => {
        hooks.push(['success', r.data]);
        throw new Error('hook errors are swallowed');
      },
      onComplete: () => hooks.push(['complete']),
    }
  );
  const ok = await p;
  assert.equal(ok.success, true);
  assert.equal(ok.requestId, 'r-1');
  assert.deepEqual(ok.context, { user: 'u' });
  assert.equal(ok.metadata.tag, 't');
  assert.deepEqual(hooks, [['success', 'data'], ['complete']]);

  const boom = new Error('bad');
  await assert.rejects(ex.execute(() => Promise.reject(boom)), (e) => e === boom, 'rethrows the original error');
  const errors = [];
  const soft = await ex.execute(() => Promise.reject(boom), { rethrowErrors: false, onError: (r) => errors.push(r), onComplete: () => hooks.push(['complete2']) });
  assert.equal(soft.success, false);
  assert.equal(soft.data, null);
  assert.deepEqual(Object.keys(soft.error), ['message', 'name', 'stack']);
  assert.equal(soft.error.message, 'bad');
  assert.equal(errors[0], soft);
  assert.deepEqual(hooks.at(-1), ['complete2']);
  const raw = await ex.execute(() => Promise.reject('plain string'), { rethrowErrors: false });
  assert.equal(raw.error.message, 'plain string');

  const untimed = await ex.execute(async () => 1, { enableTiming: false });
  assert.equal(untimed.duration, null);
  const before = ex.getMetrics().totalOperations;
  await ex.execute(async () => 1, { enableMetrics: false });
  assert.equal(ex.getMetrics().totalOperations, before);

  const m = ex.getMetrics();
  assert.equal(m.totalOperations, 5);
  assert.equal(m.successfulOperations, 2);
  assert.equal(m.failedOperations, 3);
  assert.equal(m.successRate, 40);
  ex.resetMetrics();
  assert.deepEqual(
    { ...ex.metrics },
    { totalOperations: 0, successfulOperations: 0, failedOperations: 0, totalDuration: 0, averageDuration: 0, timeouts: 0, retries: 0 }
  );
});

test('StandardAsyncExecutor: durations come from the clock', async () => {
  const clock = new FakeClock(0);
  const ex = new StandardAsyncExecutor('exD', { clock, enableLogging: false });
  const p = ex.execute(() => new Promise((resolve) => clock.setTimeout(() => resolve('late'), 250)));
  await clock.advance(250);
  const r = await p;
  assert.equal(r.duration, 250);
  const q = ex.execute(() => new Promise((resolve) => clock.setTimeout(resolve, 50)));
  await clock.advance(50);
  await q;
  assert.equal(ex.metrics.totalDuration, 300);
  assert.equal(ex.metrics.averageDuration, 150);
});

test('StandardAsyncExecutor: invalid options resolve to an error envelope, nothing runs', async () => {
  const ex = new StandardAsyncExecutor('exV', { enableLogging: false });
  let ran = false;
  const op = async () => {
    ran = true;
  };
  const r = await ex.execute(op, { operationName: '' });
  assert.equal(r.success, false);
  assert.equal(r.error.message, 'Invalid operation options: operationName is required and must be a string');
  const many = await ex.execute(op, { context: 'x', onSuccess: 1, timeout: -5, retryAttempts: 1.5 });
  assert.equal(
    many.error.message,
    'Invalid operation options: context must be an object, onSuccess must be a function, timeout must be a positive number, retryAttempts must be an integer >= 0'
  );
  const noOp = await ex.execute('not a function');
  assert.equal(noOp.error.message, 'Invalid operation options: operation must be a function');
  assert.equal(ran, false);
  assert.equal(ex.metrics.totalOperations, 0);
  assert.throws(() => new StandardAsyncExecutor('x', null), { name: 'TypeError' });
  assert.throws(() => new StandardAsyncExecutor('x', { clock: {} }), { name: 'TypeError' });
});

test('StandardAsyncExecutor: timeouts on a fake clock', async () => {
  const clock = new FakeClock(0);
  const ex = new StandardAsyncExecutor('exT', { clock, enableLogging: false });
  const never = () => new Promise(() => {});
  const hard = ex.executeWithTimeout(never, 20);
  const hardOutcome = hard.then(
    () => 'resolved',
    (e) => e
  );
  await clock.advance(19);
  assert.equal(ex.metrics.timeouts, 0);
  await clock.advance(1);
  const err = await hardOutcome;
  assert.equal(err.message, 'Operation timed out after 20ms');
  assert.equal(err.code, 'ETIMEDOUT');
  const soft = ex.execute(never, { timeout: 20, rethrowErrors: false });
  await clock.advance(20);
  assert.equal((await soft).error.message, 'Operation timed out after 20ms');
  assert.equal(ex.metrics.timeouts, 2);
  const fast = ex.execute(async () => 'quick', { timeout: 1000 });
  assert.equal((await fast).data, 'quick');
  assert.equal(clock.pending, 0, 'the timeout timer is cleared');
  const viaConfig = new StandardAsyncExecutor('exT2', { clock, enableLogging: false, timeoutMs: 5 });
  const c = viaConfig.execute(never, { rethrowErrors: false });
  await clock.advance(5);
  assert.equal((await c).error.message, 'Operation timed out after 5ms');
});

test('StandardAsyncExecutor: per-call retryAttempts are honoured and counted', async () => {
  const clock = new FakeClock(0);
  const ex = new StandardAsyncExecutor('exR', { clock, enableLogging: false, retryDelayMs: 10, retryBackoffMultiplier: 2 });
  const op = flaky(2);
  const p = ex.executeWithRetry(op, 2);
  await clock.advance(9);
  assert.equal(op.calls, 1);
  await clock.advance(1);
  assert.equal(op.calls, 2);
  await clock.advance(20);
  const r = await p;
  assert.equal(r.data, 'ok');
  assert.equal(op.calls, 3);
  assert.equal(ex.metrics.retries, 2);
  const viaConfig = new StandardAsyncExecutor('exR2', { clock, enableLogging: false, retryAttempts: 1, retryDelayMs: 5 });
  const op2 = flaky(1);
  const q = viaConfig.execute(op2);
  await clock.advance(5);
  assert.equal((await q).data, 'ok');
  const op3 = flaky(1);
  await assert.rejects(viaConfig.execute(op3, { retryAttempts: 0 }), { message: 'fail#1' });
  assert.equal(op3.calls, 1, 'a per-call 0 disables the configured retries');
});

test('StandardAsyncExecutor: its circuit breaker opens after the threshold', async () => {
  const clock = new FakeClock(0);
  const ex = new StandardAsyncExecutor('exC', { clock, enableLogging: false, circuitBreakerThreshold: 2, circuitBreakerTimeoutMs: 100 });
  const fail = () => Promise.reject(new Error('x'));
  await assert.rejects(ex.execute(fail));
  await assert.rejects(ex.execute(fail));
  let ran = false;
  await assert.rejects(
    ex.execute(async () => {
      ran = true;
    }),
    { code: 'EOPENBREAKER' }
  );
  assert.equal(ran, false);
  assert.equal(ex.getMetrics().circuitBreaker.state, 'OPEN');
  await clock.advance(100);
  assert.equal((await ex.execute(async () => 'back')).data, 'back');
});

test('AsyncOperationFactory: registry, operations and batches', async (t) => {
  t.after(() => AsyncOperationFactory.executors.clear());
  AsyncOperationFactory.executors.clear();
  const a = AsyncOperationFactory.getExecutor('f1', { enableLogging: false });
  assert.equal(AsyncOperationFactory.getExecutor('f1', { enableLogging: true }), a, 'config ignored for existing names');
  assert.equal(a.config.enableLogging, false);

  const op = AsyncOperationFactory.createOperation(async () => 'v', { name: 'f2', config: { enableLogging: false }, requestId: 'base' });
  const r = await op({ context: { k: 1 } });
  assert.equal(r.data, 'v');
  assert.equal(r.requestId, 'base');
  assert.deepEqual(r.context, { k: 1 });
  assert.equal((await AsyncOperationFactory.createOperation(async () => 1)()).metadata.operationName, 'unnamed_operation');

  const seq = AsyncOperationFactory.createBatchOperation([async () => 1, async () => 2], { name: 'batchZ', concurrency: 'sequential' });
  const s = await seq({ enableLogging: false, enableTiming: false });
  assert.equal(s.success, true);
  assert.deepEqual(s.data, [1, 2]);
  assert.equal(s.metadata.operationName, 'batchZ');
  const par = AsyncOperationFactory.createBatchOperation([async () => 1, async () => Promise.reject(new Error('P'))], {
    failFast: false,
    enableLogging: false,
  });
  const pr = await par();
  assert.deepEqual(
    pr.data.map((x) => x.status),
    ['fulfilled', 'rejected']
  );
  const lim = AsyncOperationFactory.createBatchOperation([1, 2, 3, 4, 5].map((n) => async () => n), { concurrency: 'limited', limit: 2 });
  assert.deepEqual((await lim({ enableLogging: false })).data, [1, 2, 3, 4, 5]);
  assert.throws(() => AsyncOperationFactory.createBatchOperation([], { concurrency: 'wild' }), { name: 'RangeError' });
  assert.throws(() => AsyncOperationFactory.createBatchOperation('x'), { name: 'TypeError' });
  assert.throws(() => AsyncOperationFactory.createOperation(5), { name: 'TypeError' });

  const all = AsyncOperationFactory.getAllMetrics();
  assert.deepEqual(Object.keys(all), ['f1', 'f2', 'unnamed_operation', 'batchZ', 'batch_operation']);
  assert.equal(all.f2.totalOperations, 1);
  AsyncOperationFactory.resetAllMetrics();
  assert.equal(AsyncOperationFactory.getAllMetrics().f2.totalOperations, 0);
});

test('AsyncOperationFactory registry is bounded', (t) => {
  t.after(() => AsyncOperationFactory.executors.clear());
  AsyncOperationFactory.executors.clear();
  for (let i = 0; i < 1005; i++) AsyncOperationFactory.getExecutor(`n${i}`);
  assert.equal(AsyncOperationFactory.executors.size, 1000);
  assert.equal(AsyncOperationFactory.executors.has('n0'), false);
  assert.equal(AsyncOperationFactory.executors.has('n1004'), true);
});

test('executeParallel / executeSequential / executeLimited', async () => {
  const F = AsyncOperationFactory;
  assert.deepEqual(await F.executeParallel([async () => 1, () => 2]), [1, 2]);
  await assert.rejects(F.executeParallel([async () => 1, () => { throw new Error('sync'); }]), { message: 'sync' });
  const settled = await F.executeParallel([async () => 1, async () => Promise.reject(new Error('E'))], false);
  assert.equal(settled[0].status, 'fulfilled');
  assert.equal(settled[1].reason.message, 'E');

  const order = [];
  const seqOps = [1, 2, 3].map((n) => async () => {
    order.push(`start${n}`);
    await flush();
    order.push(`end${n}`);
    return n;
  });
  assert.deepEqual(await F.executeSequential(seqOps), [1, 2, 3]);
  assert.deepEqual(order, ['start1', 'end1', 'start2', 'end2', 'start3', 'end3']);
  let after = false;
  await assert.rejects(
    F.executeSequential([
      async () => {
        throw new Error('stop');
      },
      async () => {
        after = true;
      },
    ]),
    { message: 'stop' }
  );
  assert.equal(after, false);

  assert.deepEqual(await F.executeLimited([1, 2, 3, 4].map((n) => async () => n), 3), [1, 2, 3, 4]);
  const mixed = await F.executeLimited([async () => 1, async () => Promise.reject(new Error('L'))], 3, false);
  assert.equal(mixed[0], 1);
  assert.ok(mixed[1] instanceof Error && mixed[1].message === 'L', 'the slot holds the reason itself');

  let running = 0;
  let peak = 0;
  const tracked = Array.from({ length: 10 }, (_, i) => async () => {
    running++;
    peak = Math.max(peak, running);
    await flush();
    running--;
    return i;
  });
  assert.deepEqual(await F.executeLimited(tracked, 3), [...Array(10).keys()]);
  assert.equal(peak, 3);

  let started = 0;
  const failFast = Array.from({ length: 10 }, (_, i) => async () => {
    started++;
    if (i === 1) throw new Error('ff');
    await flush();
    return i;
  });
  await assert.rejects(F.executeLimited(failFast, 2), { message: 'ff' });
  assert.ok(started < 10, 'nothing new starts after a fail-fast failure');
  await assert.rejects(F.executeLimited([], 0), { name: 'RangeError' });
  await assert.rejects(F.executeLimited('x'), { name: 'TypeError' });
  await assert.rejects(F.executeSequential([1]), { name: 'TypeError' });
});

test('asyncHandlerMiddleware on a real Express app', async (t) => {
  t.after(() => AsyncOperationFactory.executors.clear());
  const app = express();
  app.use(ac.asyncHandlerMiddleware({ operationName: 'route_op', config: { enableLogging: false } }));
  app.get('/work', async (req, res) => {
    const result = await req.asyncExecute(async () => ({ answer: 42 }));
    res.json(result);
  });
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address();
  const res = await fetch(`http://127.0.0.1:${port}/work?x=1`, { headers: { 'x-request-id': 'req-9', 'user-agent': 'tools-test' } });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.success, true);
  assert.deepEqual(body.data, { answer: 42 });
  assert.equal(body.requestId, 'req-9');
  assert.deepEqual(body.context, { method: 'GET', url: '/work?x=1', userAgent: 'tools-test' });
  assert.equal(body.metadata.operationName, 'route_op');
  assert.equal(AsyncOperationFactory.executors.get('route_op').metrics.successfulOperations, 1);
});
