'use strict';

// The AI pipeline against mock OpenAI-compatible and Gemini servers on 127.0.0.1.

const { test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const ai = require('../lib/native/ai');
const { startMock } = require('./helpers/ai-mock');

/** @type {Awaited<ReturnType<typeof startMock>>} */
let openai;
/** @type {Awaited<ReturnType<typeof startMock>>} */
let gemini;
let seq = 0;

/** A fresh error per call, so no two tests share a fingerprint. */
function freshError(message = 'database exploded') {
  seq++;
  const err = new Error(`${message} case${'abcdefghijklmnopqrstuvwxyz'[seq % 26]}${'abcdefghijklmnopqrstuvwxyz'[Math.floor(seq / 26) % 26]}`);
  return err;
}

function useOpenAi(extra = {}) {
  ai.configure({
    provider: 'openai',
    apiKey: 'sk-test-key',
    url: openai.url,
    retryBaseMs: 1,
    retryMaxMs: 4,
    timeoutMs: 3000,
    rateLimit: false,
    ...extra,
  });
}

before(async () => {
  openai = await startMock('openai');
  gemini = await startMock('gemini');
});

after(async () => {
  await ai.shutdown();
  await openai.close();
  await gemini.close();
});

beforeEach(() => {
  openai.reset();
  gemini.reset();
});

test('success: advice parsed, cached, sent with the model, prompt and key', async () => {
  useOpenAi();
  openai.plan.push({ content: JSON.stringify({ advice: 'restart the database', steps: ['a'] }) });
  const err = freshError();
  const fp = ai.schedule(err, { route: '/users' });
  assert.match(fp, /^[0-9a-f]{16}$/);
  const advice = await ai.analyze(err);
  assert.equal(advice.advice, 'restart the database');
  assert.deepEqual(advice.steps, ['a']);
  assert.equal(advice.source, 'openai');
  assert.equal(advice.fingerprint, fp);
  assert.equal(typeof advice.createdAt, 'number');
  assert.equal(openai.requests.length, 1, 'schedule and analyze of one error make one call');
  const req = openai.requests[0];
  assert.equal(req.headers.authorization, 'Bearer sk-test-key');
  const body = JSON.parse(req.body);
  assert.equal(body.model, 'gpt-4o');
  assert.deepEqual(body.response_format, { type: 'json_object' });
  assert.match(body.messages[0].content, /Error: Error - database exploded/);
  assert.match(body.messages[0].content, /Context: \{"route":"\/users"\}/);
  assert.deepEqual(ai.getAdvice(fp), advice);
  const again = await ai.analyze(err);
  assert.deepEqual(again, advice);
  assert.equal(openai.requests.length, 1, 'cache hit makes no call');
  const s = ai.stats();
  assert.equal(s.provider, 'openai');
  assert.equal(s.providerCalls, 1);
  assert.equal(s.succeeded, 1);
  assert.ok(s.cacheHits >= 1);
});

test('sequential calls reuse one connection', async () => {
  useOpenAi();
  for (let i = 0; i < 3; i++) assert.equal((await ai.analyze(freshError())).advice, 'default mock advice');
  assert.equal(openai.requests.length, 3);
  assert.equal(openai.connections, 1);
});

test('an https endpoint goes through rustls: a failed TLS handshake is a network error, not a crash', async () => {
  // A plain TCP server answering the TLS client hello with HTTP text.
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    useOpenAi({ url: `https://127.0.0.1:${server.address().port}/v1/chat/completions?key=URLSECRET`, retryAttempts: 1 });
    assert.equal(await ai.analyze(freshError()), null);
    const s = ai.stats();
    assert.equal(s.providerCalls, 2, 'network errors are retried');
    assert.match(s.lastError, /provider call failed/);
    assert.ok(!s.lastError.includes('URLSECRET'), 'error messages carry no URL');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('JSON mode only for the models that support it; the model and max tokens are sent', async () => {
  useOpenAi({ model: 'gpt-4', maxTokens: 321 });
  await ai.analyze(freshError());
  const body = JSON.parse(openai.requests[0].body);
  assert.equal(body.model, 'gpt-4');
  assert.equal(body.max_tokens, 321, 'OpenAI-compatible servers get max_tokens');
  assert.equal(body.response_format, undefined);
  assert.equal(ai.stats().model, 'gpt-4');
});

test('fenced JSON answer is unwrapped', async () => {
  useOpenAi();
  openai.plan.push({ content: '```json\n{"advice":"fenced"}\n```' });
  assert.equal((await ai.analyze(freshError())).advice, 'fenced');
});

for (const [label, reply, why] of [
  ['non-JSON text', { content: 'Sure! Check your database.' }, /not JSON/],
  ['a JSON array', { content: '[{"advice":"x"}]' }, /not a JSON object/],
  ['missing choices', { raw: '{"id":"x","object":"chat.completion"}' }, /no answer/],
  ['an HTML body', { raw: '<html>oops</html>' }, /not valid JSON/],
]) {
  test(`${label} gives null and is not retried`, async () => {
    useOpenAi();
    openai.plan.push(reply);
    assert.equal(await ai.analyze(freshError()), null);
    assert.equal(openai.requests.length, 1);
    const s = ai.stats();
    assert.equal(s.failed, 1);
    assert.match(s.lastError, why);
    assert.equal(s.cacheSize, 0, 'failures are not cached');
  });
}

for (const [label, headers, cap, minGap] of [
  ['retry-after-ms', { 'retry-after-ms': '40' }, 30000, 35],
  ['retry-after seconds', { 'retry-after': '1' }, 60, 55],
  ['retry-after HTTP date', () => ({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }), 70, 65],
]) {
  test(`429 with ${label} waits as asked (capped) and retries`, async () => {
    useOpenAi({ retryAfterMaxMs: cap });
    openai.plan.push({ status: 429, headers: typeof headers === 'function' ? headers() : headers, raw: '{"error":"slow down"}' });
    openai.plan.push({ content: '{"advice":"after 429"}' });
    const advice = await ai.analyze(freshError());
    assert.equal(advice.advice, 'after 429');
    assert.equal(openai.requests.length, 2);
    const gap = openai.requests[1].at - openai.requests[0].at;
    assert.ok(gap >= minGap, `waited ${gap.toFixed(1)} ms, expected >= ${minGap}`);
    assert.ok(gap < 1000, `waited ${gap.toFixed(1)} ms: the cap was not applied`);
  });
}

test('503 then 200 succeeds on the retry', async () => {
  useOpenAi();
  openai.plan.push({ status: 503, raw: 'unavailable' });
  openai.plan.push({ content: '{"advice":"second try"}' });
  assert.equal((await ai.analyze(freshError())).advice, 'second try');
  assert.equal(openai.requests.length, 2);
});

test('backoff waits grow exponentially with jitter and stop at the cap', async () => {
  // base 40, cap 60, equal jitter: waits in [20, 40], then [30, 60], then [30, 60].
  useOpenAi({ retryAttempts: 3, retryBaseMs: 40, retryMaxMs: 60 });
  openai.fallback = { status: 503, raw: 'busy' };
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(openai.requests.length, 4);
  const gaps = openai.requests.slice(1).map((r, i) => r.at - openai.requests[i].at);
  for (const [i, lower] of [20, 30, 30].entries()) {
    assert.ok(gaps[i] >= lower - 1, `wait ${i} was ${gaps[i].toFixed(1)} ms, expected >= ${lower}`);
    assert.ok(gaps[i] < 1000, `wait ${i} was ${gaps[i].toFixed(1)} ms: the cap was not applied`);
  }
});

test('500 until retries are exhausted gives null after 1 + retryAttempts calls', async () => {
  useOpenAi({ retryAttempts: 3 });
  openai.fallback = { status: 500, raw: 'boom' };
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(openai.requests.length, 4);
  assert.match(ai.stats().lastError, /HTTP 500/);
});

for (const status of [400, 401, 403, 404]) {
  test(`${status} is not retried`, async () => {
    useOpenAi({ retryAttempts: 3 });
    openai.fallback = { status, raw: '{"error":"no"}' };
    assert.equal(await ai.analyze(freshError()), null);
    assert.equal(openai.requests.length, 1);
    assert.match(ai.stats().lastError, new RegExp(`HTTP ${status}`));
  });
}

test('a stalled body times out', async () => {
  useOpenAi({ timeoutMs: 150, retryAttempts: 0 });
  openai.plan.push({ stall: true, content: '{"advice":"never complete"}' });
  const started = Date.now();
  assert.equal(await ai.analyze(freshError()), null);
  assert.ok(Date.now() - started < 2000);
  assert.match(ai.stats().lastError, /timed out/);
});

test('a body over the cap is refused, declared or streamed, and not retried', async () => {
  useOpenAi({ maxResponseBytes: 4096, retryAttempts: 2 });
  const big = JSON.stringify({ choices: [{ message: { content: '{"advice":"big"}' } }], pad: 'x'.repeat(10000) });
  openai.plan.push({ raw: big });
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(openai.requests.length, 1);
  assert.match(ai.stats().lastError, /larger than the cap/);
  openai.plan.push({ raw: big, chunked: true });
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(openai.requests.length, 2);
  openai.plan.push({ raw: JSON.stringify({ choices: [{ message: { content: '{"advice":"small"}' } }], pad: 'x'.repeat(3000) }), chunked: true });
  assert.equal((await ai.analyze(freshError())).advice, 'small');
});

test('200 concurrent identical errors make exactly one provider call', async () => {
  useOpenAi();
  openai.plan.push({ delayMs: 50, content: '{"advice":"shared"}' });
  const err = freshError('identical failure');
  const results = await Promise.all(Array.from({ length: 200 }, () => ai.analyze(err)));
  assert.equal(openai.requests.length, 1);
  for (const r of results) assert.equal(r.advice, 'shared');
  const s = ai.stats();
  assert.equal(s.deduplicated, 199);
  assert.equal(s.providerCalls, 1);
});

test('the breaker opens after repeated failures and closes after recovery', async () => {
  useOpenAi({ retryAttempts: 0, breakerThreshold: 2, breakerResetMs: 80 });
  openai.fallback = { status: 500, raw: 'down' };
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(ai.stats().breakerState, 'CLOSED');
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(ai.stats().breakerState, 'OPEN');
  assert.equal(await ai.analyze(freshError()), null);
  assert.equal(openai.requests.length, 2, 'no call while open');
  assert.equal(ai.stats().breakerRejected, 1);
  await new Promise((r) => setTimeout(r, 100));
  openai.fallback = { content: '{"advice":"recovered"}' };
  assert.equal((await ai.analyze(freshError())).advice, 'recovered');
  assert.equal(ai.stats().breakerState, 'CLOSED');
  assert.equal(openai.requests.length, 3);
});

test('an error whose analysis failed is not re-analysed within failureTtlMs', async () => {
  useOpenAi({ retryAttempts: 0 });
  openai.fallback = { content: 'not json at all' };
  const err = freshError();
  assert.equal(await ai.analyze(err), null);
  assert.equal(await ai.analyze(err), null);
  ai.schedule(err);
  assert.equal(openai.requests.length, 1, 'one provider call for repeated occurrences');
  assert.equal(ai.stats().skippedRecentFailure, 2);

  useOpenAi({ retryAttempts: 0, failureTtlMs: 0 });
  assert.equal(await ai.analyze(err), null);
  assert.equal(await ai.analyze(err), null);
  assert.equal(openai.requests.length, 3, 'failureTtlMs: 0 asks again every time');
});

test('secrets in the error and context never reach the server', async () => {
  useOpenAi();
  const err = new Error('login failed password=hunter2 for bob@example.com with api_key=KEY98765 and Bearer eyJhbGciOi.payload.sig');
  err.stack = `${err.message}\n    at login (/app/auth.js:10:5) token=tok_SECRET_1\n    at card 4111 1111 1111 1111`;
  const advice = await ai.analyze(err, { user: { sessionId: 'sess-SECRET-2', authorization: 'Basic dXNlcjpwYXNz' }, apiKey: 'sk-live-SECRET3', route: '/login' });
  assert.equal(advice.advice, 'default mock advice');
  const sent = openai.requests[0].body;
  for (const secret of ['hunter2', 'bob@example.com', 'KEY98765', 'eyJhbGciOi', 'tok_SECRET_1', '4111 1111', 'sess-SECRET-2', 'dXNlcjpwYXNz', 'sk-live-SECRET3']) {
    assert.ok(!sent.includes(secret), `${secret} leaked to the provider`);
  }
  assert.match(sent, /\/login/, 'the harmless context still arrives');
});

test('queue overflow is rejected and counted; rate limiting delays calls', async () => {
  useOpenAi({ concurrency: 1, queueLimit: 1 });
  openai.fallback = { delayMs: 30, content: '{"advice":"slow"}' };
  const results = await Promise.all([ai.analyze(freshError()), ai.analyze(freshError()), ai.analyze(freshError())]);
  assert.deepEqual(results.map((r) => r && r.advice), ['slow', 'slow', null]);
  assert.equal(ai.stats().rejected, 1);
  assert.equal(openai.requests.length, 2);

  useOpenAi({ rateLimit: { burst: 1, perSec: 50 } });
  openai.fallback = { content: '{"advice":"limited"}' };
  const limited = await Promise.all([ai.analyze(freshError()), ai.analyze(freshError()), ai.analyze(freshError())]);
  assert.deepEqual(limited.map((r) => r.advice), ['limited', 'limited', 'limited']);
  assert.ok(ai.stats().rateLimited >= 1);
});

test('shutdown during an in-flight call cancels it and resolves null', async () => {
  useOpenAi();
  openai.plan.push({ hang: true });
  const pendingAdvice = ai.analyze(freshError());
  for (let i = 0; i < 600 && openai.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(openai.requests.length, 1);
  await ai.shutdown();
  assert.equal(await pendingAdvice, null);
  for (let i = 0; i < 100 && openai.closedEarly === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(openai.closedEarly, 1, 'the HTTP request was aborted');
});

test('Gemini: generateContent body, key header, parts joined, fences stripped', async () => {
  ai.configure({ provider: 'gemini', apiKey: 'gem-key', url: gemini.url, retryBaseMs: 1, retryMaxMs: 4, rateLimit: false });
  gemini.plan.push({ content: '```json\n{"advice":"gemini says hi"}\n```' });
  const advice = await ai.analyze(freshError());
  assert.equal(advice.advice, 'gemini says hi');
  assert.equal(advice.source, 'gemini');
  const req = gemini.requests[0];
  assert.equal(req.headers['x-goog-api-key'], 'gem-key');
  assert.equal(req.headers.authorization, undefined);
  const body = JSON.parse(req.body);
  assert.match(body.contents[0].parts[0].text, /database exploded/);
  assert.equal(body.safetySettings.length, 4);
  gemini.plan.push({ raw: '{"promptFeedback":{"blockReason":"SAFETY"}}' });
  assert.equal(await ai.analyze(freshError()), null);
  gemini.plan.push({ status: 503, raw: '' }, { content: '{"advice":"retried"}' });
  assert.equal((await ai.analyze(freshError())).advice, 'retried');
});

test('onAdvice gets (advice, fingerprint, error); a throwing listener is isolated', async () => {
  useOpenAi();
  const seen = [];
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  const offBad = ai.onAdvice(() => {
    throw new Error('listener bug');
  });
  const offGood = ai.onAdvice((advice, fp, e) => seen.push([advice.advice, fp, e]));
  const err = freshError();
  const fp = ai.schedule(err);
  await ai.analyze(err);
  await new Promise((r) => setImmediate(r));
  offBad();
  offGood();
  process.off('warning', onWarning);
  assert.equal(seen.length, 1);
  assert.equal(seen[0][0], 'default mock advice');
  assert.equal(seen[0][1], fp);
  assert.equal(seen[0][2], err);
  assert.ok(warnings.some((w) => /listener threw: listener bug/.test(w.message)));
  assert.throws(() => ai.onAdvice(42), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
});

test('errors raised by the pipeline itself are never analysed', async () => {
  useOpenAi();
  const own = new Error('provider said no');
  own.code = 'ERR_QERRORS_AI_PROVIDER';
  const axios = new Error('Request failed');
  axios.name = 'AxiosError';
  const marked = new Error('marked');
  marked[Symbol.for('qerrors.aiPipelineError')] = true;
  for (const e of [own, axios, marked]) {
    assert.match(ai.schedule(e), /^[0-9a-f]{16}$/);
    assert.equal(await ai.analyze(e), null);
  }
  assert.equal(openai.requests.length, 0);
  assert.equal(ai.stats().scheduled, 0);
});

test('configure validates its options', () => {
  assert.throws(() => ai.configure({ nope: 1 }), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => ai.configure({ concurrency: -1 }), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => ai.configure({ concurrency: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => ai.configure({ provider: 'claude' }), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => ai.configure({ url: 'ftp://x' }), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => ai.configure({ timeoutMs: '5' }), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
  assert.throws(() => ai.configure(null), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
});
