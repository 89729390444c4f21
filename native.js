'use strict';

// `require('qerrors/native')`: the native building blocks for services that want them
// directly (rate limiter, circuit breaker, LRU cache, async JSON, metrics).

const native = require('./lib/native');

module.exports = {
  nativeVersion: native.nativeVersion,
  // LRU + TTL cache with entries off the V8 heap (docs/lru-cache.md).
  LruCache: require('./lib/lruCache').LruCache,
};
