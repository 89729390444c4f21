'use strict';

// The AI provider response path alone: 1 MB OpenAI-compatible responses (a small advice
// answer inside a large `logprobs` section of many small objects, as workloads describe)
// from a mock on 127.0.0.1, at concurrency 8.
//
//   ours: aiPipeline.analyze() — reqwest on tokio reads the body, the native JSON scanner
//         extracts the answer, only the small advice JSON reaches the main thread.
//   peer: fetch() + res.text() + JSON.parse + JSON.parse of the answer, on the main thread.
//
// The mock runs in a child process so its work is not counted as ours. Reported per side:
// main-thread time per response (event-loop utilization × wall time / responses, and the main
// thread's own CPU time from /proc), throughput, CPU time of the whole process per response,
// event-loop delay max. Rounds alternate.
//
//   node --expose-gc benchmark/ai.js [--responses 64] [--rounds 5] [--size 1000000]

const { spawn } = require('node:child_process');
const assert = require('node:assert/strict');
const path = require('node:path');
const { performance, monitorEventLoopDelay } = require('node:perf_hooks');
const { median } = require('./support');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const SIZE = arg('size', 1_000_000);
const RESPONSES = arg('responses', 64);
const ROUNDS = arg('rounds', 5);
const CONCURRENCY = 8;

const ADVICE = {
  advice: 'The connection pool is exhausted: raise the pool size or release connections in finally blocks — «ça marche» ✅',
  cause: 'Connections are acquired per request and never released on the error path.',
  steps: ['Release the client in a finally block', 'Set pool max from the "DB_POOL_MAX" env var', 'Add a 5 s acquire timeout'],
  severity: 'high',
};

/** An OpenAI chat completion of about `size` bytes: the answer plus logprobs. */
function bigResponse(size) {
  const content = JSON.stringify(ADVICE);
  const token = (i) => ({ token: `tok${i}`, logprob: -0.000123 * (i % 97), bytes: [116, 111, 107], top_logprobs: [{ token: `alt${i}`, logprob: -1.25, bytes: [97] }] });
  const tokens = [];
  let approx = 300 + content.length;
  for (let i = 0; approx < size; i++) {
    const t = token(i);
    tokens.push(t);
    approx += JSON.stringify(t).length + 1;
  }
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: { content: tokens }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 200, completion_tokens: tokens.length, total_tokens: 200 + tokens.length },
  });
}

if (process.argv.includes('--mock')) {
  // Child: serve the same body for every request.
  const { startMock } = require('../__test__/helpers/ai-mock');
  startMock('openai').then((mock) => {
    mock.fallback = { raw: Buffer.from(bigResponse(SIZE)) };
    process.stdout.write(`${mock.url}\n`);
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  });
  return;
}

async function startMockChild() {
  const child = spawn(process.execPath, [__filename, '--mock', '--size', String(SIZE)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.trim());
    });
    child.on('exit', (c) => reject(new Error(`mock exited ${c}`)));
  });
  return { url, stop: () => child.stdin.end() };
}

const ai = require(path.join(__dirname, '..', 'lib', 'native', 'ai'));

let seq = 0;
function distinctError() {
  // Letters only: the fingerprint ignores digits, and every request must miss the cache.
  let n = seq++;
  let tag = '';
  do {
    tag += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return new Error(`pool exhausted ${tag}`);
}

async function ours() {
  const advice = await ai.analyze(distinctError());
  if (!advice) throw new Error(`analysis failed: ${ai.stats().lastError}`);
  const { fingerprint, source, createdAt, ...rest } = advice;
  return rest;
}

function peerFactory(url) {
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'analyse' }] });
  return async function peer() {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }, body });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const doc = JSON.parse(await res.text());
    const content = doc.choices[0].message.content;
    return JSON.parse(content);
  };
}

/** CPU time of the main thread alone, in ms (Linux schedstat; null elsewhere). */
function mainThreadCpuMs() {
  try {
    const text = require('node:fs').readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8');
    return Number(text.split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

async function runSide(fn, n) {
  if (global.gc) global.gc();
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  let next = 0;
  let first;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await fn();
      if (first === undefined) first = r;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wall = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuMs();
  h.disable();
  return {
    first,
    mainMs: elu.active / n,
    mainCpuMs: main0 === null || main1 === null ? NaN : (main1 - main0) / n,
    perSec: (n * 1000) / wall,
    cpuMs: (cpu.user + cpu.system) / 1000 / n,
    delayMaxMs: h.max / 1e6,
  };
}

function fmt(xs, digits = 2) {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
}

async function main() {
  const mock = await startMockChild();
  try {
    ai.configure({
      provider: 'openai',
      apiKey: 'sk-bench',
      url: mock.url,
      cacheLimit: 0,
      concurrency: CONCURRENCY,
      rateLimit: false,
      retryAttempts: 0,
      maxResponseBytes: 8 * 1024 * 1024,
      timeoutMs: 30000,
    });
    const peer = peerFactory(mock.url);
    // Warm-up: connections, JIT, the runtime's threads.
    const w1 = await runSide(ours, 16);
    const w2 = await runSide(peer, 16);
    assert.deepEqual(w1.first, w2.first, 'both sides must extract the same advice');
    assert.deepEqual(w2.first, ADVICE);
    const rows = { ours: [], peer: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? ['peer', 'ours'] : ['ours', 'peer'];
      for (const side of order) rows[side].push(await runSide(side === 'ours' ? ours : peer, RESPONSES));
    }
    const pick = (side, k) => rows[side].map((r) => r[k]);
    const ratio = (k) => rows.ours.map((r, i) => r[k] / rows.peer[i][k]);
    console.log(`AI response path: ${(SIZE / 1e6).toFixed(2)} MB responses, concurrency ${CONCURRENCY}, ${RESPONSES} responses x ${ROUNDS} rounds (median (min-max))`);
    console.log('| side | main-thread ms/response (ELU) | main-thread CPU ms/response | responses/s | process CPU ms/response | event-loop delay max ms |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const side of ['ours', 'peer']) {
      const label = side === 'ours' ? 'qerrors aiPipeline.analyze (reqwest + native extract)' : 'fetch + res.text() + JSON.parse';
      console.log(
        `| ${label} | ${fmt(pick(side, 'mainMs'))} | ${fmt(pick(side, 'mainCpuMs'), 3)} | ${fmt(pick(side, 'perSec'), 1)} | ${fmt(pick(side, 'cpuMs'))} | ${fmt(pick(side, 'delayMaxMs'), 1)} |`
      );
    }
    console.log(`main-thread time ratio ours/peer: ${fmt(ratio('mainMs'), 3)} by event-loop utilization, ${fmt(ratio('mainCpuMs'), 3)} by main-thread CPU time (target <= 0.3)`);
    console.log(`throughput ratio ours/peer: ${fmt(ratio('perSec'), 2)} (target >= 2.5)`);
    console.log(`provider calls made by the pipeline: ${ai.stats().providerCalls}`);
  } finally {
    await ai.shutdown();
    mock.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
