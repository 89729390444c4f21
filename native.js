'use strict';

// `require('qerrors/native')`: the native building blocks for services that want them
// directly (rate limiter, circuit breaker, LRU cache, async JSON), and the metrics API.

const native = require('./lib/native');
const metrics = require('./lib/metrics');
const rateLimiter = require('./lib/rateLimiter');
const redis = require('./lib/redisStore');

module.exports = {
  nativeVersion: native.nativeVersion,
  getMetrics: metrics.getMetrics,
  toPrometheus: metrics.toPrometheus,
  metricsHandler: metrics.metricsHandler,
  trackMetrics: metrics.track,
  // circuit breaker
  CircuitBreaker: require('./lib/circuitBreaker').CircuitBreaker,
  CircuitBreakerFakeClock: native.CircuitBreakerFakeClock,
  createCircuitBreakerHandle: native.createCircuitBreakerHandle,
  // LRU + TTL cache with entries off the V8 heap (docs/lru-cache.md).
  LruCache: require('./lib/lruCache').LruCache,
  // json (async JSON: parse, extract, stringify)
  json: require('./lib/json'),
const rateLimiter = require('./lib/rateLimiter');

module.exports = {
  nativeVersion: native.nativeVersion,
  getMetrics: metrics.getMetrics,
  toPrometheus: metrics.toPrometheus,
  metricsHandler: metrics.metricsHandler,
  trackMetrics: metrics.track,
  // circuit breaker
  CircuitBreaker: require('./lib/circuitBreaker').CircuitBreaker,
  CircuitBreakerFakeClock: native.CircuitBreakerFakeClock,
  createCircuitBreakerHandle: native.createCircuitBreakerHandle,
  // Rate limiter (docs/rate-limiter.md)
  RateLimiter: rateLimiter.RateLimiter,
  RateLimiterStore: rateLimiter.RateLimiterStore,
  rateLimit: rateLimiter.rateLimit,
  // json (async JSON: parse, extract, stringify)
  json: require('./lib/json'),
  // AI analysis pipeline (docs/ai-pipeline.md)
  aiPipeline: require('./lib/aiPipeline'),
  // LRU + TTL cache with entries off the V8 heap (docs/lru-cache.md).
  LruCache: require('./lib/lruCache').LruCache,
  // Redis-backed distributed rate limiting (docs/redis.md).
  redisStore: redis.redisStore,
  RedisStore: redis.RedisStore,
};
