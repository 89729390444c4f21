'use strict';

// The core of LruCache (class.js adds the option getters, iteration, dump/load, memo):
// an LRU + TTL cache whose values live in Rust, off the V8 heap.
//
// Keys stay in JS: a `Map` from key to a small integer slot (any key a Map accepts; `1`
// and `'1'` are two keys). The native object made by `createLruCache` (see
// src/binding/cache.rs) keeps, per slot, the value, its size, its TTL and its place in
// the recency order, so a get is one Map lookup and at most one raw N-API call taking
// the slot (none for a fresh memoised string, see memo.js). The native side decides
// evictions and expiries and reports the slots it freed in a shared Int32Array
// (`removals.js`), so this side trims its Map without extra calls.
// Option and method names follow lru-cache. Details: docs/lru-cache.md.

const native = require('../loader');
const { codedError } = require('../../policy/errors');
const { readOptions, E_OPTION } = require('./options');
const { toNative, PENDING } = require('./values');
const { makeClock } = require('./clock');
const { Removals, EVICT, EXPIRE, SET, DELETE } = require('./removals');
const { Loads } = require('./fetch');
const { Views } = require('./iteration');
const { Autopurge } = require('./ttl');
const { StringMemo } = require('./memo');
const { YoungStrings, MAX_LENGTH } = require('./young');
const { entrySize } = require('./entrySize');
const { Deferred } = require('./deferred');

const E_TTL = 'ERR_QERRORS_CACHE_INVALID_TTL';

/** What class.js reads of the core's state (not part of the public API). */
const VIEWS = Symbol('views');
const OPTIONS = Symbol('options');
const CLOCK = Symbol('clock');
/** No key: what #missed holds when no get has just missed (callers cannot pass it). */
const NO_KEY = Symbol('no key');

class CacheCore {
  /** @type {any} */
  #h;
  /** @type {Int32Array} */
  #report;
  /** Hits and sets made without a call (deferred.js). @type {Deferred} */
  #deferred;
  /** `[start, ttl]` of the entry the last native get found. @type {Float64Array} */
  #timing;
  // Whether a memoised hit may be recorded instead of called (not with updateAgeOnGet).
  #recordHits;
  /** Key -> slot. @type {Map<unknown, number>} */
  #slots = new Map();
  /** Slot -> key. @type {unknown[]} */
  #keys = [];
  /** Slot -> value kept by reference (see values.js). @type {unknown[]} */
  #vals = [];
  #o;
  #clock;
  // Options read on every get, kept in fields of their own.
  #json;
  #allowStale;
  #noDeleteOnStaleGet;
  // Whether an entry may have a TTL: from then on every call passes the time.
  #timed;
  // Whether entries carry sizes (maxSize or maxEntrySize or sizeCalculation given).
  #sized;
  // Whether a set without options needs none of sizes, callbacks, timers or `json`
  // (decided once, so the common set skips their checks; see #setPlain).
  #plain;
  #removals;
  /** Strings recently returned by get (see memo.js); undefined with `json`. */
  #memo;
  /** Strings recently set, not yet copied off the heap (see young.js); plain caches only. */
  #young;
  // Gets of keys this side does not hold (the native side counts the others).
  #misses = 0;
  // The key the last get missed, until a key is added: a set of it (cache-aside) then
  // needs no second Map lookup to know it is new.
  #missed = /** @type {unknown} */ (NO_KEY);
  #rejected = 0;
  /** @type {Loads | undefined} */
  #loads;
  /** @type {Autopurge | undefined} */
  #timers;
  #views;

  /** @param {import('./options').LruCacheOptions} options */
  constructor(options) {
    const o = readOptions(options);
    this.#o = o;
    this.#clock = makeClock(o);
    this.#json = o.json;
    this.#allowStale = o.allowStale;
    this.#noDeleteOnStaleGet = o.noDeleteOnStaleGet;
    this.#timed = o.ttl > 0;
    this.#sized = o.maxSize > 0 || o.maxEntrySize > 0;
    this.#plain =
      !this.#sized &&
      !o.json &&
      !o.ttlAutopurge &&
      o.dispose === undefined &&
      o.disposeAfter === undefined &&
      o.onInsert === undefined;
    this.#h = native.createLruCache({
      max: o.max,
      maxSize: o.maxSize,
      ttl: o.ttl,
      updateAgeOnGet: o.updateAgeOnGet,
      // The native get answers an expired value; this side decides whether to use it.
      allowStale: true,
      trackValues: o.dispose !== undefined || o.disposeAfter !== undefined,
      // A plain set may then skip its call (see #setPlain).
      deferSets: this.#plain && o.max > 0,
    });
    this.#report = this.#h.removed;
    this.#deferred = new Deferred(this.#h);
    this.#timing = this.#h.timing;
    this.#recordHits = !o.updateAgeOnGet;
    this.#timers = o.ttlAutopurge ? new Autopurge() : undefined;
    this.#memo = o.json ? undefined : new StringMemo();
    this.#young = this.#plain ? new YoungStrings(this.#vals) : undefined;
    this.#removals = new Removals(this.#h, this.#report, this.#slots, this.#keys, this.#vals, this.#timers, this.#memo, o, (key) =>
      this.#loads?.abort(key, 'evicted')
    );
    this.#views = new Views(this, {
      order: (allowStale = this.#allowStale) => this.#order(allowStale),
      key: (slot) => this.#keys[slot],
      value: (slot) => this.#peekSlot(slot, 0, true),
      slotOf: (key) => this.#slots.get(key),
      entryInfo: (slot) => this.#h.entryInfo(slot),
      now: () => this.#clock.now(),
      sized: this.#sized,
      timed: () => {
        this.#timed = true;
      },
    });
  }

  /** @returns {import('./iteration').Views} */
  get [VIEWS]() {
    return this.#views;
  }

  get [OPTIONS]() {
    return this.#o;
  }

  get [CLOCK]() {
    return this.#clock;
  }

  /** Entries held, expired ones not yet removed included. */
  get size() {
    return this.#slots.size;
  }

  /** Sum of the sizes of the entries held. */
  get calculatedSize() {
    return this.#h.totalSize();
  }

  /** The time for a freshness check (a reading up to 1 ms old; see clock.js). */
  #now() {
    return this.#timed ? this.#clock.cached() : 0;
  }

  /**
   * The value in `slot`, made most recently used, or undefined; an expired entry is
   * removed (and answered with `allowStale`).
   * @param {number} slot
   * @param {boolean} allowStale
   */
  #getSlot(slot, allowStale) {
    const memo = this.#memo;
    const m = memo?.get(slot);
    if (m !== undefined) {
      if (this.#recordHits && this.#deferred.mayRecord(slot) && !memo.expired(slot, this.#now())) {
        // A fresh hit: recorded, applied by the native side before its next call.
        this.#deferred.hit(slot);
        return m;
      }
      // Only the recency update (and expiry check) crosses.
      const found = this.#timed ? this.#h.touch(slot, this.#clock.cached()) : this.#h.touch(slot);
      if (this.#report[0] !== 0) {
        this.#removals.flushAndRun();
        if (!allowStale) return undefined;
      }
      return found ? m : undefined;
    }
    let v = this.#timed ? this.#h.get(slot, this.#clock.cached()) : this.#h.get(slot);
    const held = v === null;
    if (held) {
      v = this.#vals[slot];
      if (v === PENDING) v = undefined;
    }
    // A young string held by reference is memoised too: its next hit needs no call.
    if (memo !== undefined && typeof v === 'string') memo.remember(slot, v, this.#timing[0], this.#timing[1]);
    if (this.#report[0] !== 0) {
      // A get removes nothing but its own entry, found expired.
      this.#removals.flushAndRun();
      if (!allowStale) return undefined;
    }
    return this.#json && !held && v !== undefined ? JSON.parse(v) : v;
  }

  /**
   * The value of `key`, made most recently used; `undefined` when absent or expired.
   * @param {unknown} key
   * @param {{ allowStale?: boolean, noDeleteOnStaleGet?: boolean, status?: any }} [options]
   */
  get(key, options) {
    const slot = this.#slots.get(key);
    if (options === undefined) {
      if (slot === undefined) {
        this.#misses++;
        this.#missed = key;
        return undefined;
      }
      if (!this.#noDeleteOnStaleGet) return this.#getSlot(slot, this.#allowStale);
    }
    const status = options?.status;
    if (status) {
      status.op = 'get';
      status.key = key;
    }
    const result = this.#getWith(slot, options ?? {});
    if (status && result !== undefined) status.value = result;
    return result;
  }

  /**
   * `get` with per-call options.
   * @param {number | undefined} slot
   * @param {{ allowStale?: boolean, noDeleteOnStaleGet?: boolean, status?: any }} options
   */
  #getWith(slot, options) {
    const { status } = options;
    if (slot === undefined) {
      this.#misses++;
      if (status) status.get = 'miss';
      return undefined;
    }
    if (status) this.#statusTTL(status, slot);
    const allowStale = options.allowStale ?? this.#allowStale;
    const now = this.#now();
    if (this.#h.has(slot, now)) {
      if (status) status.get = 'hit';
      return this.#getSlot(slot, true);
    }
    if (status) {
      status.get = 'stale';
      if (allowStale) status.returnedStale = true;
    }
    if (options.noDeleteOnStaleGet ?? this.#noDeleteOnStaleGet) {
      this.#misses++;
      return allowStale ? this.#peekSlot(slot, now, true) : undefined;
    }
    const v = this.#getSlot(slot, true);
    return allowStale ? v : undefined;
  }

  /**
   * @param {number} slot
   * @param {number} now
   * @param {boolean} allowStale
   */
  #peekSlot(slot, now, allowStale) {
    const v = this.#h.peek(slot, now, allowStale);
    if (v === null) return this.#vals[slot] === PENDING ? undefined : this.#vals[slot];
    return this.#o.json && v !== undefined ? JSON.parse(v) : v;
  }

  /**
   * The value of `key` without changing recency or counters.
   * @param {unknown} key
   * @param {{ allowStale?: boolean, status?: any }} [options]
   */
  peek(key, options) {
    const slot = this.#slots.get(key);
    const status = options?.status;
    if (status === undefined) {
      return slot === undefined ? undefined : this.#peekSlot(slot, this.#now(), options?.allowStale ?? this.#allowStale);
    }
    status.op = 'peek';
    status.key = key;
    const allowStale = options?.allowStale ?? this.#allowStale;
    if (slot === undefined || (!allowStale && !this.#h.has(slot, this.#now()))) {
      status.peek = slot === undefined ? 'miss' : 'stale';
      return undefined;
    }
    const v = this.#peekSlot(slot, this.#now(), true);
    status.peek = v === undefined ? 'miss' : 'hit';
    if (v !== undefined) status.value = v;
    return v;
  }

  /**
   * Whether `key` holds a fresh value. Does not change recency.
   * @param {unknown} key
   * @param {{ status?: any }} [options]
   */
  has(key, options) {
    const slot = this.#slots.get(key);
    const status = options?.status;
    if (status === undefined) return slot !== undefined && this.#vals[slot] !== PENDING && this.#h.has(slot, this.#now());
    status.op = 'has';
    status.key = key;
    if (slot === undefined) {
      status.has = 'miss';
      return false;
    }
    if (this.#vals[slot] === PENDING) return false;
    const fresh = this.#h.has(slot, this.#now());
    status.has = fresh ? 'hit' : 'stale';
    this.#statusTTL(status, slot);
    return fresh;
  }

  /**
   * Writes `ttl`, `start`, `now` and `remainingTTL` of `slot` to a status object.
   * @param {any} status
   * @param {number} slot
   */
  #statusTTL(status, slot) {
    if (!this.#timed) return;
    const [ttl, start] = this.#h.entryInfo(slot);
    if (!ttl || !start) return;
    status.ttl = ttl;
    status.start = start;
    status.now = this.#clock.cached();
    status.remainingTTL = ttl - (status.now - start);
  }

  /**
   * Stores `value` as the most recently used entry (see values.js for where it lives).
   * `undefined` deletes the key, as in lru-cache. An entry larger than `maxEntrySize`
   * (default `maxSize`) is not stored and the key's old value is removed.
   * @param {unknown} key
   * @param {any} value
   * @param {{ ttl?: number, size?: number, sizeCalculation?: Function, start?: number,
   *   noDisposeOnSet?: boolean }} [options]
   * @returns {this}
   */
  set(key, value, options) {
    if (options === undefined && this.#plain && this.#loads === undefined && value !== undefined) {
      return this.#setPlain(key, value);
    }
    const status = options?.status;
    if (status) {
      status.op = 'set';
      status.key = key;
      if (value !== undefined) status.value = value;
    }
    return this.#set(key, value, options);
  }

  /**
   * `set(key, value)` on a plain cache (see #plain) with no load ever started: what #set
   * does, less the checks of what such a cache cannot have.
   * A new key in a full cache, with a value held by reference and no young string due,
   * makes no call: it takes the next listed victim (deferred.js).
   * @param {unknown} key
   * @param {any} value not undefined
   * @returns {this}
   */
  #setPlain(key, value) {
    const old = key === this.#missed ? undefined : this.#slots.get(key);
    const h = this.#h;
    // A short string is held by reference while young (see young.js).
    const young = typeof value === 'string' && value.length <= MAX_LENGTH;
    const stored = young ? null : toNative(value, false);
    const now = this.#timed ? this.#clock.now() : 0;
    let s;
    if (stored === null) {
      // The young string due to move off the heap moves in the same call (not when this
      // set replaces it anyway).
      const due = young ? this.#young.due() : -1;
      if (old === undefined && due === -1 && (s = this.#deferred.takeVictim()) !== -1) {
        this.#slots.delete(this.#keys[s]);
        this.#deferred.set(s, now);
      } else if (due === -1 || due === old) {
        s = h.setHeld(old ?? -1, now);
      } else {
        s = h.setHeld(old ?? -1, now, due, this.#vals[due]);
        this.#vals[due] = undefined;
      }
    } else {
      s = this.#timed ? h.set(old ?? -1, stored, 0, undefined, now) : h.set(old ?? -1, stored);
    }
    this.#memo.forget(s);
    if (this.#report[0] !== 0) this.#removals.drop();
    if (old === undefined) {
      this.#slots.set(key, s);
      this.#keys[s] = key;
      this.#missed = NO_KEY;
    }
    this.#vals[s] = stored === null ? value : undefined;
    if (young) {
      this.#young.record(s);
      // Memoised with the TTL the native side gives it (the default, from `now`), so
      // its first get is a hit without a call too.
      this.#memo.remember(s, value, now, this.#o.ttl);
    }
    return this;
  }

  /**
   * `set` without the `op`/`key` status fields (fetch stores through it).
   * @param {unknown} key
   * @param {any} value
   * @param {any} options
   */
  #set(key, value, options) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw codedError(TypeError, E_OPTION, 'set options must be an object like { ttl }');
    }
    const status = options?.status;
    if (value === undefined) {
      if (status) status.set = 'deleted';
      this.delete(key);
      return this;
    }
    if (status) status.value = value;
    const size = entrySize(this.#o, this.#sized, key, value, options);
    const ttl = options?.ttl;
    if (ttl !== undefined && !(typeof ttl === 'number' && ttl >= 0)) {
      throw codedError(TypeError, E_TTL, `ttl must be a non-negative number of milliseconds, got ${String(ttl)}`);
    }
    if (this.#loads !== undefined) this.#loads.abort(key, 'replaced');
    if (this.#o.maxEntrySize > 0 && size > this.#o.maxEntrySize) {
      this.#rejected++;
      this.#remove(key, SET);
      if (status) {
        status.set = 'miss';
        status.maxEntrySizeExceeded = true;
      }
      return this;
    }
    if (ttl !== undefined && ttl > 0) this.#timed = true;
    // A placeholder is always held by reference, even where `json` would serialize it.
    const holding = value === PENDING;
    const stored = holding ? null : toNative(value, this.#o.json);
    const old = this.#slots.get(key);
    const slot = old ?? -1;
    // onInsert and status tell an update (the same value again) from a replacement.
    const before = (this.#o.onInsert !== undefined || status) && old !== undefined ? this.#peekSlot(old, 0, true) : undefined;
    let s;
    if (this.#timed || size !== 0 || ttl !== undefined) {
      const start = options?.start;
      // A new TTL starts now, not at the last cached reading.
      s = this.#h.set(slot, stored, size, ttl, typeof start === 'number' ? start : this.#timed ? this.#clock.now() : 0);
    } else {
      s = this.#h.set(slot, stored);
    }
    this.#memo?.forget(s);
    let disposals;
    if (this.#report[0] !== 0) {
      disposals = this.#removals.flush(value, options?.noDisposeOnSet ?? this.#o.noDisposeOnSet, true);
    }
    if (old === undefined) {
      this.#slots.set(key, s);
      this.#keys[s] = key;
      this.#missed = NO_KEY;
    }
    // Always written, so a slot never keeps a value by reference it no longer holds.
    this.#vals[s] = stored === null ? value : undefined;
    if (this.#timers !== undefined) {
      this.#timers.arm(s, ttl ?? this.#o.ttl, () => {
        if (this.#slots.get(key) === s && !this.#h.has(s, this.#clock.now())) this.#remove(key, EXPIRE);
      });
    }
    if (status) {
      status.set = old === undefined ? 'add' : before === value ? 'update' : 'replace';
      if (status.set === 'replace' && before !== undefined) status.oldValue = before;
      if (this.#sized && status.set !== 'update') {
        status.entrySize = size;
        status.totalCalculatedSize = this.#h.totalSize();
      }
      this.#statusTTL(status, s);
    }
    if (disposals !== undefined) this.#removals.run(disposals);
    if (this.#o.onInsert !== undefined && !holding) {
      this.#o.onInsert(value, key, old === undefined ? 'add' : before === value ? 'update' : 'replace');
    }
    return this;
  }

  /**
   * @param {unknown} key
   * @param {number} reason
   */
  #remove(key, reason) {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#h.delete(slot, reason);
    this.#removals.flushAndRun();
    return true;
  }

  /**
   * Removes `key`; returns whether it was present.
   * @param {unknown} key
   */
  delete(key) {
    if (this.#loads !== undefined) this.#loads.abort(key, 'deleted');
    return this.#remove(key, DELETE);
  }

  /** Removes every entry; stats counters are kept. */
  clear() {
    if (this.#loads !== undefined) this.#loads.abortAll('deleted');
    this.#h.clear();
    this.#memo?.clear();
    this.#young?.clear();
    this.#removals.flushAndRun();
  }

  /** Removes every expired entry now; returns whether any was removed. */
  purgeStale() {
    const n = this.#h.purgeStale(this.#now());
    this.#removals.flushAndRun();
    return n > 0;
  }

  /**
   * Removes the least recently used entry and returns its value (`undefined` when
   * empty); `dispose` sees `'evict'`.
   */
  pop() {
    const order = this.#h.order(this.#now(), true);
    // An entry whose first load is in flight is removed (its load aborted) and skipped.
    for (let i = order.length - 1; i >= 0; i--) {
      const slot = order[i];
      const key = this.#keys[slot];
      const value = this.#peekSlot(slot, 0, true);
      if (this.#loads !== undefined) this.#loads.abort(key, 'evicted');
      this.#h.delete(slot, EVICT);
      this.#removals.flushAndRun();
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /**
   * Slots listed by iteration, most recently used first: fresh ones, stale ones too
   * with `allowStale`.
   * @param {boolean} [allowStale]
   * @returns {number[]}
   */
  #order(allowStale = this.#o.allowStale) {
    const order = this.#h.order(this.#now(), allowStale);
    return this.#loads === undefined ? order : order.filter((s) => this.#vals[s] !== PENDING);
  }

  /**
   * The value of `key`, loaded with `fetchMethod` when missing or stale (see fetch.js).
   * @param {unknown} key
   * @param {any} [fetchOptions]
   * @returns {Promise<any>}
   */
  fetch(key, fetchOptions) {
    this.#loads ??= new Loads(this, this.#o, {
      set: (k, v, o) => this.#set(k, v, o),
      get: (k, o) => this.#getWith(this.#slots.get(k), o),
      hold: (k) => this.#set(k, PENDING, { ttl: 0, size: this.#sized ? 1 : undefined }),
      statusTTL: (status, k) => {
        const slot = this.#slots.get(k);
        if (slot !== undefined) this.#statusTTL(status, slot);
      },
    });
    return this.#loads.fetch(key, fetchOptions ?? {});
  }

  /**
   * Counters since creation and current totals.
   * @returns {{ hits: number, misses: number, evictions: number, expirations: number,
   *   rejected: number, size: number, bytes: number }}
   */
  stats() {
    const s = this.#h.stats();
    s.misses += this.#misses;
    s.rejected = this.#rejected;
    return s;
  }

}

module.exports = { CacheCore, VIEWS, OPTIONS, CLOCK };
