'use strict';

// `require('qerrors/native')`: the native building blocks for services that want them
// directly (rate limiter, circuit breaker, LRU cache, async JSON, metrics).

const native = require('./lib/native');
const rateLimiter = require('./lib/rateLimiter');
const redis = require('./lib/redisStore');

module.exports = {
  nativeVersion: native.nativeVersion,
  // Rate limiter (docs/rate-limiter.md)
  RateLimiter: rateLimiter.RateLimiter,
  RateLimiterStore: rateLimiter.RateLimiterStore,
  rateLimit: rateLimiter.rateLimit,
  // Redis-backed distributed rate limiting (docs/redis.md).
  redisStore: redis.redisStore,
  RedisStore: redis.RedisStore,
};
