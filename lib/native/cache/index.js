'use strict';

// LruCache, exported also as the lru-cache-compatible class. The modules here, one idea
// each: core.js (the key -> slot map and every call to the native side), class.js (the
// public class: option getters, iteration, dump/load, memo, on top of core.js),
// options.js, entrySize.js (the size of an entry), values.js (what lives off the V8
// heap), clock.js (the time TTLs follow), removals.js (trimming the key map after native
// evictions; dispose), memo.js (strings get returned, and hits answered without a call),
// deferred.js (hits and sets made without a call, applied by the native side later),
// young.js (strings set recently, held by reference for a while), fetch.js (loads),
// iteration.js (iteration, dump/load, info), ttl.js (ttlAutopurge timers).

const { LruCache } = require('./class');

module.exports = { LruCache };
