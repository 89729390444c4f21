'use strict';

// The production monitor behind `bin/qerrors-monitor`: polls a service's qerrors
// metrics endpoint (lib/ops/metrics.js, JSON form), derives rates, and raises alerts.

const THRESHOLDS = Object.freeze({
  heapFraction: 0.7,
  cacheHitRate: 0.8,
  avgLatencyMs: 50,
  errorRateFactor: 1.5,
});

/**
 * Samples a rate or an average needs before its alert may fire: a fresh service with 2
 * hits in 3 lookups is not a cache with a 66.7% hit rate.
 */
const MIN_SAMPLES = Object.freeze({
  cacheLookups: 100,
  calls: 20,
});

const USAGE = `usage: qerrors-monitor <metrics-url> [options]

Polls a service's qerrors metrics endpoint and reports memory, cache hit rate,
qerrors() latency, error rate against a baseline, breaker states and limiter rejects.

options:
  --interval <s>          seconds between polls (default 60)
  --once                  print one report and exit (samples twice, --sample-ms apart)
  --sample-ms <ms>        gap between the two samples of --once (default 1000)
  --json                  print machine-readable JSON lines
  --baseline-minutes <m>  minutes of polling that form the error-rate baseline (default 5)
  --baseline-rate <n>     use this baseline instead (errors per minute)
  --fail-on-alert         exit with status 2 when a report has alerts (with --once)
  -h, --help              this text`;

/**
 * @param {string[]} argv arguments after the script name
 * @returns {{ url: string, intervalMs: number, once: boolean, sampleMs: number, json: boolean,
 *   baselineMs: number, baselineRate: number | null, failOnAlert: boolean, help: boolean }}
 */
function parseArgs(argv) {
  const opts = {
    url: '',
    intervalMs: 60_000,
    once: false,
    sampleMs: 1000,
    json: false,
    baselineMs: 5 * 60_000,
    baselineRate: null,
    failOnAlert: false,
    help: false,
  };
  const number = (flag, v, min) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) {
      throw Object.assign(new RangeError(`${flag} needs a number >= ${min}`), { code: 'ERR_QERRORS_MONITOR_USAGE' });
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--interval': opts.intervalMs = number(flag, value(), 1) * 1000; break;
      case '--once': opts.once = true; break;
      case '--sample-ms': opts.sampleMs = number(flag, value(), 0); break;
      case '--json': opts.json = true; break;
      case '--baseline-minutes': opts.baselineMs = number(flag, value(), 0) * 60_000; break;
      case '--baseline-rate': opts.baselineRate = number(flag, value(), 0); break;
      case '--fail-on-alert': opts.failOnAlert = true; break;
      case '-h': case '--help': opts.help = true; break;
      default:
        if (flag.startsWith('-') || opts.url) {
          throw Object.assign(new TypeError(`unknown argument: ${a}`), { code: 'ERR_QERRORS_MONITOR_USAGE' });
        }
        opts.url = a;
    }
  }
  if (!opts.help && !/^https?:\/\//.test(opts.url)) {
    throw Object.assign(new TypeError('a metrics URL (http:// or https://) is required'), { code: 'ERR_QERRORS_MONITOR_USAGE' });
  }
  return opts;
}

/**
 * Fetches one JSON snapshot.
 * @param {string} url
 * @param {number} timeoutMs
 */
async function fetchSnapshot(url, timeoutMs = 10_000) {
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`metrics endpoint answered HTTP ${res.status}`);
  const body = await res.json();
  if (!body || !body.process || !body.qerrors) throw new Error('metrics endpoint did not return a qerrors snapshot');
  return body;
}

/** Sums numeric fields whose key matches `re`, at any depth. */
function sumFields(obj, re) {
  let total = 0;
  let found = false;
  const walk = (o) => {
    for (const [k, v] of Object.entries(o || {})) {
      if (typeof v === 'number' && re.test(k)) {
        total += v;
        found = true;
      } else if (v && typeof v === 'object' && !Array.isArray(v)) walk(v);
    }
  };
  walk(obj);
  return found ? total : null;
}

/**
 * Derives the report from a snapshot and, when given, the previous one.
 * @param {any} snap current snapshot
 * @param {any} [prev] previous snapshot
 * @param {{ baselineRate: number | null }} state error-rate baseline (errors per minute)
 */
function buildReport(snap, prev, state) {
  const p = snap.process;
  const heapFraction = p.heapLimitBytes ? p.heapUsedBytes / p.heapLimitBytes : 0;
  const comps = snap.components || {};
  let hits = 0;
  let misses = 0;
  const breakers = {};
  let limiterRejects = 0;
  for (const [name, s] of Object.entries(comps)) {
    const h = sumFields(s, /^(cache)?hits$/i);
    const m = sumFields(s, /^(cache)?misses$/i);
    if (h !== null && m !== null) {
      hits += h;
      misses += m;
    }
    if (s && typeof s.state === 'string') breakers[name] = s.state;
    const limited = typeof s?.limited === 'number' ? s.limited : null;
    if (limited !== null) limiterRejects += limited;
  }
  const lookups = hits + misses;
  const cacheHitRate = lookups > 0 ? hits / lookups : null;

  let errorRatePerMin = null;
  if (prev) {
    const dtMin = (Date.parse(snap.timestamp) - Date.parse(prev.timestamp)) / 60_000;
    const dErr = snap.qerrors.errorsHandled - prev.qerrors.errorsHandled;
    if (dtMin > 0 && dErr >= 0) errorRatePerMin = dErr / dtMin;
  }

  const alerts = [];
  if (heapFraction > THRESHOLDS.heapFraction) {
    alerts.push({ kind: 'heap', message: `heap used ${(heapFraction * 100).toFixed(1)}% of its limit (> ${THRESHOLDS.heapFraction * 100}%)` });
  }
  if (cacheHitRate !== null && lookups >= MIN_SAMPLES.cacheLookups && cacheHitRate < THRESHOLDS.cacheHitRate) {
    alerts.push({ kind: 'cache', message: `cache hit rate ${(cacheHitRate * 100).toFixed(1)}% (< ${THRESHOLDS.cacheHitRate * 100}%)` });
  }
  if (snap.qerrors.errorsHandled >= MIN_SAMPLES.calls && snap.qerrors.latencyMeanMs > THRESHOLDS.avgLatencyMs) {
    alerts.push({ kind: 'latency', message: `average qerrors() latency ${snap.qerrors.latencyMeanMs.toFixed(1)} ms (> ${THRESHOLDS.avgLatencyMs} ms)` });
  }
  if (errorRatePerMin !== null && state.baselineRate !== null && state.baselineRate > 0 &&
      errorRatePerMin > THRESHOLDS.errorRateFactor * state.baselineRate) {
    alerts.push({
      kind: 'errorRate',
      message: `error rate ${errorRatePerMin.toFixed(1)}/min is ${(errorRatePerMin / state.baselineRate).toFixed(2)}x the baseline ${state.baselineRate.toFixed(1)}/min (> ${THRESHOLDS.errorRateFactor}x)`,
    });
  }

  return {
    timestamp: snap.timestamp,
    memory: {
      rssBytes: p.rssBytes,
      heapUsedBytes: p.heapUsedBytes,
      heapLimitBytes: p.heapLimitBytes,
      heapFraction,
      externalBytes: p.externalBytes,
    },
    cacheHitRate,
    cacheLookups: lookups,
    latency: { meanMs: snap.qerrors.latencyMeanMs, p50Ms: snap.qerrors.latencyP50Ms, p99Ms: snap.qerrors.latencyP99Ms },
    errors: { handled: snap.qerrors.errorsHandled, ratePerMin: errorRatePerMin, baselinePerMin: state.baselineRate },
    breakers,
    limiterRejects,
    pressure: pressureOf(comps.memory),
    eventLoop: snap.eventLoop,
    alerts,
  };
}

/** The memory-pressure policy's state (component `memory`), or null when the service has none. */
function pressureOf(m) {
  if (!m || typeof m.level !== 'string') return null;
  return { level: m.level, shrinkEvents: m.shrinkEvents || 0, restoreEvents: m.restoreEvents || 0 };
}

const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;
const fmt = (x, digits = 1) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(digits));

/** Human-readable report. */
function formatReport(r) {
  const breakers = Object.entries(r.breakers);
  return [
    `qerrors monitor  ${r.timestamp}`,
    `  memory      rss ${mb(r.memory.rssBytes)}  heap ${mb(r.memory.heapUsedBytes)} / ${mb(r.memory.heapLimitBytes)} (${fmt(r.memory.heapFraction * 100)}%)  external ${mb(r.memory.externalBytes)}`,
    `  cache       hit rate ${r.cacheHitRate === null ? 'n/a (no lookups)' : `${fmt(r.cacheHitRate * 100)}% of ${r.cacheLookups} lookups`}`,
    `  latency     qerrors() mean ${fmt(r.latency.meanMs, 3)} ms  p50 ${fmt(r.latency.p50Ms, 3)} ms  p99 ${fmt(r.latency.p99Ms, 3)} ms`,
    `  errors      handled ${r.errors.handled}  rate ${fmt(r.errors.ratePerMin)}/min  baseline ${fmt(r.errors.baselinePerMin)}/min`,
    `  breakers    ${breakers.length ? breakers.map(([n, s]) => `${n}=${s}`).join('  ') : 'none tracked'}`,
    `  limiter     rejects ${r.limiterRejects}`,
    ...(r.pressure ? [`  pressure    level ${r.pressure.level}  shrinks ${r.pressure.shrinkEvents}  restores ${r.pressure.restoreEvents}`] : []),
    `  event loop  delay p99 ${fmt(r.eventLoop && r.eventLoop.delayP99Ms, 2)} ms  max ${fmt(r.eventLoop && r.eventLoop.delayMaxMs, 2)} ms`,
    r.alerts.length ? r.alerts.map((a) => `  ALERT ${a.kind}: ${a.message}`).join('\n') : '  alerts      none',
  ].join('\n');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the monitor. Returns the exit status.
 * @param {string[]} argv
 * @param {{ out?: (s: string) => void, err?: (s: string) => void }} [io]
 */
async function main(argv, io = {}) {
  const out = io.out || ((s) => process.stdout.write(`${s}\n`));
  const err = io.err || ((s) => process.stderr.write(`${s}\n`));
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    err(`qerrors-monitor: ${e.message}\n\n${USAGE}`);
    return 64;
  }
  if (opts.help) {
    out(USAGE);
    return 0;
  }
  const state = { baselineRate: opts.baselineRate };
  const print = (r) => out(opts.json ? JSON.stringify(r) : formatReport(r));

  if (opts.once) {
    try {
      const first = await fetchSnapshot(opts.url);
      await sleep(opts.sampleMs);
      const second = await fetchSnapshot(opts.url);
      const report = buildReport(second, first, state);
      print(report);
      return opts.failOnAlert && report.alerts.length ? 2 : 0;
    } catch (e) {
      err(`qerrors-monitor: cannot read ${opts.url}: ${e.message}`);
      return 1;
    }
  }

  const started = Date.now();
  let first = null;
  let prev = null;
  for (;;) {
    try {
      const snap = await fetchSnapshot(opts.url);
      if (!first) first = snap;
      // The baseline is the average rate over the first minutes of monitoring.
      if (opts.baselineRate === null && Date.now() - started >= opts.baselineMs && state.baselineRate === null) {
        const dtMin = (Date.parse(snap.timestamp) - Date.parse(first.timestamp)) / 60_000;
        if (dtMin > 0) state.baselineRate = (snap.qerrors.errorsHandled - first.qerrors.errorsHandled) / dtMin;
      }
      print(buildReport(snap, prev, state));
      prev = snap;
    } catch (e) {
      err(`qerrors-monitor: cannot read ${opts.url}: ${e.message}`);
    }
    await sleep(opts.intervalMs);
  }
}

module.exports = { main, parseArgs, buildReport, formatReport, THRESHOLDS, MIN_SAMPLES, USAGE };
