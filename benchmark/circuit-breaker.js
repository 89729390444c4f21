'use strict';

// Circuit breaker: qerrors' native-backed CircuitBreaker vs opossum 9, in one process.
//
//   node --expose-gc benchmark/circuit-breaker.js            (both parts)
//   BENCH_PART=overhead|patterns  BENCH_CALLS=200000  BENCH_ROUNDS=7
//
// Part 1, failure patterns under a fake clock (native fake clock + mocked setTimeout):
// 0 %, 1 % and 10 % random failures, a 5 s outage then recovery, flapping (1 s good,
// 1 s bad), slow calls over the timeout. The transition trace of the breaker (state and
// fake time of every open/halfOpen/close event) must equal the reference model's
// (__test__/breaker-model.js); a trace that differs stops the run before any timing. Also
// reported: calls admitted while half-open, events, and memory and timer handles after
// many calls.
//
// Part 2, overhead: an already-resolved async function wrapped by each breaker (closed),
// called sequentially (await each) and 1000 at a time (Promise.all per batch). Rounds
// alternate the candidates; the added time per call is candidate minus the bare call of
// the same round. A floor row adds one empty raw N-API call (`noop`) to the bare call:
// the distance of each breaker to it is reported. Decisions are checked before timing
// (every call resolves with its argument; a failing action rejects with its own error)
// and after it (each breaker counted exactly the calls made).

const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');
const Opossum = require('opossum');
const { CircuitBreaker } = require('../lib/native/breaker');
const native = require('../lib/native/loader');
const { BreakerModel } = require('../__test__/breaker-model');
const { median, rng } = require('./support');

const CALLS = Number(process.env.BENCH_CALLS) || 200000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 7;
const PART = process.env.BENCH_PART || 'all';
const PRECHECK = 100; // calls per candidate whose answers are checked before any timing

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));

// Each measurement returns ns per call of process CPU time (user + system), which the
// other tenants of a shared machine disturb far less than wall time; wall time is kept
// for reference.
function measure(n, t0, c0) {
  const cpu = process.cpuUsage(c0);
  return { cpu: ((cpu.user + cpu.system) * 1e3) / n, wall: ((performance.now() - t0) * 1e6) / n };
}

async function sequential(call, n) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    if ((await call(i)) !== i) throw new Error('wrong result');
  }
  return measure(n, t0, c0);
}

async function concurrent(call, n) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const batch = new Array(1000);
  for (let done = 0; done < n; done += 1000) {
    for (let i = 0; i < 1000; i++) batch[i] = call(done + i);
    const out = await Promise.all(batch);
    if (out[999] !== done + 999) throw new Error('wrong result');
  }
  return measure(n, t0, c0);
}

async function overhead() {
  const action = async (x) => x;
  const opDefault = new Opossum(action);
  const opNoTimeout = new Opossum(action, { timeout: false });
  const qDefault = new CircuitBreaker(action, 'bench', { log: false });
  const qNoTimeout = new CircuitBreaker(action, 'bench', { log: false, timeout: false });
  // The same class in opossum's (action, options) form: opossum's defaults and rule.
  const qoDefault = new CircuitBreaker(action);
  const qoNoTimeout = new CircuitBreaker(action, { timeout: false });
  // The floor: one empty raw N-API call (the handle's `noop`, with the same argument),
  // the least any design that crossed into Rust per call could cost.
  const floorHandle = native.createCircuitBreakerHandle({});
  const candidates = {
    'bare call': action,
    'floor: one empty raw N-API call': (x) => {
      floorHandle.noop(x);
      return action(x);
    },
    'opossum default (timeout 10 s)': (x) => opDefault.fire(x),
    'opossum timeout: false': (x) => opNoTimeout.fire(x),
    'qerrors default (timeoutMs 10 s)': (x) => qDefault.fire(x),
    'qerrors timeout: false': (x) => qNoTimeout.fire(x),
    'qerrors execute(), timeout: false': (x) => qNoTimeout.execute(x),
    "qerrors in opossum's form (timeout 10 s)": (x) => qoDefault.fire(x),
    "qerrors in opossum's form, timeout: false": (x) => qoNoTimeout.fire(x),
  };
  const names = Object.keys(candidates);
  // Decisions first: every candidate answers each call with its argument, and a failing
  // action rejects with its own error through each breaker; that one failure opens
  // opossum and our breaker in opossum's form (100 % of a window with no volume
  // threshold), not the qerrors form (5 consecutive failures).
  for (const name of names) {
    for (let i = 0; i < PRECHECK; i++) assert.equal(await candidates[name](i), i, name);
  }
  const boom = new Error('boom');
  const failing = async () => {
    throw boom;
  };
  for (const [b, opens] of [
    [new Opossum(failing), true],
    [new CircuitBreaker(failing), true],
    [new CircuitBreaker(failing, 'bench', { log: false }), false],
  ]) {
    await assert.rejects(b.fire(), (e) => e === boom);
    assert.equal(b.opened, opens);
    b.shutdown();
  }
  const results = {};
  for (const mode of ['sequential', 'concurrent']) {
    const run = mode === 'sequential' ? sequential : concurrent;
    const added = Object.fromEntries(names.map((n) => [n, []]));
    const total = Object.fromEntries(names.map((n) => [n, []]));
    const addedWall = Object.fromEntries(names.map((n) => [n, []]));
    for (const name of names) await run(candidates[name], Math.min(CALLS, 50000)); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [...names].reverse() : names;
      const round = {};
      for (const name of order) {
        if (global.gc) global.gc();
        round[name] = await run(candidates[name], CALLS);
      }
      for (const name of names) {
        total[name].push(round[name].cpu);
        added[name].push(round[name].cpu - round['bare call'].cpu);
        addedWall[name].push(round[name].wall - round['bare call'].wall);
      }
    }
    results[mode] = { added, total, addedWall };
  }
  // Decisions: every breaker counted every call as a success and never opened.
  const expected = (CALLS * ROUNDS + Math.min(CALLS, 50000)) * 2 + PRECHECK;
  assert.equal(qDefault.stats.failures + qDefault.metrics.failedRequests, 0);
  assert.equal(qDefault.metrics.successfulRequests, expected);
  assert.equal(qNoTimeout.metrics.successfulRequests, expected * 2);
  assert.equal(qoDefault.metrics.successfulRequests, expected);
  assert.equal(qoNoTimeout.metrics.successfulRequests, expected);
  assert.equal(qoDefault.metrics.failedRequests + qoNoTimeout.metrics.failedRequests, 0);
  assert.equal(opDefault.stats.failures, 0);
  assert.ok(opDefault.closed && qDefault.closed && opNoTimeout.closed && qNoTimeout.closed && qoDefault.closed && qoNoTimeout.closed);

  console.log(`\n## Overhead: already-resolved async function, breaker closed (${CALLS} calls x ${ROUNDS} rounds, CPU ns per call)\n`);
  for (const mode of ['sequential', 'concurrent']) {
    console.log(`### ${mode === 'sequential' ? 'Sequential (await each call)' : '1000 concurrent (Promise.all per batch of 1000)'}\n`);
    console.log('| candidate | CPU total median | CPU added median (min-max) | wall added median |');
    console.log('| --- | ---: | ---: | ---: |');
    const { added, total, addedWall } = results[mode];
    for (const name of names) {
      const a = added[name];
      const cell = name === 'bare call' ? '-' : `${fmt(median(a))} (${fmt(Math.min(...a))}-${fmt(Math.max(...a))})`;
      const wall = name === 'bare call' ? '-' : fmt(median(addedWall[name]));
      console.log(`| ${name} | ${fmt(median(total[name]))} | ${cell} | ${wall} |`);
    }
    const ratio = (table, q, o) => median(table[q]) / median(table[o]);
    const q1 = 'qerrors default (timeoutMs 10 s)';
    const o1 = 'opossum default (timeout 10 s)';
    const q2 = 'qerrors timeout: false';
    const o2 = 'opossum timeout: false';
    const r1 = ratio(added, q1, o1);
    const r2 = ratio(added, q2, o2);
    const r3 = ratio(added, "qerrors in opossum's form (timeout 10 s)", o1);
    const r4 = ratio(added, "qerrors in opossum's form, timeout: false", o2);
    console.log(
      `\nadded-time ratio qerrors/opossum (CPU): default ${r1.toFixed(2)}, timeout disabled ${r2.toFixed(2)} ` +
        `(target <= 0.25: ${r1 <= 0.25 ? 'met' : 'NOT met'} / ${r2 <= 0.25 ? 'met' : 'NOT met'}); ` +
        `wall: ${ratio(addedWall, q1, o1).toFixed(2)} / ${ratio(addedWall, q2, o2).toFixed(2)}; ` +
        `opossum's form: ${r3.toFixed(2)} / ${r4.toFixed(2)}`
    );
    const floor = median(added['floor: one empty raw N-API call']);
    console.log(
      `distance to the floor (added time / one empty raw N-API call's added time, CPU): ` +
        `qerrors default ${(median(added[q1]) / floor).toFixed(2)}x, timeout disabled ${(median(added[q2]) / floor).toFixed(2)}x, ` +
        `opossum's form ${(median(added["qerrors in opossum's form (timeout 10 s)"]) / floor).toFixed(2)}x; opossum default ${(median(added[o1]) / floor).toFixed(2)}x\n`
    );
  }
  for (const b of [opDefault, opNoTimeout, qDefault, qNoTimeout, qoDefault, qoNoTimeout]) b.shutdown();
}

// ---- failure patterns --------------------------------------------------------------

const OPTIONS = {
  failureThreshold: 5,
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeout: 500,
  rollingCountTimeout: 10000,
  rollingCountBuckets: 10,
  halfOpenMaxProbes: 1,
};

/**
 * Runs one pattern: every `step` ms of fake time one call is fired; `plan(t, i)` gives
 * { fail, duration } for the call started at t. Durations are simulated with mocked
 * setTimeout, so timeouts fire by the same fake clock as the native breaker.
 */
async function pattern(name, { durationMs, step, plan, timeout = false }) {
  const { mock } = require('node:test');
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const clock = new native.CircuitBreakerFakeClock(0);
    const model = new BreakerModel(OPTIONS);
    const trace = [];
    const events = {};
    const action = (fail, duration) => {
      if (duration === 0) return fail ? Promise.reject(new Error('down')) : Promise.resolve('ok');
      return new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error('down')) : resolve('ok')), duration));
    };
    const b = new CircuitBreaker(action, name, { ...OPTIONS, log: false, clock, timeout });
    for (const ev of ['fire', 'success', 'failure', 'timeout', 'reject', 'open', 'halfOpen', 'close']) {
      events[ev] = 0;
      b.on(ev, () => {
        events[ev]++;
        if (ev === 'open' || ev === 'halfOpen' || ev === 'close') trace.push(`${clock.now()}:${ev}`);
      });
    }
    // The model sees the same calls: admissions now, results at their settle time.
    const modelTrace = [];
    const pendingModel = []; // { at, permit, failed }
    let last = model.state;
    const noteModel = (t) => {
      if (model.state !== last) {
        last = model.state;
        modelTrace.push(`${t}:${['close', 'open', 'halfOpen'][last]}`);
      }
    };
    const settleModelUntil = (t) => {
      // At one instant the breaker's timeout timer runs before promise reactions.
      pendingModel.sort((x, y) => x.at - y.at || y.timedOut - x.timedOut || x.seq - y.seq);
      while (pendingModel.length && pendingModel[0].at <= t) {
        const p = pendingModel.shift();
        model.record(p.permit, p.failed, p.at);
        noteModel(p.at);
      }
    };
    let halfOpenAdmitted = 0;
    let seq = 0;
    const flush = () => new Promise((resolve) => setImmediate(resolve));
    for (let t = 0, i = 0; t < durationMs; t += 1, i++) {
      if (t > 0) {
        clock.advance(1);
        mock.timers.tick(1);
        await flush();
      }
      settleModelUntil(t);
      // The breaker's reset timer polls at the due time; the model polls the same way.
      model.poll(t);
      noteModel(t);
      if (t % step !== 0) continue;
      const { fail, duration } = plan(t, i);
      const wasHalfOpen = model.peek(t) === 2;
      const permit = model.acquire(t);
      noteModel(t);
      if (permit >= 0) {
        if (wasHalfOpen) halfOpenAdmitted++;
        const timedOut = timeout !== false && duration >= timeout;
        pendingModel.push({ at: t + (timedOut ? timeout : duration), permit, failed: fail || timedOut, timedOut, seq: seq++ });
      }
      b.fire(fail, duration).catch(() => {});
      await flush();
      settleModelUntil(t);
    }
    clock.advance(60000);
    mock.timers.tick(60000);
    await flush();
    settleModelUntil(Infinity);
    model.poll(clock.now());
    noteModel(clock.now());
    const same = JSON.stringify(trace) === JSON.stringify(modelTrace);
    b.shutdown();
    return { name, same, trace, modelTrace, events, halfOpenAdmitted };
  } finally {
    mock.timers.reset();
  }
}

async function patterns() {
  const r = rng(42);
  const cases = [
    ['0 % failures', { durationMs: 20000, step: 5, plan: () => ({ fail: false, duration: 0 }) }],
    ['1 % random failures', { durationMs: 20000, step: 5, plan: () => ({ fail: r() < 0.01, duration: 0 }) }],
    ['10 % random failures', { durationMs: 20000, step: 5, plan: () => ({ fail: r() < 0.1, duration: 0 }) }],
    ['5 s outage then recovery', { durationMs: 15000, step: 5, plan: (t) => ({ fail: t >= 3000 && t < 8000, duration: 0 }) }],
    ['flapping (1 s good, 1 s bad)', { durationMs: 12000, step: 5, plan: (t) => ({ fail: Math.floor(t / 1000) % 2 === 1, duration: 0 }) }],
    [
      'slow calls over the timeout (timeout 50 ms, 60 % take 80 ms)',
      { durationMs: 12000, step: 7, timeout: 50, plan: () => ({ fail: false, duration: r() < 0.6 ? 80 : 3 }) },
    ],
  ];
  console.log('\n## Failure patterns under a fake clock (one call every 5-7 ms of fake time)\n');
  console.log('| pattern | transitions | trace equals model | half-open periods | calls admitted while half-open | fire / success / failure / timeout / reject |');
  console.log('| --- | ---: | --- | ---: | ---: | --- |');
  let allSame = true;
  for (const [name, spec] of cases) {
    const res = await pattern(name, spec);
    allSame &&= res.same;
    const e = res.events;
    console.log(
      `| ${name} | ${res.trace.length} | ${res.same ? 'yes' : 'NO'} | ${e.halfOpen} | ${res.halfOpenAdmitted} | ${e.fire} / ${e.success} / ${e.failure} / ${e.timeout} / ${e.reject} |`
    );
    if (!res.same) {
      let i = 0;
      while (res.trace[i] === res.modelTrace[i]) i++;
      console.log(`\nfirst difference at transition ${i}: breaker ${res.trace.slice(i, i + 4).join(' ')} / model ${res.modelTrace.slice(i, i + 4).join(' ')}\n`);
    }
  }
  console.log(`\nall traces equal the reference model: ${allSame ? 'yes' : 'NO'}`);

  // Memory after many calls: the breaker keeps no per-call state once calls settle.
  // Count the timers the breaker creates during the run.
  const realSetTimeout = global.setTimeout;
  let timersCreated = 0;
  global.setTimeout = (...args) => {
    timersCreated++;
    return realSetTimeout(...args);
  };
  if (global.gc) global.gc();
  const before = process.memoryUsage();
  const b = new CircuitBreaker(async (x) => x, 'memory', { log: false });
  const n = CALLS * 10;
  const batch = new Array(1000);
  for (let done = 0; done < n; done += 1000) {
    for (let i = 0; i < 1000; i++) batch[i] = b.fire(i);
    await Promise.all(batch);
  }
  global.setTimeout = realSetTimeout;
  if (global.gc) global.gc();
  const after = process.memoryUsage();
  // (RSS is not reported: the process's earlier parts leave freed pages behind.)
  console.log(
    `\nafter ${n} calls with timeoutMs 10 s (1000 concurrent), forced GC: V8 heap ${fmt((after.heapUsed - before.heapUsed) / 1024)} KiB above the start; setTimeout calls: ${timersCreated} (one shared, unref'd timer per breaker, none per call)`
  );
  b.shutdown();
  return allSame;
}

async function main() {
  const label = process.env.BENCH_LABEL ? `, ${process.env.BENCH_LABEL}` : '';
  if (!process.env.BENCH_CHILD) console.log(`# Circuit breaker benchmark (${new Date().toISOString()}, node ${process.version}, ${require('node:os').cpus().length} CPUs${label})`);
  // The traces are checked against the reference model before anything is timed. With
  // both parts, the patterns run in a child process: their fake clocks, listeners and
  // mocked timers would otherwise leave the shared code paths less optimized for the
  // timing that follows.
  if (PART === 'patterns') {
    if (!(await patterns())) process.exitCode = 1;
    return;
  }
  if (PART === 'all') {
    const { spawnSync } = require('node:child_process');
    const child = spawnSync(process.execPath, [...process.execArgv, __filename], {
      env: { ...process.env, BENCH_PART: 'patterns', BENCH_CHILD: '1' },
      stdio: 'inherit',
    });
    if (child.status !== 0) {
      process.exitCode = 1;
      return;
    }
  }
  await overhead();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
