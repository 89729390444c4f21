'use strict';

// Real Express 4 and Express 5 apps on 127.0.0.1, hit with real HTTP requests: JSON and HTML
// answers, escaping of hostile messages, status codes, headers already sent, async route
// errors, and the three error middlewares (qerrors.middleware(), errorMiddleware,
// globalErrorHandler).

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const q = require('..');

const XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>&\'`';

/** GET with an Accept header; resolves { status, headers, body } or { error } when the socket dies. */
function get(port, path, accept = 'application/json') {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { accept } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', (error) => resolve({ status: res.statusCode, headers: res.headers, body, error }));
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, body, error: new Error('aborted') }));
    });
    req.on('error', (error) => resolve({ error }));
  });
}

function buildApp(express, major) {
  const app = express();
  const seen = { forwarded: [] };
  // Express 4 does not catch rejected promises from handlers; Express 5 does.
  const wrap = major === 4 ? (fn) => (req, res, next) => Promise.resolve(fn(req, res, next)).catch(next) : (fn) => fn;

  app.get('/notfound', () => {
    throw q.ErrorFactory.notFound('User');
  });
  app.get('/xss', () => {
    throw new Error(XSS);
  });
  app.get('/teapot', () => {
    throw Object.assign(new Error('short and stout'), { status: 418 });
  });
  app.get('/bogus-status', () => {
    throw Object.assign(new Error('weird'), { statusCode: 200 });
  });
  app.get('/secret', () => {
    throw new Error('login failed for bob@example.com with password=hunter2');
  });
  app.get(
    '/async',
    wrap(async () => {
      await new Promise((r) => setImmediate(r));
      throw q.createTypedError('upstream down', 'network', 'UPSTREAM');
    })
  );
  app.get('/partial', (req, res, next) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial ');
    next(new Error('failed after headers'));
  });
  app.get('/direct', (req, res, next) => {
    q.qerrors(Object.assign(new Error('direct call'), { statusCode: 409 }), 'directRoute', req, res, next);
  });
  app.get('/em/notfound', (req, res, next) => next(q.ErrorFactory.notFound('Thing')));
  app.get('/em/status', (req, res, next) => next(Object.assign(new Error('gone'), { status: 410 })));
  app.get('/geh/hidden', (req, res, next) => next(Object.assign(new Error('db creds in here'), { details: 'internal' })));
  app.get('/geh/exposed', (req, res, next) => next(Object.assign(new Error('bad input'), { statusCode: 422, details: { f: 'x' } })));
  app.get('/ok', (req, res) => res.json({ ok: true }));

  app.use('/em', q.errorMiddleware);
  app.use('/geh', q.globalErrorHandler);
  app.use(q.qerrors.middleware());
  // Reached only when a handler above forwarded the error (headers already sent).
  app.use((err, req, res, next) => {
    seen.forwarded.push({ path: req.path, message: err.message });
    next(err);
  });
  return { app, seen };
}

for (const [label, express, major] of [
  ['Express 4', require('express'), 4],
  ['Express 5', require('express5'), 5],
]) {
  test(`${label}: qerrors answers real HTTP requests`, async (t) => {
    (await q.logger).silent = true;
    const { app, seen } = buildApp(express, major);
    const server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address();

    await t.test('JSON answer with the status of a typed error and the record', async () => {
      const r = await get(port, '/notfound');
      assert.equal(r.status, 404);
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.equal(r.headers['cache-control'], 'no-store');
      const { error } = JSON.parse(r.body);
      // The stable body: { error: { id, code, message, status, requestId, details? } }.
      assert.deepEqual(Object.keys(error), ['id', 'code', 'message', 'status', 'requestId', 'details']);
      assert.equal(error.message, 'User not found');
      assert.equal(error.status, 404);
      assert.equal(error.code, 'NOT_FOUND_ERROR');
      assert.deepEqual(error.details, { resource: 'User' });
      assert.match(error.id, /^[0-9a-f]{12}$/);
      assert.equal(r.headers['x-request-id'], error.requestId);
      assert.equal('stack' in error, false, 'no stack outside development');
    });

    await t.test('HTML answer escapes everything and carries the error id', async () => {
      const r = await get(port, '/xss', 'text/html,application/xhtml+xml');
      assert.equal(r.status, 500);
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.equal(r.headers['content-security-policy'], "default-src 'none'");
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.body.includes('<script'), false);
      assert.equal(r.body.includes('<img'), false);
      assert.ok(r.body.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'));
      assert.ok(r.body.includes('&#38;&#39;&#96;'));
      assert.match(r.body, /<title>Error: 500<\/title>/);
      assert.match(r.body, /Error ID: [0-9a-f]{12}/);
    });

    await t.test('JSON answer of the hostile message is plain JSON (no HTML)', async () => {
      const r = await get(port, '/xss');
      assert.equal(JSON.parse(r.body).error.message, XSS);
      assert.match(r.headers['content-type'], /^application\/json/);
    });

    await t.test('status from err.status; invalid statuses become 500', async () => {
      assert.equal((await get(port, '/teapot')).status, 418);
      assert.equal((await get(port, '/bogus-status')).status, 500);
    });

    await t.test('secrets in messages never reach the client', async () => {
      const r = await get(port, '/secret');
      assert.equal(r.body.includes('hunter2'), false);
      assert.equal(r.body.includes('bob@example.com'), false);
      assert.equal(JSON.parse(r.body).error.message, 'login failed for [EMAIL-REDACTED] with password=[REDACTED]');
    });

    await t.test('async route errors', async () => {
      const r = await get(port, '/async');
      assert.equal(r.status, 502);
      assert.equal(JSON.parse(r.body).error.message, 'upstream down');
    });

    await t.test('headers already sent: qerrors does not answer and forwards to next(err)', async () => {
      const r = await get(port, '/partial');
      assert.equal(r.status, 200);
      assert.ok(r.body.startsWith('partial'));
      assert.deepEqual(seen.forwarded, [{ path: '/partial', message: 'failed after headers' }]);
    });

    await t.test('qerrors(err, ctx, req, res, next) called from a route answers and does not call next', async () => {
      const r = await get(port, '/direct');
      assert.equal(r.status, 409);
      assert.equal(JSON.parse(r.body).error.message, 'direct call');
      assert.equal(seen.forwarded.length, 1, 'next was not called again');
    });

    await t.test('errorMiddleware and globalErrorHandler as real Express error handlers', async () => {
      const a = await get(port, '/em/notfound');
      assert.equal(a.status, 404);
      const body = JSON.parse(a.body);
      assert.equal(body.success, false);
      assert.equal(body.error.code, 'NOT_FOUND_ERROR');
      assert.equal(body.error.context.path, '/notfound');
      assert.equal((await get(port, '/em/status')).status, 410);
      await new Promise((resolve) => {
        const saved = console.error;
        console.error = () => {};
        (async () => {
          const hidden = await get(port, '/geh/hidden');
          assert.deepEqual([hidden.status, JSON.parse(hidden.body)], [500, { error: 'Internal Server Error' }]);
          const exposed = await get(port, '/geh/exposed');
          assert.deepEqual([exposed.status, JSON.parse(exposed.body)], [422, { error: 'bad input', details: { f: 'x' } }]);
          await new Promise((r) => setImmediate(r));
        })().finally(() => {
          console.error = saved;
          resolve();
        });
      });
    });

    await t.test('normal routes are untouched', async () => {
      const r = await get(port, '/ok');
      assert.deepEqual([r.status, JSON.parse(r.body)], [200, { ok: true }]);
    });
  });
}

test('plain node:http server: qerrors answers with res.statusCode/end', async (t) => {
  (await q.logger).silent = true;
  const server = http.createServer((req, res) => {
    q.qerrors(Object.assign(new Error('plain <b>'), { statusCode: 503 }), 'plain', req, res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const { port } = server.address();
  const json = await get(port, '/');
  assert.equal(json.status, 503);
  assert.equal(JSON.parse(json.body).error.message, 'plain <b>');
  const html = await get(port, '/', 'text/html');
  assert.ok(html.body.includes('plain &#60;b&#62;'));
});
