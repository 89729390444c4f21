#!/usr/bin/env node
'use strict';

// `npm run demo`: qerrors at work in one command. Starts an Express service on 127.0.0.1
// with qerrors wired in (error middleware, the native rate limiter, a circuit breaker around a
// dependency that is down, a metrics endpoint), sends it a burst of requests that fail in the
// ways services really fail, then prints example responses, the advice per error signature
// and a summary read from the service's own metrics endpoint. Exits by itself.
//
//   node examples/demo.js            410 requests
//   node examples/demo.js --quick    82 requests (QERRORS_DEMO_QUICK=1 does the same)
//
// Advice comes from the built-in offline advisor; with OPENAI_API_KEY or GEMINI_API_KEY set,
// from that provider (the demo then waits up to 20 s for the answers).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const net = require('node:net');

const QUICK = process.argv.includes('--quick') || /^(1|true|yes)$/i.test(process.env.QERRORS_DEMO_QUICK || '');

// Logs go to files in a temporary directory instead of the terminal, so the report stays
// readable; these must be set before qerrors builds its logger.
const LOG_DIR = process.env.QERRORS_LOG_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-demo-'));
const OWN_LOG_DIR = !process.env.QERRORS_LOG_DIR;
/** Temporary directories the demo created and removes at the end. */
const removeOnExit = [];
function removeDirs() {
  for (const dir of removeOnExit.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
process.env.QERRORS_LOG_DIR = LOG_DIR;
if (process.env.QERRORS_VERBOSE === undefined) process.env.QERRORS_VERBOSE = 'false';

const express = require('express');
const { qerrors, ErrorTypes, createTypedError, CircuitBreaker } = require('..');
const { rateLimit, metricsHandler, trackMetrics, getMetrics, aiPipeline } = require('../native');

const out = (s = '') => process.stdout.write(`${s}\n`);
const WIDTH = Math.max(80, Math.min(process.stdout.columns || 100, 140));
const cut = (t, n) => (t.length > n ? `${t.slice(0, Math.max(0, n - 1))}…` : t);
const clip = (s, n) => cut(String(s).replace(/\s+/g, ' ').trim(), n);
/** Word-wraps `text` into at most `lines` lines of `width`, the last one clipped. */
function wrap(text, width, lines) {
  const words = String(text).replace(/\s+/g, ' ').trim().split(' ');
  const outLines = [''];
  for (const w of words) {
    const cur = outLines[outLines.length - 1];
    if (!cur) outLines[outLines.length - 1] = w;
    else if (cur.length + 1 + w.length <= width) outLines[outLines.length - 1] = `${cur} ${w}`;
    else if (outLines.length < lines) outLines.push(w);
    else {
      outLines[outLines.length - 1] = cut(`${cur} ${w}`, width);
      break;
    }
  }
  return outLines;
}
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;
const ms = (x) => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(x < 10 ? 2 : 1)} ms`);

/** A port on 127.0.0.1 that nothing listens on: the "inventory service" that is down. */
function deadPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Calls the inventory service over TCP; rejects with the real ECONNREFUSED. */
function callInventory(port, sku) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/stock/${sku}`, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ sku, inStock: res.statusCode === 200 }));
    });
    req.on('error', reject);
  });
}

/**
 * The service: a small shop API with qerrors wired in. Statuses come from the package: the
 * routes only pass errors on (an open breaker answers 503 with Retry-After, a refused
 * connection 502, a validation error 400 with its details, an unknown route 404).
 * @param {{ onError: (err: unknown, record: object) => void }} hooks the middleware's onError
 */
function buildApp({ inventoryPort, breaker, limiter, dataDir, onError }) {
  const app = express();
  const users = new Map([['1', { name: 'Ada', profile: { displayName: 'ada' } }]]);

  app.get('/metrics', metricsHandler());
  app.get('/api/health', (req, res) => res.json({ ok: true }));

  // A TypeError: a user without a profile record.
  app.get('/api/users/:id/profile', (req, res) => {
    const user = users.get(req.params.id);
    res.json({ displayName: user.profile.displayName });
  });

  // ECONNREFUSED through the breaker until it opens; then the breaker refuses at once.
  app.get('/api/inventory/:sku', async (req, res, next) => {
    try {
      res.json(await breaker.execute(req.params.sku));
    } catch (err) {
      next(err);
    }
  });

  // ENOENT: a report that was never generated.
  app.get('/api/reports/:day', async (req, res, next) => {
    try {
      res.type('text/csv').send(await fs.promises.readFile(path.join(dataDir, `report-${req.params.day}.csv`)));
    } catch (err) {
      next(err);
    }
  });

  // JSON SyntaxError from the body parser (status 400).
  app.post('/api/orders', express.json(), (req, res) => res.status(201).json({ id: 1, ...req.body }));

  // A validation ServiceError (400).
  app.post('/api/users', express.json(), (req, res, next) => {
    if (!req.body || typeof req.body.email !== 'string') {
      return next(createTypedError('email is required', ErrorTypes.VALIDATION, 'VALIDATION_ERROR', { field: 'email' }));
    }
    res.status(201).json({ id: 2 });
  });

  // RangeError: maximum call stack size exceeded (a category tree with a cycle).
  app.get('/api/categories/:id/tree', (req, res) => {
    const parentOf = { a: 'b', b: 'a' };
    const depth = (id) => 1 + depth(parentOf[id]);
    res.json({ depth: depth(req.params.id) });
  });

  // Rate-limited search.
  app.get('/api/search', limiter, (req, res) => res.json({ results: [] }));

  // Anything else: a 404 in the client's format.
  app.use(qerrors.notFound());
  app.use(qerrors.middleware({ onError }));
  return app;
}

/** The burst: requests in a fixed shuffled order (a seeded generator), like mixed traffic. */
function plan(scale) {
  const kinds = [
    ['health', 8, { path: '/api/health' }],
    ['profile', 6, { path: '/api/users/404/profile' }],
    ['profile-html', 2, { path: '/api/users/404/profile', html: true }],
    ['inventory', 6, { path: '/api/inventory/sku-1' }],
    ['report', 3, { path: '/api/reports/2026-11-27' }],
    ['report-html', 1, { path: '/api/reports/2026-11-27', html: true }],
    ['bad-json', 3, { path: '/api/orders', method: 'POST', body: '{"sku": "A-1", "qty": }' }],
    ['validation', 3, { path: '/api/users', method: 'POST', body: '{"name": "Bob"}' }],
    ['not-found', 2, { path: '/api/v1/orders/export' }],
    ['not-found-html', 1, { path: '/api/v1/orders/export', html: true }],
    ['stack', 1, { path: '/api/categories/a/tree' }],
    ['search', 5, { path: '/api/search?q=shoes' }],
  ];
  const reqs = [];
  for (const [kind, weight, r] of kinds) for (let i = 0; i < weight * scale; i++) reqs.push({ kind, n: reqs.length + 1, ...r });
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = reqs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [reqs[i], reqs[j]] = [reqs[j], reqs[i]];
  }
  return reqs;
}

/** One progress line: rewritten in place on a terminal, a few plain lines otherwise. */
function progress(total) {
  const tty = Boolean(process.stdout.isTTY);
  let lastQuarter = -1;
  return (done, counts) => {
    const width = 24;
    const filled = Math.round((done / total) * width);
    const line =
      `  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${lpad(done, String(total).length)}/${total} requests` +
      `   2xx ${counts.ok}  4xx ${counts.c4}  5xx ${counts.c5}  429 ${counts.limited}`;
    if (tty) process.stdout.write(`\r${line}${done === total ? '\n' : ''}`);
    else {
      const q = Math.floor((done / total) * 4);
      if (q !== lastQuarter) {
        lastQuarter = q;
        out(line);
      }
    }
  };
}

async function send(base, r) {
  const headers = { accept: r.html ? 'text/html' : 'application/json', 'x-request-id': `demo-${r.n}` };
  if (r.body) headers['content-type'] = 'application/json';
  const res = await fetch(base + r.path, { method: r.method || 'GET', headers, body: r.body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') || '', text };
}

async function main() {
  const started = performance.now();
  getMetrics(); // starts the event-loop delay monitor, so the summary covers the whole run
  // The reports directory exists but holds no reports (ENOENT).
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-demo-data-'));
  removeOnExit.push(dataDir);
  const inventoryPort = await deadPort();

  const breakerChanges = [];
  const breaker = new CircuitBreaker((sku) => callInventory(inventoryPort, sku), 'inventory', {
    failureThreshold: 3,
    recoveryTimeoutMs: QUICK ? 150 : 300,
    timeoutMs: 2000,
    log: false,
  });
  for (const ev of ['open', 'halfOpen', 'close']) breaker.on(ev, () => breakerChanges.push(breaker.getState()));
  trackMetrics('breaker.inventory', breaker);

  // Search allows 6 (quick) or 30 requests a minute per client; the burst sends more.
  const limiter = rateLimit({ windowMs: 60_000, limit: QUICK ? 6 : 30, standardHeaders: 'draft-8', legacyHeaders: false });
  trackMetrics('limiter.search', limiter.store.limiter);

  // Advice as it arrives, per signature (fingerprint).
  const advice = new Map();
  const unsubscribe = aiPipeline.onAdvice((a, fp) => advice.set(fp, a));

  // Every handled error, per signature (fingerprint), from the middleware's onError hook.
  const seen = new Map(); // fingerprint → { count, status, name, message }
  const onError = (err, record) => {
    if (!record.fingerprint) return;
    const s = seen.get(record.fingerprint) || { count: 0, status: record.statusCode, name: record.name, message: record.message };
    s.count++;
    seen.set(record.fingerprint, s);
  };
  const app = buildApp({ inventoryPort, breaker, limiter, dataDir, onError });
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;

  const provider = aiPipeline.stats().provider;
  out('');
  out(`qerrors demo — a shop API on ${base}, ${QUICK ? 'quick run' : 'full run'}`);
  out(`  wired in: qerrors error middleware · native rateLimit() on /api/search · CircuitBreaker around the`);
  out(`  inventory service (down) · metrics at /metrics · AI advice: ${provider === 'offline' ? 'offline advisor (no API key)' : provider}`);
  out('');

  const reqs = plan(QUICK ? 2 : 10);
  reqs.forEach((r, i) => {
    r.n = i + 1;
  });
  const counts = { ok: 0, c4: 0, c5: 0, limited: 0 };
  const show = progress(reqs.length);
  const examples = {};
  let next = 0;
  let done = 0;
  const burstStart = performance.now();
  // Eight clients at a time; the order is fixed, the interleaving is real.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++];
        const res = await send(base, r);
        if (res.status === 429) counts.limited++;
        else if (res.status >= 500) counts.c5++;
        else if (res.status >= 400) counts.c4++;
        else counts.ok++;
        if (res.status >= 400 && res.status !== 429) {
          if (res.type.includes('json')) {
            if (!examples.json && r.kind === 'profile') examples.json = { r, res, body: JSON.parse(res.text) };
          } else if (res.type.includes('html') && !examples.html) examples.html = { r, res };
        }
        show(++done, counts);
      }
    })
  );
  const burstMs = performance.now() - burstStart;

  // A real provider answers asynchronously: wait (bounded) for the advice of every signature.
  if (provider !== 'offline') {
    const deadline = Date.now() + (QUICK ? 5_000 : 20_000);
    while (Date.now() < deadline && [...seen.keys()].some((fp) => !advice.has(fp) && !aiPipeline.getAdvice(fp))) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const snapshot = await (await fetch(`${base}/metrics`, { headers: { accept: 'application/json' } })).json();
  await new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections();
  });

  printExamples(examples);
  printAdvice(seen, advice, provider);
  printSummary({ snapshot, reqs, counts, burstMs, seen, breakerChanges });

  unsubscribe();
  breaker.shutdown();
  await aiPipeline.shutdown();
  if (OWN_LOG_DIR && QUICK) removeOnExit.push(LOG_DIR);
  else out(`  ${pad('logs', 15)} ${LOG_DIR}`);
  removeDirs();
  out('');
  out(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; the server is closed and the process exits by itself.`);
  out('');
}

function printExamples({ json, html }) {
  out('');
  out('Example responses');
  if (json) {
    out(`  ${json.r.method || 'GET'} ${json.r.path}  (Accept: application/json)  →  ${json.res.status}`);
    const lines = JSON.stringify(json.body, null, 2).split('\n');
    for (const l of lines) out(`    ${cut(l, WIDTH - 6)}`);
  }
  if (html) {
    out(`  ${html.r.method || 'GET'} ${html.r.path}  (Accept: text/html)  →  ${html.res.status}`);
    const text = html.res.text.replace(/></g, '>\n<').split('\n');
    for (const l of text) out(`    ${clip(l, WIDTH - 6)}`);
  }
}

function printAdvice(seen, advice, provider) {
  out('');
  out(`Advice per error signature (${provider === 'offline' ? 'offline advisor' : provider})`);
  const rows = [...seen.entries()].sort((a, b) => b[1].count - a[1].count);
  out(`  ${pad('signature', 16)}  ${lpad('seen', 4)}  status  error, then the advice`);
  const indent = 16 + 2 + 4 + 2 + 6 + 2;
  for (const [fp, s] of rows) {
    const a = advice.get(fp) || aiPipeline.getAdvice(fp);
    const text = a ? a.advice || a.cause || JSON.stringify(a) : '(no advice yet)';
    out(`  ${fp}  ${lpad(s.count, 4)}  ${pad(s.status, 6)}  ${clip(`${s.name}: ${s.message}`, WIDTH - indent - 2)}`);
    wrap(text, WIDTH - indent - 4, 2).forEach((l, i) => out(`  ${' '.repeat(indent)}${i ? '  ' : '→ '}${l}`));
  }
}

/** CLOSED → OPEN → HALF_OPEN → …, the middle elided when long. */
function breakerPath(changes) {
  const all = ['CLOSED', ...changes];
  if (all.length <= 8) return all.join(' → ');
  return `${all.slice(0, 5).join(' → ')} → … → ${all.slice(-2).join(' → ')}`;
}

function printSummary({ snapshot, reqs, counts, burstMs, seen, breakerChanges }) {
  const c = snapshot.components || {};
  const ai = c.ai || {};
  const lookups = (ai.cacheHits || 0) + (ai.cacheMisses || 0);
  const hitRate = lookups ? `${((ai.cacheHits / lookups) * 100).toFixed(1)}%  (${ai.cacheHits} hits / ${lookups} lookups)` : 'n/a';
  const q = snapshot.qerrors;
  const p = snapshot.process;
  const ev = snapshot.eventLoop;
  const limiter = c['limiter.search'] || {};
  const mem = c.memory || {};
  const rows = [
    ['requests', `${reqs.length} in ${(burstMs / 1000).toFixed(2)} s (${Math.round(reqs.length / (burstMs / 1000))}/s): 2xx ${counts.ok}, 4xx ${counts.c4}, 5xx ${counts.c5}, 429 ${counts.limited}`],
    ['errors handled', `${q.errorsHandled}`],
    ['signatures', `${seen.size} distinct`],
    ['qerrors() time', `mean ${ms(q.latencyMeanMs)}  p50 ${ms(q.latencyP50Ms)}  p99 ${ms(q.latencyP99Ms)}`],
    ['advice cache', `hit rate ${hitRate}`],
    ['provider calls', `${ai.providerCalls || 0} (${ai.provider || 'offline'}${ai.provider === 'offline' ? ': advice computed locally' : ''})`],
    ['breaker', `${breakerChanges.length} state changes: ${breakerPath(breakerChanges)}`],
    ['rate limiter', `${limiter.limited || 0} rejected, ${limiter.allowed || 0} allowed`],
    ['event loop', `delay p99 ${ms(ev.delayP99Ms)}  max ${ms(ev.delayMaxMs)}`],
    ['memory', `rss ${mb(p.rssBytes)}  heap ${mb(p.heapUsedBytes)} of ${mb(p.heapLimitBytes)}  pressure ${mem.level || 'normal'}`],
  ];
  out('');
  out('Summary');
  for (const [k, v] of rows) out(`  ${pad(k, 15)} ${v}`);
}

main().catch((err) => {
  process.exitCode = 1;
  console.error('demo failed:', err);
  if (OWN_LOG_DIR) removeOnExit.push(LOG_DIR);
  removeDirs();
  aiPipeline.shutdown();
});
