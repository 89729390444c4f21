'use strict';

// LruCache: an LRU + TTL cache whose entries live in Rust, off the V8 heap.
//
// The class is a thin facade over the native object made by `createLruCache` (see
// src/binding/cache.rs): every get/set/has/peek/delete is one raw N-API call taking a
// string key and returning the value (a new string or Buffer, the number of a memo
// slot holding that string already, or the negative id of a value kept by reference
// here) or a boolean. Keys of other types cross as tagged strings (see encodeKey).
// Option and method names follow lru-cache where they overlap. Details:
// docs/lru-cache.md.

const native = require('./loader');

const E_OPTION = 'ERR_QERRORS_CACHE_INVALID_OPTION';
const E_VALUE = 'ERR_QERRORS_CACHE_INVALID_VALUE';

// The string memo (`cacheMemo` of the generated ./contract.js): the last
// MEMO_SLOTS strings of MEMO_MIN..MEMO_MAX characters that `get` returned, in a ring. For
// an entry whose string is still here the native get returns the slot number instead of
// copying the value again. At most 256 x 8192 characters stay on the V8 heap.
const { cacheMemo } = require('./contract');
const { codedError } = require('../policy/errors');
const MEMO_SLOTS = cacheMemo.SLOTS;
const MEMO_MIN = cacheMemo.MIN_UNITS;
const MEMO_MAX = cacheMemo.MAX_UNITS;

// Keys cross to the native side as strings. A string key that does not start with
// U+0001 crosses as itself (the common case costs one charCodeAt); every other key is
// U+0001, a tag letter and a payload, so `1`, `'1'`, `true` and `'true'` stay distinct:
// s: a string starting with U+0001, n: a number, i: a bigint, t/f: booleans,
// u: undefined, z: null, r: a symbol, object or function by identity (the payload is
// its id in this cache's key registry).
const TAG = 1;

/**
 * @param {unknown} key
 * @returns {string | undefined} the encoding, or undefined for a key that needs an id
 */
function encodePlainKey(key) {
  switch (typeof key) {
    case 'string':
      return key.charCodeAt(0) === TAG ? '\u0001s' + key : key;
    case 'number':
      // String(-0) is '0': -0 and 0 are one key, as in a Map.
      return '\u0001n' + String(key);
    case 'bigint':
      return '\u0001i' + String(key);
    case 'boolean':
      return key ? '\u0001t' : '\u0001f';
    case 'undefined':
      return '\u0001u';
    default:
      return key === null ? '\u0001z' : undefined;
  }
}

/**
 * Whether JSON keeps `value` whole: JSON primitives, arrays and plain objects.
 * @param {unknown} value
 */
function jsonable(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null || Array.isArray(value)) return true;
      const proto = Object.getPrototypeOf(value);
      return proto === Object.prototype || proto === null;
    }
    default:
      return false;
  }
}

/**
 * Whether the native side can copy `value` as bytes (a Buffer or TypedArray).
 * @param {unknown} value
 */
function isBytes(value) {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/**
 * @param {Record<string, unknown>} options
 * @param {string} name
 * @returns {Function | undefined}
 */
function optionalFunction(options, name) {
  const f = options[name];
  if (f !== undefined && typeof f !== 'function') {
    throw codedError(TypeError, E_OPTION, `options.${name} must be a function`);
  }
  return f;
}

/**
 * @typedef {'evict' | 'expire' | 'set' | 'delete'} DisposeReason
 * @typedef {object} LruCacheOptions
 * @property {number} [max] most entries held (0 or absent: bounded by maxSize only)
 * @property {number} [maxSize] most total size (bytes by default) held
 * @property {number} [maxEntrySize] largest entry stored (needs size or sizeCalculation)
 * @property {number} [ttl] default time to live in ms (0 or absent: no expiry)
 * @property {(value: any, key: string) => number} [sizeCalculation] size of an entry
 *   (default: bytes stored for key + value: 1 per character when all are below U+0100,
 *   else 2 per UTF-16 unit; a Buffer's length)
 * @property {boolean} [updateAgeOnGet] a get restarts the entry's TTL
 * @property {boolean} [allowStale] get/peek return an expired value (get: once)
 * @property {(value: any, key: string, reason: DisposeReason) => void} [dispose]
 *   called after an entry leaves the cache
 * @property {(value: any, key: string, reason: DisposeReason) => void} [disposeAfter]
 *   called after dispose, for the same entry
 * @property {(value: any, key: any, reason: 'add' | 'update' | 'replace') => void} [onInsert]
 *   called after a set stores a value
 * @property {boolean} [json] store arrays and plain objects off-heap too (serialized on
 *   set, parsed on get)
 * @property {(key: any, staleValue: any, ctx: { signal: AbortSignal, options: object,
 *   context: any }) => any} [fetchMethod] loads a missing value for `fetch`
 * @property {(key: any, staleValue: any, ctx: { options: object, context: any }) => any}
 *   [memoMethod] computes a missing value for `memo`
 * @property {boolean} [allowStaleOnFetchRejection] a failed fetch answers the stale value
 * @property {boolean} [allowStaleOnFetchAbort] an aborted fetch answers the stale value
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
  /** @type {Function | undefined} */
  #disposeAfter;
  /** @type {Function | undefined} */
  #onInsert;
  /** @type {Function | undefined} */
  #fetchMethod;
  /** @type {Function | undefined} */
  #memoMethod;
  #allowStale;
  #allowStaleOnFetchRejection;
  #allowStaleOnFetchAbort;
  /** @type {string[]} */
  #memo = new Array(MEMO_SLOTS).fill('');
  #memoNext = 0;
  #max;
  #maxSize;
  #maxEntrySize;
  #ttl;
  // Values kept by reference: id -> value; the native entry holds the id. Entries
  // leave with their native entry (see #flush), so this map is bounded by the cache.
  /** @type {Map<number, unknown>} */
  #refs = new Map();
  #nextRef = 1;
  // Keys by identity (symbols, objects, functions): key -> id and id -> key.
  /** @type {Map<unknown, number>} */
  #keyIds = new Map();
  /** @type {Map<number, unknown>} */
  #keysById = new Map();
  #nextKeyId = 1;
  // Whether the native side reports removed entries (needed for dispose and to drop
  // values and keys held here by reference).
  #tracking;
  /** @type {Map<unknown, { promise: Promise<any>, ac: AbortController, stale: unknown }>} */
  #inflight = new Map();

  /** @param {LruCacheOptions} options */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw codedError(TypeError, 'ERR_QERRORS_CACHE_UNBOUNDED', 'LruCache needs options with max or maxSize, e.g. new LruCache({ max: 1000 })');
    }
    this.#sizeCalculation = optionalFunction(options, 'sizeCalculation');
    this.#dispose = optionalFunction(options, 'dispose');
    this.#disposeAfter = optionalFunction(options, 'disposeAfter');
    this.#onInsert = optionalFunction(options, 'onInsert');
    this.#fetchMethod = optionalFunction(options, 'fetchMethod');
    this.#memoMethod = optionalFunction(options, 'memoMethod');
    const json = options.json;
    if (json !== undefined && typeof json !== 'boolean') {
      throw codedError(TypeError, E_OPTION, 'options.json must be a boolean');
    }
    this.#json = json === true;
    const maxEntrySize = options.maxEntrySize;
    if (
      maxEntrySize !== undefined &&
      !(Number.isSafeInteger(maxEntrySize) && /** @type {number} */ (maxEntrySize) > 0)
    ) {
      throw codedError(TypeError, E_OPTION, 'options.maxEntrySize must be a positive integer');
    }
    this.#maxEntrySize = maxEntrySize || 0;
    this.#tracking = this.#dispose !== undefined || this.#disposeAfter !== undefined;
    this.#h = native.createLruCache({
      max: options.max,
      maxSize: options.maxSize,
      ttl: options.ttl,
      updateAgeOnGet: options.updateAgeOnGet,
      allowStale: options.allowStale,
      fakeClock: options.fakeClock,
      trackRemovals: this.#tracking,
    });
    this.#allowStale = options.allowStale === true;
    this.#allowStaleOnFetchRejection = options.allowStaleOnFetchRejection === true;
    this.#allowStaleOnFetchAbort = options.allowStaleOnFetchAbort === true;
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

  /** The loader `fetch` uses, if any. */
  get fetchMethod() {
    return this.#fetchMethod;
  }

  /** The function `memo` uses, if any. */
  get memoMethod() {
    return this.#memoMethod;
  }

  /** The dispose callback, if any. */
  get dispose() {
    return this.#dispose;
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
   * The native form of a key already registered, or undefined when `key` is an
   * identity key this cache has never stored.
   * @param {unknown} key
   */
  #find(key) {
    const k = encodePlainKey(key);
    if (k !== undefined) return k;
    const id = this.#keyIds.get(key);
    return id === undefined ? undefined : '\u0001r' + id;
  }

  /**
   * The native form of a key, registering an identity key.
   * @param {unknown} key
   */
  #register(key) {
    const k = this.#find(key);
    if (k !== undefined) return k;
    this.#startTracking();
    const id = this.#nextKeyId++;
    this.#keyIds.set(key, id);
    this.#keysById.set(id, key);
    return '\u0001r' + id;
  }

  /** @param {string} k a native key */
  #decodeKey(k) {
    if (k.charCodeAt(0) !== TAG) return k;
    const rest = k.slice(2);
    switch (k.charCodeAt(1)) {
      case 0x73: // s
        return rest;
      case 0x6e: // n
        return Number(rest);
      case 0x69: // i
        return BigInt(rest);
      case 0x74: // t
        return true;
      case 0x66: // f
        return false;
      case 0x7a: // z
        return null;
      case 0x72: // r
        return this.#keysById.get(Number(rest));
      default:
        return undefined;
    }
  }

  #startTracking() {
    if (this.#tracking) return;
    this.#h.trackRemovals();
    this.#tracking = true;
  }

  /**
   * What the native side stores for `value`: the value itself (string, bytes), its
   * JSON text (json mode), or the id of the value kept here by reference.
   * @param {unknown} value
   */
  #toNative(value) {
    if (this.#json) {
      if (jsonable(value)) return JSON.stringify(value);
    } else if (typeof value === 'string' || isBytes(value)) {
      return value;
    }
    this.#startTracking();
    const id = this.#nextRef++;
    this.#refs.set(id, value);
    return id;
  }

  /** @param {unknown} v what a native read returned (not a memo slot) */
  #fromNative(v) {
    if (typeof v === 'number') return this.#refs.get(-v);
    return this.#json && v !== undefined ? JSON.parse(v) : v;
  }

  /**
   * The value of `key`, made most recently used; `undefined` when absent or expired.
   * @param {unknown} key
   */
  get(key) {
    const k = typeof key === 'string' && key.charCodeAt(0) !== TAG ? key : this.#find(key);
    if (k === undefined) return undefined;
    let v = this.#h.get(k);
    if (typeof v === 'number' && v < 0) {
      v = this.#refs.get(-v);
    } else {
      if (typeof v === 'number') {
        v = this.#memo[v];
      } else if (typeof v === 'string' && v.length >= MEMO_MIN && v.length <= MEMO_MAX) {
        // The native side moved its ring on by one for this string: so does this side.
        this.#memo[this.#memoNext] = v;
        this.#memoNext = (this.#memoNext + 1) % MEMO_SLOTS;
      }
      if (this.#json && v !== undefined) v = JSON.parse(v);
    }
    // A get removes an entry only when it finds it expired.
    if (this.#tracking && (v === undefined || this.#allowStale)) this.#flush();
    return v;
  }

  /**
   * Stores `value` as the most recently used entry: strings and Buffers (and, with
   * `json: true`, arrays and plain objects) off the V8 heap, any other value by
   * reference. `undefined` deletes the key, like lru-cache. An entry larger than
   * `maxSize` is not stored (the key's old value is removed) and counted in
   * `stats().rejected`.
   * @param {unknown} key
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
        throw codedError(TypeError, E_OPTION, 'set options must be an object like { ttl }');
      }
      ttl = options.ttl;
      if (options.size !== undefined) size = options.size;
    }
    if (this.#inflight.size !== 0) this.#abortFetch(key, 'replaced');
    if (this.#maxEntrySize !== 0) {
      if (size === undefined) {
        throw codedError(TypeError, E_OPTION, 'with maxEntrySize, set needs a size or sizeCalculation');
      }
      if (size > this.#maxEntrySize) {
        // Too large to store: like an entry over maxSize, the key's old value goes too.
        this.delete(key);
        return this;
      }
    }
    const k = typeof key === 'string' && key.charCodeAt(0) !== TAG ? key : this.#register(key);
    // onInsert needs the previous value: two more native calls, only when it is given.
    const had = this.#onInsert !== undefined && this.#h.has(k);
    const old = had ? this.#fromNative(this.#h.peek(k)) : undefined;
    const stored = this.#toNative(value);
    let ok;
    try {
      ok =
        ttl === undefined && size === undefined
          ? this.#h.set(k, stored)
          : this.#h.set(k, stored, ttl, size);
    } catch (err) {
      this.#forget(k, stored);
      throw err;
    }
    if (!ok) this.#forget(k, stored);
    if (this.#tracking) this.#flush();
    if (ok && this.#onInsert !== undefined) {
      this.#onInsert(value, key, !had ? 'add' : old === value ? 'update' : 'replace');
    }
    return this;
  }

  /**
   * Drops what `set` registered for an entry the native side did not store.
   * @param {string} k
   * @param {unknown} stored
   */
  #forget(k, stored) {
    if (typeof stored === 'number') this.#refs.delete(stored);
    if (k.charCodeAt(0) === TAG && k.charCodeAt(1) === 0x72 && !this.#h.has(k)) {
      const id = Number(k.slice(2));
      this.#keyIds.delete(this.#keysById.get(id));
      this.#keysById.delete(id);
    }
  }

  /**
   * Whether `key` holds a fresh value. Does not change recency.
   * @param {unknown} key
   */
  has(key) {
    const k = this.#find(key);
    return k !== undefined && this.#h.has(k);
  }

  /**
   * The value of `key` without changing recency or stats.
   * @param {unknown} key
   */
  peek(key) {
    const k = this.#find(key);
    return k === undefined ? undefined : this.#fromNative(this.#h.peek(k));
  }

  /**
   * Removes `key`; returns whether it was present.
   * @param {unknown} key
   */
  delete(key) {
    if (this.#inflight.size !== 0) this.#abortFetch(key, 'deleted');
    const k = this.#find(key);
    if (k === undefined) return false;
    const found = this.#h.delete(k);
    if (this.#tracking) this.#flush();
    return found;
  }

  /**
   * Removes the least recently used fresh entry and returns its value (`undefined` when
   * empty). `dispose` sees the reason `'evict'`, as with lru-cache.
   */
  pop() {
    for (const key of this.rkeys()) {
      const value = this.peek(key);
      if (this.#inflight.size !== 0) this.#abortFetch(key, 'evicted');
      const k = /** @type {string} */ (this.#find(key));
      this.#h.delete(k);
      if (this.#tracking) this.#flush('evict');
      return value;
    }
    return undefined;
  }

  /**
   * The value of the first fresh entry (most recently used first) for which
   * `fn(value, key, cache)` is truthy, read with `get`; `undefined` if none.
   * @param {(value: any, key: any, cache: LruCache) => unknown} fn
   */
  find(fn) {
    for (const [k, v] of this.entries()) {
      if (fn(v, k, this)) return this.get(k);
    }
    return undefined;
  }

  /** Removes every entry and frees their memory; stats counters are kept. */
  clear() {
    for (const key of [...this.#inflight.keys()]) this.#abortFetch(key, 'deleted');
    this.#h.clear();
    if (this.#tracking) this.#flush();
  }

  /**
   * Removes every expired entry now (expired entries are otherwise removed when read
   * and by a small sweep on each set). Returns whether any was removed.
   */
  purgeStale() {
    const n = this.#h.purgeStale();
    if (this.#tracking) this.#flush();
    return n > 0;
  }

  /** Keys of fresh entries, most recently used first (a snapshot; no recency change). */
  *keys() {
    for (const k of this.#h.list(0)) yield this.#decodeKey(k);
  }

  /** Values of fresh entries, most recently used first. */
  *values() {
    for (const v of this.#h.list(1)) yield this.#fromNative(v);
  }

  /** `[key, value]` pairs of fresh entries, most recently used first. */
  *entries() {
    const flat = this.#h.list(2);
    for (let i = 0; i < flat.length; i += 2) {
      yield [this.#decodeKey(flat[i]), this.#fromNative(flat[i + 1])];
    }
  }

  /** Keys of fresh entries, least recently used first. */
  *rkeys() {
    const ks = this.#h.list(0);
    for (let i = ks.length - 1; i >= 0; i--) yield this.#decodeKey(ks[i]);
  }

  /** Values of fresh entries, least recently used first. */
  *rvalues() {
    const vs = this.#h.list(1);
    for (let i = vs.length - 1; i >= 0; i--) yield this.#fromNative(vs[i]);
  }

  /** `[key, value]` pairs of fresh entries, least recently used first. */
  *rentries() {
    const flat = this.#h.list(2);
    for (let i = flat.length - 2; i >= 0; i -= 2) {
      yield [this.#decodeKey(flat[i]), this.#fromNative(flat[i + 1])];
    }
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /**
   * Calls `fn(value, key, cache)` for each fresh entry, most recently used first.
   * @param {(value: any, key: any, cache: LruCache) => void} fn
   * @param {any} [thisArg]
   */
  forEach(fn, thisArg) {
    if (typeof fn !== 'function') throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'LruCache.forEach: the callback must be a function');
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  /**
   * Calls `fn(value, key, cache)` for each fresh entry, least recently used first.
   * @param {(value: any, key: any, cache: LruCache) => void} fn
   * @param {any} [thisArg]
   */
  rforEach(fn, thisArg) {
    for (const [k, v] of this.rentries()) fn.call(thisArg, v, k, this);
  }

  /**
   * The fresh entries as `[key, { value }]`, least recently used first, so that
   * `load(dump())` rebuilds the same recency order. TTLs are not carried.
   * @returns {[any, { value: any }][]}
   */
  dump() {
    return [...this.rentries()].map(([key, value]) => [key, { value }]);
  }

  /**
   * Clears the cache, then sets each `[key, { value, ttl?, size? }]` in order.
   * @param {[any, { value: any, ttl?: number, size?: number }][]} entries
   */
  load(entries) {
    this.clear();
    for (const [key, entry] of entries) {
      const opts = {};
      if (entry.ttl !== undefined) opts.ttl = entry.ttl;
      if (entry.size !== undefined) opts.size = entry.size;
      this.set(key, entry.value, opts);
    }
  }

  /**
   * The value of `key`, loading it with `fetchMethod` when missing or stale. Concurrent
   * fetches of one key share one load. With `allowStale` (option of the cache or of
   * the call) a stale value is answered at once while the load refreshes it.
   * Without `fetchMethod` this is `get` wrapped in a promise.
   * @param {unknown} key
   * @param {{ forceRefresh?: boolean, allowStale?: boolean, ttl?: number, size?: number,
   *   signal?: AbortSignal, context?: any }} [fetchOptions]
   * @returns {Promise<any>}
   */
  fetch(key, fetchOptions = {}) {
    const fm = this.#fetchMethod;
    if (fm === undefined) return Promise.resolve(this.get(key));
    const allowStale = fetchOptions.allowStale ?? this.#allowStale;
    const pending = this.#inflight.get(key);
    if (pending !== undefined && !fetchOptions.forceRefresh) {
      return allowStale && pending.stale !== undefined
        ? Promise.resolve(pending.stale)
        : pending.promise;
    }
    if (!fetchOptions.forceRefresh && this.has(key)) return Promise.resolve(this.get(key));
    // peek answers an expired value only in a cache created with allowStale.
    const stale = this.peek(key);
    const load = this.#load(key, stale, fetchOptions);
    if (allowStale && stale !== undefined) {
      // The caller has its answer; a failed refresh leaves the stale entry as it was.
      load.catch(() => {});
      return Promise.resolve(stale);
    }
    return load;
  }

  /**
   * Starts one load of `key` and records it as the pending load of that key.
   * @param {unknown} key
   * @param {unknown} stale
   * @param {{ ttl?: number, size?: number, signal?: AbortSignal, context?: any }} fetchOptions
   */
  #load(key, stale, fetchOptions) {
    const fm = /** @type {Function} */ (this.#fetchMethod);
    if (this.#inflight.size !== 0) this.#abortFetch(key, 'replaced');
    const ac = new AbortController();
    const outer = fetchOptions.signal;
    const onOuterAbort = () => ac.abort(outer?.reason);
    if (outer !== undefined) {
      if (outer.aborted) ac.abort(outer.reason);
      else outer.addEventListener('abort', onOuterAbort, { once: true });
    }
    /** @type {{ ttl?: number, size?: number }} */
    const options = { ttl: fetchOptions.ttl, size: fetchOptions.size };
    const record = { promise: /** @type {Promise<any>} */ (Promise.resolve()), ac, stale };
    const settle = () => {
      if (this.#inflight.get(key) === record) this.#inflight.delete(key);
      // A long-lived caller signal must not collect one listener per load.
      outer?.removeEventListener('abort', onOuterAbort);
    };
    record.promise = new Promise((resolve) => {
      resolve(fm(key, stale, { signal: ac.signal, options, context: fetchOptions.context }));
    }).then(
      (v) => {
        settle();
        if (ac.signal.aborted) {
          if (this.#allowStaleOnFetchAbort) return stale;
          throw ac.signal.reason;
        }
        if (v !== undefined) {
          const opts = {};
          if (options.ttl !== undefined) opts.ttl = options.ttl;
          if (options.size !== undefined) opts.size = options.size;
          this.set(key, v, opts);
        }
        return v;
      },
      (err) => {
        settle();
        if (ac.signal.aborted && this.#allowStaleOnFetchAbort) return stale;
        if (this.#allowStaleOnFetchRejection && stale !== undefined) return stale;
        throw err;
      }
    );
    this.#inflight.set(key, record);
    return record.promise;
  }

  /**
   * Aborts the pending load of `key`, if any (its result will not be stored).
   * @param {unknown} key
   * @param {string} why
   */
  #abortFetch(key, why) {
    const record = this.#inflight.get(key);
    if (record === undefined) return;
    this.#inflight.delete(key);
    record.ac.abort(new Error(why));
  }

  /**
   * The value of `key`, computed with `memoMethod` (synchronously) and stored when
   * missing, or always with `forceRefresh`.
   * @param {unknown} key
   * @param {{ forceRefresh?: boolean, ttl?: number, size?: number, context?: any }} [memoOptions]
   */
  memo(key, memoOptions = {}) {
    const mm = this.#memoMethod;
    if (mm === undefined) {
      throw codedError(TypeError, E_OPTION, 'memo() needs a cache created with a memoMethod');
    }
    const v = this.get(key);
    if (!memoOptions.forceRefresh && v !== undefined) return v;
    const vv = mm(key, v, { options: memoOptions, context: memoOptions.context });
    const opts = {};
    if (memoOptions.ttl !== undefined) opts.ttl = memoOptions.ttl;
    if (memoOptions.size !== undefined) opts.size = memoOptions.size;
    this.set(key, vv, opts);
    return vv;
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

  /**
   * Drops what this side holds for removed entries and calls dispose (then disposeAfter)
   * for each.
   * @param {string} [deleteReason] reason reported for deletions ('evict' for pop)
   */
  #flush(deleteReason) {
    const removed = this.#h.takeRemoved();
    if (removed === undefined) return;
    let failure;
    let failed = false;
    for (let i = 0; i < removed.length; i += 3) {
      const k = removed[i];
      const v = removed[i + 1];
      const reason =
        deleteReason !== undefined && removed[i + 2] === 'delete' ? deleteReason : removed[i + 2];
      const key = this.#decodeKey(k);
      let value;
      if (typeof v === 'number') {
        value = this.#refs.get(-v);
        this.#refs.delete(-v);
      } else {
        value = this.#json ? JSON.parse(v) : v;
      }
      // A 'set' removal replaced the value; the key stays.
      if (removed[i + 2] !== 'set' && k.charCodeAt(0) === TAG && k.charCodeAt(1) === 0x72) {
        const id = Number(k.slice(2));
        this.#keyIds.delete(key);
        this.#keysById.delete(id);
      }
      try {
        if (this.#dispose !== undefined) this.#dispose(value, key, reason);
        if (this.#disposeAfter !== undefined) this.#disposeAfter(value, key, reason);
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
