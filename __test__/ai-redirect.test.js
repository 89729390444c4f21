'use strict';

// A provider endpoint that answers with a redirect: the client follows none, so the prompt
// and the key reach the configured origin only (another port on 127.0.0.1 is another origin).

const { test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const ai = require('../lib/native/ai');
const { startMock } = require('./helpers/ai-mock');

/** @type {Awaited<ReturnType<typeof startMock>>} */
let openai;
/** @type {Awaited<ReturnType<typeof startMock>>} */
let gemini;
/** Requests that reached the redirect target. */
let elsewhere = /** @type {Array<{method?: string, url?: string, headers: http.IncomingHttpHeaders}>} */ ([]);
/** @type {http.Server} */
let target;
let targetUrl = '';
let seq = 0;

before(async () => {
  openai = await startMock('openai');
  gemini = await startMock('gemini');
  target = http.createServer((req, res) => {
    elsewhere.push({ method: req.method, url: req.url, headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise((r) => target.listen(0, '127.0.0.1', () => r(undefined)));
  targetUrl = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (target.address()).port}/stolen`;
});

after(async () => {
  await ai.shutdown();
  await openai.close();
  await gemini.close();
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
});

beforeEach(() => {
  openai.reset();
  gemini.reset();
  elsewhere = [];
});

function freshError() {
  seq++;
  return new Error(`redirected analysis number ${'abcdefghij'[seq % 10]}${'klmnopqrst'[Math.floor(seq / 10) % 10]}`);
}

/**
 * @param {'openai'|'gemini'} kind
 * @param {number} status
 * @param {string} location
 */
async function redirectOnce(kind, status, location) {
  const mock = kind === 'openai' ? openai : gemini;
  ai.configure({ provider: kind, apiKey: `${kind}-SECRET-KEY`, url: mock.url, retryAttempts: 2, retryBaseMs: 1, retryMaxMs: 2, rateLimit: false, timeoutMs: 3000 });
  mock.fallback = { status, raw: '', headers: { location } };
  const advice = await ai.analyze(freshError());
  assert.equal(advice, null, 'a redirect gives no advice');
  assert.equal(mock.requests.length, 1, 'a redirect is not retried');
  const s = ai.stats();
  assert.match(s.lastError, new RegExp(`provider answered a redirect \\(HTTP ${status}\\)`));
  assert.ok(!s.lastError.includes('SECRET'), 'the error message carries no key');
  assert.deepEqual(elsewhere, [], 'the redirect target sees no request');
}

for (const kind of /** @type {const} */ (['openai', 'gemini'])) {
  for (const status of [307, 302, 301, 303, 308]) {
    test(`${kind}: ${status} to another origin is not followed; the key and prompt stay home`, async () => {
      await redirectOnce(kind, status, targetUrl);
    });
  }

  test(`${kind}: a same-origin redirect is not followed either`, async () => {
    const mock = kind === 'openai' ? openai : gemini;
    await redirectOnce(kind, 307, `${new URL(mock.url).origin}/elsewhere`);
    assert.equal(mock.requests.length, 1);
  });

  test(`${kind}: a redirect to the cloud metadata address is not followed`, async () => {
    await redirectOnce(kind, 302, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/');
  });
}

test('the provider still works after refusing a redirect', async () => {
  await redirectOnce('openai', 307, targetUrl);
  openai.fallback = { content: JSON.stringify({ advice: 'back to normal' }) };
  const advice = await ai.analyze(freshError());
  assert.equal(advice && advice.advice, 'back to normal');
  assert.deepEqual(elsewhere, []);
});
