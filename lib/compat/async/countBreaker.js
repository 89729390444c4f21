'use strict';

const { codedError } = require('../../policy/errors');
const { typeError } = require('./common');

/**
 * The original's count-based breaker (`new CircuitBreaker(name, { failureThreshold, timeoutMs })`,
 * `execute(operation)`, `getState()`), as a thin adapter over the one breaker implementation,
 * lib/native/breaker/: `failureThreshold` consecutive failures open it for `timeoutMs`, then
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
    const native = require('../../native/breaker');
    const settings = { failureThreshold: this.failureThreshold, recoveryTimeoutMs: this.timeoutMs, errorThresholdPercentage: false, timeout: false, log: false };
    if (o.now) {
      // The native breaker keeps its own time: a fake clock of its own, moved to `now()` at
      // every use.
      const { CircuitBreakerFakeClock } = require('../../native/loader');
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

module.exports = { CircuitBreaker };
