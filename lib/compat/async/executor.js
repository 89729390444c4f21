'use strict';

// StandardAsyncExecutor: runs an operation through the count-based breaker, retries and an
// optional timeout, and resolves the original's response envelope. It works with its default
// configuration, keeps its metrics and honours a per-call `retryAttempts` (docs/api.md).

const logger = require('../../logging/logger');
const { typeError, MAX_TIMER_MS, checkClock } = require('./common');
const { CircuitBreaker } = require('./countBreaker');
const { RetryHandler } = require('./retry');

/** Best effort: a logger failure never reaches the operation's caller. */
function logVia(method, message, data) {
  Promise.resolve()
    .then(() => logger[method](message, data))
    .catch(() => {});
}

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

module.exports = { StandardAsyncExecutor, DEFAULT_ASYNC_CONFIG };
