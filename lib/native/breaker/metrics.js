'use strict';

// The qerrors API's counters since creation (`metrics`, `getMetrics()`, the success and
// failure rates, the `healthCheck()` snapshot), read from the breaker's shared
// Float64Array after queued successes are flushed.

const { breakerSlots } = require('../contract');

const S_FIRES = breakerSlots.FIRES;
const S_SUCCESSES = breakerSlots.SUCCESSES;
const S_FAILURES = breakerSlots.FAILURES;
const S_LATENCY_SUM = breakerSlots.LATENCY_SUM;
const S_LAST_SUCCESS = breakerSlots.LAST_SUCCESS_MS;
const S_LAST_FAILURE = breakerSlots.LAST_FAILURE_MS;

/**
 * The breaker's native side as these views read it.
 * @typedef {object} Source
 * @property {any} h the native handle
 * @property {Float64Array} shared its slots
 * @property {() => void} flush records the queued successes
 */

/**
 * Converts a breaker-clock time to wall-clock ms.
 * @param {any} h the native handle
 * @param {number} t
 */
function wallTime(h, t) {
  return Date.now() - (h.now() - t);
}

/**
 * The `metrics` object: live counters read when accessed. The average and the last
 * success go through the breaker's methods, which a subclass may override.
 * @param {any} breaker
 * @param {Source} source
 */
function liveMetrics(breaker, source) {
  const { h, shared: sh, flush } = source;
  return {
    get totalRequests() {
      flush();
      return sh[S_FIRES];
    },
    get successfulRequests() {
      flush();
      return sh[S_SUCCESSES];
    },
    get failedRequests() {
      flush();
      return sh[S_FAILURES];
    },
    get averageResponseTime() {
      return breaker._updateAverageResponseTime();
    },
    get lastFailureTime() {
      return sh[S_LAST_FAILURE] < 0 ? null : wallTime(h, sh[S_LAST_FAILURE]);
    },
    get lastSuccessTime() {
      return breaker._trackSuccess();
    },
  };
}

/** Mean latency (ms) of all recorded results since creation. @param {Source} source */
function meanLatency(source) {
  source.flush();
  const sh = source.shared;
  const n = sh[S_SUCCESSES] + sh[S_FAILURES];
  return n === 0 ? 0 : sh[S_LATENCY_SUM] / n;
}

/** Wall-clock time (ms since epoch) of the last success, or null. @param {Source} source */
function lastSuccessTime(source) {
  source.flush();
  const t = source.shared[S_LAST_SUCCESS];
  return t < 0 ? null : wallTime(source.h, t);
}

/** Successes per fire since creation; 1 before the first call. @param {Source} source */
function successRate(source) {
  source.flush();
  const fires = source.shared[S_FIRES];
  return fires === 0 ? 1 : source.shared[S_SUCCESSES] / fires;
}

/** Failures (timeouts included) per fire since creation; 0 before the first call. @param {Source} source */
function failureRate(source) {
  source.flush();
  const fires = source.shared[S_FIRES];
  return fires === 0 ? 0 : source.shared[S_FAILURES] / fires;
}

/** `getMetrics()`: the counters since creation and opossum's window. @param {any} breaker */
function metricsReport(breaker) {
  const m = breaker.metrics;
  const s = breaker.stats;
  return {
    totalRequests: m.totalRequests,
    successfulRequests: m.successfulRequests,
    failedRequests: m.failedRequests,
    averageResponseTime: m.averageResponseTime,
    lastFailureTime: m.lastFailureTime,
    lastSuccessTime: m.lastSuccessTime,
    opossumStats: {
      total: s.fires,
      successful: s.successes,
      failed: s.failures,
      timeouts: s.timeouts,
      circuitOpen: breaker.isOpen(),
      averageResponseTime: s.latencyMean,
    },
  };
}

/** The qerrors form's synchronous `healthCheck()`. @param {any} breaker */
function snapshot(breaker) {
  return {
    state: breaker.getState(),
    isRequestAllowed: breaker.isRequestAllowed(),
    isOpen: breaker.isOpen(),
    stats: breaker.getStats(),
    metrics: breaker.getMetrics(),
  };
}

module.exports = { wallTime, liveMetrics, meanLatency, lastSuccessTime, successRate, failureRate, metricsReport, snapshot };
