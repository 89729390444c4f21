'use strict';

// The default `cacheTransport` of a circuit breaker (opossum's `cache` option) and its
// store of coalesced calls: a Map of key -> { value, expiresAt } with a size bound.
// Values are promises, so they stay JS objects (the native LRU cache stores strings and
// Buffers only).

/** Entries kept at most when no size is given: the largest a Map reliably holds. */
const DEFAULT_MAX = 2 ** 24 - 1;

class MemoryCache {
  /** @param {number} [maxEntries] */
  constructor(maxEntries) {
    this.maxEntries = Number.isInteger(maxEntries) && maxEntries > 0 ? maxEntries : DEFAULT_MAX;
    /** @type {Map<string, { value: any, expiresAt: number }>} */
    this.cache = new Map();
  }

  /** The value of `key`, or undefined when absent or expired (an expired entry is dropped). */
  get(key) {
    const entry = this.cache.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= Date.now()) {
      this.cache.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * Stores `value` until `expiresAt` (ms since epoch; 0 = no expiry). A new key at the
   * size bound evicts the oldest insertion.
   */
  set(key, value, expiresAt) {
    if (!this.cache.has(key) && this.cache.size >= this.maxEntries) {
      this.cache.delete(this.cache.keys().next().value);
    }
    this.cache.set(key, { value, expiresAt: expiresAt || 0 });
  }

  delete(key) {
    this.cache.delete(key);
  }

  flush() {
    this.cache.clear();
  }
}

module.exports = { MemoryCache };
