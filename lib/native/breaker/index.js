'use strict';

// The circuit breaker of the qerrors API (docs/circuit-breaker.md). One module per idea:
// circuitBreaker.js (the class), callPath.js (each call's path), construction.js,
// events.js, metrics.js, options.js, clock.js, errors.js, timeouts.js, cachedCalls.js,
// healthCheck.js, status.js (opossum's Status), memoryCache.js (opossum's default cache
// transport).

const { CircuitBreaker, CircuitState } = require('./circuitBreaker');
const { Status } = require('./status');
const { MemoryCache } = require('./memoryCache');

/**
 * `new CircuitBreaker(operation, serviceName, options)` with the spec's defaults merged
 * under `overrides`; `instance.options` is the merged object.
 * @param {(...args: any[]) => any} operation
 * @param {string} serviceName
 * @param {Record<string, any>} [overrides]
 */
function createCircuitBreaker(operation, serviceName, overrides = {}) {
  const options = { failureThreshold: 5, recoveryTimeoutMs: 30000, monitoringPeriodMs: 60000, timeoutMs: 10000, ...overrides };
  return new CircuitBreaker(operation, serviceName, options);
}

// The original's circuitBreaker namespace names the class `CircuitBreakerWrapper`; the top-level
// export and `require('qerrors/native')` name it `CircuitBreaker`, kept here as a
// non-enumerable alias so Object.keys matches the namespace.
// opossum's `Status` and default cache transport, reachable from the class for code that
// names them (`require('opossum/lib/status')` in opossum).
Object.defineProperty(CircuitBreaker, 'Status', { value: Status, enumerable: false });
Object.defineProperty(CircuitBreaker, 'MemoryCache', { value: MemoryCache, enumerable: false });

module.exports = { CircuitBreakerWrapper: CircuitBreaker, CircuitState, createCircuitBreaker };
Object.defineProperty(module.exports, 'CircuitBreaker', { value: CircuitBreaker, enumerable: false, writable: true, configurable: true });
