'use strict';

// Operations the cache makes without a native call (core.js), recorded in arrays the
// native side owns and applies, in order, under its lock before anything else in its
// next call (src/binding/cache.rs, `Handle::lock`): so recency, evictions and counters
// are what they would be had each been a call.
//
// - A hit on a fresh memoised string (memo.js): `slot`.
// - A set of a new key into a full plain cache (#setPlain): `~slot`, with its time. The
//   native side lists the slots the next sets evict, least recently used first
//   (`victims`, `[next, end, slot, ...]`, flagged per slot in `listed`); such a set
//   takes the next one. A hit on a listed slot is a call, since it reorders them; a call
//   that moves a listed slot ends the list before it, one that removes entries empties
//   it, and a set by a call into a full cache lists them again. So a slot taken here is
//   the one the call would have evicted (docs/lru-cache.md, "Deferred sets").

class Deferred {
  #h;
  /** `[count, op, ...]` @type {Int32Array} */
  #ops;
  /** Time of each deferred set, by its index in #ops. @type {Float64Array} */
  #times;
  /** @type {Int32Array} */
  #victims;
  /** Per slot, 1 while listed (empty when the cache does not defer sets). @type {Uint8Array} */
  #listed;

  /** @param {any} h the native handle */
  constructor(h) {
    this.#h = h;
    this.#ops = h.hits;
    this.#times = h.opTimes;
    this.#victims = h.victims;
    this.#listed = h.listed ?? new Uint8Array(0);
  }

  /**
   * Whether a hit on `slot` may be recorded: not when it is a listed victim.
   * @param {number} slot
   */
  mayRecord(slot) {
    return this.#listed[slot] !== 1;
  }

  /** @param {number} op */
  #record(op) {
    const ops = this.#ops;
    const n = ops[0] + 1;
    ops[n] = op;
    ops[0] = n;
    if (n === ops.length - 1) this.#h.applyHits();
  }

  /**
   * Records a hit on a fresh memoised entry.
   * @param {number} slot
   */
  hit(slot) {
    this.#record(slot);
  }

  /**
   * Takes the next listed victim for a new key: its slot (the caller drops its key and
   * calls set()), or -1 when none is listed (the caller makes the call).
   */
  takeVictim() {
    const v = this.#victims;
    const next = v[0];
    if (next >= v[1]) return -1;
    const slot = v[2 + next];
    v[0] = next + 1;
    this.#listed[slot] = 0;
    return slot;
  }

  /**
   * Records the set that took `slot` (from takeVictim) at `now`: a value JS keeps by
   * reference, the default TTL from `now`.
   * @param {number} slot
   * @param {number} now
   */
  set(slot, now) {
    // The time goes in first: a full buffer is applied inside #record.
    const n = this.#ops[0] + 1;
    this.#times[n] = now;
    this.#record(~slot);
  }
}

module.exports = { Deferred };
