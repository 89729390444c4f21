'use strict';

// The `queueManager` namespace (docs/retry-and-queue.md): concurrency limiters with p-limit
// semantics (FIFO, at most `concurrency` tasks running), a global admission cap shared by every
// limiter (QERRORS_QUEUE_LIMIT, default 100, counting running plus waiting tasks), an optional
// per-limiter bound on waiting tasks, exact reject counting and periodic metrics logging.
//
// The bookkeeping stays in JS: one task costs a few counter updates, far less than one crossing
// into the native addon. Nothing here starts until it is used.

const { performance } = require('node:perf_hooks');
const config = require('../policy/config');
const { codedError } = require('../policy/errors');
const aiPipeline = require('../native/ai');

const CAPACITY_MESSAGE = 'Queue at capacity - request rejected to prevent memory exhaustion';
const DURATION_WINDOW = 1000;

// Process-wide counters, shared by every limiter.
const totals = {
  inFlight: 0, // running + waiting, what the global cap bounds
  active: 0,
  pending: 0,
  rejects: 0,
  processed: 0,
};
// Rolling window of the last DURATION_WINDOW task durations (ms).
const durations = new Float64Array(DURATION_WINDOW);
let durationNext = 0;
let durationCount = 0;
let durationSum = 0;

// Read from QERRORS_QUEUE_LIMIT on first admission, then kept: admission is a hot path.
let globalCap = 0;

function admissionCap() {
  if (globalCap === 0) globalCap = config.readSettings().queueLimit;
  return globalCap;
}

function recordDuration(ms) {
  if (durationCount === DURATION_WINDOW) durationSum -= durations[durationNext];
  else durationCount++;
  durations[durationNext] = ms;
  durationSum += ms;
  durationNext = (durationNext + 1) % DURATION_WINDOW;
}

// Rejections happen under overload, when they must be cheapest: capturing a stack trace is two
// thirds of the cost of one (benchmark/RESULTS.md, queue), and it would only point here.
function capacityError() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = codedError(Error, 'ERR_QERRORS_QUEUE_FULL', CAPACITY_MESSAGE);
  Error.stackTraceLimit = limit;
  return err;
}

function invalidArg(Ctor, message, code = 'ERR_QERRORS_INVALID_ARG') {
  return codedError(Ctor, code, message);
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
class Fifo {
  constructor() {
    this.items = [];
    this.head = 0;
  }
  get size() {
    return this.items.length - this.head;
  }
  push(item) {
    this.items.push(item);
  }
  shift() {
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * Creates a limiter: `limiter(task, ...args)` runs `task(...args)` once fewer than `concurrency`
 * of this limiter's tasks are running, and settles with its result. It always returns a Promise
 * (a synchronous throw becomes a rejection). A submission is rejected with
 * `Error('Queue at capacity - request rejected to prevent memory exhaustion')` (code
 * `ERR_QERRORS_QUEUE_FULL`) when the process already holds QERRORS_QUEUE_LIMIT tasks (default
 * 100) across all limiters, or when this limiter already has `options.maxQueue` tasks waiting.
 * Limiters are not pooled: each call returns an independent limiter.
 *
 * @param {number} [concurrency=5] an integer >= 1, or Infinity
 * @param {{ maxQueue?: number }} [options] maxQueue: most tasks allowed to wait (default: no
 *   per-limiter bound beyond the global cap)
 */
function createLimiter(concurrency = 5, options = {}) {
  if (!(Number.isInteger(concurrency) || concurrency === Number.POSITIVE_INFINITY) || concurrency < 1) {
    throw invalidArg(TypeError, 'Expected `concurrency` to be a number from 1 and up', 'ERR_QERRORS_INVALID_CONCURRENCY');
  }
  if (options === null || typeof options !== 'object') {
    throw invalidArg(TypeError, 'createLimiter: options must be an object');
  }
  const maxQueue = options.maxQueue === undefined ? Number.POSITIVE_INFINITY : options.maxQueue;
  if (!(Number.isInteger(maxQueue) || maxQueue === Number.POSITIVE_INFINITY) || maxQueue < 0) {
    throw invalidArg(RangeError, 'createLimiter: options.maxQueue must be an integer >= 0');
  }

  const waiting = new Fifo();
  let active = 0;

  // Starts `task` now; the returned promise settles like it, once the slot is released.
  function start(task, args) {
    active++;
    totals.active++;
    const started = performance.now();
    let result;
    try {
      result = Promise.resolve(args === undefined ? task() : task(...args));
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.then(
      (value) => {
        done(started);
        return value;
      },
      (err) => {
        done(started);
        throw err;
      }
    );
  }

  function done(started) {
    recordDuration(performance.now() - started);
    active--;
    totals.active--;
    totals.inFlight--;
    totals.processed++;
    if (waiting.size > 0 && active < concurrency) {
      totals.pending--;
      const job = waiting.shift();
      start(job.task, job.args).then(job.resolve, job.reject);
    }
  }

  function limiter(task) {
    if (typeof task !== 'function') {
      return Promise.reject(invalidArg(TypeError, 'limiter: task must be a function'));
    }
    const mustWait = active >= concurrency;
    if (totals.inFlight >= admissionCap() || (mustWait && waiting.size >= maxQueue)) {
      totals.rejects++;
      return Promise.reject(capacityError());
    }
    totals.inFlight++;
    // Extra arguments are passed to the task; the common no-argument call allocates no array.
    const args = arguments.length > 1 ? Array.prototype.slice.call(arguments, 1) : undefined;
    if (!mustWait) return start(task, args);
    return new Promise((resolve, reject) => {
      totals.pending++;
      waiting.push({ task, args, resolve, reject });
    });
  }

  Object.defineProperties(limiter, {
    activeCount: { get: () => active, enumerable: true },
    pendingCount: { get: () => waiting.size, enumerable: true },
    concurrency: { value: concurrency, enumerable: true },
  });
  return limiter;
}

/** The running AI pipeline's stats, or null: reading metrics never starts the pipeline. */
function pipelineStats() {
  try {
    const stats = aiPipeline._peekStats();
    return stats && typeof stats === 'object' ? stats : null;
  } catch {
    return null;
  }
}

function count(value) {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Tasks waiting for a slot (not yet started) in every limiter and the AI analysis queue. */
function getQueueLength() {
  const ai = pipelineStats();
  return totals.pending + (ai ? count(ai.queued) : 0);
}

/** Submissions rejected for capacity since start, limiters and AI analysis queue together. */
function getQueueRejectCount() {
  const ai = pipelineStats();
  return totals.rejects + (ai ? count(ai.rejected) : 0);
}

/** The intended shape of the original `getQueueMetrics()`, for the limiters. */
function getQueueMetrics() {
  return {
    rejectCount: getQueueRejectCount(),
    activeCount: totals.active,
    totalProcessed: totals.processed,
    averageProcessingTime: durationCount === 0 ? 0 : durationSum / durationCount,
    queueSize: getQueueLength(),
    maxQueueSize: admissionCap(),
  };
}

/** Logs one `Queue metrics: …` info line (through the qerrors logger when present). */
function logQueueMetrics() {
  const m = getQueueMetrics();
  const line =
    `Queue metrics: rejects=${m.rejectCount}, active=${m.activeCount}, queued=${m.queueSize}, ` +
    `processed=${m.totalProcessed}, avg_time=${Math.round(m.averageProcessingTime)}ms`;
  // Required here, not at load: the metrics snapshot loads this module, and it must not load
  // the logger (the AI module logs advice once the logger is loaded).
  const logger = require('../logging/logger');
  Promise.resolve()
    .then(() => logger.logInfo(line))
    .catch(() => {});
  return line;
}

let metricsTimer = null;

/**
 * Starts logging queue metrics every `intervalMs` (default QERRORS_METRIC_INTERVAL_MS, 60000).
 * Idempotent: a running timer is kept as it is. The timer is unref'd.
 * @param {number} [intervalMs]
 */
function startQueueMetrics(intervalMs = undefined) {
  if (intervalMs !== undefined && (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 2147483647)) {
    throw invalidArg(RangeError, 'startQueueMetrics: intervalMs must be an integer from 1 to 2147483647');
  }
  if (metricsTimer) return;
  const ms = intervalMs === undefined ? config.readSettings().metricIntervalMs : intervalMs;
  metricsTimer = setInterval(logQueueMetrics, ms);
  metricsTimer.unref();
}

/** Stops the metrics timer. Idempotent. */
function stopQueueMetrics() {
  if (!metricsTimer) return;
  clearInterval(metricsTimer);
  metricsTimer = null;
}

module.exports = {
  createLimiter,
  getQueueLength,
  getQueueRejectCount,
  startQueueMetrics,
  stopQueueMetrics,
};

Object.defineProperties(module.exports, {
  getQueueMetrics: { value: getQueueMetrics },
  logQueueMetrics: { value: logQueueMetrics },
});
