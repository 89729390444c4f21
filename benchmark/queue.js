'use strict';

// Concurrency limiter: qerrors' createLimiter next to p-limit 7 and the published qerrors 1.2.7
// (`qerrors-legacy`) createLimiter, in one process, alternating rounds.
//
//   A. 10k zero-duration tasks at concurrency 2, 5, 50: drain time and ns per task. Decisions
//      checked: every peer returns the results in submission order and never exceeds the limit.
//   B. Bursts of 10k 1 ms tasks against a queue limit of 100 and 200 (running + waiting):
//      submission cost, exact reject count, FIFO order, drain time. Only qerrors has a bound;
//      p-limit accepts everything and is shown for the submission cost.
//   C. 500 tasks of 10 ms at concurrency 50: drain time against the ideal 100 ms.
//
// Run: node --expose-gc benchmark/queue.js   (ROUNDS=7 by default)

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

// 1.2.7 writes logs/ into the cwd and logs to the console when loaded; keep both out of the way.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-bench-queue-'));
process.chdir(scratch);
process.env.QERRORS_VERBOSE = 'false';
// Phases A and C measure throughput without admission control; phase B bounds each limiter.
process.env.QERRORS_QUEUE_LIMIT = '1000000';
process.env.QERRORS_SAFE_THRESHOLD = '1000000';

const queue = require('../lib/compat/queue');
const pLimitModule = require('p-limit');
const pLimit = pLimitModule.default || pLimitModule;
const legacy = require('qerrors-legacy');
const { median } = require('./support');

const ROUNDS = Number(process.env.ROUNDS || 7);

const peers = {
  qerrors: (c) => queue.createLimiter(c),
  'p-limit 7': (c) => pLimit(c),
  'qerrors 1.2.7': (c) => legacy.createLimiter(c),
};

const spread = (xs, f) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `n` tasks through a fresh limiter; returns { ms, peak, results }. */
async function drain(make, concurrency, n, taskMs) {
  const limit = make(concurrency);
  let running = 0;
  let peak = 0;
  const t0 = performance.now();
  const all = new Array(n);
  for (let i = 0; i < n; i++) {
    all[i] = limit(async () => {
      running++;
      if (running > peak) peak = running;
      if (taskMs > 0) await sleep(taskMs);
      else await null;
      running--;
      return i;
    });
  }
  const results = await Promise.all(all);
  return { ms: performance.now() - t0, peak, results };
}

function inOrder(results, n) {
  if (results.length !== n) return false;
  for (let i = 0; i < n; i++) if (results[i] !== i) return false;
  return true;
}

async function phaseA() {
  const N = 10000;
  console.log(`\nA. ${N} zero-duration tasks, median drain ms (min-max) and ns/task, ${ROUNDS} rounds`);
  console.log('| concurrency | qerrors | p-limit 7 | qerrors 1.2.7 | qerrors / p-limit |');
  console.log('|---|---|---|---|---|');
  for (const c of [2, 5, 50]) {
    const times = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
    for (const make of Object.values(peers)) await drain(make, c, N, 0); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, make] of Object.entries(peers)) {
        globalThis.gc?.();
        const { ms, peak, results } = await drain(make, c, N, 0);
        if (peak > c || !inOrder(results, N)) throw new Error(`${name}: wrong decisions at concurrency ${c} (peak ${peak})`);
        times[name].push(ms);
      }
    }
    const cell = (name) => `${spread(times[name], (x) => x.toFixed(1))} ms, ${((median(times[name]) / N) * 1e6).toFixed(0)} ns`;
    const ratio = median(times.qerrors) / median(times['p-limit 7']);
    console.log(`| ${c} | ${cell('qerrors')} | ${cell('p-limit 7')} | ${cell('qerrors 1.2.7')} | ${ratio.toFixed(2)}x |`);
  }
}

async function phaseB() {
  const N = 10000;
  console.log(`\nB. bursts of ${N} tasks of 1 ms against a queue limit (running + waiting), ${ROUNDS} rounds`);
  console.log('| limit | concurrency | qerrors submit ms | p-limit submit ms (no bound) | qerrors rejects (expected) | qerrors drain ms |');
  console.log('|---|---|---|---|---|---|');
  for (const L of [100, 200]) {
    for (const c of [2, 5, 50]) {
      const submit = { qerrors: [], 'p-limit 7': [] };
      const drainMs = [];
      let rejects = 0;
      for (let r = 0; r < ROUNDS; r++) {
        globalThis.gc?.();
        const before = queue.getQueueRejectCount();
        const limit = queue.createLimiter(c, { maxQueue: L - c });
        const order = [];
        let t0 = performance.now();
        const all = new Array(N);
        for (let i = 0; i < N; i++) {
          all[i] = limit(async () => {
            order.push(i);
            await sleep(1);
            return i;
          }).catch((e) => e);
        }
        submit.qerrors.push(performance.now() - t0);
        rejects = queue.getQueueRejectCount() - before;
        const out = await Promise.all(all);
        drainMs.push(performance.now() - t0);
        const accepted = out.filter((x) => typeof x === 'number');
        if (rejects !== N - L || accepted.length !== L || !inOrder(accepted, L) || !inOrder(order, L)) {
          throw new Error(`qerrors: wrong decisions for limit ${L}, concurrency ${c}`);
        }
        // p-limit's submission cost for the same burst (everything is accepted), then drain it
        // with zero-duration tasks so the round stays short.
        const p = pLimit(c);
        t0 = performance.now();
        const pall = new Array(N);
        for (let i = 0; i < N; i++) pall[i] = p(async () => i);
        submit['p-limit 7'].push(performance.now() - t0);
        await Promise.all(pall);
      }
      const f = (x) => x.toFixed(2);
      console.log(
        `| ${L} | ${c} | ${spread(submit.qerrors, f)} | ${spread(submit['p-limit 7'], f)} | ${rejects} (${N - L}) | ${spread(drainMs, (x) => x.toFixed(0))} |`
      );
    }
  }
}

async function phaseC() {
  const N = 500;
  const c = 50;
  console.log(`\nC. ${N} tasks of 10 ms at concurrency ${c}: drain ms (ideal 100), ${ROUNDS} rounds`);
  console.log('| peer | drain ms |');
  console.log('|---|---|');
  const times = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, make] of Object.entries(peers)) {
      const { ms, peak, results } = await drain(make, c, N, 10);
      if (peak > c || !inOrder(results, N)) throw new Error(`${name}: wrong decisions in phase C`);
      times[name].push(ms);
    }
  }
  for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${spread(xs, (x) => x.toFixed(0))} |`);
}

(async () => {
  console.log(`queue benchmark, node ${process.version}, ${os.cpus().length} cpus, ${new Date().toISOString()}`);
  await phaseA();
  await phaseB();
  await phaseC();
  fs.rmSync(scratch, { recursive: true, force: true });
  // 1.2.7 keeps its process alive with an interval of its own.
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
