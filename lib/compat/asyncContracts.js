'use strict';

// The `asyncContracts` namespace (docs/retry-and-queue.md), gathered from lib/compat/async/:
// retries with backoff and jitter (retry.js), the original's count-based circuit breaker as an
// adapter over lib/native/breaker (countBreaker.js), the StandardAsyncExecutor envelope
// (executor.js) and AsyncOperationFactory with its Express middleware (operationFactory.js).

const { RetryConfigPresets, RetryHandler, withRetry, retryOperation } = require('./async/retry');
const { CircuitBreaker } = require('./async/countBreaker');
const { StandardAsyncExecutor, DEFAULT_ASYNC_CONFIG } = require('./async/executor');
const { AsyncOperationFactory, asyncHandlerMiddleware } = require('./async/operationFactory');

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
