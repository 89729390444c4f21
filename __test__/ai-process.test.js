'use strict';

// The AI pipeline as a service sees it: configuration from the environment, the offline
// advisor by default, and processes that exit by themselves.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const ai = require('../lib/native/ai');
const { startMock } = require('./helpers/ai-mock');

const root = path.resolve(__dirname, '..');
const lib = JSON.stringify(path.join(root, 'lib', 'native', 'ai.js'));

/** @type {Awaited<ReturnType<typeof startMock>>} */
let openai;

before(async () => {
  openai = await startMock('openai');
});

after(async () => {
  await ai.shutdown();
  await openai.close();
});

/**
 * Runs a script in a child process with exactly `env` (plus PATH), resolving with its
 * output, exit code and wall time. The child is killed after 10 s.
 * @param {string} script
 * @param {Record<string, string>} env
 */
function runChild(script, env = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { cwd: root, env: { PATH: process.env.PATH || '', NODE_ENV: 'test', ...env }, timeout: 10000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code ?? 'killed' : 0, signal: err && err.signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test('requiring the module starts nothing: the process exits at once, no signal handlers', async () => {
  const r = await runChild(`const before = process.listenerCount('SIGTERM'); require(${lib}); console.log(process.listenerCount('SIGTERM') - before);`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0');
});

test('with no API key the offline advisor answers and no network call is made', async () => {
  openai.reset();
  const r = await runChild(
    `const ai = require(${lib});
     const e = new Error('listen EADDRINUSE: address already in use :::3000'); e.code = 'EADDRINUSE';
     ai.analyze(e).then((a) => console.log(JSON.stringify({ a, s: ai.stats() })));`,
    { QERRORS_OPENAI_URL: openai.url }
  );
  assert.equal(r.code, 0, r.stderr);
  const { a, s } = JSON.parse(r.stdout);
  assert.equal(a.source, 'offline');
  assert.equal(a.offline, true);
  assert.equal(a.category, 'EADDRINUSE');
  assert.match(a.advice, /port/);
  assert.equal(s.provider, 'offline');
  assert.equal(s.providerCalls, 0);
  assert.equal(openai.requests.length, 0);
  assert.equal(r.stderr, '', 'a fresh install prints no warnings');
});

test('environment configuration: provider, URL, model, bounds; invalid values warn once', async () => {
  openai.reset();
  openai.fallback = { content: '{"advice":"from env"}' };
  const r = await runChild(
    `const ai = require(${lib});
     ai.analyze(new Error('env configured failure')).then((a) => {
       ai.schedule(new Error('second'));
       console.log(JSON.stringify({ a, s: ai.stats() }));
     });`,
    {
      QERRORS_AI_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-env-key',
      OPENAI_BASE_URL: openai.url.replace('/chat/completions', '/'),
      QERRORS_CONCURRENCY: 'lots',
      QERRORS_CACHE_LIMIT: '0',
      QERRORS_QUEUE_LIMIT: '7',
      QERRORS_RETRY_ATTEMPTS: '1',
    }
  );
  assert.equal(r.code, 0, r.stderr);
  const { a, s } = JSON.parse(r.stdout);
  assert.equal(a.advice, 'from env');
  assert.equal(s.provider, 'openai');
  assert.equal(s.model, 'gpt-4o');
  assert.equal(s.cacheLimit, 0);
  assert.equal(s.cacheSize, 0, 'QERRORS_CACHE_LIMIT=0 disables the cache');
  assert.equal(s.queueLimit, 7);
  assert.ok(s.concurrency >= 5, 'invalid QERRORS_CONCURRENCY falls back to the default');
  assert.equal(openai.requests[0].headers.authorization, 'Bearer sk-env-key');
  assert.equal(openai.requests[0].url, '/v1/chat/completions');
  assert.equal(r.stderr.match(/QERRORS_CONCURRENCY="lots"/g)?.length, 1, r.stderr);
});

test('an explicit provider without its key warns and falls back to offline advice', async () => {
  const r = await runChild(`const ai = require(${lib}); ai.analyze(new Error('x')).then((a) => console.log(a.source));`, { QERRORS_AI_PROVIDER: 'google' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'offline');
  assert.match(r.stderr, /QERRORS_AI_PROVIDER=gemini needs GEMINI_API_KEY/);
});

test('a child that schedules analyses and awaits nothing exits by itself while a call hangs', async () => {
  openai.reset();
  openai.fallback = { hang: true };
  // The child's own work: schedule, then wait (a ref'd timer) until a provider call is out.
  // After that only the in-flight analyses remain, and they must not hold the process.
  const r = await runChild(
    `const ai = require(${lib});
     for (let i = 0; i < 5; i++) ai.schedule(new Error('hanging provider ' + 'abcde'[i]));
     const started = Date.now();
     (function wait() {
       const s = ai.stats();
       if (s.providerCalls >= 1 || Date.now() - started > 10000) return console.log(JSON.stringify(s));
       setTimeout(wait, 10);
     })();`,
    { QERRORS_AI_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-x', QERRORS_OPENAI_URL: openai.url }
  );
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.ok(s.providerCalls >= 1, 'a provider call was in flight');
  assert.equal(s.pending, 5, 'all five analyses were still pending');
  assert.ok(r.ms < 5000, `exit took ${r.ms} ms`);
});

test('a child that awaits analyze() gets its advice, then exits by itself', async () => {
  openai.reset();
  openai.fallback = { delayMs: 100, content: '{"advice":"worth the wait"}' };
  const r = await runChild(
    `const ai = require(${lib});
     ai.analyze(new Error('awaited failure')).then((a) => console.log(a && a.advice));`,
    { QERRORS_AI_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-x', QERRORS_OPENAI_URL: openai.url }
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'worth the wait');
  assert.ok(r.ms < 5000, `exit took ${r.ms} ms`);
});

test('offline advice in process: listeners, getAdvice, cache off, clearCache', async () => {
  ai.configure({ provider: 'offline' });
  const got = [];
  const off = ai.onAdvice((advice, fp) => got.push([advice.category, fp]));
  const e = new TypeError("Cannot read properties of undefined (reading 'email')");
  const fp = ai.schedule(e);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [['TypeError: property of undefined/null', fp]]);
  assert.match(ai.getAdvice(fp).advice, /'email'/);
  ai.schedule(e);
  await new Promise((r) => setImmediate(r));
  assert.equal(got.length, 1, 'a cache hit does not notify again');
  ai.clearCache();
  assert.equal(ai.getAdvice(fp), undefined);
  assert.equal(ai.getAdvice('not-a-fingerprint'), undefined);
  off();
  ai.configure({ provider: 'offline', cacheLimit: 0 });
  const sent = new Error('Cannot set headers after they are sent to the client');
  assert.equal((await ai.analyze(sent)).category, 'ERR_HTTP_HEADERS_SENT');
  assert.equal(ai.getAdvice(ai.schedule(sent)), undefined);
  for (const weird of [null, undefined, 'a string', 42, { message: 7 }, Object.create(null)]) {
    assert.match(ai.schedule(weird), /^[0-9a-f]{16}$/);
    assert.equal(typeof (await ai.analyze(weird)).advice, 'string');
  }
  const hostile = {
    get message() {
      throw new Error('getter');
    },
  };
  assert.match(ai.schedule(hostile), /^[0-9a-f]{16}$/);
});

test('new advice is logged through the qerrors logger once qerrors() hands errors over', async () => {
  const logger = require('../lib/logging/logger');
  const qerrors = require('../lib/handler/qerrors');
  const original = logger.logInfo;
  const lines = [];
  logger.logInfo = async (message, context) => {
    if (String(message).startsWith('AI advice')) lines.push([message, context]);
  };
  try {
    ai.configure({ provider: 'offline' });
    // The pipeline used on its own logs nothing: no logger was handed to it.
    ai._setAdviceLogger(null);
    ai.schedule(new Error('write EPIPE on its own'));
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 0);
    // qerrors() hands the pipeline its logger with the first error.
    await qerrors(new Error('write EPIPE'), 'advice-log');
    for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 1);
    assert.match(lines[0][0], /^AI advice for error [0-9a-f]{16}$/);
    assert.equal(lines[0][1].source, 'offline');
    assert.match(lines[0][1].advice, /writing/);
  } finally {
    logger.logInfo = original;
  }
});

test('the pipeline reports its counters to getMetrics() as component ai', async () => {
  const { getMetrics, toPrometheus } = require('../lib/ops/metrics');
  ai.configure({ provider: 'offline' });
  ai.schedule(new Error('connect ECONNREFUSED 127.0.0.1:1'));
  const snap = getMetrics();
  assert.equal(snap.components.ai.provider, 'offline');
  assert.equal(snap.components.ai.offline, 1);
  assert.equal('lastError' in snap.components.ai, false);
  assert.match(toPrometheus(snap), /component_offline_total\{component="ai"\} 1/);
});

test('huge messages and stacks are bounded; identical heads share a fingerprint', async () => {
  ai.configure({ provider: 'offline' });
  const a = new Error('x'.repeat(1_000_000) + 'tail one');
  const b = new Error('x'.repeat(1_000_000) + 'tail two');
  a.stack = `Error: big\n${'    at f (/app/a.js:1:1)\n'.repeat(50_000)}`;
  b.stack = a.stack;
  assert.equal(ai.schedule(a), ai.schedule(b));
  assert.equal((await ai.analyze(a)).source, 'offline');
});

test('works inside a worker thread, which then exits by itself', async () => {
  const { Worker } = require('node:worker_threads');
  openai.reset();
  openai.fallback = { content: '{"advice":"from a worker"}' };
  const w = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const ai = require(workerData.lib);
     ai.configure({ provider: 'openai', apiKey: 'sk-w', url: workerData.url, rateLimit: false });
     ai.analyze(new Error('worker failure')).then((a) => parentPort.postMessage(a && a.advice));`,
    { eval: true, workerData: { lib: path.join(root, 'lib', 'native', 'ai.js'), url: openai.url } }
  );
  const [message] = await Promise.all([new Promise((r) => w.once('message', r)), new Promise((r) => w.once('exit', r))]);
  assert.equal(message, 'from a worker');
});

test('terminating a worker with an analysis in flight is safe', async () => {
  const { Worker } = require('node:worker_threads');
  openai.reset();
  openai.plan.push({ delayMs: 150, content: '{"advice":"late"}' });
  const w = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const ai = require(workerData.lib);
     ai.configure({ provider: 'openai', apiKey: 'sk-w', url: workerData.url, rateLimit: false });
     ai.analyze(new Error('worker in flight'));
     parentPort.postMessage('scheduled');`,
    { eval: true, workerData: { lib: path.join(root, 'lib', 'native', 'ai.js'), url: openai.url } }
  );
  await new Promise((r) => w.once('message', r));
  for (let i = 0; i < 600 && openai.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(openai.requests.length, 1, 'the worker\'s call reached the provider');
  await w.terminate();
  // The late answer arrives after the worker is gone; the process and the shared runtime live on.
  await new Promise((r) => setTimeout(r, 250));
  ai.configure({ provider: 'offline' });
  assert.equal((await ai.analyze(new Error('write EPIPE'))).category, 'EPIPE');
});

test('qerrors/native exposes the pipeline to CommonJS and ESM', async () => {
  assert.equal(require('../native').aiPipeline, ai);
  const url = JSON.stringify(require('node:url').pathToFileURL(path.join(root, 'native.mjs')).href);
  const r = await new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', `import { aiPipeline } from ${url}; console.log(Object.keys(aiPipeline).join(','));`],
      { cwd: root, env: { PATH: process.env.PATH || '' }, timeout: 10000 },
      (err, stdout, stderr) => resolve({ err, stdout, stderr })
    );
  });
  assert.equal(r.err, null, r.stderr);
  assert.equal(r.stdout.trim(), 'schedule,analyze,getAdvice,onAdvice,stats,clearCache,shutdown,configure');
});
