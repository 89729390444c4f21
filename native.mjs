import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./native.js');

export default native;
export const { nativeVersion, getMetrics, toPrometheus, metricsHandler, trackMetrics, registerPromMetrics } = native;
export const { CircuitBreaker, CircuitBreakerFakeClock, createCircuitBreakerHandle } = native;
export const { RateLimiter, RateLimiterStore, rateLimit, ipKeyGenerator } = native;
export const { LruCache } = native;
export const { json } = native;
export const { aiPipeline } = native;
export const { redisStore, RedisStore } = native;
