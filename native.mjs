import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./native.js');

export default native;
export const { nativeVersion, getMetrics, toPrometheus, metricsHandler, trackMetrics } = native;
// circuit breaker
export const { CircuitBreaker, CircuitBreakerFakeClock, createCircuitBreakerHandle } = native;
export const { nativeVersion } = native;
// LRU + TTL cache with entries off the V8 heap (docs/lru-cache.md).
export const { LruCache } = native;
// json (async JSON: parse, extract, stringify)
export const { json } = native;
// Rate limiter (docs/rate-limiter.md)
export const { RateLimiter, RateLimiterStore, rateLimit } = native;

// circuit breaker
export const { CircuitBreaker, CircuitBreakerFakeClock, createCircuitBreakerHandle } = native;
// Rate limiter (docs/rate-limiter.md)
export const { RateLimiter, RateLimiterStore, rateLimit } = native;
// json (async JSON: parse, extract, stringify)
export const { json } = native;
// AI analysis pipeline (docs/ai-pipeline.md)
export const { aiPipeline } = native;
// LRU + TTL cache with entries off the V8 heap (docs/lru-cache.md).
export const { LruCache } = native;
// Redis-backed distributed rate limiting (docs/redis.md).
export const { redisStore, RedisStore } = native;
