'use strict';

// The options of LruCache that the JS side reads: callbacks, value handling and the
// entry-size rules. The native side reads the bounds and TTL defaults itself (through the
// shared options reader, see src/binding/cache.rs); both throw TypeError with a code for a
// bad option, as lru-cache throws TypeError.

const { codedError } = require('../../policy/errors');

const E_OPTION = 'ERR_QERRORS_CACHE_INVALID_OPTION';
const E_UNBOUNDED = 'ERR_QERRORS_CACHE_UNBOUNDED';

/**
 * @typedef {'evict' | 'expire' | 'set' | 'delete' | 'fetch'} DisposeReason
 * @typedef {object} LruCacheOptions
 * @property {number} [max] most entries held (0 or absent: bounded by maxSize only)
 * @property {number} [maxSize] most total size held (needs size or sizeCalculation)
 * @property {number} [maxEntrySize] largest entry stored (default: maxSize)
 * @property {number} [ttl] default time to live in ms (0 or absent: no expiry)
 * @property {(value: any, key: any) => number} [sizeCalculation] size of an entry
 * @property {boolean} [updateAgeOnGet] a get restarts the entry's TTL
 * @property {boolean} [ttlAutopurge] a timer removes each entry when its TTL runs out
 * @property {boolean} [allowStale] get/peek/fetch may answer an expired value
 * @property {boolean} [noDeleteOnStaleGet] a get of an expired value keeps the entry
 * @property {boolean} [noDisposeOnSet] a set replacing a value does not dispose the old one
 * @property {(value: any, key: any, reason: DisposeReason) => void} [dispose]
 * @property {(value: any, key: any, reason: DisposeReason) => void} [disposeAfter]
 * @property {(value: any, key: any, reason: 'add' | 'update' | 'replace') => void} [onInsert]
 * @property {boolean} [json] store arrays and plain objects off-heap too
 * @property {(key: any, staleValue: any, ctx: { signal: AbortSignal, options: object,
 *   context: any }) => any} [fetchMethod] loads a missing value for `fetch`
 * @property {(key: any, staleValue: any, ctx: { options: object, context: any }) => any}
 *   [memoMethod] computes a missing value for `memo`
 * @property {boolean} [noDeleteOnFetchRejection] a failed fetch keeps the stale entry
 * @property {boolean} [allowStaleOnFetchRejection] a failed fetch answers the stale value
 * @property {boolean} [allowStaleOnFetchAbort] an aborted fetch answers the stale value
 * @property {boolean} [ignoreFetchAbort] an aborted fetch still stores what it loads
 * @property {{ now(): number }} [perf] the clock TTLs follow (default: performance)
 * @property {boolean} [fakeClock] TTLs follow a clock moved only by advanceClock (tests)
 */

let warned = false;

// lru-cache's warning, word for word with its type and code: code that filters or
// matches it keeps working when it switches caches (docs/lru-cache.md, "Differences").
const UNBOUNDED_TYPE = 'UnboundedCacheWarning';
const UNBOUNDED_CODE = 'LRU_CACHE_UNBOUNDED';
const UNBOUNDED_MSG = 'TTL caching without ttlAutopurge, max, or maxSize can result in unbounded memory consumption.';

/** Warns once per process that a cache bounded by TTL alone can grow without limit. */
function warnUnbounded() {
  if (warned) return;
  warned = true;
  if (typeof process.emitWarning === 'function') process.emitWarning(UNBOUNDED_MSG, UNBOUNDED_TYPE, UNBOUNDED_CODE);
  else console.error(`[${UNBOUNDED_CODE}] ${UNBOUNDED_TYPE}: ${UNBOUNDED_MSG}`);
}

/**
 * @param {Record<string, unknown>} options
 * @param {string} name
 * @returns {any}
 */
function optionalFunction(options, name) {
  const f = options[name];
  if (f !== undefined && typeof f !== 'function') {
    throw codedError(TypeError, E_OPTION, `options.${name} must be a function`);
  }
  return f;
}

/**
 * @param {Record<string, unknown>} options
 * @param {string} name
 */
function flag(options, name) {
  const v = options[name];
  if (v !== undefined && typeof v !== 'boolean') {
    throw codedError(TypeError, E_OPTION, `options.${name} must be a boolean`);
  }
  return v === true;
}

/**
 * @param {unknown} v
 * @param {string} name
 * @returns {number} 0 when absent
 */
function count(v, name) {
  if (v === undefined || v === 0) return 0;
  if (!(Number.isSafeInteger(v) && /** @type {number} */ (v) > 0)) {
    throw codedError(TypeError, E_OPTION, `options.${name} must be a positive integer`);
  }
  return /** @type {number} */ (v);
}

/**
 * Checks and normalizes the options the JS side uses.
 * @param {LruCacheOptions} options
 */
function readOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw codedError(TypeError, E_UNBOUNDED, 'LruCache needs options with max or maxSize, e.g. new LruCache({ max: 1000 })');
  }
  const o = /** @type {Record<string, unknown>} */ (options);
  const maxSize = count(o.maxSize, 'maxSize');
  const maxEntrySize = count(o.maxEntrySize, 'maxEntrySize') || maxSize;
  if (o.sizeCalculation !== undefined && !maxSize && !maxEntrySize) {
    throw codedError(TypeError, E_OPTION, 'options.sizeCalculation needs maxSize or maxEntrySize');
  }
  const perf = o.perf;
  if (perf !== undefined && typeof (/** @type {any} */ (perf)?.now) !== 'function') {
    // lru-cache's wording, which its users' tests may compare.
    throw codedError(TypeError, E_OPTION, 'perf option must have a now() method if specified');
  }
  const max = count(o.max, 'max');
  const ttl = count(o.ttl, 'ttl');
  const ttlAutopurge = flag(o, 'ttlAutopurge');
  if (ttl > 0 && max === 0 && maxSize === 0 && !ttlAutopurge) warnUnbounded();
  return {
    max,
    maxSize,
    maxEntrySize,
    ttl,
    sizeCalculation: optionalFunction(o, 'sizeCalculation'),
    dispose: optionalFunction(o, 'dispose'),
    disposeAfter: optionalFunction(o, 'disposeAfter'),
    onInsert: optionalFunction(o, 'onInsert'),
    fetchMethod: optionalFunction(o, 'fetchMethod'),
    memoMethod: optionalFunction(o, 'memoMethod'),
    json: flag(o, 'json'),
    allowStale: flag(o, 'allowStale'),
    updateAgeOnGet: flag(o, 'updateAgeOnGet'),
    ttlAutopurge,
    noDeleteOnStaleGet: flag(o, 'noDeleteOnStaleGet'),
    noDisposeOnSet: flag(o, 'noDisposeOnSet'),
    noDeleteOnFetchRejection: flag(o, 'noDeleteOnFetchRejection'),
    allowStaleOnFetchRejection: flag(o, 'allowStaleOnFetchRejection'),
    allowStaleOnFetchAbort: flag(o, 'allowStaleOnFetchAbort'),
    ignoreFetchAbort: flag(o, 'ignoreFetchAbort'),
    fakeClock: flag(o, 'fakeClock'),
    perf: /** @type {{ now(): number } | undefined} */ (perf),
  };
}

module.exports = { readOptions, E_OPTION };
