'use strict';

// express-rate-limit's `MemoryStore`, answered by qerrors' `RateLimiterStore` (a plain re-export).

const { RateLimiterStore } = require('../../../native.js');

module.exports = { __esModule: true, MemoryStore: RateLimiterStore };
