'use strict';

// The AI pipeline as a service sees it: configuration from the environment, the offline
// advisor by default, and processes that exit by themselves.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const ai = require('../lib/aiPipeline');
const { startMock } = require('./helpers/ai-mock');

const root = path.resolve(__dirname, '..');
const lib = JSON.stringify(path.join(root, 'lib', 'aiPipeline.js'));

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
  assert.match(r.stderr, /Missing GEMINI_API_KEY/);
});

test('a child that schedules analyses and awaits nothing exits by itself while a call hangs', async () => {
  openai.reset();
  openai.fallback = { hang: true };
  const r = await runChild(
    `const ai = require(${lib});
     for (let i = 0; i < 5; i++) ai.schedule(new Error('hanging provider ' + 'abcde'[i]));
     console.log('scheduled');`,
    { QERRORS_AI_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-x', QERRORS_OPENAI_URL: openai.url }
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'scheduled');
  assert.ok(r.ms < 5000, `exit took ${r.ms} ms`);
  for (let i = 0; i < 100 && openai.requests.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok(openai.requests.length >= 1, 'the analysis had started');
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

test('new advice is logged through the qerrors logger when the application uses it', async () => {
  const logger = require('../lib/logger');
  const original = logger.logInfo;
  const lines = [];
  logger.logInfo = async (message, context) => {
    lines.push([message, context]);
  };
  try {
    ai.configure({ provider: 'offline' });
    const fp = ai.schedule(new Error('write EPIPE'));
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 1);
    assert.equal(lines[0][0], `AI advice for error ${fp}`);
    assert.equal(lines[0][1].source, 'offline');
    assert.match(lines[0][1].advice, /writing/);
  } finally {
    logger.logInfo = original;
  }
});
