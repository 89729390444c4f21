'use strict';

// Retries with backoff and jitter: RetryHandler, the presets, the withRetry decorator and
// retryOperation. `maxAttempts` counts TOTAL calls, `retryAttempts` the retries after the first
// call (a deliberate deviation from the original package, docs/api.md).

const { codedError } = require('../../policy/errors');
const { typeError, rangeError, MAX_TIMER_MS, systemClock } = require('./common');

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

module.exports = { RetryConfigPresets, RetryHandler, withRetry, retryOperation };
