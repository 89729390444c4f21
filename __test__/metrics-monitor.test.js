'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { execFile } = require('node:child_process');
const express = require('express');
const parsePrometheusText = require('parse-prometheus-text-format');
const promClient = require('prom-client');

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

/**
 * Parses Prometheus text with parse-prometheus-text-format, and checks what that lenient
 * parser lets through: HELP/TYPE before every family, each family once, each sample under
 * its family (summaries: `_sum`/`_count`), no duplicate series, naming conventions.
 */
function parsePrometheus(text) {
  const parsed = parsePrometheusText(text);
  const families = new Map();
  const samples = [];
  const series = new Set();
  let current = null;
  for (const line of text.trimEnd().split('\n')) {
    let m;
    if (line === '') continue; // prom-client separates families with a blank line
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line))) {
      assert.ok(!families.has(m[1]), `duplicate family ${m[1]}`);
      families.set(m[1], { help: m[2] });
      current = m[1];
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.equal(m[1], current, 'TYPE follows its HELP');
      families.get(m[1]).type = m[2];
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line))) {
      const type = families.get(current).type;
      assert.ok(type, `family ${current} has a TYPE`);
      const okName = m[1] === current || (type === 'summary' && (m[1] === `${current}_sum` || m[1] === `${current}_count`));
      assert.ok(okName, `sample ${m[1]} belongs to the family above it (${current})`);
      const id = `${m[1]}${m[2] || ''}`;
      assert.ok(!series.has(id), `duplicate series ${id}`);
      series.add(id);
      samples.push({ name: m[1], labels: m[2] || '', value: Number(m[3]) });
    } else {
      assert.fail(`unparseable line: ${JSON.stringify(line)}`);
    }
  }
  assert.deepEqual(parsed.map((f) => f.name), [...families.keys()], 'the real parser sees the same families');
  for (const f of parsed) {
    const type = families.get(f.name).type;
    assert.equal(f.type, type.toUpperCase());
    if (type === 'counter') assert.match(f.name, /_total$/, `counter ${f.name} ends in _total`);
    else assert.doesNotMatch(f.name, /_total$/, `${type} ${f.name} does not end in _total`);
    assert.doesNotMatch(f.name, /_ms$|_ms_|percentiles_|_0_\d/, `${f.name}: base units, no values packed into the name`);
  }
  return { families, samples, parsed };
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
  assert.equal(families.get('qerrors_process_resident_memory_bytes').type, 'gauge');
  assert.equal(families.get('qerrors_call_duration_seconds').type, 'summary');
  assert.ok(samples.some((s) => s.name === 'qerrors_call_duration_seconds_count' && s.value >= 1));
  assert.ok(samples.some((s) => s.name === 'qerrors_call_duration_seconds_sum' && s.value >= 0.0015));
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
  assert.deepEqual(kinds(snapshot({ latency: 51, errors: 20 })), ['latency']);
  assert.deepEqual(kinds(snapshot({ latency: 50, errors: 20 })), []);
  assert.deepEqual(kinds(snapshot({ latency: 500, errors: 19 })), [], 'too few calls for an average');
  assert.deepEqual(kinds(snapshot({ hits: 1, misses: 2 })), [], 'a fresh service: 3 lookups are no hit rate');
  assert.deepEqual(kinds(snapshot({ hits: 1, misses: 98 })), [], '99 lookups: still too few');
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

test('an opossum-style breaker: state as an enum label, window latencies as seconds with a quantile label', () => {
  const untrack = metrics.track('breaker.pay', {
    state: 'HALF_OPEN',
    get stats() {
      return { fires: 5, failures: 1, latencyMean: 12, percentiles: { 0.5: 10, 0.99: 40, 1: 41 } };
    },
  });
  try {
    const { samples } = parsePrometheus(metrics.toPrometheus());
    const state = samples.filter((s) => s.name === 'qerrors_breaker_state');
    assert.deepEqual(
      state.map((s) => [s.labels, s.value]),
      [
        ['{breaker="breaker.pay",state="closed"}', 0],
        ['{breaker="breaker.pay",state="open"}', 0],
        ['{breaker="breaker.pay",state="half_open"}', 1],
      ]
    );
    const p99 = samples.find((s) => s.name === 'qerrors_breaker_window_latency_seconds' && s.labels.includes('quantile="0.99"'));
    assert.equal(p99.value, 0.04);
    assert.ok(samples.some((s) => s.name === 'qerrors_breaker_window_latency_mean_seconds' && s.value === 0.012));
    assert.ok(samples.some((s) => s.name === 'qerrors_breaker_window_fires' && s.value === 5), 'a rolling-window count is a gauge');
  } finally {
    untrack();
  }
});

test('every rateLimit() middleware is tracked without registering it', async () => {
  const { rateLimit } = require('../native');
  const mw = rateLimit({ limit: 1, identifier: 'login' });
  const req = () => ({ ip: '10.0.0.1', headers: {}, app: { get: () => false } });
  const res = () => ({ headersSent: false, setHeader() {}, append() {}, status() { return this; }, send() {}, writableEnded: false });
  await mw(req(), res(), () => {});
  await mw(req(), res(), () => {});
  const { samples } = parsePrometheus(metrics.toPrometheus());
  const get = (outcome) => samples.find((s) => s.name === 'qerrors_rate_limit_requests_total' && s.labels === `{limiter="rateLimit.login",outcome="${outcome}"}`);
  assert.equal(get('allowed').value, 1);
  assert.equal(get('limited').value, 1);
  assert.equal(samples.find((s) => s.name === 'qerrors_rate_limit_keys' && s.labels.includes('rateLimit.login')).value, 1);
  assert.deepEqual(metrics.getMetrics().components['rateLimit.login'], mw.stats());
});

test('no Redis series from a component without Redis', () => {
  const base = { cacheHits: 3, redisUp: true, redisOutages: 0, sharedHits: 0 };
  const untrack = metrics.track('ai.local', () => ({ ...base, sharedCache: false }));
  const untrack2 = metrics.track('ai.shared', () => ({ ...base, sharedCache: true }));
  try {
    const { samples } = parsePrometheus(metrics.toPrometheus());
    const redis = samples.filter((s) => /redis|shared_hits/.test(s.name)).map((s) => s.labels);
    assert.ok(redis.length >= 3);
    assert.ok(redis.every((l) => l.includes('ai.shared')), `Redis series only for ai.shared: ${redis}`);
    assert.ok(samples.some((s) => s.name === 'qerrors_component_cache_hits_total' && s.labels.includes('ai.local')));
  } finally {
    untrack();
    untrack2();
  }
});

test('event-loop delay: the sampling period is not counted as delay', () => {
  const period = metrics.LOOP_RESOLUTION_MS;
  assert.equal(metrics.delayBeyondPeriodMs(period * 1e6), 0, 'a tick exactly on time is no delay');
  assert.equal(metrics.delayBeyondPeriodMs((period - 1) * 1e6), 0, 'an early tick is no delay');
  assert.equal(metrics.delayBeyondPeriodMs((period + 3.5) * 1e6), 3.5);
  assert.equal(metrics.delayBeyondPeriodMs(NaN), 0);
  const loop = metrics.getMetrics().eventLoop;
  assert.equal(loop.resolutionMs, period);
  assert.equal(typeof loop.samples, 'number');
});

test('cycles, BigInts, throwing getters and colliding names: /metrics still answers, JSON and text', async () => {
  const cyclic = { fires: 1, deep: { deeper: {} } };
  cyclic.self = cyclic;
  cyclic.deep.deeper.back = cyclic.deep;
  const untracks = [
    metrics.track('cyclic', () => cyclic),
    metrics.track('big', () => ({ bytes: 2n ** 64n, small: 7n, nested: { n: 1n } })),
    metrics.track('collide', () => ({ cacheHits: 1, cache_hits: 2, 'cache-hits': 3, 'cache.hits': 4 })),
    metrics.track('throws', () => {
      throw new Error('stats broke');
    }),
    metrics.track('getter', {
      get stats() {
        throw new Error('getter broke');
      },
    }),
  ];
  const server = http.createServer(metrics.metricsHandler());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const base = `http://127.0.0.1:${server.address().port}`;
    const text = await (await fetch(base)).text();
    const { samples } = parsePrometheus(text);
    assert.deepEqual(
      samples.filter((s) => s.labels.includes('"collide"')).map((s) => [s.name, s.value]),
      [['qerrors_component_cache_hits_total', 1]],
      'one series for four spellings'
    );
    assert.ok(samples.some((s) => s.name === 'qerrors_component_bytes' && s.value === 2 ** 64));
    assert.ok(samples.some((s) => s.name === 'qerrors_component_fires' && s.labels === '{component="cyclic"}'));
    const json = await (await fetch(`${base}/?format=json`)).json();
    assert.equal(json.components.big.small, 7);
    assert.equal(json.components.big.nested.n, 1);
    assert.equal(json.components.cyclic.self, undefined, 'the cycle is cut');
    assert.deepEqual(json.components.throws, { error: 'stats broke' });
    assert.deepEqual(json.components.getter, { error: 'getter broke' });
  } finally {
    for (const u of untracks) u();
    server.close();
  }
  // A response that cannot be written to is not thrown into the caller.
  const broken = {
    setHeader() {
      throw new Error('headers already sent');
    },
    end() {
      throw new Error('destroyed');
    },
  };
  assert.doesNotThrow(() => metrics.metricsHandler()({ headers: {} }, broken));
  assert.doesNotThrow(() => metrics.metricsHandler()(undefined, broken));
});

test('registerPromMetrics puts our families into an existing prom-client registry', async () => {
  const registry = new promClient.Registry();
  const own = new promClient.Counter({ name: 'app_requests_total', help: 'The service’s own counter.', registers: [registry] });
  own.inc(3);
  // A name the service already uses stays the service's.
  new promClient.Gauge({ name: 'qerrors_process_uptime_seconds', help: 'taken', registers: [registry] }).set(42);
  metrics.recordCall(2);
  const unregister = metrics.registerPromMetrics(registry);
  try {
    const text = await registry.metrics();
    const { samples } = parsePrometheus(text);
    assert.ok(samples.some((s) => s.name === 'app_requests_total' && s.value === 3));
    assert.ok(samples.some((s) => s.name === 'qerrors_errors_handled_total' && s.value >= 1));
    assert.ok(samples.some((s) => s.name === 'qerrors_call_duration_seconds_count' && s.value >= 1));
    assert.ok(samples.some((s) => s.name === 'qerrors_process_uptime_seconds' && s.value === 42));
    // A family that appears after registration is registered at the next scrape.
    const untrack = metrics.track('late.cache', () => ({ hits: 5 }));
    await registry.metrics();
    const again = parsePrometheus(await registry.metrics()).samples;
    untrack();
    assert.ok(again.some((s) => s.name === 'qerrors_component_hits_total' && s.labels === '{component="late.cache"}' && s.value === 5));
    assert.ok((await registry.getMetricsAsJSON()).some((m) => m.name === 'qerrors_errors_handled_total'));
  } finally {
    unregister();
  }
  const after = parsePrometheus(await registry.metrics()).samples;
  assert.ok(!after.some((s) => s.name === 'qerrors_errors_handled_total'), 'unregister removes our families');
  assert.ok(after.some((s) => s.name === 'qerrors_process_uptime_seconds' && s.value === 42), 'and leaves the service’s');
  assert.throws(() => metrics.registerPromMetrics({}), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
});
