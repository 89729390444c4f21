'use strict';

// LruCache: an LRU + TTL cache whose values live in Rust, off the V8 heap. core.js holds
// the state and every call that reaches the native side (get, set, peek, has, delete,
// fetch, ...); this class adds what is built on those: the option getters, iteration,
// dump/load, info, forceFetch and memo. Option and method names follow lru-cache.
// Details: docs/lru-cache.md.

const native = require('../loader');
const { codedError } = require('../../policy/errors');
const { E_OPTION } = require('./options');
const { CacheCore, VIEWS, OPTIONS, CLOCK } = require('./core');

class LruCache extends CacheCore {
  get max() {
    return this[OPTIONS].max;
  }

  get maxSize() {
    return this[OPTIONS].maxSize;
  }

  get maxEntrySize() {
    return this[OPTIONS].maxEntrySize;
  }

  /** Default TTL in ms (0: none). */
  get ttl() {
    return this[OPTIONS].ttl;
  }

  get allowStale() {
    return this[OPTIONS].allowStale;
  }

  get fetchMethod() {
    return this[OPTIONS].fetchMethod;
  }

  get memoMethod() {
    return this[OPTIONS].memoMethod;
  }

  get dispose() {
    return this[OPTIONS].dispose;
  }

  get disposeAfter() {
    return this[OPTIONS].disposeAfter;
  }

  get sizeCalculation() {
    return this[OPTIONS].sizeCalculation;
  }

  /** Whether a set replacing a value skips disposing the old one (may be changed). */
  get noDisposeOnSet() {
    return this[OPTIONS].noDisposeOnSet;
  }

  set noDisposeOnSet(on) {
    this[OPTIONS].noDisposeOnSet = on === true;
  }

  /** The clock TTLs follow (`performance` unless `perf` was given). */
  get perf() {
    return this[OPTIONS].perf ?? { now: this[CLOCK].now };
  }

  /** Keys, most recently used first (a snapshot; no recency change). */
  keys() {
    return this[VIEWS].keys();
  }

  /** Values, most recently used first. */
  values() {
    return this[VIEWS].values();
  }

  /** `[key, value]` pairs, most recently used first. */
  entries() {
    return this[VIEWS].entries();
  }

  /** Keys, least recently used first. */
  rkeys() {
    return this[VIEWS].rkeys();
  }

  /** Values, least recently used first. */
  rvalues() {
    return this[VIEWS].rvalues();
  }

  /** `[key, value]` pairs, least recently used first. */
  rentries() {
    return this[VIEWS].rentries();
  }

  [Symbol.iterator]() {
    return this[VIEWS].entries();
  }

  /**
   * Calls `fn(value, key, cache)` for each entry, most recently used first.
   * @param {(value: any, key: any, cache: LruCache) => void} fn
   * @param {any} [thisArg]
   */
  forEach(fn, thisArg) {
    this[VIEWS].forEach(fn, thisArg, false);
  }

  /**
   * Calls `fn(value, key, cache)` for each entry, least recently used first.
   * @param {(value: any, key: any, cache: LruCache) => void} fn
   * @param {any} [thisArg]
   */
  rforEach(fn, thisArg) {
    this[VIEWS].forEach(fn, thisArg, true);
  }

  /**
   * The value (read with `get`) of the first entry, most recently used first, for which
   * `fn(value, key, cache)` is truthy.
   * @param {(value: any, key: any, cache: LruCache) => unknown} fn
   * @param {{ allowStale?: boolean }} [getOptions]
   */
  find(fn, getOptions) {
    return this[VIEWS].find(fn, getOptions);
  }

  /**
   * `{ value, ttl?, start?, size? }` of `key` (ttl: ms left; start: now as `Date.now()`).
   * @param {unknown} key
   */
  info(key) {
    return this[VIEWS].info(key);
  }

  /**
   * Milliseconds `key` has left: `Infinity` without a TTL, 0 when absent.
   * @param {unknown} key
   */
  getRemainingTTL(key) {
    return this[VIEWS].remainingTTL(key);
  }

  /** Every entry as `[key, { value, ttl?, start?, size? }]`, least recently used first. */
  dump() {
    return this[VIEWS].dump();
  }

  /**
   * Clears the cache, then sets each `[key, { value, ttl?, start?, size? }]` in order.
   * @param {[any, { value: any, ttl?: number, start?: number, size?: number }][]} entries
   */
  load(entries) {
    this[VIEWS].load(entries);
  }

  /**
   * Like `fetch`, but rejects when the value cannot be loaded (undefined).
   * @param {unknown} key
   * @param {any} [fetchOptions]
   */
  async forceFetch(key, fetchOptions) {
    const v = await this.fetch(key, fetchOptions);
    if (v === undefined) throw new Error('fetch() returned undefined');
    return v;
  }

  /**
   * The value of `key`, computed with `memoMethod` (synchronously) and stored when
   * missing, or always with `forceRefresh`.
   * @param {unknown} key
   * @param {{ forceRefresh?: boolean, ttl?: number, size?: number, context?: any,
   *   allowStale?: boolean }} [memoOptions]
   */
  memo(key, memoOptions = {}) {
    const mm = this[OPTIONS].memoMethod;
    if (mm === undefined) {
      throw codedError(TypeError, E_OPTION, 'memo() needs a cache created with a memoMethod');
    }
    const { forceRefresh, context, ...options } = memoOptions;
    const v = this.get(key, options);
    if (!forceRefresh && v !== undefined) return v;
    const vv = mm(key, v, { options, context });
    this.set(key, vv, options);
    return vv;
  }

  /**
   * Moves the fake clock of a cache created with `fakeClock: true`; returns its time.
   * @param {number} ms
   */
  advanceClock(ms) {
    return this[CLOCK].advance(ms);
  }

  /** Memory held by all native caches in this process: `{ caches, bytes }`. */
  static nativeMemory() {
    return native.lruCacheNativeMemory();
  }

  get [Symbol.toStringTag]() {
    return 'LruCache';
  }
}

module.exports = { LruCache };
