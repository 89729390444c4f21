'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const queue = require('../lib/compat/queue');
const { flush } = require('./helpers/tools-env');

const root = path.resolve(__dirname, '..');
const CAPACITY = 'Queue at capacity - request rejected to prevent memory exhaustion';

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('queueManager namespace: 5 members in the original order, arities', () => {
  assert.deepEqual(Object.keys(queue), ['createLimiter', 'getQueueLength', 'getQueueRejectCount', 'startQueueMetrics', 'stopQueueMetrics']);
  for (const k of Object.keys(queue)) assert.equal(queue[k].length, 0, k);
});

test('createLimiter validates concurrency like p-limit', () => {
  for (const bad of [0, -1, 1.5, '2', Number.NaN, null]) {
    assert.throws(() => queue.createLimiter(bad), {
      name: 'TypeError',
      code: 'ERR_QERRORS_INVALID_CONCURRENCY',
      message: 'Expected `concurrency` to be a number from 1 and up',
    });
  }
  assert.equal(queue.createLimiter().concurrency, 5, 'default 5');
  assert.equal(queue.createLimiter(Infinity).concurrency, Infinity);
  assert.throws(() => queue.createLimiter(2, { maxQueue: -1 }), { name: 'RangeError' });
  assert.throws(() => queue.createLimiter(2, { maxQueue: 1.5 }), { name: 'RangeError' });
  assert.throws(() => queue.createLimiter(2, 'x'), { name: 'TypeError' });
  assert.notEqual(queue.createLimiter(2), queue.createLimiter(2), 'not pooled');
});

test('a burst never exceeds the concurrency and runs FIFO', async () => {
  const limit = queue.createLimiter(3);
  const gates = Array.from({ length: 12 }, deferred);
  const started = [];
  let running = 0;
  let peak = 0;
  const results = gates.map((gate, i) =>
    limit(async (x) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      assert.equal(x, i * 10, 'arguments are passed through');
      await gate.promise;
      running--;
      return i;
    }, i * 10)
  );
  await flush();
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(limit.activeCount, 3);
  assert.equal(limit.pendingCount, 9);
  assert.ok(queue.getQueueLength() >= 9);
  // Finish in a scrambled order: the next waiting task starts each time, in submission order.
  for (const i of [2, 0, 1, 4, 3, 5, 8, 7, 6, 11, 10, 9]) {
    gates[i].resolve();
    await flush();
    assert.ok(limit.activeCount <= 3);
  }
  assert.deepEqual(await Promise.all(results), [...Array(12).keys()]);
  assert.deepEqual(started, [...Array(12).keys()]);
  assert.equal(peak, 3);
  assert.equal(limit.activeCount, 0);
  assert.equal(limit.pendingCount, 0);
});

test('a synchronous throw becomes a rejection; a failing task frees its slot', async () => {
  const limit = queue.createLimiter(1);
  const p = limit(() => {
    throw new Error('sync');
  });
  assert.ok(p instanceof Promise);
  await assert.rejects(p, { message: 'sync' });
  await assert.rejects(limit(() => Promise.reject(new Error('async'))), { message: 'async' });
  assert.equal(await limit(() => 7), 7, 'plain values are fine');
  await assert.rejects(limit('nope'), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  assert.equal(limit.activeCount, 0);
});

test('maxQueue bounds waiting tasks and every rejection is counted exactly', async () => {
  const rejectsBefore = queue.getQueueRejectCount();
  const lengthBefore = queue.getQueueLength();
  const limit = queue.createLimiter(2, { maxQueue: 3 });
  const gate = deferred();
  const outcomes = Array.from({ length: 12 }, (_, i) =>
    limit(async () => {
      await gate.promise;
      return i;
    }).then(
      (v) => ({ ok: v }),
      (e) => ({ err: e })
    )
  );
  await flush();
  assert.equal(limit.activeCount, 2);
  assert.equal(limit.pendingCount, 3);
  assert.equal(queue.getQueueLength() - lengthBefore, 3);
  assert.equal(queue.getQueueRejectCount() - rejectsBefore, 7);
  gate.resolve();
  const settled = await Promise.all(outcomes);
  assert.deepEqual(
    settled.slice(0, 5).map((o) => o.ok),
    [0, 1, 2, 3, 4]
  );
  for (const o of settled.slice(5)) {
    assert.equal(o.err.message, CAPACITY);
    assert.equal(o.err.code, 'ERR_QERRORS_QUEUE_FULL');
  }
  // Space frees up once the burst drains.
  assert.equal(await limit(() => 'again'), 'again');
  assert.equal(queue.getQueueRejectCount() - rejectsBefore, 7);
  assert.equal(queue.getQueueLength(), lengthBefore);
});

test('the global cap (100 by default) is shared by all limiters', async () => {
  const rejectsBefore = queue.getQueueRejectCount();
  const a = queue.createLimiter(3);
  const b = queue.createLimiter(50);
  const gate = deferred();
  const task = () => gate.promise;
  const all = [];
  for (let i = 0; i < 80; i++) all.push(a(task).catch((e) => e));
  for (let i = 0; i < 70; i++) all.push(b(task).catch((e) => e));
  await flush();
  assert.equal(queue.getQueueRejectCount() - rejectsBefore, 50);
  assert.equal(a.activeCount + a.pendingCount + b.activeCount + b.pendingCount, 100);
  gate.resolve('done');
  const out = await Promise.all(all);
  assert.equal(out.filter((x) => x === 'done').length, 100);
  assert.equal(out.filter((x) => x instanceof Error && x.message === CAPACITY).length, 50);
  // a's 80 were all admitted; the rejected ones are b's last 50.
  assert.ok(out.slice(0, 80).every((x) => x === 'done'));
  assert.ok(out.slice(100).every((x) => x instanceof Error));
});

test('QERRORS_QUEUE_LIMIT sets the global cap', () => {
  const script = `
    const q = require('./lib/compat/queue');
    const l = q.createLimiter(2);
    let release;
    const gate = new Promise((r) => (release = r));
    const all = [];
    for (let i = 0; i < 25; i++) all.push(l(() => gate).then(() => 'ok', (e) => e.message));
    setImmediate(() => {
      const snapshot = { rejects: q.getQueueRejectCount(), length: q.getQueueLength() };
      release();
      Promise.all(all).then((r) => console.log(JSON.stringify({ ...snapshot, ok: r.filter((x) => x === 'ok').length })));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, QERRORS_QUEUE_LIMIT: '10' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { rejects: 15, length: 8, ok: 10 });
});

test('getQueueLength and getQueueRejectCount include a running AI pipeline', (t) => {
  const ai = require('../lib/native/ai');
  const length = queue.getQueueLength();
  const rejects = queue.getQueueRejectCount();
  const running = t.mock.method(ai, '_peekStats', () => ({ queued: 4, rejected: 3, inFlight: 1 }));
  assert.equal(queue.getQueueLength(), length + 4);
  assert.equal(queue.getQueueRejectCount(), rejects + 3);
  running.mock.restore();
  const failing = t.mock.method(ai, '_peekStats', () => {
    throw new Error('boom');
  });
  assert.equal(queue.getQueueLength(), length, 'a failing pipeline is ignored');
  failing.mock.restore();
  assert.equal(queue.getQueueLength(), length, 'no pipeline runs: only the limiters count');
});

test('startQueueMetrics logs the metrics line through the logger on its interval; idempotent; stop stops', async (t) => {
  const lines = [];
  const logger = require('../lib/logging/logger');
  t.mock.method(logger, 'logInfo', async (line) => lines.push(line));
  t.mock.timers.enable({ apis: ['setInterval'] });
  try {
    queue.startQueueMetrics(1000);
    queue.startQueueMetrics(1000);
    queue.startQueueMetrics();
    t.mock.timers.tick(3000);
    await flush();
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^Queue metrics: rejects=\d+, active=\d+, queued=\d+, processed=\d+, avg_time=\d+ms$/);
    queue.stopQueueMetrics();
    queue.stopQueueMetrics();
    t.mock.timers.tick(5000);
    await flush();
    assert.equal(lines.length, 3);
  } finally {
    queue.stopQueueMetrics();
  }
  for (const bad of [0, -5, 1.5, '100', 2 ** 31]) {
    assert.throws(() => queue.startQueueMetrics(bad), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_ARG' });
  }
});

test('getQueueMetrics (non-enumerable) has the intended shape', async () => {
  const limit = queue.createLimiter(1);
  await limit(() => 1);
  const m = queue.getQueueMetrics();
  assert.deepEqual(Object.keys(m), ['rejectCount', 'activeCount', 'totalProcessed', 'averageProcessingTime', 'queueSize', 'maxQueueSize']);
  assert.ok(m.totalProcessed >= 1);
  assert.equal(m.maxQueueSize, 100);
  assert.ok(m.averageProcessingTime >= 0);
});

test('a process with running metrics and limiters exits by itself', () => {
  const script = `
    const q = require('./lib/compat/queue');
    q.startQueueMetrics(5);
    const l = q.createLimiter(1);
    l(() => new Promise((r) => setTimeout(r, 20))).then(() => console.log('done'));`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 5000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done/);
  assert.ok(Date.now() - started < 3000);
});
