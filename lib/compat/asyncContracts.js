'use strict';

// The `asyncContracts` namespace (docs/retry-and-queue.md): retries with backoff and jitter, the
// original's count-based circuit breaker (an adapter over lib/native/breaker.js), the
// StandardAsyncExecutor envelope and AsyncOperationFactory.
//
// Deliberate deviations from the original package (docs/api.md):
// - `maxAttempts` counts TOTAL calls (`retryAttempts` still counts retries after the first call);
// - StandardAsyncExecutor works with its default configuration, keeps its metrics and honours a
//   per-call `retryAttempts`.
// Every wait goes through an injectable clock (`config.clock` / `options.sleep`), so tests need
// no real sleeps, and every real timer is unref'd.

const { performance } = require('node:perf_hooks');
const logger = require('../logging/logger');
const { codedError } = require('../policy/errors');

function typeError(message) {
  return codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', message);
}

function rangeError(message) {
  return codedError(RangeError, 'ERR_QERRORS_INVALID_ARG', message);
}

const MAX_TIMER_MS = 2147483647;

/** The process clock: epoch milliseconds with sub-millisecond precision, unref'd timers. */
const systemClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t),
};

/**
 * @param {unknown} clock
 * @returns {{ now(): number, setTimeout(fn: Function, ms: number): unknown, clearTimeout(t: unknown): void }}
 */
function checkClock(clock) {
  if (clock === undefined) return systemClock;
  if (
    clock === null ||
    typeof clock !== 'object' ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw typeError('clock must be an object with now(), setTimeout(fn, ms) and clearTimeout(handle)');
  }
  return clock;
}

/** Best effort: a logger failure never reaches the operation's caller. */
function logVia(method, message, data) {
  Promise.resolve()
    .then(() => logger[method](message, data))
    .catch(() => {});
}

// ---- presets ----------------------------------------------------------------------------------

/** Shared, mutable presets; `maxAttempts` is the total number of calls. */
const RetryConfigPresets = {
  network: { maxAttempts: 5, baseDelay: 1000, maxDelay: 30000, backoffFactor: 2, jitter: true },
  database: { maxAttempts: 3, baseDelay: 500, maxDelay: 5000, backoffFactor: 2, jitter: true },
  externalAPI: { maxAttempts: 4, baseDelay: 2000, maxDelay: 60000, backoffFactor: 2.5, jitter: true },
  filesystem: { maxAttempts: 3, baseDelay: 100, maxDelay: 1000, backoffFactor: 2, jitter: false },
  aggressive: { maxAttempts: 10, baseDelay: 200, maxDelay: 10000, backoffFactor: 1.5, jitter: true },
  conservative: { maxAttempts: 2, baseDelay: 5000, maxDelay: 15000, backoffFactor: 2, jitter: true },
};

// ---- retry ------------------------------------------------------------------------------------

function pick(legacy, modern, fallback) {
  if (legacy !== undefined && legacy !== null) return legacy;
  if (modern !== undefined && modern !== null) return modern;
  return fallback;
}

function nonNegative(value, name) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw rangeError(`${name} must be a finite number >= 0`);
  }
  return value;
}

/**
 * Resolves both option spellings (the legacy name wins) into one plan.
 * @param {object} options
 */
function retryPlan(options) {
  if (options === null || typeof options !== 'object') throw typeError('retry options must be an object');
  let retries = 0;
  if (options.retryAttempts !== undefined && options.retryAttempts !== null) {
    if (!Number.isInteger(options.retryAttempts) || options.retryAttempts < 0) {
      throw rangeError('retryAttempts must be an integer >= 0 (retries after the first call)');
    }
    retries = options.retryAttempts;
  } else if (options.maxAttempts !== undefined && options.maxAttempts !== null) {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
      throw rangeError('maxAttempts must be an integer >= 1 (total calls)');
    }
    retries = options.maxAttempts - 1;
  }
  const baseDelay = nonNegative(pick(options.retryDelayMs, options.baseDelay, 1000), 'retryDelayMs/baseDelay');
  const factor = nonNegative(pick(options.retryBackoffMultiplier, options.backoffFactor, 2), 'retryBackoffMultiplier/backoffFactor');
  const maxDelayRaw = pick(options.retryMaxDelayMs, options.maxDelay, null);
  const maxDelay = maxDelayRaw === null ? null : nonNegative(maxDelayRaw, 'retryMaxDelayMs/maxDelay');
  for (const fn of ['retryableErrors', 'onRetry', 'sleep', 'random']) {
    if (options[fn] !== undefined && options[fn] !== null && typeof options[fn] !== 'function') {
      throw typeError(`${fn} must be a function`);
    }
  }
  return {
    retries,
    baseDelay,
    factor,
    maxDelay,
    jitter: Boolean(options.jitter),
    retryableErrors: options.retryableErrors || null,
    onRetry: options.onRetry || null,
    sleep: options.sleep || RetryHandler.delay,
    random: options.random || Math.random,
  };
}

/**
 * The wait before retry number `retry` (1-based): base·factor^(retry-1), plus up to 50 % jitter,
 * then capped by maxDelay (the uncapped delay keeps growing).
 */
function waitFor(plan, delay) {
  let wait = plan.jitter ? delay + plan.random() * delay * 0.5 : delay;
  if (plan.maxDelay !== null && wait > plan.maxDelay) wait = plan.maxDelay;
  return wait;
}

class RetryHandler {
  /**
   * Calls `operation()` until it succeeds or the attempts run out, then throws the last error.
   * Options: `retryAttempts` (retries) or `maxAttempts` (total calls), `retryDelayMs` /
   * `baseDelay` (1000), `retryBackoffMultiplier` / `backoffFactor` (2), `retryMaxDelayMs` /
   * `maxDelay` (none), `jitter`, `retryableErrors(error)`, `async onRetry(error, attemptNumber,
   * totalAttempts)`, and the injectable `sleep(ms) → Promise` and `random() → [0, 1)`.
   * @param {() => any} operation
   * @param {object} [options]
   */
  static async executeWithRetry(operation, options = {}) {
    if (typeof operation !== 'function') throw typeError('executeWithRetry: operation must be a function');
    const plan = retryPlan(options);
    let delay = plan.baseDelay;
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= plan.retries) throw error;
        if (plan.retryableErrors && !plan.retryableErrors(error)) throw error;
        if (plan.onRetry) await plan.onRetry(error, attempt + 1, plan.retries + 1);
        await plan.sleep(waitFor(plan, delay));
        delay *= plan.factor;
      }
    }
  }

  /**
   * `executeWithRetry(operation, { ...RetryConfigPresets[presetName], ...overrides })`; rejects
   * with `Error('Unknown retry preset: <name>')` for an unknown name.
   */
  static async executeWithPreset(operation, presetName, overrides = {}) {
    if (typeof presetName !== 'string' || !Object.prototype.hasOwnProperty.call(RetryConfigPresets, presetName)) {
      throw codedError(Error, 'ERR_QERRORS_UNKNOWN_PRESET', `Unknown retry preset: ${String(presetName)}`);
    }
    return RetryHandler.executeWithRetry(operation, { ...RetryConfigPresets[presetName], ...overrides });
  }

  /**
   * Resolves after `ms` milliseconds. The timer is unref'd: a pending retry wait does not keep
   * the process alive by itself.
   * @param {number} ms
   * @returns {Promise<void>}
   */
  static delay(ms) {
    if (typeof ms !== 'number' || !(ms >= 0) || ms > MAX_TIMER_MS) {
      return Promise.reject(rangeError(`delay: ms must be a number from 0 to ${MAX_TIMER_MS}`));
    }
    return new Promise((resolve) => systemClock.setTimeout(resolve, ms));
  }
}

/**
 * A method decorator applying `executeWithRetry(…, config)` to every call. Supports the
 * legacy form `(target, propertyKey, descriptor)` (returns the mutated descriptor) and TC39
 * standard decorators `(method, { kind: 'method' })` (returns the replacement method).
 * @param {object} [config]
 */
function withRetry(config = {}) {
  retryPlan(config);
  return function retryDecorator(target, propertyKey, descriptor) {
    if (typeof target === 'function' && propertyKey !== null && typeof propertyKey === 'object' && propertyKey.kind === 'method') {
      const method = target;
      return async function retried(...args) {
        return RetryHandler.executeWithRetry(() => method.apply(this, args), config);
      };
    }
    if (descriptor === null || typeof descriptor !== 'object' || typeof descriptor.value !== 'function') {
      throw typeError('withRetry can only decorate methods');
    }
    const original = descriptor.value;
    descriptor.value = async function retried(...args) {
      return RetryHandler.executeWithRetry(() => original.apply(this, args), config);
    };
    return descriptor;
  };
}

/** `RetryHandler.executeWithRetry(operation, config)`; no retries by default. */
async function retryOperation(operation, config = {}) {
  return RetryHandler.executeWithRetry(operation, config);
}

// ---- count-based circuit breaker ------------------------------------------------------------

/**
 * The original's count-based breaker (`new CircuitBreaker(name, { failureThreshold, timeoutMs })`,
 * `execute(operation)`, `getState()`), as a thin adapter over the one breaker implementation,
 * lib/native/breaker.js: `failureThreshold` consecutive failures open it for `timeoutMs`, then
 * one probe call decides (success closes, failure re-opens). The percentage rule and the call
 * timeout of the native breaker are off, so it counts exactly as the original did.
 */
class CircuitBreaker {
  #breaker;
  #now;
  #clock = null;
  #clockAt = 0;

  /**
   * @param {string} name
   * @param {{ failureThreshold?: number, timeoutMs?: number, now?: () => number }} [options]
   *   `now` (whole ms) replaces the process clock, for tests.
   */
  constructor(name, options = {}) {
    const o = options !== null && typeof options === 'object' ? options : {};
    if (o.now !== undefined && typeof o.now !== 'function') throw typeError('CircuitBreaker: options.now must be a function');
    this.name = name;
    this.failureThreshold = o.failureThreshold || 5;
    this.timeoutMs = o.timeoutMs || 60000;
    this.failureCount = 0;
    Object.defineProperty(this, 'state', { get: () => this.#breaker.getState(), enumerable: true });
    this.nextAttemptTime = null;
    this.lastFailureTime = null;
    this.#now = o.now || Date.now;
    // Required here, not at load: requiring qerrors must not load the native addon.
    const native = require('../native/breaker');
    const settings = { failureThreshold: this.failureThreshold, recoveryTimeoutMs: this.timeoutMs, errorThresholdPercentage: false, timeout: false, log: false };
    if (o.now) {
      // The native breaker keeps its own time: a fake clock of its own, moved to `now()` at
      // every use.
      const { CircuitBreakerFakeClock } = require('../native/loader');
      this.#clockAt = Math.floor(this.#now());
      this.#clock = new CircuitBreakerFakeClock(this.#clockAt);
      settings.clock = this.#clock;
    }
    this.#breaker = new native.CircuitBreakerWrapper((operation) => operation(), String(name), settings);
    this.#breaker.on('open', () => {
      this.nextAttemptTime = this.#now() + this.timeoutMs;
    });
    this.#breaker.on('close', () => {
      this.nextAttemptTime = null;
    });
  }

  /** Moves the native breaker's fake clock to `now()` (never backwards). */
  #tick() {
    if (!this.#clock) return;
    const now = Math.floor(this.#now());
    if (now > this.#clockAt) {
      this.#clock.advance(now - this.#clockAt);
      this.#clockAt = now;
    }
  }

  async execute(operation) {
    if (typeof operation !== 'function') throw typeError('CircuitBreaker.execute: operation must be a function');
    this.#tick();
    let ran = false;
    try {
      const result = await this.#breaker.fire(() => {
        ran = true;
        return operation();
      });
      this.onSuccess();
      return result;
    } catch (error) {
      if (!ran) throw codedError(Error, 'EOPENBREAKER', `Circuit breaker OPEN for ${this.name}`, { cause: error });
      this.onFailure();
      throw error;
    }
  }

  /** Bookkeeping of a success for getState(); the native breaker has already counted it. */
  onSuccess() {
    this.failureCount = 0;
  }

  /** Bookkeeping of a failure for getState(); the native breaker has already counted it. */
  onFailure() {
    this.failureCount++;
    this.lastFailureTime = this.#now();
  }

  getState() {
    this.#tick();
    return {
      name: this.name,
      state: this.state,
      failureCount: this.failureCount,
      lastFailureTime: this.lastFailureTime,
      nextAttemptTime: this.nextAttemptTime,
    };
  }
}

// ---- StandardAsyncExecutor ------------------------------------------------------------------

const DEFAULT_ASYNC_CONFIG = {
  enableTiming: true,
  enableLogging: true,
  enableMetrics: true,
  timeoutMs: null,
  retryAttempts: 0,
  retryDelayMs: 1000,
  retryBackoffMultiplier: 2,
  retryMaxDelayMs: null,
  retryJitter: false,
  circuitBreakerThreshold: 5,
  circuitBreakerTimeoutMs: 60000,
};

function zeroMetrics() {
  return {
    totalOperations: 0,
    successfulOperations: 0,
    failedOperations: 0,
    totalDuration: 0,
    averageDuration: 0,
    timeouts: 0,
    retries: 0,
  };
}

function validateOptions(opts) {
  const errors = [];
  if (typeof opts.operationName !== 'string' || opts.operationName === '') {
    errors.push('operationName is required and must be a string');
  }
  if (opts.context !== undefined && opts.context !== null && typeof opts.context !== 'object') {
    errors.push('context must be an object');
  }
  for (const cb of ['onSuccess', 'onError', 'onComplete']) {
    if (opts[cb] !== undefined && opts[cb] !== null && typeof opts[cb] !== 'function') errors.push(`${cb} must be a function`);
  }
  if (
    opts.timeout !== undefined &&
    opts.timeout !== null &&
    !(typeof opts.timeout === 'number' && opts.timeout > 0 && opts.timeout <= MAX_TIMER_MS)
  ) {
    errors.push('timeout must be a positive number');
  }
  if (opts.retryAttempts !== undefined && opts.retryAttempts !== null && !(Number.isInteger(opts.retryAttempts) && opts.retryAttempts >= 0)) {
    errors.push('retryAttempts must be an integer >= 0');
  }
  return errors;
}

function errorShape(error) {
  if (error instanceof Error) return { message: error.message, name: error.name, stack: error.stack };
  return { message: String(error), name: 'Error', stack: undefined };
}

class StandardAsyncExecutor {
  #clock;

  /**
   * @param {string} name
   * @param {object} [config] DEFAULT_ASYNC_CONFIG overrides, plus an optional `clock`
   *   `{ now(), setTimeout(fn, ms), clearTimeout(handle) }` used for timeouts, retry waits and
   *   durations (default: the process clock with unref'd timers).
   */
  constructor(name, config = {}) {
    if (config === null || typeof config !== 'object') throw typeError('StandardAsyncExecutor: config must be an object');
    const { clock, ...rest } = config;
    this.#clock = checkClock(clock);
    this.name = name;
    this.config = { ...DEFAULT_ASYNC_CONFIG, ...rest };
    this.metrics = zeroMetrics();
    this.circuitBreaker = new CircuitBreaker(name, {
      failureThreshold: this.config.circuitBreakerThreshold,
      timeoutMs: this.config.circuitBreakerTimeoutMs,
      // An injected clock drives the breaker too; otherwise it keeps the process's time.
      now: clock === undefined ? undefined : () => Math.floor(this.#clock.now()),
    });
  }

  /**
   * Runs `operation` through the circuit breaker, retries (`options.retryAttempts`, else
   * `config.retryAttempts`) and an optional timeout, and resolves the response envelope (docs/retry-and-queue.md).
   * Rejects with the operation's error unless `rethrowErrors: false`.
   * @param {() => any} operation
   * @param {object} [options]
   */
  async execute(operation, options = {}) {
    const c = this.config;
    const opts = {
      operationName: this.name,
      enableTiming: c.enableTiming,
      enableLogging: c.enableLogging,
      enableMetrics: c.enableMetrics,
      timeout: c.timeoutMs,
      ...(options !== null && typeof options === 'object' ? options : {}),
    };
    const errors = validateOptions(opts);
    if (typeof operation !== 'function') errors.push('operation must be a function');
    if (errors.length > 0) {
      return this.#response(false, null, new Error(`Invalid operation options: ${errors.join(', ')}`), opts, null);
    }

    const clock = this.#clock;
    const started = clock.now();
    const retries = opts.retryAttempts !== undefined && opts.retryAttempts !== null ? opts.retryAttempts : c.retryAttempts;
    if (opts.enableLogging) logVia('logDebug', `Starting operation: ${opts.operationName}`, { operationName: opts.operationName });

    const once = () => this.circuitBreaker.execute(operation);
    const run =
      retries > 0
        ? () =>
            RetryHandler.executeWithRetry(once, {
              retryAttempts: retries,
              retryDelayMs: c.retryDelayMs,
              retryBackoffMultiplier: c.retryBackoffMultiplier,
              retryMaxDelayMs: c.retryMaxDelayMs,
              jitter: c.retryJitter,
              sleep: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)),
              onRetry: (error, attempt, total) => {
                if (opts.enableMetrics) this.metrics.retries++;
                if (opts.enableLogging) {
                  logVia('logWarn', `Retrying operation: ${opts.operationName} (${attempt}/${total - 1})`, {
                    error: errorShape(error).message,
                  });
                }
              },
            })
        : once;

    let timedOut = false;
    try {
      let data;
      if (opts.timeout) {
        let handle;
        const timer = new Promise((_, reject) => {
          handle = clock.setTimeout(() => {
            timedOut = true;
            const err = new Error(`Operation timed out after ${opts.timeout}ms`);
            err.code = 'ETIMEDOUT';
            reject(err);
          }, opts.timeout);
        });
        try {
          data = await Promise.race([run(), timer]);
        } finally {
          clock.clearTimeout(handle);
        }
      } else {
        data = await run();
      }
      const duration = clock.now() - started;
      this.#count(opts, true, duration, false);
      const response = this.#response(true, data, null, opts, duration);
      if (opts.onSuccess) {
        try {
          await opts.onSuccess(response);
        } catch (hookError) {
          if (opts.enableLogging) logVia('logWarn', `onSuccess failed for ${opts.operationName}`, { error: errorShape(hookError).message });
        }
      }
      if (opts.enableLogging) logVia('logDebug', `Completed operation: ${opts.operationName}`, { duration });
      return response;
    } catch (error) {
      const duration = clock.now() - started;
      this.#count(opts, false, duration, timedOut);
      if (opts.enableLogging) logVia('logError', `Operation failed: ${opts.operationName}`, { error: errorShape(error).message });
      const response = this.#response(false, null, error, opts, duration);
      if (opts.rethrowErrors !== false) throw error;
      if (opts.onError) {
        try {
          await opts.onError(response);
        } catch {
          // the hook's failure does not replace the operation's outcome
        }
      }
      return response;
    } finally {
      if (opts.onComplete) {
        try {
          await opts.onComplete();
        } catch {
          // swallowed: onComplete never changes the outcome
        }
      }
    }
  }

  #count(opts, ok, duration, timedOut) {
    if (!opts.enableMetrics) return;
    const m = this.metrics;
    m.totalOperations++;
    if (ok) m.successfulOperations++;
    else m.failedOperations++;
    if (timedOut) m.timeouts++;
    m.totalDuration += duration;
    m.averageDuration = m.totalDuration / m.totalOperations;
  }

  #response(success, data, error, opts, duration) {
    const metrics = opts.metrics !== null && typeof opts.metrics === 'object' ? opts.metrics : {};
    return {
      success,
      data: success ? data : null,
      error: success ? null : errorShape(error),
      metadata: { operationName: opts.operationName, timestamp: new Date(Math.floor(this.#clock.now())).toISOString(), ...metrics },
      requestId: opts.requestId || null,
      duration: opts.enableTiming && duration !== null ? duration : null,
      context: opts.context || {},
    };
  }

  /** `execute(operation, { ...options, timeout: timeoutMs })`. */
  async executeWithTimeout(operation, timeoutMs, options = {}) {
    return this.execute(operation, { ...options, timeout: timeoutMs });
  }

  /** `execute(operation, { ...options, retryAttempts: attempts })`; `attempts` is honoured. */
  async executeWithRetry(operation, attempts, options = {}) {
    return this.execute(operation, { ...options, retryAttempts: attempts });
  }

  getMetrics() {
    const m = this.metrics;
    return {
      ...m,
      circuitBreaker: this.circuitBreaker.getState(),
      successRate: m.totalOperations > 0 ? (m.successfulOperations / m.totalOperations) * 100 : 0,
    };
  }

  resetMetrics() {
    this.metrics = zeroMetrics();
  }
}

// ---- AsyncOperationFactory ------------------------------------------------------------------

// The executor registry is process-wide; it keeps at most this many names, dropping the oldest.
const MAX_EXECUTORS = 1000;
const BATCH_MODES = ['parallel', 'sequential', 'limited'];

function checkOperations(ops, fn) {
  if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'function')) {
    throw typeError(`${fn}: operations must be an array of functions`);
  }
  return ops;
}

function checkLimit(limit) {
  if (!Number.isInteger(limit) || limit < 1) throw rangeError('executeLimited: limit must be an integer >= 1');
  return limit;
}

class AsyncOperationFactory {
  static executors = new Map();

  /**
   * The registered executor for `name`, created with `config` on first use (`config` is ignored
   * afterwards).
   */
  static getExecutor(name, config = {}) {
    const known = AsyncOperationFactory.executors.get(name);
    if (known) return known;
    const executor = new StandardAsyncExecutor(name, config === null || config === undefined ? {} : config);
    const registry = AsyncOperationFactory.executors;
    if (registry.size >= MAX_EXECUTORS) registry.delete(registry.keys().next().value);
    registry.set(name, executor);
    return executor;
  }

  /** `async (runtimeOptions = {}) => executor.execute(operation, { ...operationOptions, ...runtimeOptions })`. */
  static createOperation(operation, options = {}) {
    if (typeof operation !== 'function') throw typeError('createOperation: operation must be a function');
    const { name = 'unnamed_operation', config = {}, ...operationOptions } = options !== null && typeof options === 'object' ? options : {};
    const executor = AsyncOperationFactory.getExecutor(name, config);
    return async (runtimeOptions = {}) => executor.execute(operation, { ...operationOptions, ...runtimeOptions });
  }

  /**
   * An async function running `operations` ('parallel', 'sequential' or 'limited' with `limit`)
   * through the executor `name`; the batch result is the envelope's `data`.
   */
  static createBatchOperation(operations, options = {}) {
    checkOperations(operations, 'createBatchOperation');
    const {
      name = 'batch_operation',
      concurrency = 'parallel',
      failFast = true,
      limit = 3,
      ...rest
    } = options !== null && typeof options === 'object' ? options : {};
    if (!BATCH_MODES.includes(concurrency)) {
      throw rangeError(`createBatchOperation: concurrency must be one of ${BATCH_MODES.join(', ')}`);
    }
    if (concurrency === 'limited') checkLimit(limit);
    const ops = operations.slice();
    const runBatch = () => {
      if (concurrency === 'sequential') return AsyncOperationFactory.executeSequential(ops);
      if (concurrency === 'limited') return AsyncOperationFactory.executeLimited(ops, limit, failFast);
      return AsyncOperationFactory.executeParallel(ops, failFast);
    };
    const executor = AsyncOperationFactory.getExecutor(name);
    return async (runtimeOptions = {}) => executor.execute(runBatch, { ...rest, ...runtimeOptions });
  }

  /** `Promise.all` with `failFast`, else `Promise.allSettled`. */
  static async executeParallel(ops, failFast = true) {
    checkOperations(ops, 'executeParallel');
    const started = ops.map((op) => {
      try {
        return Promise.resolve(op());
      } catch (err) {
        return Promise.reject(err);
      }
    });
    return failFast ? Promise.all(started) : Promise.allSettled(started);
  }

  /** Runs each operation after the previous one settles; the first failure rejects. */
  static async executeSequential(ops) {
    checkOperations(ops, 'executeSequential');
    const results = [];
    for (const op of ops) results.push(await op());
    return results;
  }

  /**
   * Runs at most `limit` operations at a time, results in input order. With `failFast` the first
   * failure rejects and nothing new starts; otherwise a failed slot holds the rejection reason.
   */
  static async executeLimited(ops, limit = 3, failFast = true) {
    checkOperations(ops, 'executeLimited');
    checkLimit(limit);
    const results = new Array(ops.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < ops.length && !failed) {
        const i = next++;
        try {
          results[i] = await ops[i]();
        } catch (err) {
          if (failFast) {
            failed = true;
            throw err;
          }
          results[i] = err;
        }
      }
    };
    const workers = [];
    for (let w = 0; w < Math.min(limit, ops.length); w++) workers.push(worker());
    await Promise.all(workers);
    return results;
  }

  static getAllMetrics() {
    const out = {};
    for (const [name, executor] of AsyncOperationFactory.executors) out[name] = executor.getMetrics();
    return out;
  }

  static resetAllMetrics() {
    for (const executor of AsyncOperationFactory.executors.values()) executor.resetMetrics();
  }
}

/**
 * Express middleware adding `req.asyncExecute(operation, operationOptions)`, which runs through
 * the executor `options.operationName` (default 'express_route') with the request id and
 * `{ method, url, userAgent }` as context.
 */
function asyncHandlerMiddleware(options = {}) {
  const o = options !== null && typeof options === 'object' ? options : {};
  return function asyncHandler(req, res, next) {
    req.asyncExecute = (operation, operationOptions) => {
      const headers = req.headers || {};
      return AsyncOperationFactory.getExecutor(o.operationName || 'express_route', o.config).execute(operation, {
        requestId: req.id || headers['x-request-id'],
        context: { method: req.method, url: req.originalUrl || req.url, userAgent: headers['user-agent'] },
        ...operationOptions,
      });
    };
    next();
  };
}

module.exports = {
  StandardAsyncExecutor,
  AsyncOperationFactory,
  CircuitBreaker,
  RetryHandler,
  asyncHandlerMiddleware,
  DEFAULT_ASYNC_CONFIG,
  withRetry,
  retryOperation,
};

// The top-level `RetryConfigPresets` belongs to no namespace in the original: reachable, not enumerable.
Object.defineProperty(module.exports, 'RetryConfigPresets', { value: RetryConfigPresets });
