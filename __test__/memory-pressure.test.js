'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { MemoryPressure, shared, measureProcess, THRESHOLDS, HYSTERESIS } = require('../lib/ops/memoryPressure');
const metrics = require('../lib/ops/metrics');

/** Fully resolved offline AI settings: Rust fills nothing in. */
const offlineSettings = () => ({ provider: 'offline', timeoutMs: 10000, connectTimeoutMs: 5000, retryAttempts: 2, retryBaseMs: 100, retryMaxMs: 2000, retryAfterMaxMs: 30000, concurrency: 5, queueLimit: 100, cacheLimit: 50, cacheTtlMs: 86400000, maxResponseBytes: 1048576, rateLimitBurst: 0, breakerThreshold: 5, breakerResetMs: 30000, failureTtlMs: 60000 });

const GB = 1024 ** 3;

/** A measurement function whose heap fraction the test sets. */
function fakeMemory() {
  const m = { heapUsedBytes: 0.1 * GB, heapLimitBytes: GB, rssBytes: 0.1 * GB, rssLimitBytes: GB, calls: 0 };
  m.measure = () => {
    m.calls++;
    return { heapUsedBytes: m.heapUsedBytes, heapLimitBytes: m.heapLimitBytes, rssBytes: m.rssBytes, rssLimitBytes: m.rssLimitBytes };
  };
  return m;
}

/** Timers the test fires by hand. */
function manualTimers() {
  const t = { live: new Map(), next: 1 };
  t.setInterval = (fn, ms) => {
    const handle = { id: t.next++, fn, ms, unrefed: false, unref() { this.unrefed = true; return this; } };
    t.live.set(handle.id, handle);
    return handle;
  };
  t.clearInterval = (handle) => t.live.delete(handle.id);
  t.byMs = (ms) => [...t.live.values()].find((h) => h.ms === ms);
  return t;
}

/** A pipeline stand-in recording the scales it is given. */
function fakeTarget(purgeResult = 0) {
  return {
    scales: [],
    purges: 0,
    setLimitScale(c, q) {
      this.scales.push([c, q]);
    },
    purgeExpired() {
      this.purges++;
      return purgeResult;
    },
  };
}

test('levels follow the heap fraction with hysteresis; shrink and restore are counted', () => {
  const mem = fakeMemory();
  const mp = new MemoryPressure({ measure: mem.measure, timers: manualTimers(), checkIntervalMs: 10, cleanupIntervalMs: 20 });
  const target = fakeTarget();
  mp.attach(target);
  assert.deepEqual(target.scales, [], 'nothing to apply at the normal level');

  assert.equal(mp.check(), 'normal');
  mem.heapUsedBytes = THRESHOLDS.high * GB;
  assert.equal(mp.check(), 'high');
  assert.deepEqual(target.scales.at(-1), [0.5, 0.5]);
  mem.heapUsedBytes = THRESHOLDS.critical * GB;
  assert.equal(mp.check(), 'critical');
  assert.deepEqual(target.scales.at(-1), [0.25, 0.25]);
  // Just below the critical threshold but within the hysteresis band: stays critical.
  mem.heapUsedBytes = (THRESHOLDS.critical - HYSTERESIS / 2) * GB;
  assert.equal(mp.check(), 'critical');
  assert.equal(target.scales.length, 2, 'no change, nothing re-applied');
  mem.heapUsedBytes = (THRESHOLDS.critical - HYSTERESIS - 0.01) * GB;
  assert.equal(mp.check(), 'high');
  mem.heapUsedBytes = (THRESHOLDS.high - HYSTERESIS / 2) * GB;
  assert.equal(mp.check(), 'high');
  mem.heapUsedBytes = 0.2 * GB;
  assert.equal(mp.check(), 'normal');
  assert.deepEqual(target.scales, [[0.5, 0.5], [0.25, 0.25], [0.5, 0.5], [1, 1]]);

  const s = mp.stats();
  assert.equal(s.shrinkEvents, 2);
  assert.equal(s.restoreEvents, 2);
  assert.equal(s.checks, 7);
  assert.equal(s.level, 'normal');
  assert.equal(s.levelCode, 0);
  assert.ok(Math.abs(s.heapFraction - 0.2) < 1e-9);
});

test('RSS against its limit raises the level too', () => {
  const mem = fakeMemory();
  const mp = new MemoryPressure({ measure: mem.measure, timers: manualTimers(), checkIntervalMs: 10, cleanupIntervalMs: 20 });
  mem.rssBytes = 0.9 * GB;
  assert.equal(mp.check(), 'critical');
  assert.ok(mp.stats().rssFraction > 0.89);
});

test('the level getter returns the cached result and never measures', () => {
  const mem = fakeMemory();
  const mp = new MemoryPressure({ measure: mem.measure, timers: manualTimers(), checkIntervalMs: 10, cleanupIntervalMs: 20 });
  mem.heapUsedBytes = 0.95 * GB;
  assert.equal(mp.level, 'normal', 'no check yet');
  assert.equal(mem.calls, 0);
  mp.check();
  mem.heapUsedBytes = 0.1 * GB;
  for (let i = 0; i < 5; i++) assert.equal(mp.level, 'critical');
  assert.equal(mem.calls, 1);
});

test('timers start on attach, unref\'d, with the configured intervals; ticks check and purge', () => {
  const mem = fakeMemory();
  const timers = manualTimers();
  const mp = new MemoryPressure({ measure: mem.measure, timers, checkIntervalMs: 1234, cleanupIntervalMs: 5678 });
  assert.equal(timers.live.size, 0, 'nothing starts before a pipeline attaches');
  const a = fakeTarget(3);
  const b = fakeTarget(4);
  const detachA = mp.attach(a);
  mp.attach(b);
  assert.equal(timers.live.size, 2);
  const check = timers.byMs(1234);
  const cleanup = timers.byMs(5678);
  assert.ok(check.unrefed && cleanup.unrefed);

  mem.heapUsedBytes = 0.8 * GB;
  check.fn();
  assert.deepEqual(a.scales.at(-1), [0.5, 0.5]);
  assert.deepEqual(b.scales.at(-1), [0.5, 0.5]);
  cleanup.fn();
  assert.equal(a.purges, 1);
  assert.equal(mp.stats().purged, 7);
  assert.equal(mp.stats().cleanups, 1);

  // A pipeline attached under pressure starts shrunk; a detached one is restored.
  const c = fakeTarget();
  mp.attach(c);
  assert.deepEqual(c.scales, [[0.5, 0.5]]);
  detachA();
  assert.deepEqual(a.scales.at(-1), [1, 1]);
  assert.equal(timers.live.size, 2, 'timers run while a pipeline is attached');

  let detached = 0;
  const d = fakeTarget();
  mp.attach(d, () => detached++);
  mp.stop();
  assert.equal(timers.live.size, 0, 'stop() clears both timers');
  assert.equal(detached, 1, 'stop() tells the owner its pipeline was released');
  assert.deepEqual(b.scales.at(-1), [1, 1], 'stop() restores the limits');
  assert.equal(mp.stats().pipelines, 0);
  mp.stop();
});

test('the last detach stops the timers; a throwing measure or target is isolated', () => {
  const timers = manualTimers();
  let fail = true;
  const mp = new MemoryPressure({
    measure: () => {
      if (fail) throw new Error('no memory stats');
      return { heapUsedBytes: 0.9, heapLimitBytes: 1, rssBytes: 0, rssLimitBytes: 1 };
    },
    timers,
    checkIntervalMs: 10,
    cleanupIntervalMs: 20,
  });
  const broken = { setLimitScale() { throw new Error('shut down'); }, purgeExpired() { throw new Error('shut down'); } };
  const detach = mp.attach(broken);
  assert.equal(mp.check(), 'normal');
  assert.equal(mp.stats().checks, 0);
  fail = false;
  assert.equal(mp.check(), 'critical');
  assert.equal(mp.cleanup(), 0);
  detach();
  assert.equal(timers.live.size, 0);
});

test('bad arguments are TypeErrors/RangeErrors with a code', () => {
  assert.throws(() => new MemoryPressure({ measure: 1 }), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => new MemoryPressure({ checkIntervalMs: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => new MemoryPressure(null), { code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => new MemoryPressure().attach({}), { code: 'ERR_QERRORS_INVALID_ARG' });
});

test('intervals come from QERRORS_MEMORY_CHECK_INTERVAL and QERRORS_CLEANUP_INTERVAL', () => {
  const saved = { m: process.env.QERRORS_MEMORY_CHECK_INTERVAL, c: process.env.QERRORS_CLEANUP_INTERVAL };
  try {
    delete process.env.QERRORS_MEMORY_CHECK_INTERVAL;
    delete process.env.QERRORS_CLEANUP_INTERVAL;
    let timers = manualTimers();
    let mp = new MemoryPressure({ timers });
    mp.attach(fakeTarget());
    assert.ok(timers.byMs(30000) && timers.byMs(300000), 'defaults 30 s and 5 min');
    mp.stop();
    process.env.QERRORS_MEMORY_CHECK_INTERVAL = '250';
    process.env.QERRORS_CLEANUP_INTERVAL = '9000';
    timers = manualTimers();
    mp = new MemoryPressure({ timers });
    mp.attach(fakeTarget());
    assert.ok(timers.byMs(250) && timers.byMs(9000));
    mp.stop();
  } finally {
    for (const [k, v] of [['QERRORS_MEMORY_CHECK_INTERVAL', saved.m], ['QERRORS_CLEANUP_INTERVAL', saved.c]]) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('the default measurement reads the real heap limit and RSS', () => {
  const m = measureProcess();
  assert.ok(m.heapLimitBytes > m.heapUsedBytes && m.heapUsedBytes > 0);
  assert.ok(m.rssLimitBytes >= m.rssBytes && m.rssBytes > 0);
});

test('a native pipeline shrinks and restores its cache and queue bounds', () => {
  const pipeline = require('../lib/native/loader').createAiPipeline({ ...offlineSettings(), cacheLimit: 40, queueLimit: 200 }, () => {});
  const stats = () => JSON.parse(pipeline.stats());
  for (const w of ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima']) {
    pipeline.submit('Error', '', `cannot reach ${w}`, '', '', false);
  }
  assert.equal(stats().cacheSize, 12);
  const mem = fakeMemory();
  const mp = new MemoryPressure({ measure: mem.measure, timers: manualTimers(), checkIntervalMs: 10, cleanupIntervalMs: 20 });
  mp.attach(pipeline);
  mem.heapUsedBytes = 0.9 * GB;
  mp.check();
  let s = stats();
  assert.deepEqual([s.cacheLimit, s.queueLimit, s.cacheSize], [10, 50, 10], 'least recently used advice evicted at once');
  assert.deepEqual([s.configuredCacheLimit, s.configuredQueueLimit], [40, 200]);
  mem.heapUsedBytes = 0.75 * GB;
  mp.check();
  s = stats();
  assert.deepEqual([s.cacheLimit, s.queueLimit], [20, 100]);
  mem.heapUsedBytes = 0.1 * GB;
  mp.check();
  s = stats();
  assert.deepEqual([s.cacheLimit, s.queueLimit], [40, 200]);
  assert.equal(mp.cleanup(), 0, 'nothing has expired');
  assert.throws(() => pipeline.setLimitScale(2, 1), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => pipeline.setLimitScale('x', 1), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
  mp.stop();
  pipeline.shutdown();
});

test('the AI pipeline starts the shared policy on first use; shutdown and qerrors.cleanup() stop it; counts reach getMetrics()', async () => {
  const ai = require('../lib/native/ai');
  ai.configure({ provider: 'offline' });
  try {
    const mp = shared();
    ai.schedule(new Error('cannot reach mike'));
    assert.equal(mp.running, false, 'not in the turn of the first error');
    await new Promise((r) => setImmediate(r));
    assert.ok(mp.running, 'the first analysis started the policy timers in the next turn');
    assert.equal(mp.stats().pipelines, 1);
    mp.check();
    const snap = metrics.getMetrics();
    for (const k of ['level', 'levelCode', 'heapFraction', 'rssFraction', 'checks', 'shrinkEvents', 'restoreEvents', 'cleanups', 'purged']) {
      assert.ok(k in snap.components.memory, `memory.${k}`);
    }
    assert.ok(snap.components.memory.checks >= 1);
    assert.equal(typeof snap.components.ai.cacheLimit, 'number');
    assert.match(metrics.toPrometheus(snap), /^qerrors_component_shrink_events_total\{component="memory"\} \d+$/m);

    assert.ok(metrics.getMetrics().components.queue, 'queue stats while the pipeline runs');
    await ai.shutdown();
    assert.equal(mp.running, false, 'shutting the pipeline down stops the timers');
    assert.equal(metrics.getMetrics().components.queue.queueSize, 0, 'the limiters alone once the pipeline is shut down');
    assert.equal(mp.running, false, 'a snapshot does not start a pipeline again');
    ai.schedule(new Error('cannot reach november'));
    assert.equal(mp.running, true, 'the next analysis restarts them');
    const log = console.log;
    console.log = () => {};
    try {
      require('../lib/handler/qerrors').cleanup();
    } finally {
      console.log = log;
    }
    assert.equal(mp.running, false, 'qerrors.cleanup() stops them');
    ai.schedule(new Error('cannot reach oscar'));
    assert.equal(mp.running, true, 'and the next analysis restarts them');
  } finally {
    ai.configure();
    await ai.shutdown();
  }
  assert.equal(shared().running, false);
});

test('getAnalysisCache() controls drive the cleanup policy', async () => {
  const ai = require('../lib/native/ai');
  const { qerrors } = require('..');
  ai.configure({ provider: 'offline' });
  try {
    ai.schedule(new Error('cannot reach papa'));
    const mp = shared();
    const cache = qerrors.getAnalysisCache();
    const before = mp.stats().cleanups;
    assert.equal(cache.purgeExpired(), undefined);
    assert.equal(mp.stats().cleanups, before + 1, 'purgeExpired() runs one cleanup now');
    assert.equal(cache.stopCleanup(), undefined);
    assert.equal(mp.running, false);
    assert.equal(cache.startCleanup(), undefined);
    assert.equal(mp.running, false, 'nothing to clean until a pipeline attaches again');
    ai.schedule(new Error('cannot reach quebec'));
    assert.equal(mp.running, true);
    cache.stopCleanup();
    cache.startCleanup();
    assert.equal(mp.running, false, 'stop released the pipeline; the next analysis re-attaches it');
  } finally {
    ai.configure();
    await ai.shutdown();
  }
});
