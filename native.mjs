import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require('./native.js');

export default native;
export const { nativeVersion } = native;
// Rate limiter (docs/rate-limiter.md)
export const { RateLimiter, RateLimiterStore, rateLimit } = native;
// Redis-backed distributed rate limiting (docs/redis.md).
export const { redisStore, RedisStore } = native;
