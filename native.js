'use strict';

// `require('qerrors/native')`: the native building blocks for services that want them
// directly (rate limiter, circuit breaker, LRU cache, async JSON, metrics).

const native = require('./lib/native');

module.exports = {
  nativeVersion: native.nativeVersion,
  // json (async JSON: parse, extract, stringify)
  json: require('./lib/json'),
};
