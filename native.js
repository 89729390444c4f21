'use strict';

// `require('qerrors/native')`: the native building blocks for services that want them
// directly (rate limiter, circuit breaker, LRU cache, async JSON, the AI pipeline, the
// Redis store), and the metrics API.

const native = require('./lib/native/loader');
const metrics = require('./lib/ops/metrics');
const rateLimiter = require('./lib/native/limiter');
const redis = require('./lib/native/redis');

module.exports = {
  nativeVersion: native.nativeVersion,
  // Metrics (docs/metrics-and-monitor.md)
  getMetrics: metrics.getMetrics,
  toPrometheus: metrics.toPrometheus,
  metricsHandler: metrics.metricsHandler,
  trackMetrics: metrics.track,
  registerPromMetrics: metrics.registerPromMetrics,
  // Circuit breaker (docs/circuit-breaker.md)
  CircuitBreaker: require('./lib/native/breaker').CircuitBreaker,
  CircuitBreakerFakeClock: native.CircuitBreakerFakeClock,
  createCircuitBreakerHandle: native.createCircuitBreakerHandle,
  // Rate limiter (docs/rate-limiter.md)
  RateLimiter: rateLimiter.RateLimiter,
  RateLimiterStore: rateLimiter.RateLimiterStore,
  rateLimit: rateLimiter.rateLimit,
  ipKeyGenerator: rateLimiter.ipKeyGenerator,
  // LRU + TTL cache with entries off the V8 heap (docs/lru-cache.md)
  LruCache: require('./lib/native/cache').LruCache,
  // Async JSON: parse, extract, stringify (docs/json.md)
  json: require('./lib/native/json'),
  // AI analysis pipeline (docs/ai-pipeline.md)
  aiPipeline: require('./lib/native/ai'),
  // Redis-backed distributed rate limiting (docs/redis.md)
  redisStore: redis.redisStore,
  RedisStore: redis.RedisStore,
};
