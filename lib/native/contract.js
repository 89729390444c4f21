'use strict';

// GENERATED from src/binding/contract.rs: do not edit. Regenerate with
// `UPDATE_CONTRACT=1 cargo test --release contract`; `cargo test` fails when this
// file is stale. See docs/native-contract.md.

module.exports = Object.freeze({
  /** Slots of the breaker's shared Float64Array (window statistics from WINDOW on, the five extra counters from WINDOW_EXTRA, then the bucket's open flag). */
  breakerSlots: Object.freeze({
    STATE: 0,
    TRANSITIONS: 1,
    FIRES: 2,
    SUCCESSES: 3,
    FAILURES: 4,
    TIMEOUTS: 5,
    REJECTS: 6,
    FALLBACKS: 7,
    LATENCY_SUM: 8,
    LAST_SUCCESS_MS: 9,
    LAST_FAILURE_MS: 10,
    CONSECUTIVE_FAILURES: 11,
    OPENED_AT_MS: 12,
    WINDOW: 16,
    WINDOW_EXTRA: 32,
    WINDOW_OPEN_FLAG: 37,
    LEN: 40,
  }),
  /** Indices of the breaker's window counters, as `bump(counter, n)` takes them. */
  breakerCounters: Object.freeze({
    FIRES: 0,
    SUCCESSES: 1,
    FAILURES: 2,
    TIMEOUTS: 3,
    REJECTS: 4,
    FALLBACKS: 5,
    CACHE_HITS: 6,
    CACHE_MISSES: 7,
    COALESCE_CACHE_HITS: 8,
    COALESCE_CACHE_MISSES: 9,
    SEMAPHORE_REJECTIONS: 10,
  }),
  /** The AI submit result: status letter, HEX_DIGITS of fingerprint, advice JSON. */
  aiSubmit: Object.freeze({
    CACHED: 'c',
    READY: 'r',
    SCHEDULED: 's',
    JOINED: 'j',
    REJECTED: 'x',
    CLOSED: 'z',
    HEX_DIGITS: 16,
    WANT_NONE: 0,
    WANT_NEW: 1,
    WANT_ALL: 2,
    MAX_MESSAGE_UNITS: 4096,
    MAX_STACK_UNITS: 8192,
  }),
  /** The Redis store's completion records and flag bits. */
  redisResults: Object.freeze({
    SLOTS: 6,
    ALLOWED: 1,
    NO_QUOTA: 4,
    COUNT_DENIED: 1,
  }),
  /** The cache's removal report (src/binding/cache.rs, lib/native/cache/removals.js). */
  cacheReport: Object.freeze({
    HEADER: 2,
    PAIRS: 64,
    EVICT: 0,
    EXPIRE: 1,
    SET: 2,
    DELETE: 3,
  }),
  /** The ERR_QERRORS_* codes the addon throws, by their short names. */
  errorCodes: Object.freeze({
    AI_OPTION: 'ERR_QERRORS_AI_OPTION',
    AI_RUNTIME: 'ERR_QERRORS_AI_RUNTIME',
    CACHE_INVALID_OPTION: 'ERR_QERRORS_CACHE_INVALID_OPTION',
    CACHE_INVALID_VALUE: 'ERR_QERRORS_CACHE_INVALID_VALUE',
    CACHE_UNBOUNDED: 'ERR_QERRORS_CACHE_UNBOUNDED',
    INTERNAL: 'ERR_QERRORS_INTERNAL',
    INVALID_ARG: 'ERR_QERRORS_INVALID_ARG',
    INVALID_BATCH: 'ERR_QERRORS_INVALID_BATCH',
    INVALID_BURST: 'ERR_QERRORS_INVALID_BURST',
    INVALID_COST: 'ERR_QERRORS_INVALID_COST',
    INVALID_IPV6_SUBNET: 'ERR_QERRORS_INVALID_IPV6_SUBNET',
    INVALID_KEY: 'ERR_QERRORS_INVALID_KEY',
    INVALID_LIMIT: 'ERR_QERRORS_INVALID_LIMIT',
    INVALID_MAX_KEYS: 'ERR_QERRORS_INVALID_MAX_KEYS',
    INVALID_OPTION: 'ERR_QERRORS_INVALID_OPTION',
    INVALID_STATE: 'ERR_QERRORS_INVALID_STATE',
    INVALID_TICKET: 'ERR_QERRORS_INVALID_TICKET',
    INVALID_WINDOW: 'ERR_QERRORS_INVALID_WINDOW',
    JSON_OPTION: 'ERR_QERRORS_JSON_OPTION',
    JSON_POINTER: 'ERR_QERRORS_JSON_POINTER',
    PANIC: 'ERR_QERRORS_PANIC',
    RANDOM: 'ERR_QERRORS_RANDOM',
    REDIS_INSURANCE: 'ERR_QERRORS_REDIS_INSURANCE',
    REDIS_MAX_IN_FLIGHT: 'ERR_QERRORS_REDIS_MAX_IN_FLIGHT',
    REDIS_PROBE_INTERVAL: 'ERR_QERRORS_REDIS_PROBE_INTERVAL',
    REDIS_TIMEOUT: 'ERR_QERRORS_REDIS_TIMEOUT',
    REDIS_URL: 'ERR_QERRORS_REDIS_URL',
  }),
});
