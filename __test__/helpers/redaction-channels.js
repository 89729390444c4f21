'use strict';

// The three places a handled error leaves the process, observed for real: the HTTP answer
// of qerrors() in an Express app on 127.0.0.1, the log entry every logger output writes
// (captured by a winston transport), and the prompt the AI pipeline sends to a mock provider
// on 127.0.0.1. Used by the redaction tests to compare verdicts across the three.

const express = require('express');
const { Transport } = require('winston');

const q = require('../..');
const ai = require('../../lib/native/ai');
const { startMock } = require('./ai-mock');

/** A tag of letters only (fingerprints keep letters, so every case gets its own). */
function tagOf(i) {
  const letters = 'ghjkmnpqrstuvwxyz';
  let s = '';
  let n = i;
  do {
    s += letters[n % letters.length];
    n = Math.floor(n / letters.length);
  } while (n > 0);
  return `case${s}`;
}

async function waitFor(predicate, what, ms = 30000) {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startChannels() {
  const mock = await startMock('openai');
  ai.configure({ provider: 'openai', apiKey: 'sk-test-key', url: mock.url, rateLimit: false, retryBaseMs: 1, retryMaxMs: 4, timeoutMs: 5000 });

  const main = await q.logger;
  const entries = [];
  class Capture extends Transport {
    log(info, cb) {
      entries.push(JSON.stringify(info));
      cb();
    }
  }
  const capture = new Capture({ level: 'debug' });
  const consoles = main.transports.filter((x) => x.name === 'console');
  const wasSilent = main.silent;
  for (const c of consoles) c.silent = true;
  main.silent = false;
  main.add(capture);

  /** @type {Map<string, {message: string, context: unknown}>} */
  const cases = new Map();
  const app = express();
  app.get('/case/:tag', (req, _res, next) => {
    const c = cases.get(req.params.tag);
    // A client error that exposes its details: the answer then carries the context (as
    // `details`) as well as the message, so all three channels see both.
    const context = c && c.context;
    next(Object.assign(new Error(c ? c.message : 'unknown case'), { status: 400, expose: true, details: context, caseContext: context }));
  });
  app.use((err, req, res, next) => {
    q.qerrors(err, err.caseContext === undefined ? 'redaction-corpus' : err.caseContext, req, res, next);
  });
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${server.address().port}`;

  /**
   * Sends one error through qerrors() and returns what left by each channel: the HTTP
   * answer's body, the log entry and the AI prompt (all as text).
   * @param {string} tag  letters only, part of the message
   * @param {string} message
   * @param {unknown} [context]
   */
  async function send(tag, message, context) {
    cases.set(tag, { message, context });
    const r = await fetch(`${base}/case/${tag}`, { headers: { accept: 'application/json' } });
    return { status: r.status, body: await r.text() };
  }

  /** The log entry and the prompt of each tag, found by `(tag)` in them (waits for them). */
  async function collect(tags) {
    const logs = new Map();
    const prompts = new Map();
    const pending = new Set(tags);
    await waitFor(
      () => {
        for (const tag of pending) {
          const entry = entries.find((e) => e.includes(`(${tag})`));
          const req = mock.requests.find((x) => x.body.includes(`(${tag})`));
          if (entry && req) {
            logs.set(tag, entry);
            prompts.set(tag, JSON.parse(req.body).messages.map((m) => m.content).join('\n'));
            pending.delete(tag);
          }
        }
        return pending.size === 0;
      },
      () => `log entries and prompts of ${pending.size} cases (${entries.length} entries, ${mock.requests.length} prompts seen)`
    );
    return { logs, prompts };
  }

  async function close() {
    main.remove(capture);
    main.silent = wasSilent;
    for (const c of consoles) c.silent = false;
    await new Promise((r) => server.close(r));
    await ai.shutdown();
    await mock.close();
  }

  return { send, collect, close, tagOf };
}

module.exports = { startChannels, tagOf };
