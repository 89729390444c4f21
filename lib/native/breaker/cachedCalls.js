'use strict';

// opossum's `cache` and `coalesce` in front of a breaker's call: a cached result (of an
// earlier success) or a call already in flight with the same key (`cacheGetKey`) answers
// without running the action; hits and misses are counted in the breaker's window.

const { isOurError } = require('./errors');

const { breakerCounters } = require('../contract');

const C_FIRES = breakerCounters.FIRES;
const C_CACHE_HITS = breakerCounters.CACHE_HITS;
const C_CACHE_MISSES = breakerCounters.CACHE_MISSES;
const C_COALESCE_HITS = breakerCounters.COALESCE_CACHE_HITS;
const C_COALESCE_MISSES = breakerCounters.COALESCE_CACHE_MISSES;

/**
 * What the breaker lends the cache: its window counters, its guarded emit, and its call
 * past the cache.
 * @typedef {object} CacheHost
 * @property {(counter: number, n: number) => void} bump
 * @property {(name: string, ...args: unknown[]) => void} emit
 * @property {(context: unknown, args: unknown[]) => Promise<unknown>} run
 */

/**
 * @param {Record<string, any>} o the breaker's normalized opossum options
 * @param {CacheHost} host
 * @param {object} breaker `this` of `cacheGetKey`
 * @param {unknown} context `this` of the action
 * @param {unknown[]} args
 */
function runCached(o, host, breaker, context, args) {
  const key = Reflect.apply(o.cacheGetKey, breaker, args);
  if (o.cache) {
    const cached = o.cacheTransport.get(key);
    if (cached) return hit(host, args, C_CACHE_HITS, 'cacheHit', cached);
    host.bump(C_CACHE_MISSES, 1);
    host.emit('cacheMiss');
  }
  if (o.coalesce) {
    const inFlight = o.coalesceCache.get(key);
    if (inFlight) return hit(host, args, C_COALESCE_HITS, 'coalesceCacheHit', inFlight);
    host.bump(C_COALESCE_MISSES, 1);
    host.emit('coalesceCacheMiss');
  }
  const call = host.run(context, args);
  if (o.coalesce) o.coalesceCache.set(key, call, o.coalesceTTL > 0 ? Date.now() + o.coalesceTTL : 0);
  const forget = (event) => {
    if (o.coalesce && o.coalesceResetOn.includes(event)) o.coalesceCache.delete(key);
  };
  call.then(
    (value) => {
      forget('success');
      if (o.cache) o.cacheTransport.set(key, Promise.resolve(value), o.cacheTTL > 0 ? Date.now() + o.cacheTTL : 0);
    },
    (err) => forget(isOurError(err) && err.code === 'ETIMEDOUT' ? 'timeout' : 'error')
  );
  return call;
}

/** A hit counts as a fire (as in opossum) and answers with the stored promise. */
function hit(host, args, counter, event, answer) {
  host.emit('fire', args);
  host.bump(C_FIRES, 1);
  host.bump(counter, 1);
  host.emit(event);
  return answer;
}

module.exports = { runCached };
