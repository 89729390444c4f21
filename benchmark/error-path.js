'use strict';

// The whole error path in one process: `qerrors(err, ctx, req, res, next)` of this package
// against the published qerrors 1.2.7 (`qerrors-legacy`), on the same errors and the same
// mock Express request/response. 20 error signatures (stack traces of 10-40 frames,
// messages of 50 B-2 KB, some with secrets) in a Zipf(1.1) mix plus 1% unique errors (a
// fresh message and stack each time); JSON and HTML clients.
// Both log to the console (discarded during the timed rounds) and not to files, or with
// LOG_FILES=1 to files in a scratch directory and not to the console (then this package's
// files are written by its log thread, or from JavaScript with QERRORS_LOG_THREAD=false); the AI
// analysis runs with no API key (offline advisor here; 1.2.7 skips it).
//
// Decisions checked equal: the HTTP status each peer answers for every error.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-error-path-'));
process.chdir(scratch); // 1.2.7 creates logs/ in the cwd when it loads
const LOG_FILES = process.env.LOG_FILES === '1';
if (LOG_FILES) process.env.QERRORS_VERBOSE = 'false';
else process.env.QERRORS_DISABLE_FILE_LOGS = '1';
process.env.NODE_ENV = 'production';

const ours = require('..');
const legacy = require('qerrors-legacy');

const N = Number(process.env.CALLS || 4000);
const ROUNDS = Number(process.env.ROUNDS || 5);

function frames(n, seed) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(`    at fn${seed}_${i} (/srv/app/src/module${i % 7}.js:${10 + i}:${(seed * 7 + i) % 80})`);
  return out.join('\n');
}
const SIGNATURES = Array.from({ length: 20 }, (_, i) => {
  const extra = i % 4 === 0 ? ` user jane${i}@example.com password=hunter${i}` : '';
  const message = `failure ${i} in request handler${extra} ${'x'.repeat((i * 97) % 2000)}`;
  const err = new Error(message);
  err.stack = `Error: ${message}\n${frames(10 + (i % 31), i)}`;
  if (i % 5 === 1) err.statusCode = 404;
  if (i % 5 === 2) err.statusCode = 422;
  return err;
});
// Zipf(1.1) weights over the 20 signatures, sampled with a fixed seed.
const weights = SIGNATURES.map((_, k) => 1 / (k + 1) ** 1.1);
const total = weights.reduce((a, b) => a + b, 0);
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
let uniques = 0;
function uniqueError() {
  uniques++;
  const message = `unique failure ${uniques} for order ${uniques * 7919} ${'y'.repeat(uniques % 900)}`;
  const err = new Error(message);
  err.stack = `Error: ${message}\n${frames(10 + (uniques % 31), 1000 + uniques)}`;
  return err;
}
// -1 marks a unique error, created fresh at call time.
const sequence = Array.from({ length: N }, () => {
  if (rnd() < 0.01) return -1;
  let r = rnd() * total;
  let k = 0;
  while (r > weights[k]) r -= weights[k++];
  return k;
});

function mockReq(html) {
  const headers = { accept: html ? 'text/html' : 'application/json', 'user-agent': 'bench' };
  return { headers, method: 'GET', url: '/api/orders/7', originalUrl: '/api/orders/7', ip: '127.0.0.1', get: (h) => headers[h.toLowerCase()] };
}
function mockRes() {
  const res = {
    headersSent: false,
    statusCode: 200,
    status(c) {
      res.statusCode = c;
      return res;
    },
    json() {
      res.headersSent = true;
      return res;
    },
    send() {
      res.headersSent = true;
      return res;
    },
    set() {
      return res;
    },
    setHeader() {},
    get() {
      return undefined;
    },
    end() {
      res.headersSent = true;
    },
  };
  return res;
}

const peers = {
  'qerrors (this package)': (err, req, res, next) => ours.qerrors(err, 'orders', req, res, next),
  'qerrors 1.2.7': (err, req, res, next) => legacy.qerrors(err, 'orders', req, res, next),
};

const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
function mute() {
  process.stdout.write = () => true;
  process.stderr.write = () => true;
}
function unmute() {
  process.stdout.write = realOut;
  process.stderr.write = realErr;
}

async function run(fn, html) {
  const statuses = new Array(N);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // CPU counts the log thread's work on this round's entries (flushed below), not the wall time.
  for (let i = 0; i < N; i++) {
    const res = mockRes();
    const k = sequence[i];
    await fn(k === -1 ? uniqueError() : SIGNATURES[k], mockReq(html), res, () => {});
    statuses[i] = res.statusCode;
  }
  const ms = performance.now() - t0;
  ours.logger._flushLogThread();
  const cpu = process.cpuUsage(cpu0);
  return { usPerCall: (ms * 1000) / N, cpuUsPerCall: (cpu.user + cpu.system) / N, statuses };
}

(async () => {
  mute();
  const results = {};
  try {
    for (const name of Object.keys(peers)) {
      results[name] = { json: [], html: [], cpu: [] };
      await run(peers[name], false); // warm-up
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of Object.entries(peers)) {
        for (const html of [false, true]) {
          const x = await run(fn, html);
          results[name][html ? 'html' : 'json'].push(x.usPerCall);
          results[name].cpu.push(x.cpuUsPerCall);
          results[name].statuses = x.statuses;
        }
      }
    }
  } finally {
    unmute();
  }
  // Unique errors all answer 500 with both peers (they carry no status).
  const a = results['qerrors (this package)'].statuses;
  const b = results['qerrors 1.2.7'].statuses;
  const mismatches = a.filter((s, i) => s !== b[i]).length;
  const med = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
  const f = (xs) => `${med(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
  const where = LOG_FILES ? `log files (QERRORS_LOG_THREAD=${process.env.QERRORS_LOG_THREAD || 'true'})` : 'console, discarded';
  console.log(`error path, ${N} calls per round, ${ROUNDS} rounds, logging to ${where}, node ${process.version}`);
  console.log('| peer | JSON client µs/call | HTML client µs/call | CPU µs/call (all threads) |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, r] of Object.entries(results)) console.log(`| ${name} | ${f(r.json)} | ${f(r.html)} | ${f(r.cpu)} |`);
  const ratio = med(results['qerrors (this package)'].json) / med(results['qerrors 1.2.7'].json);
  console.log(`\nours/1.2.7 (JSON): ${ratio.toFixed(2)}x; statuses compared: ${N}, mismatches: ${mismatches}`);
  console.log(`RSS after: ${(process.memoryUsage().rss / 1048576).toFixed(1)} MB (both peers loaded)`);
  await ours.logger.then((l) => l.close());
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(mismatches === 0 ? 0 : 1);
})();
