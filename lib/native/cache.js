'use strict';

// LruCache: an LRU + TTL cache whose entries live in Rust, off the V8 heap.
//
// The class is a thin facade over the native object made by `createLruCache` (see
// src/binding/cache.rs): every get/set/has/peek/delete is one raw N-API call taking a
// string key and returning the value (a new string or Buffer, or the number of a memo
// slot holding that string already) or a boolean. Option and method names follow
// lru-cache where they overlap. Details: docs/lru-cache.md.

const native = require('./loader');

const E_OPTION = 'ERR_QERRORS_CACHE_INVALID_OPTION';
const E_VALUE = 'ERR_QERRORS_CACHE_INVALID_VALUE';

// The string memo (`cacheMemo` of the generated ./contract.js): the last
// MEMO_SLOTS strings of MEMO_MIN..MEMO_MAX characters that `get` returned, in a ring. For
// an entry whose string is still here the native get returns the slot number instead of
// copying the value again. At most 256 x 8192 characters stay on the V8 heap.
const { cacheMemo } = require('./contract');
const MEMO_SLOTS = cacheMemo.SLOTS;
const MEMO_MIN = cacheMemo.MIN_UNITS;
const MEMO_MAX = cacheMemo.MAX_UNITS;

/**
 * @param {new (message: string) => Error} Ctor
 * @param {string} code
 * @param {string} message
 */
function coded(Ctor, code, message) {
  const err = new Ctor(message);
  err.code = code;
  return err;
}

/**
 * @param {Record<string, unknown>} options
 * @param {string} name
 * @returns {Function | undefined}
 */
function optionalFunction(options, name) {
  const f = options[name];
  if (f !== undefined && typeof f !== 'function') {
    throw coded(TypeError, E_OPTION, `options.${name} must be a function`);
  }
  return f;
}

/**
 * @typedef {'evict' | 'expire' | 'set' | 'delete'} DisposeReason
 * @typedef {object} LruCacheOptions
 * @property {number} [max] most entries held (0 or absent: bounded by maxSize only)
 * @property {number} [maxSize] most total size (bytes by default) held
 * @property {number} [ttl] default time to live in ms (0 or absent: no expiry)
 * @property {(value: any, key: string) => number} [sizeCalculation] size of an entry
 *   (default: bytes stored for key + value: 1 per character when all are below U+0100,
 *   else 2 per UTF-16 unit; a Buffer's length)
 * @property {boolean} [updateAgeOnGet] a get restarts the entry's TTL
 * @property {boolean} [allowStale] get/peek return an expired value (get: once)
 * @property {(value: any, key: string, reason: DisposeReason) => void} [dispose]
 *   called after an entry leaves the cache
 * @property {boolean} [json] store any JSON value (serialized on set, parsed on get)
 * @property {boolean} [fakeClock] TTLs follow a clock moved only by advanceClock (tests)
 */

class LruCache {
  /** @type {any} */
  #h;
  #json;
  /** @type {Function | undefined} */
  #sizeCalculation;
  /** @type {Function | undefined} */
  #dispose;
  #allowStale;
  /** @type {string[]} */
  #memo = new Array(MEMO_SLOTS).fill('');
  #memoNext = 0;
  #max;
  #maxSize;
  #ttl;

  /** @param {LruCacheOptions} options */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw coded(
        TypeError,
        'ERR_QERRORS_CACHE_UNBOUNDED',
        'LruCache needs options with max or maxSize, e.g. new LruCache({ max: 1000 })'
      );
    }
    this.#sizeCalculation = optionalFunction(options, 'sizeCalculation');
    this.#dispose = optionalFunction(options, 'dispose');
    const json = options.json;
    if (json !== undefined && typeof json !== 'boolean') {
      throw coded(TypeError, E_OPTION, 'options.json must be a boolean');
    }
    this.#json = json === true;
    this.#h = native.createLruCache({
      max: options.max,
      maxSize: options.maxSize,
      ttl: options.ttl,
      updateAgeOnGet: options.updateAgeOnGet,
      allowStale: options.allowStale,
      fakeClock: options.fakeClock,
      trackRemovals: this.#dispose !== undefined,
    });
    this.#allowStale = options.allowStale === true;
    this.#max = options.max || 0;
    this.#maxSize = options.maxSize || 0;
    this.#ttl = options.ttl || 0;
  }

  /** Most entries held (0: bounded by maxSize only). */
  get max() {
    return this.#max;
  }

  /** Most total size held (0: no size bound). */
  get maxSize() {
    return this.#maxSize;
  }

  /** Default TTL in ms (0: none). */
  get ttl() {
    return this.#ttl;
  }

  /** Entries held, expired ones not yet removed included. */
  get size() {
    return this.#h.size();
  }

  /** Sum of the sizes of the entries held. */
  get calculatedSize() {
    return this.#h.bytes();
  }

  /**
   * The value of `key`, made most recently used; `undefined` when absent or expired.
   * @param {string} key
   */
  get(key) {
    let v = this.#h.get(key);
    if (typeof v === 'number') {
      v = this.#memo[v];
    } else if (typeof v === 'string' && v.length >= MEMO_MIN && v.length <= MEMO_MAX) {
      // The native side moved its ring on by one for this string: so does this side.
      this.#memo[this.#memoNext] = v;
      this.#memoNext = (this.#memoNext + 1) % MEMO_SLOTS;
    }
    // A get removes an entry only when it finds it expired.
    if (this.#dispose !== undefined && (v === undefined || this.#allowStale)) this.#flush();
    return this.#json && v !== undefined ? JSON.parse(v) : v;
  }

  /**
   * Stores `value` (a string or Buffer; any JSON value with `json: true`) as the most
   * recently used entry. `undefined` deletes the key, like lru-cache. An entry larger
   * than `maxSize` is not stored (the key's old value is removed) and counted in
   * `stats().rejected`.
   * @param {string} key
   * @param {any} value
   * @param {{ ttl?: number, size?: number }} [options]
   * @returns {this}
   */
  set(key, value, options) {
    if (value === undefined) {
      this.delete(key);
      return this;
    }
    let size;
    if (this.#sizeCalculation !== undefined) size = this.#sizeCalculation(value, key);
    let ttl;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') {
        throw coded(TypeError, E_OPTION, 'set options must be an object like { ttl }');
      }
      ttl = options.ttl;
      if (options.size !== undefined) size = options.size;
    }
    let stored = value;
    if (this.#json) {
      stored = JSON.stringify(value);
      if (stored === undefined) {
        throw coded(TypeError, E_VALUE, `LruCache { json: true } cannot store ${typeof value} values`);
      }
    }
    if (ttl === undefined && size === undefined) this.#h.set(key, stored);
    else this.#h.set(key, stored, ttl, size);
    if (this.#dispose !== undefined) this.#flush();
    return this;
  }

  /**
   * Whether `key` holds a fresh value. Does not change recency.
   * @param {string} key
   */
  has(key) {
    return this.#h.has(key);
  }

  /**
   * The value of `key` without changing recency or stats.
   * @param {string} key
   */
  peek(key) {
    const v = this.#h.peek(key);
    return this.#json && v !== undefined ? JSON.parse(v) : v;
  }

  /**
   * Removes `key`; returns whether it was present.
   * @param {string} key
   */
  delete(key) {
    const found = this.#h.delete(key);
    if (this.#dispose !== undefined) this.#flush();
    return found;
  }

  /** Removes every entry and frees their memory; stats counters are kept. */
  clear() {
    this.#h.clear();
    if (this.#dispose !== undefined) this.#flush();
  }

  /**
   * Removes every expired entry now (expired entries are otherwise removed when read
   * and by a small sweep on each set). Returns whether any was removed.
   */
  purgeStale() {
    const n = this.#h.purgeStale();
    if (this.#dispose !== undefined) this.#flush();
    return n > 0;
  }

  /** Keys of fresh entries, most recently used first (a snapshot; no recency change). */
  *keys() {
    yield* this.#h.list(0);
  }

  /** Values of fresh entries, most recently used first. */
  *values() {
    const vs = this.#h.list(1);
    for (const v of vs) yield this.#json ? JSON.parse(v) : v;
  }

  /** `[key, value]` pairs of fresh entries, most recently used first. */
  *entries() {
    const flat = this.#h.list(2);
    for (let i = 0; i < flat.length; i += 2) {
      yield [flat[i], this.#json ? JSON.parse(flat[i + 1]) : flat[i + 1]];
    }
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /**
   * Calls `fn(value, key, cache)` for each fresh entry, most recently used first.
   * @param {(value: any, key: string, cache: LruCache) => void} fn
   * @param {any} [thisArg]
   */
  forEach(fn, thisArg) {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  /**
   * Counters since creation and current totals.
   * @returns {{ hits: number, misses: number, evictions: number, expirations: number,
   *   rejected: number, size: number, bytes: number }}
   */
  stats() {
    return this.#h.stats();
  }

  /**
   * Moves the fake clock of a cache created with `fakeClock: true`; returns its time.
   * @param {number} ms
   */
  advanceClock(ms) {
    return this.#h.advanceClock(ms);
  }

  /** Memory held by all native caches in this process: `{ caches, bytes }`. */
  static nativeMemory() {
    return native.lruCacheNativeMemory();
  }

  get [Symbol.toStringTag]() {
    return 'LruCache';
  }

  #flush() {
    const removed = this.#h.takeRemoved();
    if (removed === undefined) return;
    let failure;
    let failed = false;
    for (let i = 0; i < removed.length; i += 3) {
      const v = removed[i + 1];
      try {
        this.#dispose(this.#json ? JSON.parse(v) : v, removed[i], removed[i + 2]);
      } catch (err) {
        // Every removed entry is reported even if one dispose call throws.
        if (!failed) {
          failed = true;
          failure = err;
        }
      }
    }
    if (failed) throw failure;
  }
}

module.exports = { LruCache };
