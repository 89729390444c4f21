'use strict';

// A metrics snapshot (lib/ops/metrics.js) as Prometheus metric families, following the
// Prometheus naming conventions: base units (seconds, bytes), counters named `_total`,
// labels instead of names packed with values, summaries for latencies. Rendered as the
// text exposition format (0.0.4), or handed to a prom-client registry.

const { codedError } = require('../policy/errors');

/**
 * Fields of component stats that only grow (counted since the component started). Other
 * numbers are gauges. Matched on the snake_case name of the field.
 */
const COUNTER_FIELDS = new Set([
  'hits', 'misses', 'cache_hits', 'cache_misses', 'evictions', 'expirations', 'rejected', 'purged',
  'cache_evictions', 'offline', 'scheduled', 'deduplicated', 'provider_calls', 'rate_limited',
  'breaker_rejected', 'succeeded', 'failed', 'cancelled', 'skipped_recent_failure', 'shared_hits',
  'redis_outages', 'checks', 'shrink_events', 'restore_events', 'reject_count', 'total_processed',
]);
/** Fields that describe a Redis connection: reported only by a component that has one. */
const REDIS_FIELDS = new Set(['redis_up', 'redis_outages', 'shared_hits']);

const HELP = {
  qerrors_process_resident_memory_bytes: 'Resident set size of the process.',
  qerrors_process_heap_used_bytes: 'V8 heap in use.',
  qerrors_process_heap_total_bytes: 'V8 heap allocated.',
  qerrors_process_heap_limit_bytes: 'V8 heap size limit.',
  qerrors_process_external_bytes: 'Memory of C++ objects bound to JS objects (includes native buffers).',
  qerrors_process_array_buffers_bytes: 'Memory of ArrayBuffers and Buffers.',
  qerrors_process_uptime_seconds: 'Process uptime.',
  qerrors_event_loop_delay_seconds: 'Event-loop delay beyond the monitor sampling period, since monitoring started.',
  qerrors_event_loop_delay_max_seconds: 'Largest event-loop delay beyond the sampling period.',
  qerrors_errors_handled_total: 'Errors handled by qerrors().',
  qerrors_call_duration_seconds: 'Time of a qerrors() call.',
  qerrors_rate_limit_requests_total: 'Requests decided by a rate limiter, by outcome.',
  qerrors_rate_limit_keys: 'Keys a rate limiter holds.',
  qerrors_rate_limit_keys_evicted_total: 'Keys a full rate limiter table evicted.',
  qerrors_rate_limit_keys_swept_total: 'Refilled keys swept out of a rate limiter table.',
  qerrors_breaker_state: 'Circuit breaker state (1 for the current state).',
  qerrors_breaker_window_latency_seconds: 'Circuit breaker call latency quantiles over its rolling window.',
  qerrors_breaker_window_latency_mean_seconds: 'Circuit breaker mean call latency over its rolling window.',
  qerrors_component_info: 'Component state as labels.',
};

/** camelCase, kebab-case or dotted field -> snake_case metric name part. */
function snake(s) {
  const out = String(s)
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase();
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

/** Collects families: one name, one type, one HELP, no duplicate series. */
class Families {
  constructor() {
    /** @type {Map<string, { name: string, type: string, help: string, samples: Array<{ labels: Record<string,string>, value: number, suffix: string }>, seen: Set<string> }>} */
    this.map = new Map();
  }

  /**
   * @param {string} name @param {'counter'|'gauge'|'summary'} type @param {Record<string,string>} labels
   * @param {unknown} value @param {string} [suffix] `_sum` / `_count` of a summary
   */
  add(name, type, labels, value, suffix = '') {
    const v = typeof value === 'boolean' ? Number(value) : value;
    if (typeof v !== 'number') return;
    let f = this.map.get(name);
    if (f === undefined) {
      f = { name, type, help: HELP[name] || `qerrors component stat ${name.replace(/^qerrors_component_/, '').replace(/_total$/, '')}.`, samples: [], seen: new Set() };
      this.map.set(name, f);
    } else if (f.type !== type) {
      return; // two fields reduced to one name with different types: the first keeps it
    }
    const id = suffix + JSON.stringify(labels);
    if (f.seen.has(id)) return; // cacheHits, cache_hits and cache-hits: one series
    f.seen.add(id);
    f.samples.push({ labels, value: v, suffix });
  }
}

/**
 * The snapshot as metric families.
 * @param {any} snap a getMetrics() snapshot
 */
function families(snap) {
  const f = new Families();
  const p = snap.process || {};
  const gauge = (name, value) => f.add(name, 'gauge', {}, value);
  gauge('qerrors_process_resident_memory_bytes', p.rssBytes);
  gauge('qerrors_process_heap_used_bytes', p.heapUsedBytes);
  gauge('qerrors_process_heap_total_bytes', p.heapTotalBytes);
  gauge('qerrors_process_heap_limit_bytes', p.heapLimitBytes);
  gauge('qerrors_process_external_bytes', p.externalBytes);
  gauge('qerrors_process_array_buffers_bytes', p.arrayBuffersBytes);
  gauge('qerrors_process_uptime_seconds', p.uptimeSeconds);

  const loop = snap.eventLoop || {};
  const samples = loop.samples || 0;
  f.add('qerrors_event_loop_delay_seconds', 'summary', { quantile: '0.5' }, loop.delayP50Ms / 1000);
  f.add('qerrors_event_loop_delay_seconds', 'summary', { quantile: '0.99' }, loop.delayP99Ms / 1000);
  f.add('qerrors_event_loop_delay_seconds', 'summary', {}, (loop.delayMeanMs * samples) / 1000, '_sum');
  f.add('qerrors_event_loop_delay_seconds', 'summary', {}, samples, '_count');
  gauge('qerrors_event_loop_delay_max_seconds', loop.delayMaxMs / 1000);

  const q = snap.qerrors || {};
  f.add('qerrors_errors_handled_total', 'counter', {}, q.errorsHandled);
  f.add('qerrors_call_duration_seconds', 'summary', { quantile: '0.5' }, q.latencyP50Ms / 1000);
  f.add('qerrors_call_duration_seconds', 'summary', { quantile: '0.99' }, q.latencyP99Ms / 1000);
  f.add('qerrors_call_duration_seconds', 'summary', {}, (q.latencySumMs ?? q.latencyMeanMs * q.errorsHandled) / 1000, '_sum');
  f.add('qerrors_call_duration_seconds', 'summary', {}, q.errorsHandled, '_count');

  for (const [name, stats] of Object.entries(snap.components || {})) {
    if (!stats || typeof stats !== 'object') continue;
    if (typeof stats.allowed === 'number' && typeof stats.limited === 'number') limiterFamilies(f, name, stats);
    else if (typeof stats.fires === 'number' && stats.percentiles && typeof stats.percentiles === 'object') breakerFamilies(f, name, stats);
    else componentFamilies(f, name, stats);
  }
  return [...f.map.values()];
}

function limiterFamilies(f, name, s) {
  const l = { limiter: name };
  f.add('qerrors_rate_limit_requests_total', 'counter', { ...l, outcome: 'allowed' }, s.allowed);
  f.add('qerrors_rate_limit_requests_total', 'counter', { ...l, outcome: 'limited' }, s.limited);
  f.add('qerrors_rate_limit_keys', 'gauge', l, s.keys);
  f.add('qerrors_rate_limit_keys_evicted_total', 'counter', l, s.evicted);
  f.add('qerrors_rate_limit_keys_swept_total', 'counter', l, s.swept);
}

const BREAKER_STATES = ['closed', 'open', 'half_open'];

function breakerFamilies(f, name, s) {
  const l = { breaker: name };
  if (typeof s.state === 'string') {
    const state = snake(s.state);
    for (const st of BREAKER_STATES) f.add('qerrors_breaker_state', 'gauge', { ...l, state: st }, st === state ? 1 : 0);
  }
  // opossum's stats cover a rolling window, so they rise and fall: gauges.
  for (const [k, v] of Object.entries(s)) {
    if (typeof v !== 'number' || k === 'latencyMean') continue;
    f.add(`qerrors_breaker_window_${snake(k)}`, 'gauge', l, v);
  }
  f.add('qerrors_breaker_window_latency_mean_seconds', 'gauge', l, s.latencyMean / 1000);
  for (const [qk, v] of Object.entries(s.percentiles)) {
    if (typeof v === 'number') f.add('qerrors_breaker_window_latency_seconds', 'gauge', { ...l, quantile: qk }, v / 1000);
  }
}

/**
 * Any other component: each number a gauge or, for the fields in COUNTER_FIELDS, a counter;
 * `…Ms` fields in seconds; booleans as 0/1; strings as `qerrors_component_info` labels;
 * nested objects joined with `_`, and objects keyed by numbers (quantiles) as a label.
 */
function componentFamilies(f, name, stats) {
  const hasRedis = stats.sharedCache !== false;
  const walk = (obj, prefix) => {
    const keys = Object.keys(obj);
    if (prefix && keys.length && keys.every((k) => k !== '' && Number.isFinite(Number(k)))) {
      const ms = /_ms$/.test(prefix);
      const base = `qerrors_component_${ms ? prefix.replace(/_ms$/, '_seconds') : prefix}`;
      for (const k of keys) if (typeof obj[k] === 'number') f.add(base, 'gauge', { component: name, quantile: k }, ms ? obj[k] / 1000 : obj[k]);
      return;
    }
    for (const k of keys) {
      const v = obj[k];
      const field = prefix ? `${prefix}_${snake(k)}` : snake(k);
      if (field === '') continue;
      if (v !== null && typeof v === 'object') walk(v, field);
      else if (REDIS_FIELDS.has(field) && !hasRedis) continue;
      else if (typeof v === 'string') f.add('qerrors_component_info', 'gauge', { component: name, field, value: v }, 1);
      else if (typeof v === 'number' || typeof v === 'boolean') {
        if (/_ms$/.test(field)) f.add(`qerrors_component_${field.replace(/_ms$/, '_seconds')}`, 'gauge', { component: name }, Number(v) / 1000);
        else if (COUNTER_FIELDS.has(field)) f.add(`qerrors_component_${field}_total`, 'counter', { component: name }, v);
        else f.add(`qerrors_component_${field}`, 'gauge', { component: name }, v);
      }
    }
  };
  walk(stats, '');
}

function labelValue(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function number(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Renders a snapshot in the Prometheus text exposition format (version 0.0.4). Never
 * throws on what tracked components return (see plainStats in lib/ops/metrics.js).
 * @param {any} [snapshot] a getMetrics() snapshot (default: a new one)
 * @returns {string}
 */
function toPrometheus(snapshot = require('./metrics').getMetrics()) {
  if (snapshot === null || typeof snapshot !== 'object') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'toPrometheus: the snapshot must be an object from getMetrics()');
  }
  const lines = [];
  for (const fam of families(snapshot)) {
    lines.push(`# HELP ${fam.name} ${fam.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${fam.name} ${fam.type}`);
    for (const s of fam.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${labelValue(v)}"`);
      lines.push(`${fam.name}${s.suffix}${labels.length ? `{${labels.join(',')}}` : ''} ${number(s.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * An Express (or plain `http`) handler serving the snapshot: JSON when the client asks for
 * it (`Accept: application/json` or `?format=json`), Prometheus text otherwise. It never
 * throws: a failure is answered with 500.
 * @returns {(req: any, res: any) => void}
 */
function metricsHandler() {
  return function qerrorsMetrics(req, res) {
    try {
      const snapshot = require('./metrics').getMetrics();
      const query = req && req.query;
      const accept = String((req && req.headers && req.headers.accept) || '');
      const wantsJson = (query && query.format === 'json') || /[?&]format=json(&|$)/.test(String((req && req.url) || '')) || /application\/json/.test(accept);
      const body = wantsJson ? JSON.stringify(snapshot) : toPrometheus(snapshot);
      res.setHeader('Content-Type', wantsJson ? 'application/json; charset=utf-8' : 'text/plain; version=0.0.4; charset=utf-8');
      res.end(body);
    } catch (err) {
      try {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(`qerrors metrics unavailable: ${String(err && err.message)}\n`);
      } catch {
        // The response itself is unusable (already sent or destroyed); nothing to answer.
      }
    }
  };
}

/**
 * Registers qerrors' metric families into a prom-client registry, so one scrape of the
 * service's registry includes them. prom-client is an optional peer dependency, loaded
 * only when no registry is passed (its global `register` is used then). Families that
 * appear later (a limiter or breaker created after this call) are registered at the next
 * scrape and show from the one after. Names already taken in the registry are left alone.
 * @param {{ registerMetric: (m: any) => void, removeSingleMetric?: (name: string) => void }} [registry]
 * @returns {() => void} unregisters what was registered
 */
function registerPromMetrics(registry) {
  const reg = registry === undefined ? loadPromClient().register : registry;
  if (reg === null || typeof reg !== 'object' || typeof reg.registerMetric !== 'function') {
    throw Object.assign(new TypeError('registerPromMetrics: registry must be a prom-client Registry'), { code: 'ERR_QERRORS_INVALID_ARG' });
  }
  const mine = new Map();
  let current = null;
  // One snapshot per scrape: the registry asks every metric in one synchronous pass.
  const scrape = () => {
    if (current === null) {
      current = new Map(families(require('./metrics').getMetrics()).map((fam) => [fam.name, fam]));
      queueMicrotask(() => {
        current = null;
      });
      for (const fam of current.values()) add(fam);
    }
    return current;
  };
  const add = (fam) => {
    if (mine.has(fam.name)) return;
    const metric = {
      name: fam.name,
      help: fam.help,
      type: fam.type,
      aggregator: 'sum',
      get: async () => {
        const now = scrape().get(fam.name);
        const values = now
          ? now.samples.map((s) => ({ labels: s.labels, value: s.value, metricName: `${fam.name}${s.suffix}` }))
          : [];
        return { name: fam.name, help: fam.help, type: fam.type, values, aggregator: 'sum' };
      },
      reset() {},
    };
    try {
      reg.registerMetric(metric);
      mine.set(fam.name, metric);
    } catch {
      // The name is taken by one of the service's own metrics: theirs stays.
      mine.set(fam.name, null);
    }
  };
  scrape();
  return () => {
    for (const [name, metric] of mine) if (metric && typeof reg.removeSingleMetric === 'function') reg.removeSingleMetric(name);
    mine.clear();
  };
}

function loadPromClient() {
  try {
    return require('prom-client');
  } catch (err) {
    throw codedError(Error, 'ERR_QERRORS_PROM_CLIENT_MISSING', `registerPromMetrics() needs prom-client (an optional peer dependency): install it, or pass your registry (${err.message})`, { cause: err });
  }
}

module.exports = { toPrometheus, metricsHandler, registerPromMetrics, families };
