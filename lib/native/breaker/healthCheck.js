'use strict';

// opossum's periodic health check: `fn` runs now and every `interval` ms on an unref'd
// timer, with the breaker as `this`; a rejection (or a throw) is reported to `onFailure`.

const { optionError } = require('./errors');
const { MAX_TIMER_MS } = require('./options');

/**
 * Starts the check and returns its interval timer (the breaker clears it on shutdown).
 * @param {object} breaker
 * @param {unknown} fn
 * @param {unknown} interval ms, default 5000
 * @param {(err: unknown) => void} onFailure
 */
function startHealthCheck(breaker, fn, interval, onFailure) {
  const ms = interval || 5000;
  if (typeof fn !== 'function') throw optionError(TypeError, 'Health check function must be a function');
  if (Number.isNaN(Number(ms))) throw optionError(TypeError, 'Health check interval must be a number');
  const check = () => {
    let result;
    try {
      result = Reflect.apply(fn, breaker, []);
    } catch (err) {
      result = Promise.reject(err);
    }
    Promise.resolve(result).catch(onFailure);
  };
  const timer = setInterval(check, Math.min(Math.max(1, Number(ms)), MAX_TIMER_MS));
  timer.unref();
  check();
  return timer;
}

module.exports = { startHealthCheck };
