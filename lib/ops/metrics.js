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

/** Sampling period of the event-loop delay monitor. */
const LOOP_RESOLUTION_MS = 20;

/**
 * Event-loop delay. The monitor's timer fires every LOOP_RESOLUTION_MS and records the time
 * since the previous tick, so an idle loop reads the period itself; the period is subtracted
 * (a tick that came slightly early counts as 0).
 */
function eventLoop() {
  if (!loopDelay) {
    loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loopDelay.enable();
  }
  const ms = (ns) => (loopDelay.count > 0 ? delayBeyondPeriodMs(ns) : 0);
  return {
    delayMeanMs: ms(loopDelay.mean),
    delayP50Ms: ms(loopDelay.percentile(50)),
    delayP99Ms: ms(loopDelay.percentile(99)),
    delayMaxMs: ms(loopDelay.max),
    samples: loopDelay.count,
    resolutionMs: LOOP_RESOLUTION_MS,
  };
}

/** A recorded tick interval (ns) as the delay beyond the sampling period (ms, never below 0). */
function delayBeyondPeriodMs(ns) {
  return Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0;
}

// Bounds of a component's stats as copied into a snapshot: a source may hand back anything.
const MAX_DEPTH = 4;
const MAX_KEYS = 200;
const MAX_STRING = 200;

/**
 * A JSON-safe copy of a component's stats: numbers (BigInts as numbers), short strings,
 * booleans and nested plain objects, at most MAX_DEPTH deep and MAX_KEYS wide; cycles,
 * arrays, functions and symbols are left out, so neither JSON nor the Prometheus text can
 * overflow the stack or throw on what a tracked component returns.
 * @param {unknown} value
 * @param {Set<object>} path objects on the way down (a cycle returns to one of them)
 * @returns {unknown}
 */
function plainStats(value, path = new Set()) {
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'string':
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    case 'object': {
      if (value === null || Array.isArray(value) || path.has(value) || path.size >= MAX_DEPTH) return undefined;
      if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : undefined;
      path.add(value);
      const out = {};
      let n = 0;
      for (const k of Object.keys(value)) {
        if (n++ >= MAX_KEYS) break;
        const v = plainStats(value[k], path);
        if (v !== undefined) out[k] = v;
      }
      path.delete(value);
      return out;
    }
    default:
      return undefined;
  }
}

/** Functions returning `[name, stats]` pairs of components that come and go (see getMetrics). */
const sourceLists = [];

/**
 * Adds a function listing `[name, stats]` pairs to every snapshot (the rateLimit() middlewares).
 * @param {() => Iterable<[string, object]>} list
 */
function registerSourceList(list) {
  if (!sourceLists.includes(list)) sourceLists.push(list);
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
  const add = (name, read) => {
    try {
      const s = plainStats(read());
      if (s && typeof s === 'object') components[name] = s;
    } catch (err) {
      components[name] = { error: String(err && err.message) };
    }
  };
  for (const [name, read] of sources) add(name, read);
  // Every rateLimit() middleware of the process: the limiter module hands its list in when it
  // loads (registerSourceList), so reading metrics never loads the limiter or the addon.
  for (const list of sourceLists) {
    for (const [name, stats] of list()) if (!components[name]) add(name, () => stats);
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
      latencySumMs: calls.sumMs,
    },
    components,
  };
}

module.exports = { getMetrics, recordCall, track, registerSourceList, LatencyHistogram, plainStats, delayBeyondPeriodMs, LOOP_RESOLUTION_MS };

// The Prometheus rendering and the prom-client bridge read snapshots only.
const prometheus = require('./prometheus');

Object.assign(module.exports, {
  toPrometheus: prometheus.toPrometheus,
  metricsHandler: prometheus.metricsHandler,
  registerPromMetrics: prometheus.registerPromMetrics,
});
