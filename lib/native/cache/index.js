'use strict';

// LruCache, exported also as the lru-cache-compatible class. The modules here, one idea
// each: class.js (the cache: key -> slot map and the calls to the native side),
// options.js, values.js (what lives off the V8 heap), clock.js (the time TTLs follow),
// removals.js (trimming the key map after native evictions; dispose), fetch.js (loads),
// iteration.js (iteration, dump/load, info), ttl.js (ttlAutopurge timers).

const { LruCache } = require('./class');

module.exports = { LruCache };
