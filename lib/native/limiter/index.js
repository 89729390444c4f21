'use strict';

// Rate limiting: a native keyed limiter (`RateLimiter`), an express-rate-limit v8
// compatible store around it (`RateLimiterStore`), an Express middleware (`rateLimit`)
// that speaks express-rate-limit's options and headers and accepts any compatible store,
// and express-rate-limit's `ipKeyGenerator`. Decisions run in Rust (src/core/rate_limit);
// see docs/rate-limiter.md.

const { RateLimiter } = require('./limiter');
const { RateLimiterStore } = require('./store');
const { rateLimit } = require('./middleware');
const { ipKeyGenerator } = require('./ip');
const { trackedLimiterStats } = require('./tracking');

module.exports = { RateLimiter, RateLimiterStore, rateLimit, ipKeyGenerator, trackedLimiterStats };
