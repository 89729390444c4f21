'use strict';

// Reading a cache as a whole: iteration in recency order (a snapshot of the slots taken
// when it starts; no recency change), find, info, dump and load. Works through the
// accessors the cache gives it, so the cache's state stays private to class.js.

const { codedError } = require('../../policy/errors');

/**
 * @typedef {object} Access
 * @property {(allowStale?: boolean) => number[]} order slots listed, most recently used
 *   first (stale ones with allowStale; never a pending load's placeholder)
 * @property {(slot: number) => unknown} key
 * @property {(slot: number) => unknown} value read without changing recency
 * @property {(key: unknown) => number | undefined} slotOf
 * @property {(slot: number) => [number, number, number]} entryInfo [ttl, start, size]
 * @property {() => number} now the cache's clock
 * @property {boolean} sized whether entries carry sizes
 * @property {() => void} timed tells the cache entries may now have TTLs
 */

class Views {
  #cache;
  #a;

  /**
   * @param {any} cache the LruCache
   * @param {Access} access
   */
  constructor(cache, access) {
    this.#cache = cache;
    this.#a = access;
  }

  *keys() {
    for (const s of this.#a.order()) yield this.#a.key(s);
  }

  *values() {
    for (const s of this.#a.order()) yield this.#a.value(s);
  }

  /** @returns {Generator<[any, any]>} */
  *entries() {
    for (const s of this.#a.order()) yield [this.#a.key(s), this.#a.value(s)];
  }

  *rkeys() {
    const o = this.#a.order();
    for (let i = o.length - 1; i >= 0; i--) yield this.#a.key(o[i]);
  }

  *rvalues() {
    const o = this.#a.order();
    for (let i = o.length - 1; i >= 0; i--) yield this.#a.value(o[i]);
  }

  /** @returns {Generator<[any, any]>} */
  *rentries() {
    const o = this.#a.order();
    for (let i = o.length - 1; i >= 0; i--) yield [this.#a.key(o[i]), this.#a.value(o[i])];
  }

  /**
   * @param {(value: any, key: any, cache: any) => void} fn
   * @param {any} thisArg
   * @param {boolean} reverse least recently used first
   */
  forEach(fn, thisArg, reverse) {
    if (typeof fn !== 'function') throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'LruCache.forEach: the callback must be a function');
    for (const [k, v] of reverse ? this.rentries() : this.entries()) fn.call(thisArg, v, k, this.#cache);
  }

  /**
   * @param {(value: any, key: any, cache: any) => unknown} fn
   * @param {any} [getOptions]
   */
  find(fn, getOptions) {
    for (const [k, v] of this.entries()) {
      if (fn(v, k, this.#cache)) return this.#cache.get(k, getOptions);
    }
    return undefined;
  }

  /** @param {unknown} key */
  info(key) {
    const slot = this.#a.slotOf(key);
    if (slot === undefined) return undefined;
    /** @type {{ value: any, ttl?: number, start?: number, size?: number }} */
    const entry = { value: this.#a.value(slot) };
    if (entry.value === undefined) return undefined;
    const [ttl, start, size] = this.#a.entryInfo(slot);
    if (ttl !== 0) {
      entry.ttl = ttl - (this.#a.now() - start);
      entry.start = Date.now();
    }
    if (this.#a.sized) entry.size = size;
    return entry;
  }

  /** @param {unknown} key */
  remainingTTL(key) {
    const slot = this.#a.slotOf(key);
    if (slot === undefined) return 0;
    const [ttl, start] = this.#a.entryInfo(slot);
    return ttl === 0 ? Infinity : ttl - (this.#a.now() - start);
  }

  /**
   * Every entry (expired ones too), least recently used first, so `load(dump())`
   * rebuilds the same entries and order. `start` is in `Date.now()` time, so a dump can
   * move to another process.
   * @returns {[any, { value: any, ttl?: number, start?: number, size?: number }][]}
   */
  dump() {
    /** @type {[any, any][]} */
    const out = [];
    const order = this.#a.order(true);
    for (let i = order.length - 1; i >= 0; i--) {
      const slot = order[i];
      /** @type {{ value: any, ttl?: number, start?: number, size?: number }} */
      const entry = { value: this.#a.value(slot) };
      const [ttl, start, size] = this.#a.entryInfo(slot);
      if (ttl !== 0) {
        entry.ttl = ttl;
        entry.start = Math.floor(Date.now() - (this.#a.now() - start));
      }
      if (this.#a.sized) entry.size = size;
      out.push([this.#a.key(slot), entry]);
    }
    return out;
  }

  /** @param {[any, { value: any, ttl?: number, start?: number, size?: number }][]} entries */
  load(entries) {
    this.#cache.clear();
    for (const [key, entry] of entries) {
      const opts = { ...entry };
      if (entry.start) {
        // A dump's start is in Date.now() time: carry the age over to this clock.
        opts.start = this.#a.now() - (Date.now() - entry.start);
        this.#a.timed();
      }
      this.#cache.set(key, entry.value, opts);
    }
  }
}

module.exports = { Views };
