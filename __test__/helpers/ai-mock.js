'use strict';

// Mock AI providers on 127.0.0.1 for the AI pipeline tests and benchmark: an
// OpenAI-compatible chat completions endpoint and a Gemini generateContent endpoint.
// Each request is recorded; `mock.plan` holds scripted replies consumed in order, and
// `mock.fallback` answers when the plan is empty.

const http = require('node:http');

/**
 * @typedef {object} Reply
 * @property {number} [status]          HTTP status (default 200)
 * @property {Record<string,string>} [headers]
 * @property {string} [content]         model answer text, wrapped in the provider envelope
 * @property {string|Buffer} [raw]      exact body, no envelope
 * @property {boolean} [chunked]        send `raw` without content-length, in pieces
 * @property {number} [delayMs]         wait before answering
 * @property {boolean} [stall]          send headers and part of the body, then nothing
 * @property {boolean} [hang]           never answer
 */

function envelope(kind, content) {
  if (kind === 'gemini') {
    return JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: content }] }, finishReason: 'STOP' }] });
  }
  return JSON.stringify({
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  });
}

/**
 * Starts a mock provider.
 * @param {'openai'|'gemini'} kind
 */
async function startMock(kind) {
  const mock = {
    kind,
    /** @type {Array<{url: string, headers: http.IncomingHttpHeaders, body: string, at: number}>} */
    requests: [],
    /** @type {Reply[]} */
    plan: [],
    /** @type {Reply} */
    fallback: { content: JSON.stringify({ advice: 'default mock advice' }) },
    closedEarly: 0,
    connections: 0,
    url: '',
    server: /** @type {http.Server} */ (/** @type {unknown} */ (null)),
    reset() {
      this.requests = [];
      this.plan = [];
      this.fallback = { content: JSON.stringify({ advice: 'default mock advice' }) };
      this.closedEarly = 0;
      this.connections = 0;
    },
    async close() {
      this.server.closeAllConnections();
      await new Promise((r) => this.server.close(r));
    },
  };
  mock.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      mock.requests.push({ url: req.url || '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() });
      const reply = mock.plan.length ? /** @type {Reply} */ (mock.plan.shift()) : mock.fallback;
      let finished = false;
      res.on('finish', () => {
        finished = true;
      });
      res.on('close', () => {
        if (!finished) mock.closedEarly++;
      });
      const send = () => {
        if (reply.hang) return;
        const body = reply.raw !== undefined ? reply.raw : envelope(kind, reply.content ?? '');
        const headers = { 'content-type': 'application/json', ...(reply.headers || {}) };
        if (reply.stall) {
          res.writeHead(reply.status || 200, headers);
          res.write(String(body).slice(0, 10));
          return;
        }
        if (reply.chunked) {
          res.writeHead(reply.status || 200, headers);
          const buf = Buffer.from(body);
          for (let i = 0; i < buf.length; i += 16384) res.write(buf.subarray(i, i + 16384));
          res.end();
          return;
        }
        res.writeHead(reply.status || 200, { ...headers, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  mock.server.on('connection', () => {
    mock.connections++;
  });
  mock.server.keepAliveTimeout = 5000;
  await new Promise((r) => mock.server.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (mock.server.address());
  mock.url = kind === 'gemini' ? `http://127.0.0.1:${port}/v1beta/models/gemini-2.5-flash-lite:generateContent` : `http://127.0.0.1:${port}/v1/chat/completions`;
  return mock;
}

module.exports = { startMock, envelope };
