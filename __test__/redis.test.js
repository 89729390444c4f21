'use strict';

// The Redis store against a real redis-server started here on a free 127.0.0.1 port.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');

const { startRedis, startCluster, redisSkip, redisCliSkip, freePort } = require('./redis-server');
const { redisStore, RedisStore } = require('../lib/native/redis');

const root = path.resolve(__dirname, '..');
const skip = redisSkip();
const HOUR = 3600000;

/** A logger that records lines instead of printing them. */
function recorder() {
  const lines = [];
  return { lines, warn: (line) => lines.push(line) };
}

/** Runs a node script in a child process; resolves with { code, stdout, stderr, ms }. */
function runNode(source, args = [], timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', source, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test('redis store', { skip }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());

  await t.test('allows exactly the limit and reports remaining, retry-after and reset', async () => {
    const store = redisStore({ url: server.url, prefix: 'exact:', windowMs: HOUR, limit: 5 });
    const seen = [];
    for (let i = 0; i < 7; i++) seen.push(await store.check('client'));
    await store.close();
    assert.deepEqual(
      seen.map((r) => [r.allowed, r.remaining]),
      [[true, 4], [true, 3], [true, 2], [true, 1], [true, 0], [false, 0], [false, 0]]
    );
    assert.equal(seen[0].retryAfterMs, 0);
    assert.equal(seen[0].resetMs, HOUR / 5);
    // One request comes back every window / limit = 720 s.
    assert.ok(seen[5].retryAfterMs > 719000 && seen[5].retryAfterMs <= 720000, String(seen[5].retryAfterMs));
    assert.ok(seen[5].resetMs > HOUR - 10000 && seen[5].resetMs <= HOUR);
  });

  await t.test('every key has a TTL no longer than its window, and short windows expire', async () => {
    const store = redisStore({ url: server.url, prefix: 'ttl:', windowMs: 60000, limit: 10 });
    await store.check('a');
    await store.check('a', 4);
    const ttl = await server.command('PTTL', 'ttl:a');
    assert.ok(ttl > 29000 && ttl <= 30000, `5 of 10 used: the key lives until they refill, got ${ttl}`);
    const short = redisStore({ url: server.url, prefix: 'short:', windowMs: 40, limit: 2 });
    await short.check('b');
    const t1 = await server.command('PTTL', 'short:b');
    assert.ok(t1 > 0 && t1 <= 20, `got ${t1}`);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await server.command('EXISTS', 'short:b'), 0);
    const r = await short.check('b');
    assert.equal(r.remaining, 1, 'an expired key starts again from a full limit');
    const keys = await server.command('KEYS', '*');
    for (const k of keys) assert.ok((await server.command('PTTL', k)) > 0, `${k} has a TTL`);
    await store.close();
    await short.close();
  });

  await t.test('4 processes share one limit: the total allowed equals the limit', async () => {
    const limit = 40;
    const child = `
      const { redisStore } = require('./lib/native/redis');
      const [url, n] = process.argv.slice(1);
      const store = redisStore({ url, prefix: 'shared:', windowMs: ${HOUR}, limit: ${limit} });
      (async () => {
        let allowed = 0;
        const batch = [];
        for (let i = 0; i < Number(n); i++) batch.push(store.check('tenant'));
        for (const r of await Promise.all(batch)) allowed += r.allowed ? 1 : 0;
        const s = store.stats();
        await store.close();
        process.stdout.write(JSON.stringify({ allowed, insured: s.insuranceAllowed + s.insuranceDenied }));
      })();`;
    const results = await Promise.all([0, 1, 2, 3].map(() => runNode(child, [server.url, '25'])));
    const parsed = results.map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    });
    assert.equal(parsed.reduce((a, p) => a + p.allowed, 0), limit);
    assert.equal(parsed.reduce((a, p) => a + p.insured, 0), 0, 'Redis answered every check');
  });

  await t.test('a flushed script cache is reloaded without a wrong decision', async () => {
    const store = redisStore({ url: server.url, prefix: 'flush:', windowMs: HOUR, limit: 20 });
    let allowed = 0;
    for (let i = 0; i < 10; i++) allowed += (await store.check('k')).allowed ? 1 : 0;
    const before = store.stats().scriptReloads;
    assert.equal(await server.command('SCRIPT', 'FLUSH'), 'OK');
    const burst = await Promise.all(Array.from({ length: 15 }, () => store.check('k')));
    allowed += burst.filter((r) => r.allowed).length;
    const s = store.stats();
    await store.close();
    assert.equal(allowed, 20);
    assert.equal(s.insuranceAllowed + s.insuranceDenied, 0);
    assert.ok(s.scriptReloads > before, `reloaded after FLUSH: ${before} -> ${s.scriptReloads}`);
    assert.equal(s.outages, 0);
  });

  await t.test('checks beyond maxInFlight are answered by the insurance at once', async () => {
    const store = redisStore({ url: server.url, prefix: 'burst:', windowMs: HOUR, limit: 1000, maxInFlight: 1, insurance: 'open' });
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => store.check(`k${i}`)));
    const s = store.stats();
    await store.close();
    assert.ok(all.every((r) => r.allowed));
    assert.ok(s.overloaded > 0, 'a burst of 200 overflows one slot');
    assert.equal(s.overloaded + s.redisAllowed, 200);
    assert.equal(s.outages, 0, 'overload is not an outage');
  });

  await t.test('close() waits for the checks in flight, then refuses new ones', async () => {
    const store = redisStore({ url: server.url, prefix: 'close:', windowMs: HOUR, limit: 100 });
    const inFlight = Array.from({ length: 20 }, () => store.check('k'));
    const order = [];
    const closed = store.close().then(() => order.push('closed'));
    inFlight.forEach((p) => p.then(() => order.push('check')));
    await assert.rejects(store.check('k'), { code: 'ERR_QERRORS_REDIS_CLOSED' });
    const results = await Promise.all(inFlight);
    await closed;
    assert.ok(results.every((r) => r.allowed));
    assert.equal(order.indexOf('closed'), 20, 'closed after the 20 checks settled');
    assert.equal(store.stats().closed, true);
    assert.equal(store.stats().redisAllowed, 20);
    await store.close();
  });

  await t.test('works as the store of express-rate-limit, decrement included', async () => {
    const express = require('express');
    const { rateLimit } = require('express-rate-limit');
    const app = express();
    const store = redisStore({ url: server.url, prefix: 'erl:' });
    app.use(rateLimit({ windowMs: 60000, limit: 3, store, standardHeaders: 'draft-7', legacyHeaders: false, skipFailedRequests: true }));
    app.get('/ok', (req, res) => res.send('ok'));
    app.get('/fail', (req, res) => res.status(500).send('no'));
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const get = (p) =>
      new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: srv.address().port, path: p, agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
          })
          .on('error', reject);
      });
    try {
      // Failed requests are given back (decrement), so they never use the limit up.
      for (let i = 0; i < 5; i++) assert.equal((await get('/fail')).status, 500);
      const statuses = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await get('/ok');
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.match(last.headers.ratelimit, /limit=3, remaining=0, reset=\d+/);
      assert.ok(Number(last.headers['retry-after']) >= 19 && Number(last.headers['retry-after']) <= 20);
      const info = await store.get('::ffff:127.0.0.1').then((v) => v ?? store.get('127.0.0.1'));
      assert.equal(info.totalHits, 3);
      await store.resetKey('::ffff:127.0.0.1');
      await store.resetKey('127.0.0.1');
      assert.equal((await get('/ok')).status, 200);
      await store.resetAll();
      assert.deepEqual(await server.command('KEYS', 'erl:*'), []);
    } finally {
      srv.close();
      await store.close();
    }
  });

  await t.test("works as the store of qerrors' own rateLimit() middleware", async () => {
    const express = require('express');
    const { rateLimit } = require('../lib/native/limiter');
    const app = express();
    const store = redisStore({ url: server.url, prefix: 'qrl:' });
    app.use(rateLimit({ windowMs: 60000, limit: 2, store, standardHeaders: 'draft-7', legacyHeaders: false }));
    app.get('/', (req, res) => res.send('ok'));
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${srv.address().port}/`);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      const keys = await server.command('KEYS', 'qrl:*');
      assert.equal(keys.length, 1);
      assert.ok((await server.command('PTTL', keys[0])) <= 60000);
    } finally {
      srv.close();
      await store.close();
    }
  });

  await t.test('a slow Redis (CLIENT PAUSE) times out into the insurance, then recovers', async () => {
    const log = recorder();
    const store = redisStore({ url: server.url, prefix: 'slow:', windowMs: HOUR, limit: 2, timeoutMs: 100, probeIntervalMs: 30, logger: log });
    assert.equal((await store.check('k')).remaining, 1);
    assert.equal(await server.command('CLIENT', 'PAUSE', '400', 'WRITE'), 'OK');
    const started = Date.now();
    const during = await store.check('other');
    const waited = Date.now() - started;
    assert.ok(waited >= 90 && waited < 400, `answered after the ${waited} ms timeout, not after the pause`);
    assert.equal(during.allowed, true, 'the local limiter answered');
    let s = store.stats();
    assert.equal(s.timeouts, 1);
    assert.equal(s.redisUp, false);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0], /no reply within 100 ms/);
    const until = Date.now() + 3000;
    while (!store.stats().redisUp) {
      assert.ok(Date.now() < until, 'recovers after the pause');
      await store.check('probe');
      await new Promise((r) => setTimeout(r, 20));
    }
    s = store.stats();
    assert.equal(s.recoveries, 1);
    assert.equal(log.lines.length, 2);
    await store.close();
  });

  await t.test('Redis killed mid-run: insurance engages, one log line, no rejection; restarted: shared limiting resumes', async () => {
    const logA = recorder();
    const opts = { url: server.url, prefix: 'outage:', windowMs: HOUR, limit: 3, timeoutMs: 300, probeIntervalMs: 40 };
    const a = redisStore({ ...opts, logger: logA });
    const b = redisStore({ ...opts, logger: recorder() });
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      assert.equal((await a.check('warm')).allowed, true);
      // Checks in flight while the server dies all settle, through the insurance.
      const inFlight = Array.from({ length: 50 }, (_, i) => a.check(`k${i % 5}`));
      await server.kill();
      const settled = await Promise.allSettled(inFlight);
      assert.ok(settled.every((s) => s.status === 'fulfilled'));
      // The local limiter decides while Redis is down: 3 allowed, then denied.
      const local = [];
      for (let i = 0; i < 4; i++) local.push((await a.check('solo')).allowed);
      assert.deepEqual(local, [true, true, true, false]);
      const down = a.stats();
      assert.equal(down.redisUp, false);
      assert.equal(down.outages, 1);
      assert.ok(down.insuranceAllowed >= 3 && down.insuranceDenied >= 1);
      assert.equal(logA.lines.length, 1, logA.lines.join('\n'));
      assert.match(logA.lines[0], /Redis at 127\.0\.0\.1:\d+\/0 unavailable .*using the local limiter/);
      // Store-interface calls keep resolving too.
      const hit = await a.increment('solo');
      assert.equal(hit.totalHits, 4);
      await assert.rejects(a.resetAll(), { code: 'ERR_QERRORS_REDIS_UNAVAILABLE' });

      await server.restart();
      const until = Date.now() + 5000;
      while (a.stats().redisUp === false || b.stats().redisUp === false) {
        assert.ok(Date.now() < until, 'recovers within 5 s');
        await a.check('probe');
        await b.check('probe');
        await new Promise((r) => setTimeout(r, 20));
      }
      const up = a.stats();
      assert.equal(up.recoveries, 1);
      assert.equal(logA.lines.length, 2);
      assert.match(logA.lines[1], /available again after \d+ ms/);
      // Both stores count in Redis again: 3 allowed between them, then denied.
      const after = [await a.check('fresh'), await b.check('fresh'), await a.check('fresh'), await b.check('fresh')];
      assert.deepEqual(after.map((r) => r.allowed), [true, true, true, false]);
      assert.equal(Number(await server.command('EXISTS', 'outage:fresh')), 1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await a.close();
      await b.close();
    }
    assert.deepEqual(unhandled, []);
  });
});

test('insurance policies when Redis is unreachable', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const results = {};
  for (const insurance of ['open', 'closed', 'local']) {
    const log = recorder();
    const store = redisStore({ url, windowMs: 60000, limit: 2, insurance, logger: log, timeoutMs: 500 });
    results[insurance] = [];
    for (let i = 0; i < 3; i++) results[insurance].push((await store.check('k')).allowed);
    const s = store.stats();
    assert.equal(s.outages, 1);
    assert.equal(log.lines.length, 1);
    assert.equal(s.insurance, insurance);
    await store.close();
  }
  assert.deepEqual(results, {
    open: [true, true, true],
    closed: [false, false, false],
    local: [true, true, false],
  });
});

test('options and arguments are validated with coded errors', async () => {
  assert.throws(() => redisStore({ insurance: 'maybe' }), { name: 'TypeError', code: 'ERR_QERRORS_REDIS_INSURANCE' });
  assert.throws(() => redisStore({ timeoutMs: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_REDIS_TIMEOUT' });
  assert.throws(() => redisStore({ timeoutMs: '5' }), { name: 'TypeError', code: 'ERR_QERRORS_REDIS_TIMEOUT' });
  assert.throws(() => redisStore({ url: 'http://example' }), { name: 'TypeError', code: 'ERR_QERRORS_REDIS_URL' });
  assert.throws(() => redisStore({ url: '' }), { code: 'ERR_QERRORS_REDIS_URL' });
  assert.throws(() => redisStore({ windowMs: 1000, limit: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_LIMIT' });
  assert.throws(() => redisStore({ windowMs: 1.5, limit: 2 }), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_WINDOW' });
  assert.throws(() => redisStore({ logger: {} }), { code: 'ERR_QERRORS_INVALID_OPTION' });
  assert.throws(() => redisStore({ maxInFlight: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_REDIS_MAX_IN_FLIGHT' });
  assert.throws(() => redisStore(null), { code: 'ERR_QERRORS_INVALID_OPTION' });
  const store = redisStore({ url: 'redis://127.0.0.1:1' });
  assert.ok(store instanceof RedisStore);
  assert.equal(store.localKeys, false);
  await assert.rejects(store.check('k'), { code: 'ERR_QERRORS_REDIS_NO_QUOTA' });
  assert.throws(() => store.init({ windowMs: 1000, limit: () => 5 }), { code: 'ERR_QERRORS_REDIS_NO_QUOTA' });
  store.init({ windowMs: 1000, limit: 5 });
  assert.equal(store.stats().limit, 5);
  const half = redisStore({ url: 'redis://127.0.0.1:1', limit: 7 });
  half.init({ windowMs: 2000, limit: () => 1 });
  assert.deepEqual([half.stats().windowMs, half.stats().limit], [2000, 7], 'the store limit wins; the window comes from init');
  await half.close();
  await assert.rejects(store.check(42), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_KEY' });
  await assert.rejects(store.check('k', 0), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_COST' });
  await assert.rejects(store.check('k', 6), { code: 'ERR_QERRORS_INVALID_COST' });
  await assert.rejects(store.check('x'.repeat(5000)), { name: 'RangeError', code: 'ERR_QERRORS_INVALID_KEY' });
  await store.close();
  await assert.rejects(store.check('k'), { code: 'ERR_QERRORS_REDIS_CLOSED' });
  await assert.rejects(store.increment('k'), { code: 'ERR_QERRORS_REDIS_CLOSED' });
  await assert.rejects(store.resetKey('k'), { code: 'ERR_QERRORS_REDIS_CLOSED' });
});

test('neither an idle nor a closed store keeps the process alive', { skip }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const idle = await runNode(
    `const { redisStore } = require('./lib/native/redis');
     redisStore({ url: process.argv[1], windowMs: 1000, limit: 5 });`,
    [server.url]
  );
  assert.equal(idle.code, 0, idle.stderr);
  const used = await runNode(
    `const { redisStore } = require('./lib/native/redis');
     const s = redisStore({ url: process.argv[1], windowMs: 1000, limit: 5 });
     s.check('a').then((r) => { process.stdout.write(String(r.allowed)); });`,
    [server.url]
  );
  assert.equal(used.code, 0, used.stderr);
  assert.equal(used.stdout, 'true', 'used, then idle and not closed');
  const closed = await runNode(
    `const { redisStore } = require('./lib/native/redis');
     const s = redisStore({ url: process.argv[1], windowMs: 1000, limit: 5 });
     s.check('a').then(() => s.close()).then(() => process.stdout.write('closed'));`,
    [server.url]
  );
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stdout, 'closed');
  for (const r of [idle, used, closed]) assert.ok(r.ms < 5000, `exited by itself in ${r.ms} ms`);
});

test('on a Redis Cluster every key is checked on the node owning its slot', { skip: redisCliSkip() }, async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  const log = recorder();
  const store = redisStore({ url: cluster.url, cluster: true, prefix: 'c:', windowMs: HOUR, limit: 3, logger: log, timeoutMs: 1000 });
  try {
    // Keys spread over the three masters' slots; each gets exactly its limit.
    const keys = Array.from({ length: 12 }, (_, i) => `user${i}`);
    const results = await Promise.all(keys.flatMap((k) => [0, 1, 2, 3].map(() => store.check(k))));
    assert.equal(results.filter((r) => r.allowed).length, keys.length * 3);
    const s = store.stats();
    assert.equal(s.insuranceAllowed + s.insuranceDenied, 0, `Redis answered every check: ${s.lastError}`);
    assert.deepEqual(log.lines, []);
    let held = 0;
    for (const port of cluster.ports) held += Number(await cluster.command(port, 'DBSIZE'));
    assert.equal(held, keys.length);
    const perNode = await Promise.all(cluster.ports.map((p) => cluster.command(p, 'DBSIZE')));
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `keys live on several nodes: ${perNode}`);
  } finally {
    await store.close();
  }
  assert.throws(() => redisStore({ cluster: 'yes' }), { code: 'ERR_QERRORS_INVALID_OPTION' });
});

test('the store is exported from qerrors/native for CommonJS and ESM alike', async () => {
  const cjs = require('../native');
  assert.equal(cjs.redisStore, redisStore);
  assert.equal(cjs.RedisStore, RedisStore);
  const r = await runNode(
    `import('./native.mjs').then((m) => { process.stdout.write(String(typeof m.redisStore === 'function' && m.RedisStore === m.default.RedisStore)); });`
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'true');
});
