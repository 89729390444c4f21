'use strict';

// The circuit breaker's public surface and its
// opossum-compatible behaviour: options, events (order and count), fallback,
// errorFilter, enable/disable, shutdown, stats. Time is a native fake clock plus
// node:test's mocked setTimeout; nothing sleeps.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const cbModule = require('../lib/native/breaker');
const native = require('../lib/native/loader');

const { CircuitBreaker, CircuitState, createCircuitBreaker } = cbModule;
const { CircuitBreakerFakeClock } = native;

const EVENTS = ['fire', 'success', 'failure', 'timeout', 'reject', 'open', 'halfOpen', 'close', 'fallback', 'shutdown'];

/** Records every event as [name, ...args] (errors as their message). */
function record(breaker) {
  const log = [];
  for (const name of EVENTS) {
    breaker.on(name, (...args) => log.push([name, ...args.map((a) => (a instanceof Error ? `E:${a.message}` : a))]));
  }
  return log;
}

/** A breaker on a fake clock with logging off; `outcome` decides each call. */
function setup(options = {}, outcome = () => 'ok') {
  const clock = new CircuitBreakerFakeClock(1000);
  const op = async (x) => {
    const o = outcome(x);
    if (o instanceof Error) throw o;
    return o;
  };
  const breaker = new CircuitBreaker(op, 'svc', { log: false, timeout: false, clock, ...options });
  return { clock, breaker };
}

const fail = () => new Error('down');
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('module exports exactly the spec namespace, with CircuitBreaker as a non-enumerable alias', () => {
  assert.deepEqual(Object.keys(cbModule), ['CircuitBreakerWrapper', 'CircuitState', 'createCircuitBreaker']);
  assert.equal(cbModule.CircuitBreakerWrapper, CircuitBreaker);
  assert.equal(typeof CircuitBreaker, 'function');
  assert.equal(require('../native').CircuitBreaker, CircuitBreaker);
  assert.deepEqual(CircuitState, { CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' });
  assert.deepEqual(Object.keys(CircuitState), ['CLOSED', 'OPEN', 'HALF_OPEN']);
  assert.equal(CircuitBreaker.length, 3);
  assert.equal(createCircuitBreaker.length, 2);
  const methods = ['execute', 'getState', 'getMetrics', 'getSuccessRate', 'getFailureRate', 'reset', 'forceOpen', 'isRequestAllowed', 'getStats', 'isOpen', 'healthCheck'];
  for (const m of methods) {
    assert.equal(typeof CircuitBreaker.prototype[m], 'function', m);
    assert.equal(CircuitBreaker.prototype[m].length, 0, `${m}.length`);
  }
  assert.equal(CircuitBreaker.prototype.execute.constructor.name, 'AsyncFunction');
  for (const m of ['_setupEventListeners', '_initializeMetrics', '_updateAverageResponseTime', '_trackSuccess', '_cleanupFailureState']) {
    assert.equal(typeof CircuitBreaker.prototype[m], 'function', m);
  }
});

test('instances have the spec own properties in order; createCircuitBreaker merges the defaults', () => {
  const op = async () => 1;
  const b = createCircuitBreaker(op, 'payments', { timeoutMs: 500, log: false });
  assert.deepEqual(Object.keys(b), ['operation', 'serviceName', 'options', 'breaker', 'metrics']);
  assert.equal(b.operation, op);
  assert.equal(b.serviceName, 'payments');
  assert.deepEqual(b.options, { failureThreshold: 5, recoveryTimeoutMs: 30000, monitoringPeriodMs: 60000, timeoutMs: 500, log: false });
  assert.equal(b.breaker, b, 'the breaker itself is the opossum-compatible object');
  assert.deepEqual(Object.keys(b.metrics), ['totalRequests', 'successfulRequests', 'failedRequests', 'averageResponseTime', 'lastFailureTime', 'lastSuccessTime']);
  assert.equal(b.name, 'payments');
  assert.equal(b.getState(), CircuitState.CLOSED);
  b.shutdown();
});

test('validation: the spec messages, typed errors with a code', () => {
  const op = async () => 1;
  const check = (fn, Type, message) =>
    assert.throws(fn, (e) => e instanceof Type && e.message === message && e.code === 'ERR_QERRORS_INVALID_OPTION', message);
  check(() => createCircuitBreaker(op, 's', { failureThreshold: -1 }), RangeError, 'failureThreshold must be positive');
  check(() => createCircuitBreaker(op, 's', { failureThreshold: 0 }), RangeError, 'failureThreshold must be positive');
  check(() => new CircuitBreaker(op, 's'), TypeError, 'failureThreshold must be positive');
  check(() => new CircuitBreaker(op, 's', null), TypeError, 'failureThreshold must be positive');
  check(() => createCircuitBreaker(op, 's', { recoveryTimeoutMs: 0 }), RangeError, 'recoveryTimeoutMs must be positive');
  check(() => createCircuitBreaker(op, 's', { recoveryTimeoutMs: -5 }), RangeError, 'recoveryTimeoutMs must be positive');
  check(() => createCircuitBreaker('nope', 's'), TypeError, 'operation must be a function');
  check(() => createCircuitBreaker(op, 's', { failureThreshold: '3' }), TypeError, 'failureThreshold must be a number');
  check(() => createCircuitBreaker(op, 's', { failureThreshold: 2.5 }), RangeError, 'failureThreshold must be an integer between 1 and 4294967295');
  check(() => createCircuitBreaker(op, 's', { timeout: 'x' }), TypeError, 'timeout must be a number');
  check(() => createCircuitBreaker(op, 's', { timeoutMs: -1 }), RangeError, 'timeoutMs must be an integer between 0 and 2147483647');
  check(() => createCircuitBreaker(op, 's', { errorThresholdPercentage: 101 }), RangeError, 'errorThresholdPercentage must be a number from 0 to 100, or false to disable');
  check(() => createCircuitBreaker(op, 's', { errorThresholdPercentage: '50' }), TypeError, 'errorThresholdPercentage must be a number from 0 to 100, or false to disable');
  check(() => createCircuitBreaker(op, 's', { rollingCountBuckets: 0 }), RangeError, 'rollingCountBuckets must be an integer between 1 and 1000');
  check(() => createCircuitBreaker(op, 's', { rollingCountTimeout: 5, rollingCountBuckets: 10 }), RangeError, 'rollingCountBuckets must not exceed rollingCountTimeout (ms)');
  check(() => createCircuitBreaker(op, 's', { halfOpenMaxProbes: 0 }), RangeError, 'halfOpenMaxProbes must be an integer between 1 and 4294967295');
  check(() => createCircuitBreaker(op, 's', { volumeThreshold: -1 }), RangeError, 'volumeThreshold must be an integer between 0 and 4294967295');
  check(() => createCircuitBreaker(op, 's', { fallback: 'x' }), TypeError, 'fallback must be a function');
  check(() => createCircuitBreaker(op, 's', { errorFilter: 1 }), TypeError, 'errorFilter must be a function');
  check(() => createCircuitBreaker(op, 's', { enabled: 'yes' }), TypeError, 'enabled must be a boolean');
  check(() => createCircuitBreaker(op, 's', { log: 1 }), TypeError, 'log must be a boolean');
  check(() => createCircuitBreaker(op, 's', { clock: { now: () => 0 } }), TypeError, 'clock must be a CircuitBreakerFakeClock');
  const b = createCircuitBreaker(op, 's', { log: false });
  check(() => b.fallback(42), TypeError, 'fallback must be a function');
  b.shutdown();
});

test('CLOSED -> OPEN after failureThreshold consecutive failures -> HALF_OPEN -> CLOSED, with EOPENBREAKER while open', async () => {
  const outcomes = [];
  const { clock, breaker } = setup({ failureThreshold: 3, recoveryTimeoutMs: 1000 }, () => outcomes.shift() ?? 'ok');
  const events = record(breaker);
  outcomes.push(fail(), fail(), 'ok', fail(), fail());
  for (let i = 0; i < 5; i++) await breaker.execute(i).catch(() => {});
  assert.equal(breaker.getState(), 'CLOSED', 'a success in between resets the streak');
  outcomes.push(fail());
  await assert.rejects(breaker.execute(5), { message: 'down' });
  assert.equal(breaker.getState(), 'OPEN');
  assert.equal(breaker.isOpen(), true);
  assert.equal(breaker.isRequestAllowed(), false);
  await assert.rejects(breaker.execute(6), (e) => e.code === 'EOPENBREAKER' && e.message === 'Breaker is open');
  clock.advance(999);
  assert.equal(breaker.getState(), 'OPEN');
  clock.advance(1);
  assert.equal(breaker.getState(), 'HALF_OPEN');
  assert.equal(breaker.isRequestAllowed(), true);
  assert.equal(await breaker.execute(7), 'ok');
  assert.equal(breaker.getState(), 'CLOSED');
  const transitions = events.filter(([n]) => ['open', 'halfOpen', 'close'].includes(n));
  assert.deepEqual(transitions, [['open'], ['halfOpen', 1000], ['close']]);
  assert.equal(events.filter(([n]) => n === 'fire').length, 8);
  assert.deepEqual(events.find(([n]) => n === 'reject'), ['reject', 'E:Breaker is open']);
  breaker.shutdown();
});

test('a failed probe re-opens; events come in order with opossum arguments', async () => {
  const { clock, breaker } = setup({ failureThreshold: 1, recoveryTimeoutMs: 100 }, fail);
  const events = record(breaker);
  await breaker.fire('a').catch(() => {});
  await breaker.fire('b').catch(() => {});
  clock.advance(100);
  await breaker.fire('c').catch(() => {});
  assert.equal(breaker.getState(), 'OPEN');
  assert.deepEqual(events, [
    ['fire', ['a']],
    ['failure', 'E:down', 0, ['a']],
    ['open'],
    ['fire', ['b']],
    ['reject', 'E:Breaker is open'],
    ['halfOpen', 100],
    ['fire', ['c']],
    ['failure', 'E:down', 0, ['c']],
    ['open'],
  ]);
  breaker.shutdown();
});

test('the percentage rule: errorThresholdPercentage over at least volumeThreshold results', async () => {
  let n = 0;
  const { breaker } = setup(
    { failureThreshold: 100, errorThresholdPercentage: 50, volumeThreshold: 6, rollingCountTimeout: 10000 },
    () => (n++ % 2 === 0 ? fail() : 'ok')
  );
  // F S F S F: 60 % failed, but only 5 results (< volume 6).
  for (let i = 0; i < 5; i++) await breaker.fire().catch(() => {});
  assert.equal(breaker.getState(), 'CLOSED');
  await breaker.fire(); // S: 3 of 6 = 50 %, not more than 50 %
  assert.equal(breaker.getState(), 'CLOSED');
  await breaker.fire().catch(() => {}); // F: 4 of 7 > 50 %
  assert.equal(breaker.getState(), 'OPEN');
  breaker.shutdown();
  const off = setup({ failureThreshold: 100, errorThresholdPercentage: false, volumeThreshold: 0 }, fail).breaker;
  for (let i = 0; i < 20; i++) await off.fire().catch(() => {});
  assert.equal(off.getState(), 'CLOSED', 'errorThresholdPercentage: false disables the rule');
  off.shutdown();
});

test('the rolling window forgets old results', async () => {
  let bad = true;
  const { clock, breaker } = setup(
    { failureThreshold: 100, errorThresholdPercentage: 50, volumeThreshold: 4, rollingCountTimeout: 1000, rollingCountBuckets: 10 },
    () => (bad ? fail() : 'ok')
  );
  for (let i = 0; i < 3; i++) await breaker.fire().catch(() => {});
  assert.equal(breaker.stats.failures, 3);
  clock.advance(1000);
  assert.equal(breaker.stats.failures, 0, 'the failures left the window');
  bad = false;
  for (let i = 0; i < 3; i++) await breaker.fire();
  bad = true;
  await breaker.fire().catch(() => {});
  assert.equal(breaker.getState(), 'CLOSED', '1 of 4 in the window');
  breaker.shutdown();
});

test('half-open admits exactly halfOpenMaxProbes concurrent calls', async () => {
  for (const probes of [1, 3]) {
    const pending = [];
    let calls = 0;
    const clock = new CircuitBreakerFakeClock(0);
    const breaker = new CircuitBreaker(
      () => {
        calls++;
        return new Promise((resolve, reject) => pending.push({ resolve, reject }));
      },
      'probe',
      { failureThreshold: 1, recoveryTimeoutMs: 50, halfOpenMaxProbes: probes, timeout: false, log: false, clock }
    );
    breaker.open();
    clock.advance(50);
    const results = Array.from({ length: 6 }, () => breaker.fire().then(
      (v) => v,
      (e) => e.code
    ));
    await settle();
    assert.equal(calls, probes, `only ${probes} probe(s) run`);
    pending[0].resolve('fine');
    await settle();
    assert.equal(breaker.getState(), 'CLOSED', 'the first probe result decides');
    for (const p of pending.slice(1)) p.reject(new Error('late'));
    const out = await Promise.all(results);
    assert.equal(out.filter((x) => x === 'EOPENBREAKER').length, 6 - probes);
    assert.equal(out.filter((x) => x === 'fine').length, 1);
    assert.equal(breaker.getState(), 'CLOSED', 'results of probes after the decision do not move the state');
    breaker.shutdown();
  }
});

test('fallback: on failure and on reject, with (…args, err); its errors reject', async () => {
  let thrown = 0;
  const { breaker } = setup({ failureThreshold: 1, fallback: (x, err) => `fb:${x}:${err.code ?? err.message}` }, fail);
  const events = record(breaker);
  assert.equal(await breaker.fire(1), 'fb:1:down');
  assert.equal(await breaker.fire(2), 'fb:2:EOPENBREAKER');
  assert.deepEqual(
    events.filter(([n]) => n === 'fallback'),
    [
      ['fallback', 'fb:1:down', 'E:down'],
      ['fallback', 'fb:2:EOPENBREAKER', 'E:Breaker is open'],
    ]
  );
  assert.equal(breaker.stats.fallbacks, 2);
  breaker.fallback(() => {
    thrown++;
    throw new Error('fallback broke');
  });
  await assert.rejects(breaker.fire(3), { message: 'fallback broke' });
  assert.equal(thrown, 1);
  breaker.shutdown();
});

test('errorFilter: filtered errors reject but count as successes and never open', async () => {
  const { breaker } = setup({ failureThreshold: 1, errorFilter: (err, x) => err.message === 'down' && x === 'ignore' }, fail);
  const events = record(breaker);
  await assert.rejects(breaker.fire('ignore'), { message: 'down' });
  assert.equal(breaker.getState(), 'CLOSED');
  assert.deepEqual(events.slice(1), [['success', 'E:down', 0]]);
  assert.equal(breaker.stats.successes, 1);
  assert.equal(breaker.stats.failures, 0);
  await assert.rejects(breaker.fire('count'), { message: 'down' });
  assert.equal(breaker.getState(), 'OPEN');
  breaker.shutdown();
  const broken = setup({ failureThreshold: 1, errorFilter: () => { throw new Error('filter bug'); } }, fail).breaker;
  await assert.rejects(broken.fire(), { message: 'down' });
  assert.equal(broken.getState(), 'OPEN', 'a throwing filter counts the error');
  broken.shutdown();
});

test('enabled: false and disable()/enable(): calls go straight through without accounting', async () => {
  const { breaker } = setup({ failureThreshold: 1, enabled: false }, fail);
  const events = record(breaker);
  assert.equal(breaker.enabled, false);
  for (let i = 0; i < 3; i++) await breaker.fire(i).catch(() => {});
  assert.equal(breaker.getState(), 'CLOSED');
  assert.equal(breaker.metrics.totalRequests, 0);
  assert.deepEqual(events.map(([n]) => n), ['fire', 'fire', 'fire']);
  breaker.enable();
  await breaker.fire().catch(() => {});
  assert.equal(breaker.getState(), 'OPEN');
  breaker.disable();
  await assert.rejects(breaker.fire(), { message: 'down' }, 'disabled: runs even while open');
  breaker.shutdown();
});

test('shutdown: one shutdown event, listeners removed, later calls reject with ESHUTDOWN', async () => {
  const { breaker } = setup();
  let shutdowns = 0;
  breaker.on('shutdown', () => shutdowns++);
  breaker.on('fire', () => assert.fail('no listener survives shutdown'));
  breaker.shutdown();
  breaker.shutdown();
  assert.equal(shutdowns, 1);
  assert.equal(breaker.isShutdown, true);
  assert.equal(breaker.listenerCount('fire'), 0);
  await assert.rejects(breaker.fire(), (e) => e.code === 'ESHUTDOWN' && e.message === 'The circuit has been shutdown.');
  await assert.rejects(breaker.execute(), { code: 'ESHUTDOWN' });
});

test('a throwing listener is isolated: the call settles normally, one warning, no crash', async (t) => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const { breaker } = setup({ failureThreshold: 1 }, fail);
  let after = 0;
  breaker.on('open', () => {
    throw new Error('listener bug');
  });
  breaker.on('open', () => after++);
  breaker.on('failure', () => {
    throw new Error('another bug');
  });
  await assert.rejects(breaker.fire(), { message: 'down' }, 'the operation error, not the listener error');
  assert.equal(after, 1, 'later listeners still run');
  assert.equal(breaker.getState(), 'OPEN');
  await settle();
  const ours = warnings.filter((w) => w.code === 'QERRORS_BREAKER_LISTENER_ERROR');
  assert.equal(ours.length, 1);
  assert.match(ours[0].message, /'failure' listener threw \(another bug\)/);
  breaker.shutdown();
});

test('opening with default logging and a throwing listener neither crashes nor keeps the process alive', () => {
  const script = `
    const { createCircuitBreaker } = require('./lib/native/breaker');
    process.on('unhandledRejection', (e) => { console.error('UNHANDLED', e); process.exitCode = 3; });
    const b = createCircuitBreaker(async () => { throw new Error('down'); }, 'child', { failureThreshold: 2, recoveryTimeoutMs: 60000 });
    b.on('open', () => { throw new Error('listener bug'); });
    (async () => {
      for (let i = 0; i < 3; i++) await b.execute().catch((e) => console.log('rejected', e.code || e.message));
      console.log('state', b.getState());
    })();
  `;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Date.now() - started < 5000, 'exits by itself although the breaker is open (60 s reset timer is unref\'d)');
  assert.match(r.stdout, /\[CircuitBreaker\] child: transitioning to OPEN/);
  assert.match(r.stdout, /rejected down\n.*transitioning to OPEN\nrejected down\nrejected EOPENBREAKER\nstate OPEN/);
  assert.doesNotMatch(r.stderr, /UNHANDLED/);
});

test('spec console lines: state changes, manual reset and forceOpen; log: false silences them', async (t) => {
  const lines = [];
  t.mock.method(console, 'log', (line) => lines.push(line));
  t.mock.method(console, 'warn', (line) => lines.push(line));
  const clock = new CircuitBreakerFakeClock(0);
  const b = createCircuitBreaker(async () => 1, 'svc', { clock, recoveryTimeoutMs: 10 });
  b.forceOpen();
  clock.advance(10);
  b.getState();
  b.reset();
  assert.deepEqual(lines, [
    '[CircuitBreaker] svc: transitioning to OPEN',
    '[CircuitBreaker] svc: manually forced to OPEN',
    '[CircuitBreaker] svc: transitioning to HALF_OPEN',
    '[CircuitBreaker] svc: transitioning to CLOSED',
    '[CircuitBreaker] svc: manually reset to CLOSED',
  ]);
  b.shutdown();
  const quiet = createCircuitBreaker(async () => 1, 'q', { log: false });
  quiet.forceOpen();
  assert.equal(lines.length, 5);
  quiet.shutdown();
});

test('stats, metrics, rates, healthCheck and toJSON are correct', async () => {
  const outcomes = ['ok', fail(), 'ok', 'ok'];
  const { clock, breaker } = setup({ failureThreshold: 5 }, () => outcomes.shift());
  assert.equal(breaker.getSuccessRate(), 1);
  assert.equal(breaker.getFailureRate(), 0);
  assert.equal(breaker.metrics.lastSuccessTime, null);
  for (let i = 0; i < 4; i++) await breaker.execute().catch(() => {});
  breaker.forceOpen();
  await breaker.execute().catch(() => {});
  const stats = breaker.getStats();
  assert.deepEqual(Object.keys(stats), [
    'failures', 'fallbacks', 'successes', 'rejects', 'fires', 'timeouts', 'cacheHits', 'cacheMisses',
    'coalesceCacheHits', 'coalesceCacheMisses', 'semaphoreRejections', 'percentiles', 'latencyMean',
  ]);
  assert.deepEqual(
    { failures: stats.failures, successes: stats.successes, rejects: stats.rejects, fires: stats.fires, timeouts: stats.timeouts },
    { failures: 1, successes: 3, rejects: 1, fires: 5, timeouts: 0 }
  );
  assert.deepEqual(Object.keys(stats.percentiles).map(Number).sort(), [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1].sort());
  assert.equal(breaker.getSuccessRate(), 3 / 5);
  assert.equal(breaker.getFailureRate(), 1 / 5);
  const m = breaker.getMetrics();
  assert.deepEqual(Object.keys(m), ['totalRequests', 'successfulRequests', 'failedRequests', 'averageResponseTime', 'lastFailureTime', 'lastSuccessTime', 'opossumStats']);
  assert.equal(m.totalRequests, 5, 'counts rejected calls too');
  assert.equal(m.successfulRequests, 3);
  assert.equal(m.failedRequests, 1);
  assert.ok(Math.abs(m.lastSuccessTime - Date.now()) < 1000);
  assert.deepEqual(m.opossumStats, { total: 5, successful: 3, failed: 1, timeouts: 0, circuitOpen: true, averageResponseTime: 0 });
  const h = breaker.healthCheck();
  assert.deepEqual(Object.keys(h), ['state', 'isRequestAllowed', 'isOpen', 'stats', 'metrics']);
  assert.equal(h.state, 'OPEN');
  assert.equal(h.isRequestAllowed, false);
  const json = JSON.parse(JSON.stringify(breaker));
  assert.deepEqual(Object.keys(json), ['state', 'status']);
  assert.equal(json.state.name, 'svc');
  assert.equal(json.state.open, true);
  assert.equal(json.status.fires, 5);
  assert.equal(breaker.opened, true);
  assert.equal(breaker.closed, false);
  clock.advance(30000);
  assert.equal(breaker.halfOpen, true);
  breaker.shutdown();
});

test('latency statistics follow the clock (opossum percentile ranks)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const clock = new CircuitBreakerFakeClock(0);
  const delays = [10, 20, 30, 40];
  const breaker = new CircuitBreaker(() => new Promise((resolve) => setTimeout(resolve, delays.shift(), 'done')), 'lat', {
    timeout: false,
    log: false,
    clock,
  });
  const events = record(breaker);
  for (const d of [10, 20, 30, 40]) {
    const p = breaker.fire();
    clock.advance(d);
    t.mock.timers.tick(d);
    assert.equal(await p, 'done');
  }
  assert.deepEqual(events.filter(([n]) => n === 'success').map(([, , l]) => l), [10, 20, 30, 40]);
  const s = breaker.stats;
  assert.equal(s.latencyMean, 25);
  assert.equal(s.percentiles[0], 10);
  assert.equal(s.percentiles[0.5], 20);
  assert.equal(s.percentiles[1], 40);
  assert.equal(breaker.getMetrics().averageResponseTime, 25);
  breaker.shutdown();
});

test('subclassing: execute can be overridden and call super.execute()', async () => {
  class Audited extends CircuitBreaker {
    constructor(op, name, options) {
      super(op, name, options);
      this.seen = [];
    }

    async execute(...args) {
      this.seen.push(args);
      return `audited:${await super.execute(...args)}`;
    }
  }
  const b = new Audited(async (x) => x * 2, 'sub', { log: false });
  assert.equal(await b.execute(21), 'audited:42');
  assert.deepEqual(b.seen, [[21]]);
  assert.ok(b instanceof CircuitBreaker);
  assert.equal(b.getState(), 'CLOSED');
  b.shutdown();
});

test('synchronous throws and plain values; call() sets this', async () => {
  let bad = true;
  const { breaker } = setup({ failureThreshold: 1 });
  breaker.operation = function (x) {
    if (bad) throw new Error('sync');
    return [this, x];
  };
  await assert.rejects(breaker.fire(), { message: 'sync' });
  assert.equal(breaker.getState(), 'OPEN');
  breaker.close();
  bad = false;
  const ctx = { id: 1 };
  assert.deepEqual(await breaker.call(ctx, 5), [ctx, 5]);
  assert.deepEqual(await breaker.fire(6), [breaker.operation, 6], 'fire() uses the operation as this, as opossum');
  breaker.shutdown();
});

test('no unhandled rejection across the whole lifecycle', async (t) => {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  const { clock, breaker } = setup({ failureThreshold: 2, recoveryTimeoutMs: 10, log: true }, fail);
  t.mock.method(console, 'log', () => {});
  for (let i = 0; i < 4; i++) await breaker.execute().catch(() => {});
  clock.advance(10);
  await breaker.execute().catch(() => {});
  breaker.forceOpen();
  breaker.reset();
  await settle();
  await settle();
  assert.deepEqual(unhandled, []);
  breaker.shutdown();
});
