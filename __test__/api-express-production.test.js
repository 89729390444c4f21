'use strict';

// The middleware on real Express 4 and 5 servers, as a service runs it: production-safe
// answers, statuses from what failed (breaker, sockets, timeouts, rate limits, validation),
// the error's own headers, problem+json, the middleware's options, request ids, the Express 4
// helpers (asyncHandler, notFound), the callable module, and a request that is always answered
// whatever the error holds (revoked Proxies, throwing traps, a message without toString).

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const q = require('..');

/** A request; resolves { status, headers, body, json }. */
function request(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { accept: 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body, json });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer for ${path} within 5 s (the request hangs)`)));
    req.on('error', reject);
  });
}

async function listen(t, app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return server.address().port;
}

/** Runs `fn` with NODE_ENV set to `value`, restoring it after. */
async function withNodeEnv(value, fn) {
  const saved = process.env.NODE_ENV;
  process.env.NODE_ENV = value;
  try {
    return await fn();
  } finally {
    process.env.NODE_ENV = saved;
  }
}

function refused() {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111, address: '127.0.0.1', port: 1 });
}

function routes(app) {
  app.get('/refused', () => {
    throw refused();
  });
  app.get('/reset', () => {
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  });
  app.get('/dns', () => {
    throw Object.assign(new Error('getaddrinfo ENOTFOUND db.internal'), { code: 'ENOTFOUND' });
  });
  app.get('/dns-again', () => {
    throw Object.assign(new Error('getaddrinfo EAI_AGAIN db.internal'), { code: 'EAI_AGAIN' });
  });
  app.get('/fetch-failed', () => {
    throw new TypeError('fetch failed', { cause: refused() });
  });
  app.get('/timeout', () => {
    throw Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT' });
  });
  app.get('/abort-timeout', () => {
    throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  });
  app.get('/rate', () => {
    throw Object.assign(q.ErrorFactory.rateLimit(), { retryAfterMs: 2500 });
  });
  app.get('/validation', () => {
    throw q.createTypedError('email is invalid', q.ErrorTypes.VALIDATION, 'VALIDATION_ERROR', { field: 'email', password: 'hunter2' });
  });
  app.get('/plain-4xx', () => {
    throw Object.assign(new Error('internal detail of a 410'), { status: 410 });
  });
  app.get('/exposed-4xx', () => {
    throw Object.assign(new Error('token expired'), { status: 401, expose: true, headers: { 'WWW-Authenticate': 'Bearer realm="api"', 'Bad Header\n': 'x' } });
  });
  app.get('/exposed-5xx', () => {
    throw Object.assign(new Error('maintenance until 12:00'), { status: 503, expose: true });
  });
  app.get('/ours-hidden', () => {
    throw Object.assign(q.ErrorFactory.notFound('Secret thing'), { expose: false });
  });
  app.get('/teapot', () => {
    throw Object.assign(new Error('short and stout'), { status: 418 });
  });
}

for (const [label, express, major] of [
  ['Express 4', require('express'), 4],
  ['Express 5', require('express5'), 5],
]) {
  test(`${label}: production answers, statuses from what failed, headers, formats`, async (t) => {
    (await q.logger).silent = true;
    const app = express();
    routes(app);
    const breaker = q.createCircuitBreaker(
      async () => {
        throw refused();
      },
      `payments-${major}`,
      { failureThreshold: 1, recoveryTimeoutMs: 30000, log: false }
    );
    app.get('/breaker', async (req, res, next) => {
      try {
        await breaker.execute();
      } catch (err) {
        next(err);
      }
    });
    app.use(q.middleware());
    const port = await listen(t, app);

    await t.test('production: a 5xx says its status text with the error id, nothing internal', async () => {
      await withNodeEnv('production', async () => {
        const r = await request(port, '/refused');
        assert.equal(r.status, 502);
        assert.deepEqual(Object.keys(r.json.error), ['id', 'code', 'message', 'status', 'requestId']);
        assert.equal(r.json.error.message, 'Bad Gateway');
        assert.equal(r.json.error.code, 'BAD_GATEWAY');
        assert.match(r.json.error.id, /^[0-9a-f]{12}$/);
        for (const leak of ['ECONNREFUSED', '127.0.0.1', 'fingerprint', 'severity', 'context', 'stack']) assert.equal(r.body.includes(leak), false, leak);
        const html = await request(port, '/refused', { accept: 'text/html' });
        assert.match(html.body, /<h2>Bad Gateway<\/h2>/);
        assert.equal(html.body.includes('ECONNREFUSED'), false);
      });
    });

    await t.test('outside production the (redacted) message is shown', async () => {
      const r = await request(port, '/refused');
      assert.equal(r.json.error.message, 'connect ECONNREFUSED 127.0.0.1:1');
      assert.equal(r.json.error.code, 'ECONNREFUSED');
    });

    await t.test('statuses from what failed', async () => {
      for (const [path, status] of [
        ['/refused', 502],
        ['/reset', 502],
        ['/dns', 502],
        ['/dns-again', 502],
        ['/fetch-failed', 502],
        ['/timeout', 504],
        ['/abort-timeout', 504],
        ['/teapot', 418],
      ]) {
        const r = await request(port, path);
        assert.equal(r.status, status, path);
        assert.equal(r.json.error.status, status, path);
      }
    });

    await t.test("an open breaker answers 503 with Retry-After from the breaker's reset time", async () => {
      const first = await request(port, '/breaker');
      assert.equal(first.status, 502, 'the failure that opens it');
      const r = await request(port, '/breaker');
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'EOPENBREAKER');
      const retry = Number(r.headers['retry-after']);
      assert.ok(retry >= 29 && retry <= 30, `Retry-After ${r.headers['retry-after']}`);
    });

    await t.test('our rate-limit error answers 429 with Retry-After', async () => {
      const r = await request(port, '/rate');
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '3');
      assert.equal(r.json.error.code, 'RATE_LIMIT_ERROR');
    });

    await t.test('a typed validation error answers 400 with its code and redacted details, in production too', async () => {
      await withNodeEnv('production', async () => {
        const r = await request(port, '/validation');
        assert.equal(r.status, 400);
        assert.deepEqual(r.json.error.details, { field: 'email', password: '[REDACTED]' });
        assert.equal(r.json.error.code, 'VALIDATION_ERROR');
        assert.equal(r.json.error.message, 'email is invalid');
      });
    });

    await t.test('production 4xx: shown when ours or expose, hidden otherwise; err.headers applied', async () => {
      await withNodeEnv('production', async () => {
        const plain = await request(port, '/plain-4xx');
        assert.equal(plain.status, 410);
        assert.equal(plain.json.error.message, 'Gone');
        const exposed = await request(port, '/exposed-4xx');
        assert.equal(exposed.status, 401);
        assert.equal(exposed.json.error.message, 'token expired');
        assert.equal(exposed.headers['www-authenticate'], 'Bearer realm="api"', 'err.headers applied (an invalid one skipped)');
        const exposed5 = await request(port, '/exposed-5xx');
        assert.equal(exposed5.json.error.message, 'maintenance until 12:00');
        const hidden = await request(port, '/ours-hidden');
        assert.equal(hidden.status, 404);
        assert.equal(hidden.json.error.message, 'Not Found', 'expose: false hides even our message');
      });
    });

    await t.test('application/problem+json (RFC 9457) when the client asks for it', async () => {
      const r = await request(port, '/validation', { accept: 'application/problem+json' });
      assert.equal(r.status, 400);
      assert.match(r.headers['content-type'], /^application\/problem\+json/);
      assert.equal(r.json.type, 'about:blank');
      assert.equal(r.json.title, 'Bad Request');
      assert.equal(r.json.status, 400);
      assert.equal(r.json.detail, 'email is invalid');
      assert.equal(r.json.code, 'VALIDATION_ERROR');
      assert.match(r.json.id, /^[0-9a-f]{12}$/);
      assert.equal(r.json.requestId, r.headers['x-request-id']);
    });
  });

  test(`${label}: middleware options, request ids`, async (t) => {
    (await q.logger).silent = true;
    const seen = [];
    const app = express();
    routes(app);
    app.get('/custom', () => {
      throw Object.assign(new Error('mapped'), { kind: 'conflict' });
    });
    app.get('/quiet', () => {
      throw Object.assign(new Error('quiet one'), { quiet: true });
    });
    app.get('/strict/refused', () => {
      throw refused();
    });
    app.use('/strict', q.middleware({ exposeErrors: false }));
    app.use(
      q.middleware({
        exposeErrors: true,
        mapStatus: (err) => (err.kind === 'conflict' ? 409 : undefined),
        shouldLog: (err) => !err.quiet,
        onError: (err, record, req) => seen.push({ message: err.message, id: record.id, status: record.statusCode, url: req.originalUrl }),
        requestIdHeader: 'X-Correlation-Id',
      })
    );
    const port = await listen(t, app);

    await t.test('exposeErrors: true shows 5xx messages in production', async () => {
      await withNodeEnv('production', async () => {
        const r = await request(port, '/refused');
        assert.equal(r.json.error.message, 'connect ECONNREFUSED 127.0.0.1:1');
      });
    });

    await t.test('mapStatus, onError(err, record, req)', async () => {
      const r = await request(port, '/custom');
      assert.equal(r.status, 409);
      const last = seen.at(-1);
      assert.deepEqual(last, { message: 'mapped', id: r.json.error.id, status: 409, url: '/custom' });
    });

    await t.test('shouldLog false: answered, not logged', async () => {
      const logger = require('../lib/logging/logger');
      const saved = logger._logHandledError;
      const logged = [];
      logger._logHandledError = (record) => logged.push(`${record.name}: ${record.message}`);
      try {
        assert.equal((await request(port, '/quiet')).status, 500);
        assert.equal((await request(port, '/teapot')).status, 418);
      } finally {
        logger._logHandledError = saved;
      }
      assert.deepEqual(logged, ['Error: short and stout']);
    });

    await t.test('request ids: taken from the configured header, echoed; generated when absent or invalid', async () => {
      const given = await request(port, '/teapot', { 'x-correlation-id': 'abc-123' });
      assert.equal(given.headers['x-correlation-id'], 'abc-123');
      assert.equal(given.json.error.requestId, 'abc-123');
      const fresh = await request(port, '/teapot');
      assert.match(fresh.json.error.requestId, /^[0-9a-f-]{36}$/);
      assert.equal(fresh.headers['x-correlation-id'], fresh.json.error.requestId);
      const hostile = await request(port, '/teapot', { 'x-correlation-id': 'a b"<script>' });
      assert.match(hostile.json.error.requestId, /^[0-9a-f-]{36}$/, 'an id that is not a plain token is replaced');
    });

    await t.test('exposeErrors: false hides 5xx messages whatever NODE_ENV says', async () => {
      const r = await request(port, '/strict/refused');
      assert.equal(r.status, 502);
      assert.equal(r.json.error.message, 'Bad Gateway');
    });
  });

  test(`${label}: asyncHandler, notFound, the callable module`, async (t) => {
    (await q.logger).silent = true;
    const app = express();
    app.get(
      '/async',
      q.asyncHandler(async () => {
        await new Promise((r) => setImmediate(r));
        throw q.ErrorFactory.validation('bad id', 'id');
      })
    );
    app.get(
      '/async-ok',
      q.asyncHandler(async (req, res) => {
        res.json({ ok: true });
      })
    );
    app.get(
      '/async-sync-throw',
      q.asyncHandler(() => {
        throw new Error('sync throw');
      })
    );
    app.get(
      '/async-falsy',
      q.asyncHandler(() => Promise.reject(null))
    );
    app.get('/module-call', (req, res, next) => {
      q(Object.assign(new Error('through the module'), { status: 422 }), 'moduleCall', req, res, next);
    });
    app.use(q.notFound());
    app.use(q.middleware());
    const port = await listen(t, app);

    await t.test('asyncHandler passes rejections and throws to next(err)', async () => {
      const r = await request(port, '/async');
      assert.equal(r.status, 400);
      assert.deepEqual(r.json.error.details, { field: 'id' });
      assert.deepEqual((await request(port, '/async-ok')).json, { ok: true });
      assert.equal((await request(port, '/async-sync-throw')).status, 500);
      assert.equal((await request(port, '/async-falsy')).status, 500);
      assert.equal(q.asyncHandler(async () => {}).length, 3, 'a route handler, not an error handler');
    });

    await t.test("notFound answers 404 in the client's format", async () => {
      const json = await request(port, '/nope?token=abc');
      assert.equal(json.status, 404);
      assert.equal(json.json.error.code, 'NOT_FOUND');
      assert.equal(json.json.error.message, 'Cannot GET /nope?token=[REDACTED]');
      assert.equal(json.headers['x-request-id'], json.json.error.requestId);
      const html = await request(port, '/nope', { accept: 'text/html' });
      assert.match(html.headers['content-type'], /^text\/html/);
      assert.match(html.body, /Cannot GET \/nope/);
      const problem = await request(port, '/nope', { accept: 'application/problem+json' });
      assert.equal(problem.json.title, 'Not Found');
    });

    await t.test('require(qerrors)(err, ctx, req, res, next) answers', async () => {
      const r = await request(port, '/module-call');
      assert.equal(r.status, 422);
      assert.equal(r.json.error.message, 'through the module');
    });
  });

  test(`${label}: the request is always answered, whatever the error or context holds (issue 20)`, async (t) => {
    (await q.logger).silent = true;
    const app = express();
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    };
    const trapThrows = () =>
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('ownKeys trap');
          },
        }
      );
    app.get('/null-proto-message', () => {
      const err = new Error('x');
      err.message = Object.create(null);
      throw err;
    });
    app.get('/revoked-context', (req, res, next) => {
      q.qerrors(new Error('draft escaped'), { draft: revoked() }, req, res, next);
    });
    app.get('/revoked-context-top', (req, res, next) => {
      q.qerrors(new Error('draft escaped'), revoked(), req, res, next);
    });
    app.get('/ownkeys-context', (req, res, next) => {
      q.qerrors(new Error('trap'), trapThrows(), req, res, next);
    });
    app.get('/revoked-error', (req, res, next) => next(revoked()));
    app.get('/ownkeys-error', (req, res, next) => next(trapThrows()));
    app.get('/hostile-getters', () => {
      const err = new Error('getters');
      for (const k of ['status', 'statusCode', 'code', 'headers', 'expose', 'details', 'type']) {
        Object.defineProperty(err, k, {
          get() {
            throw new Error(`getter ${k}`);
          },
        });
      }
      throw err;
    });
    app.use(q.middleware());
    const port = await listen(t, app);
    const saved = console.error;
    console.error = () => {};
    t.after(() => {
      console.error = saved;
    });
    for (const path of ['/null-proto-message', '/revoked-context', '/revoked-context-top', '/ownkeys-context', '/revoked-error', '/ownkeys-error', '/hostile-getters']) {
      await t.test(path, async () => {
        const r = await request(port, path);
        assert.equal(r.status, 500, r.body);
        assert.match(r.json.error.id, /^[0-9a-f]{12}$/);
      });
    }
  });
}

test('a failure inside qerrors still answers (or calls next) through the fallback', async (t) => {
  (await q.logger).silent = true;
  // A response whose status() throws: qerrors' own answer fails, the fallback writes a bare 500.
  const server = http.createServer((req, res) => {
    res.status = () => {
      throw new Error('broken status()');
    };
    res.send = () => {};
    q.qerrors(new Error('boom'), 'ctx', req, res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const saved = console.error;
  console.error = () => {};
  try {
    const r = await request(server.address().port, '/');
    assert.equal(r.status, 500);
    assert.equal(r.json.error.code, 'INTERNAL_SERVER_ERROR');
  } finally {
    console.error = saved;
  }
});

test('middleware(options) rejects bad options with a coded TypeError', () => {
  for (const bad of [{ exposeErrors: 'yes' }, { mapStatus: 1 }, { onError: 'x' }, { requestIdHeader: 'bad header' }, { unknownOption: 1 }, 'string']) {
    assert.throws(() => q.middleware(bad), (e) => e instanceof TypeError && e.code === 'ERR_QERRORS_INVALID_OPTION', JSON.stringify(bad));
  }
  assert.throws(() => q.asyncHandler('x'), { code: 'ERR_QERRORS_INVALID_OPTION' });
});

test('the module is callable and carries the members of qerrors, not as keys', async () => {
  assert.equal(typeof q, 'function');
  assert.equal(Object.keys(q).length, 111);
  for (const k of ['middleware', 'asyncHandler', 'notFound', 'logUnhandledRejection', 'logUncaughtException', 'generateErrorId']) {
    assert.equal(q[k], q.qerrors[k], k);
    assert.equal(Object.keys(q).includes(k), false, k);
  }
  (await q.logger).silent = true;
  const record = await q(new Error('called as the module'), 'ctx');
  assert.equal(record.message, 'called as the module');
});

test('ESM: the default export is the callable module; its members are named exports too', async () => {
  const esm = await import(require('node:path').join(__dirname, '..', 'index.mjs'));
  assert.equal(esm.default, q);
  for (const k of ['middleware', 'asyncHandler', 'notFound', 'logUnhandledRejection', 'logUncaughtException']) assert.equal(esm[k], q[k], k);
});

test('development: the stack is in the JSON and HTML answers; never in production', async (t) => {
  (await q.logger).silent = true;
  const express = require('express');
  const app = express();
  app.get('/boom', () => {
    throw new Error('boom with password=hunter2');
  });
  app.use(q.middleware());
  const port = await listen(t, app);
  await withNodeEnv('development', async () => {
    const r = await request(port, '/boom');
    assert.match(r.json.error.stack, /^Error: boom with password=\[REDACTED\]\n {4}at /);
    const html = await request(port, '/boom', { accept: 'text/html' });
    assert.match(html.body, /<pre>Error: boom/);
    assert.match(html.body, /Request ID: [0-9a-f-]{36}/);
  });
  await withNodeEnv('production', async () => {
    const r = await request(port, '/boom');
    assert.equal('stack' in r.json.error, false);
    assert.equal(r.body.includes('hunter2'), false);
  });
});
