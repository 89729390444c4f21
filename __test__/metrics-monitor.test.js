'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');
const express = require('express');

const metrics = require('../lib/ops/metrics');
const monitor = require('../lib/ops/monitor');

const BIN = path.join(__dirname, '..', 'bin', 'qerrors-monitor');

function listen(app) {
  return new Promise((resolve) => {
    const server = http.createServer(app).listen(0, '127.0.0.1', () => resolve(server));
  });
}

function runMonitor(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** Parses Prometheus text: returns samples and checks HELP/TYPE precede every family. */
function parsePrometheus(text) {
  const families = new Map();
  const samples = [];
  let current = null;
  for (const line of text.trimEnd().split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line))) {
      assert.ok(!families.has(m[1]), `duplicate family ${m[1]}`);
      families.set(m[1], { help: m[2] });
      current = m[1];
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.equal(m[1], current, 'TYPE follows its HELP');
      families.get(m[1]).type = m[2];
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line))) {
      assert.equal(m[1], current, `sample ${m[1]} belongs to the family above it`);
      assert.ok(families.get(current).type, `family ${current} has a TYPE`);
      samples.push({ name: m[1], labels: m[2] || '', value: Number(m[3]) });
    } else {
      assert.fail(`unparseable line: ${JSON.stringify(line)}`);
    }
  }
  return { families, samples };
}

test('latency histogram quantiles stay within a bucket of the true value', () => {
  const h = new metrics.LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 .. 100 ms
  assert.equal(h.count, 1000);
  const p50 = h.quantile(0.5);
  const p99 = h.quantile(0.99);
  assert.ok(p50 >= 50 && p50 <= 50 * 1.1, `p50 ${p50}`);
  assert.ok(p99 >= 99 && p99 <= 100, `p99 ${p99}`);
  h.record(NaN);
  h.record(-1);
  assert.equal(h.count, 1000, 'invalid samples are ignored');
});

test('a snapshot includes tracked components, weakly held sources drop out', () => {
  const untrack = metrics.track('limiter.test', () => ({ limited: 3, allowed: 7 }));
  const snap = metrics.getMetrics();
  assert.deepEqual(snap.components['limiter.test'], { limited: 3, allowed: 7 });
  assert.ok(snap.process.heapLimitBytes > snap.process.heapUsedBytes);
  untrack();
  assert.equal(metrics.getMetrics().components['limiter.test'], undefined);
  assert.throws(() => metrics.track('', () => ({})), { code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => metrics.track('x', 42), { code: 'ERR_QERRORS_INVALID_ARG' });
});

test('Prometheus output parses: names, types and HELP lines', () => {
  const untrack = metrics.track('breaker.payments', () => ({ state: 'open', fires: 10, failures: 4, nested: { hits: 2 } }));
  metrics.recordCall(1.5);
  const text = metrics.toPrometheus();
  untrack();
  const { families, samples } = parsePrometheus(text);
  assert.equal(families.get('qerrors_errors_handled_total').type, 'counter');
  assert.equal(families.get('qerrors_process_rss_bytes').type, 'gauge');
  const fires = samples.find((s) => s.name === 'qerrors_component_fires');
  assert.equal(fires.labels, '{component="breaker.payments"}');
  assert.equal(fires.value, 10);
  assert.ok(samples.some((s) => s.name === 'qerrors_component_nested_hits' && s.value === 2));
  assert.ok(samples.some((s) => s.name === 'qerrors_component_info' && s.labels.includes('value="open"')));
  for (const [name, f] of families) assert.ok(f.help.length > 5, `${name} has help text`);
});

test('the monitor reports every field against a live service and exits (--once)', async () => {
  const app = express();
  app.get('/metrics', metrics.metricsHandler());
  const untrack = metrics.track('breaker.db', () => ({ state: 'closed', fires: 1 }));
  const server = await listen(app);
  try {
    const url = `http://127.0.0.1:${server.address().port}/metrics`;
    // Prometheus by default, JSON on request.
    const prom = await (await fetch(url)).text();
    parsePrometheus(prom);
    const r = await runMonitor([url, '--once', '--sample-ms', '50']);
    assert.equal(r.code, 0, r.stderr);
    for (const field of ['memory', 'rss', 'heap', 'external', 'cache', 'hit rate', 'latency', 'p50', 'p99', 'errors', 'rate', 'baseline', 'breakers', 'breaker.db=closed', 'limiter', 'rejects', 'event loop', 'alerts']) {
      assert.ok(r.stdout.includes(field), `report shows ${field}:\n${r.stdout}`);
    }
    const j = await runMonitor([url, '--once', '--json', '--sample-ms', '20']);
    const report = JSON.parse(j.stdout);
    assert.equal(typeof report.memory.heapFraction, 'number');
    assert.deepEqual(report.breakers, { 'breaker.db': 'closed' });
  } finally {
    untrack();
    server.close();
  }
});

test('the monitor exits 1 with a clear message when the service is down, 64 on bad usage', async () => {
  const down = await runMonitor(['http://127.0.0.1:1/metrics', '--once', '--sample-ms', '0']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot read http:\/\/127\.0\.0\.1:1\/metrics/);
  const bad = await runMonitor(['--interval', 'soon']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /--interval needs a number/);
});

function snapshot({ heapUsed = 100, heapLimit = 1000, hits = 90, misses = 10, latency = 1, errors = 0, at = 0 } = {}) {
  return {
    timestamp: new Date(Date.UTC(2026, 0, 1) + at).toISOString(),
    process: { rssBytes: 1, heapUsedBytes: heapUsed, heapLimitBytes: heapLimit, externalBytes: 1 },
    eventLoop: { delayP99Ms: 1, delayMaxMs: 2 },
    qerrors: { errorsHandled: errors, latencyMeanMs: latency, latencyP50Ms: latency, latencyP99Ms: latency },
    components: { ai: { cache: { hits, misses } }, 'limiter.api': { limited: 5 } },
  };
}

test('each alert fires exactly when its condition holds', () => {
  const kinds = (snap, prev, baselineRate = null) => monitor.buildReport(snap, prev, { baselineRate }).alerts.map((a) => a.kind);
  assert.deepEqual(kinds(snapshot()), [], 'healthy service has no alerts');
  assert.deepEqual(kinds(snapshot({ heapUsed: 701 })), ['heap']);
  assert.deepEqual(kinds(snapshot({ heapUsed: 700 })), [], '70% exactly is not over');
  assert.deepEqual(kinds(snapshot({ hits: 79, misses: 21 })), ['cache']);
  assert.deepEqual(kinds(snapshot({ hits: 0, misses: 0 })), [], 'no lookups, no cache alert');
  assert.deepEqual(kinds(snapshot({ latency: 51 })), ['latency']);
  assert.deepEqual(kinds(snapshot({ latency: 50 })), []);
  // 10 errors/min baseline; 16/min is over 1.5x, 15/min is not.
  assert.deepEqual(kinds(snapshot({ errors: 16, at: 60_000 }), snapshot(), 10), ['errorRate']);
  assert.deepEqual(kinds(snapshot({ errors: 15, at: 60_000 }), snapshot(), 10), []);
  assert.deepEqual(kinds(snapshot({ errors: 1000, at: 60_000 }), snapshot(), null), [], 'no baseline yet');
  const r = monitor.buildReport(snapshot(), null, { baselineRate: null });
  assert.equal(r.limiterRejects, 5);
  assert.equal(r.cacheHitRate, 0.9);
});

test('--fail-on-alert turns alerts into exit status 2', async () => {
  let n = 0;
  const server = await listen((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(snapshot({ heapUsed: 900, errors: n++ * 100, at: n * 1000 })));
  });
  try {
    const url = `http://127.0.0.1:${server.address().port}/`;
    const r = await runMonitor([url, '--once', '--sample-ms', '0', '--fail-on-alert', '--baseline-rate', '10']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /ALERT heap: heap used 90\.0% of its limit/);
    assert.match(r.stdout, /ALERT errorRate: error rate 6000\.0\/min/);
  } finally {
    server.close();
  }
});

test('tracked objects may expose stats as a getter, with their state', () => {
  const breakerLike = {
    getState: () => 'HALF_OPEN',
    get stats() {
      return { fires: 4 };
    },
  };
  const untrack = metrics.track('breaker.getter', breakerLike);
  assert.deepEqual(metrics.getMetrics().components['breaker.getter'], { state: 'HALF_OPEN', fires: 4 });
  untrack();
});
