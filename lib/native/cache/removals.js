'use strict';

// Removals reported by the native side. Every call that may remove entries (evictions,
// expiries, deletes, replacements) leaves `[count, pending, slot0, reason0, ...]` in an
// Int32Array the native side owns; this side reads it without a call, drops the keys
// of those slots from its Map and its arrays, and calls `dispose`/`disposeAfter` once
// the cache is consistent again (so a callback may use the cache). `pending` counts
// removals that did not fit; `drain()` shows the next ones.

// The layout and reason codes (`cacheReport` of the generated ../contract.js).
const { cacheReport } = require('../contract');

const { HEADER, EVICT, EXPIRE, SET, DELETE } = cacheReport;
/** Reason names by code, as `dispose` receives them. */
const REASONS = [];
REASONS[EVICT] = 'evict';
REASONS[EXPIRE] = 'expire';
REASONS[SET] = 'set';
REASONS[DELETE] = 'delete';
const { PENDING } = require('./values');

class Removals {
  #h;
  #report;
  #slots;
  #keys;
  #vals;
  #timers;
  #memo;
  #o;
  #evictedLoad;
  #tracked;

  /**
   * @param {any} h the native handle
   * @param {Int32Array} report
   * @param {Map<unknown, number>} slots
   * @param {unknown[]} keys
   * @param {unknown[]} vals
   * @param {import('./ttl').Autopurge | undefined} timers (with `ttlAutopurge`)
   * @param {import('./memo').StringMemo | undefined} memo strings returned by get
   * @param {{ json: boolean, dispose?: Function, disposeAfter?: Function,
   *   noDisposeOnSet: boolean }} o
   * @param {(key: unknown) => void} evictedLoad called for an entry whose first load was in
   *   flight when a bound evicted it (the load is aborted)
   */
  constructor(h, report, slots, keys, vals, timers, memo, o, evictedLoad) {
    this.#h = h;
    this.#report = report;
    this.#slots = slots;
    this.#keys = keys;
    this.#vals = vals;
    this.#timers = timers;
    this.#memo = memo;
    this.#o = o;
    this.#evictedLoad = evictedLoad;
    this.#tracked = o.dispose !== undefined || o.disposeAfter !== undefined;
  }

  /**
   * Drops what this side holds for the reported slots. Returns the disposals to run
   * (`[value, key, reason, ...]`), or undefined when there are no callbacks.
   * @param {unknown} [incoming] a value being set: replacing it by itself is no disposal
   * @param {boolean} [noDisposeOnSet]
   * @param {boolean} [setting] whether the running call is a set (so `incoming` counts)
   * @returns {unknown[] | undefined}
   */
  flush(incoming, noDisposeOnSet = false, setting = false) {
    const r = this.#report;
    /** @type {unknown[] | undefined} */
    let out;
    for (;;) {
      const n = r[0];
      const values = this.#tracked ? this.#h.removedValues() : undefined;
      for (let i = 0; i < n; i++) {
        const slot = r[HEADER + 2 * i];
        const reason = r[HEADER + 1 + 2 * i];
        const key = this.#keys[slot];
        this.#memo?.forget(slot);
        let value;
        if (this.#vals[slot] === PENDING) {
          this.#vals[slot] = undefined;
          if (reason !== SET) {
            this.#slots.delete(key);
            this.#keys[slot] = undefined;
          }
          // Nothing to dispose: the entry held no value yet.
          if (reason === EVICT) this.#evictedLoad(key);
          continue;
        }
        if (values !== undefined) {
          value = values[i];
          if (value === null) value = this.#vals[slot];
          else if (this.#o.json && value !== undefined) value = JSON.parse(/** @type {string} */ (value));
        }
        this.#vals[slot] = undefined;
        if (reason !== SET) {
          this.#slots.delete(key);
          this.#keys[slot] = undefined;
          this.#timers?.disarm(slot);
        }
        if (values === undefined) continue;
        if (reason === SET && (noDisposeOnSet || (setting && value === incoming))) continue;
        (out ??= []).push(value, key, REASONS[reason]);
      }
      r[0] = 0;
      if (r[1] === 0) return out;
      this.#h.drain();
    }
  }

  /**
   * Calls dispose then disposeAfter for each removal. If a call throws, the others
   * still run and the first error is thrown at the end.
   * @param {unknown[]} list
   */
  run(list) {
    const { dispose, disposeAfter } = this.#o;
    let failed = false;
    let failure;
    for (let i = 0; i < list.length; i += 3) {
      try {
        if (dispose !== undefined) dispose(list[i], list[i + 1], list[i + 2]);
        if (disposeAfter !== undefined) disposeAfter(list[i], list[i + 1], list[i + 2]);
      } catch (err) {
        if (!failed) {
          failed = true;
          failure = err;
        }
      }
    }
    if (failed) throw failure;
  }

  /**
   * flush() for a cache with no dispose callbacks, no ttlAutopurge timers and no load
   * ever started (so no placeholder): only the key map, the arrays and the memo change.
   */
  drop() {
    const r = this.#report;
    for (;;) {
      const n = r[0];
      for (let i = 0; i < n; i++) {
        const slot = r[HEADER + 2 * i];
        this.#memo?.forget(slot);
        this.#vals[slot] = undefined;
        if (r[HEADER + 1 + 2 * i] !== SET) {
          this.#slots.delete(this.#keys[slot]);
          this.#keys[slot] = undefined;
        }
      }
      r[0] = 0;
      if (r[1] === 0) return;
      this.#h.drain();
    }
  }

  /** flush() then run(), for calls that store nothing afterwards. */
  flushAndRun() {
    if (this.#report[0] === 0) return;
    const list = this.flush();
    if (list !== undefined) this.run(list);
  }
}

module.exports = { Removals, EVICT, EXPIRE, SET, DELETE };
