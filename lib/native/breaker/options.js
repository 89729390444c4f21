'use strict';

// The breaker's two option forms, checked and normalized into one configuration: the
// qerrors form `(operation, serviceName, options)` and opossum's `(action, options)`.

const native = require('../loader');
const { optionError } = require('./errors');
const { MemoryCache } = require('./memoryCache');
const { windowOf } = require('./status');

const MAX_TIMER_MS = 2147483647;

/**
 * Reads an optional integer option.
 * @param {object} o
 * @param {string} name
 * @param {number} def
 * @param {number} min
 * @param {number} max
 */
function intOption(o, name, def, min, max) {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || Number.isNaN(v)) throw optionError(TypeError, `${name} must be a number`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw optionError(RangeError, `${name} must be an integer between ${min} and ${max}`);
  }
  return v;
}

/**
 * `v <= 0` as the original compared, for the values that comparison can convert without
 * throwing (a Symbol or an object without a usable valueOf is left to intOption's TypeError).
 * @param {unknown} v
 */
function atMostZero(v) {
  const t = typeof v;
  return (v === null || t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint') && v <= 0;
}

/**
 * Checks the options the original validates (exact messages), then everything else, and
 * returns the normalized configuration.
 * @param {unknown} operation
 * @param {Record<string, any> | undefined} options
 */
function normalize(operation, options) {
  if (!options || atMostZero(options.failureThreshold)) {
    throw optionError(options && typeof options === 'object' ? RangeError : TypeError, 'failureThreshold must be positive');
  }
  if (atMostZero(options.recoveryTimeoutMs)) throw optionError(RangeError, 'recoveryTimeoutMs must be positive');
  if (typeof operation !== 'function') throw optionError(TypeError, 'operation must be a function');

  const failureThreshold = intOption(options, 'failureThreshold', 5, 1, 2 ** 32 - 1);
  const recovery = intOption(options, 'recoveryTimeoutMs', 30000, 1, MAX_TIMER_MS);
  const monitoring = intOption(options, 'monitoringPeriodMs', 60000, 1, MAX_TIMER_MS);
  const timeoutMs = options.timeoutMs === false ? false : intOption(options, 'timeoutMs', 0, 0, MAX_TIMER_MS);
  let timeout = timeoutMs === false ? 0 : timeoutMs || 10000;
  if (options.timeout !== undefined) {
    timeout = options.timeout === false ? 0 : intOption(options, 'timeout', 0, 0, MAX_TIMER_MS);
  }
  const pct = options.errorThresholdPercentage;
  if (pct !== undefined && pct !== false && (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))) {
    throw optionError(typeof pct === 'number' ? RangeError : TypeError, 'errorThresholdPercentage must be a number from 0 to 100, or false to disable');
  }
  for (const name of ['fallback', 'errorFilter']) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw optionError(TypeError, `${name} must be a function`);
    }
  }
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') throw optionError(TypeError, 'enabled must be a boolean');
  if (options.log !== undefined && typeof options.log !== 'boolean') throw optionError(TypeError, 'log must be a boolean');
  if (options.clock !== undefined && !(options.clock instanceof native.CircuitBreakerFakeClock)) {
    throw optionError(TypeError, 'clock must be a CircuitBreakerFakeClock');
  }
  const resetTimeout = intOption(options, 'resetTimeout', recovery, 1, MAX_TIMER_MS);
  const rollingCountTimeout = intOption(options, 'rollingCountTimeout', monitoring, 1, MAX_TIMER_MS);
  const rollingCountBuckets = intOption(options, 'rollingCountBuckets', 10, 1, 1000);
  if (rollingCountBuckets > rollingCountTimeout) {
    throw optionError(RangeError, 'rollingCountBuckets must not exceed rollingCountTimeout (ms)');
  }
  return {
    timeout,
    fallback: options.fallback,
    errorFilter: options.errorFilter,
    enabled: options.enabled !== false,
    log: options.log !== false,
    clock: options.clock,
    resetTimeout,
    bucketMs: Math.ceil(rollingCountTimeout / rollingCountBuckets),
    native: {
      failureThreshold,
      resetTimeout,
      rollingCountTimeout,
      rollingCountBuckets,
      errorThresholdPercentage: pct === undefined ? 50 : pct,
      volumeThreshold: intOption(options, 'volumeThreshold', Math.max(10, failureThreshold), 0, 2 ** 32 - 1),
      halfOpenMaxProbes: intOption(options, 'halfOpenMaxProbes', 1, 1, 2 ** 32 - 1),
    },
  };
}

const MAX_FAILURES_DEPRECATION = 'options.maxFailures is deprecated. Please use options.errorThresholdPercentage';

/**
 * opossum's `(action, options)` form: opossum's defaults filled into a copy of the
 * options (`breaker.options`), opossum's tolerance (0 for the window sizes means the
 * default) and its rule: open when more than `errorThresholdPercentage` % of the fires in
 * the window failed, once `volumeThreshold` fires were seen; no consecutive-failure rule.
 * A `fallback` key is ignored, as opossum does: use `breaker.fallback(fn)`.
 * @param {unknown} action
 * @param {Record<string, any> | undefined} given
 */
function normalizeOpossum(action, given) {
  if (!action) {
    throw optionError(TypeError, 'No action provided. Cannot construct a CircuitBreaker without an invocable action.');
  }
  if (given !== undefined && (given === null || typeof given !== 'object')) throw optionError(TypeError, 'options must be an object');
  const o = { ...given };
  o.timeout = o.timeout ?? 10000;
  o.resetTimeout = o.resetTimeout ?? 30000;
  o.errorThresholdPercentage = o.errorThresholdPercentage ?? 50;
  o.rollingCountTimeout = o.rollingCountTimeout ?? 10000;
  o.rollingCountBuckets = o.rollingCountBuckets ?? 10;
  o.rollingPercentilesEnabled = o.rollingPercentilesEnabled !== false;
  o.capacity = Number.isInteger(o.capacity) ? o.capacity : Number.MAX_SAFE_INTEGER;
  o.cacheTTL = o.cacheTTL ?? 0;
  o.cacheGetKey = o.cacheGetKey ?? ((...args) => JSON.stringify(args));
  o.enableSnapshots = o.enableSnapshots !== false;
  o.coalesce = Boolean(o.coalesce);
  o.coalesceTTL = o.coalesceTTL ?? o.timeout;
  o.coalesceResetOn = Array.isArray(o.coalesceResetOn) ? o.coalesceResetOn.filter((e) => e === 'error' || e === 'success' || e === 'timeout') : [];
  if (o.cache) {
    if (o.cacheTransport === undefined) o.cacheTransport = new MemoryCache(o.cacheSize);
    else if (!o.cacheTransport || typeof o.cacheTransport !== 'object' || !o.cacheTransport.get || !o.cacheTransport.set || !o.cacheTransport.flush) {
      throw optionError(TypeError, 'options.cacheTransport should be an object with `get`, `set` and `flush` methods');
    }
  }
  if (o.coalesce) o.coalesceCache = new MemoryCache(o.coalesceSize);
  if (o.autoRenewAbortController && !o.abortController) o.abortController = new AbortController();
  if (o.abortController && typeof o.abortController.abort !== 'function') {
    throw optionError(TypeError, 'AbortController does not contain `abort()` method');
  }
  if (o.errorFilter !== undefined && typeof o.errorFilter !== 'function') throw optionError(TypeError, 'errorFilter must be a function');
  if (o.clock !== undefined && !(o.clock instanceof native.CircuitBreakerFakeClock)) {
    throw optionError(TypeError, 'clock must be a CircuitBreakerFakeClock');
  }
  const pct = o.errorThresholdPercentage;
  if (pct !== false && (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))) {
    throw optionError(typeof pct === 'number' ? RangeError : TypeError, 'errorThresholdPercentage must be a number from 0 to 100, or false to disable');
  }
  if (o.maxFailures) console.error(MAX_FAILURES_DEPRECATION);
  const win = windowOf(o);
  const rollingCountTimeout = intOption(win, 'rollingCountTimeout', 10000, 1, MAX_TIMER_MS);
  const rollingCountBuckets = intOption(win, 'rollingCountBuckets', 10, 1, 1000);
  if (rollingCountBuckets > rollingCountTimeout) {
    throw optionError(RangeError, 'rollingCountBuckets must not exceed rollingCountTimeout (ms)');
  }
  const timeout = o.timeout === false ? 0 : intOption(o, 'timeout', 0, 0, MAX_TIMER_MS);
  const resetTimeout = intOption(o, 'resetTimeout', 30000, 0, MAX_TIMER_MS);
  const warmUp = o.allowWarmUp === true || (o.state && o.state.warmUp === true);
  return {
    opossum: true,
    options: o,
    timeout,
    fallback: undefined,
    errorFilter: o.errorFilter,
    enabled: o.enabled !== false,
    log: false,
    clock: o.clock,
    resetTimeout,
    bucketMs: Math.ceil(rollingCountTimeout / rollingCountBuckets),
    native: {
      failureThreshold: 0,
      resetTimeout,
      rollingCountTimeout,
      rollingCountBuckets,
      errorThresholdPercentage: pct,
      volumeThreshold: Number.isInteger(o.volumeThreshold) && o.volumeThreshold >= 0 ? o.volumeThreshold : 0,
      halfOpenMaxProbes: 1,
      windowRule: true,
      manualRotation: Boolean(o.rotateBucketController),
      warmUp: warmUp ? rollingCountTimeout : 0,
    },
  };
}

module.exports = { normalize, normalizeOpossum, MAX_TIMER_MS };
