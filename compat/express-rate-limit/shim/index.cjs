'use strict';

// express-rate-limit's public entry point, answered by qerrors: a plain re-export, nothing
// adapted. The runner maps the suite's `source/index` imports here.

const { rateLimit, RateLimiterStore, ipKeyGenerator } = require('../../../native.js');

module.exports = { __esModule: true, default: rateLimit, rateLimit, MemoryStore: RateLimiterStore, ipKeyGenerator };
