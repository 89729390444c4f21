'use strict';

// One snapshot of everything qerrors measures: process memory, event-loop delay,
// qerrors() call latency, and the stats of every tracked component (AI pipeline,
// queue, breakers, limiters, caches). Rendered as JSON or Prometheus text.
//
// Nothing here starts work at require time: the event-loop delay monitor starts on the
// first snapshot (its timer does not keep the process alive), and the latency
// histogram is a fixed array.

const { monitorEventLoopDelay } = require('node:perf_hooks');
const queue = require('../compat/queue');

// Latency histogram: log-spaced buckets from 1 µs to ~17 min, 8 per power of two, so
// quantiles are within ~9% and memory is fixed whatever the call count.
const SUB_BUCKETS = 8;
const MIN_US = 1;
const BUCKETS = 30 * SUB_BUCKETS;

class LatencyHistogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }

  /** @param {number} ms */
  record(ms) {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const us = Math.max(ms * 1000, MIN_US);
    const idx = Math.min(BUCKETS - 1, Math.floor(Math.log2(us / MIN_US) * SUB_BUCKETS));
    this.counts[idx] += 1;
    this.count += 1;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** @param {number} q quantile in [0, 1] @returns {number} milliseconds (bucket upper bound) */
  quantile(q) {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxMs, (MIN_US * 2 ** ((i + 1) / SUB_BUCKETS)) / 1000);
    }
    return this.maxMs;
  }

  reset() {
    this.counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }
}

const calls = new LatencyHistogram();
/** @type {Map<string, () => object>} */
const sources = new Map();
let loopDelay = null;

/**
 * Records the duration of one handled error (called by `qerrors()`).
 * @param {number} ms
 */
function recordCall(ms) {
  calls.record(ms);
}

/**
 * Adds a component to every snapshot under `name` (e.g. `breaker.payments`). The
 * function returns a flat object of numbers (and short strings). A source given as an
 * object with `stats` (a method or a getter) is held weakly, so tracking never leaks it.
 * @param {string} name
 * @param {(() => object) | { stats: object | (() => object) }} source
 * @returns {() => void} untrack
 */
function track(name, source) {
  if (typeof name !== 'string' || name === '') {
    throw Object.assign(new TypeError('metrics.track: name must be a non-empty string'), { code: 'ERR_QERRORS_INVALID_ARG' });
  }
  let read;
  if (typeof source === 'function') {
    read = source;
  } else if (source && typeof source === 'object' && 'stats' in source) {
    // Held weakly so tracking never keeps a component alive. `stats` may be a method
    // (limiters, caches) or an opossum-style getter (circuit breakers); a `state`
    // property, when present, is reported too.
    const ref = new WeakRef(source);
    read = () => {
      const s = ref.deref();
      if (!s) {
        sources.delete(name);
        return null;
      }
      const stats = typeof s.stats === 'function' ? s.stats() : s.stats;
      const state = typeof s.state === 'string' ? s.state : typeof s.getState === 'function' ? s.getState() : undefined;
      return state === undefined ? stats : { state, ...stats };
    };
  } else {
    throw Object.assign(new TypeError('metrics.track: source must be a function or an object with stats'), { code: 'ERR_QERRORS_INVALID_ARG' });
  }
  sources.set(name, read);
  return () => {
    if (sources.get(name) === read) sources.delete(name);
  };
}

function eventLoop() {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
  }
  const ns = (x) => (Number.isFinite(x) ? x / 1e6 : 0);
  return {
    delayMeanMs: ns(loopDelay.mean),
    delayP50Ms: ns(loopDelay.percentile(50)),
    delayP99Ms: ns(loopDelay.percentile(99)),
    delayMaxMs: ns(loopDelay.max),
  };
}

/**
 * One snapshot of all stats. Plain data, safe to JSON.stringify.
 * @returns {import('../../native').MetricsSnapshot}
 */
function getMetrics() {
  const mem = process.memoryUsage();
  // node:v8 is loaded here, not with the module: the first error loads this module, and
  // loading node:v8 costs ~2 ms.
  const heap = require('node:v8').getHeapStatistics();
  const components = {};
  for (const [name, read] of sources) {
    try {
      const s = read();
      if (s) components[name] = s;
    } catch (err) {
      components[name] = { error: String(err && err.message) };
    }
  }
  // The queueManager limiters and the AI analysis queue (read only while the pipeline runs:
  // a snapshot never starts it).
  if (!components.queue) {
    try {
      components.queue = queue.getQueueMetrics();
    } catch (err) {
      components.queue = { error: String(err && err.message) };
    }
  }
  return {
    timestamp: new Date().toISOString(),
    process: {
      uptimeSeconds: process.uptime(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      heapLimitBytes: heap.heap_size_limit,
      externalBytes: mem.external,
      arrayBuffersBytes: mem.arrayBuffers,
    },
    eventLoop: eventLoop(),
    qerrors: {
      errorsHandled: calls.count,
      latencyMeanMs: calls.count ? calls.sumMs / calls.count : 0,
      latencyP50Ms: calls.quantile(0.5),
      latencyP99Ms: calls.quantile(0.99),
      latencyMaxMs: calls.maxMs,
    },
    components,
  };
}

const HELP = {
  process_rss_bytes: 'Resident set size of the process.',
  process_heap_used_bytes: 'V8 heap in use.',
  process_heap_total_bytes: 'V8 heap allocated.',
  process_heap_limit_bytes: 'V8 heap size limit.',
  process_external_bytes: 'Memory of C++ objects bound to JS objects (includes native buffers).',
  process_array_buffers_bytes: 'Memory of ArrayBuffers and Buffers.',
  process_uptime_seconds: 'Process uptime.',
  event_loop_delay_mean_ms: 'Mean event-loop delay since monitoring started.',
  event_loop_delay_p50_ms: 'Median event-loop delay.',
  event_loop_delay_p99_ms: '99th percentile event-loop delay.',
  event_loop_delay_max_ms: 'Maximum event-loop delay.',
  errors_handled_total: 'Errors handled by qerrors().',
  call_latency_mean_ms: 'Mean time of a qerrors() call.',
  call_latency_p50_ms: 'Median time of a qerrors() call.',
  call_latency_p99_ms: '99th percentile time of a qerrors() call.',
  call_latency_max_ms: 'Maximum time of a qerrors() call.',
};

function metricName(s) {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
}

function labelValue(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * Renders a snapshot in the Prometheus text exposition format (version 0.0.4).
 * Component numbers become `qerrors_component_<field>{component="<name>"}` gauges (or
 * counters for fields ending in a count-like name); strings become `_info` labels.
 * @param {ReturnType<typeof getMetrics>} [snapshot]
 * @returns {string}
 */
function toPrometheus(snapshot = getMetrics()) {
  const lines = [];
  const emit = (name, type, help, samples) => {
    const full = `qerrors_${name}`;
    lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${type}`);
    for (const [labels, value] of samples) lines.push(`${full}${labels} ${Number.isFinite(value) ? value : 0}`);
  };
  const p = snapshot.process;
  const flat = {
    process_rss_bytes: p.rssBytes,
    process_heap_used_bytes: p.heapUsedBytes,
    process_heap_total_bytes: p.heapTotalBytes,
    process_heap_limit_bytes: p.heapLimitBytes,
    process_external_bytes: p.externalBytes,
    process_array_buffers_bytes: p.arrayBuffersBytes,
    process_uptime_seconds: p.uptimeSeconds,
    event_loop_delay_mean_ms: snapshot.eventLoop.delayMeanMs,
    event_loop_delay_p50_ms: snapshot.eventLoop.delayP50Ms,
    event_loop_delay_p99_ms: snapshot.eventLoop.delayP99Ms,
    event_loop_delay_max_ms: snapshot.eventLoop.delayMaxMs,
    errors_handled_total: snapshot.qerrors.errorsHandled,
    call_latency_mean_ms: snapshot.qerrors.latencyMeanMs,
    call_latency_p50_ms: snapshot.qerrors.latencyP50Ms,
    call_latency_p99_ms: snapshot.qerrors.latencyP99Ms,
    call_latency_max_ms: snapshot.qerrors.latencyMaxMs,
  };
  for (const [name, value] of Object.entries(flat)) {
    emit(name, name.endsWith('_total') ? 'counter' : 'gauge', HELP[name], [['', value]]);
  }

  // Group component fields by metric name so each name has one HELP/TYPE block.
  const numeric = new Map();
  const info = [];
  for (const [component, stats] of Object.entries(snapshot.components)) {
    for (const [field, value] of Object.entries(flatten(stats))) {
      if (typeof value === 'number') {
        const name = `component_${metricName(field)}`;
        if (!numeric.has(name)) numeric.set(name, []);
        numeric.get(name).push([`{component="${labelValue(component)}"}`, value]);
      } else if (typeof value === 'string' || typeof value === 'boolean') {
        info.push([`{component="${labelValue(component)}",field="${labelValue(field)}",value="${labelValue(value)}"}`, 1]);
      }
    }
  }
  for (const [name, samples] of numeric) {
    emit(name, 'gauge', `Component stat ${name.slice('component_'.length)}.`, samples);
  }
  if (info.length) emit('component_info', 'gauge', 'Component state as labels.', info);
  return `${lines.join('\n')}\n`;
}

/** Flattens nested objects into dotted keys (one level of arrays is skipped). */
function flatten(obj, prefix = '', out = {}) {
  if (!obj || typeof obj !== 'object') return out;
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else if (!Array.isArray(v)) out[key] = v;
  }
  return out;
}

/**
 * An Express handler serving the snapshot: JSON when the client asks for it
 * (`Accept: application/json` or `?format=json`), Prometheus text otherwise.
 * @returns {(req: any, res: any) => void}
 */
function metricsHandler() {
  return function qerrorsMetrics(req, res) {
    const snapshot = getMetrics();
    const wantsJson =
      (req.query && req.query.format === 'json') || /application\/json/.test(String((req.headers && req.headers.accept) || ''));
    if (wantsJson) {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(snapshot));
    } else {
      res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end(toPrometheus(snapshot));
    }
  };
}

module.exports = { getMetrics, toPrometheus, metricsHandler, recordCall, track, LatencyHistogram };
