'use strict';

// A bounded memo of the strings `get` recently returned, by slot. Making a JS string
// from a native value copies it (about 80 ns for 1 KB); a hot key read again returns the
// memoised string and makes no copy. The memo keeps each entry's TTL start and TTL too,
// so a hit on a fresh entry needs no call at all: the cache records the slot in the
// native side's hit buffer (class.js), applied before the next native call. With
// `updateAgeOnGet` a hit restarts the TTL, so it is a call (`touch`) instead.
// Strings are immutable, so sharing one between gets is invisible to callers (lru-cache
// returns the same stored string too). Buffers and `json` values are not memoised: each
// get must hand out its own copy of those.
//
// Direct-mapped: a slot has one place (`slot & MASK`), so the memo holds at most `SIZE`
// strings of at most `MAX_LENGTH` units each, whatever the cache's size. Never stale:
// every change of a slot's value goes through this side (a `set` of the slot, or a
// removal reported by the native side, see removals.js), and each one forgets the slot.

const SIZE = 1024;
const MASK = SIZE - 1;
/** Longer strings are not memoised, to bound the memo's heap (2 MB of Latin-1 text at most, 4 MB of UTF-16). */
const MAX_LENGTH = 2048;

class StringMemo {
  /** Which slot each place holds (-1: none). */
  #slots = new Int32Array(SIZE).fill(-1);
  /** @type {(string | undefined)[]} */
  #strings = new Array(SIZE).fill(undefined);
  /** TTL start and TTL (0: none) of each place's entry, as the native side has them. */
  #start = new Float64Array(SIZE);
  #ttl = new Float64Array(SIZE);

  /**
   * The memoised string of `slot`, or undefined.
   * @param {number} slot
   */
  get(slot) {
    const i = slot & MASK;
    return this.#slots[i] === slot ? this.#strings[i] : undefined;
  }

  /**
   * Whether the entry of `slot`, memoised, is expired at `now`: the native side's rule
   * (age greater than TTL), on the same numbers.
   * @param {number} slot
   * @param {number} now
   */
  expired(slot, now) {
    const i = slot & MASK;
    const ttl = this.#ttl[i];
    return ttl !== 0 && now - this.#start[i] > ttl;
  }

  /**
   * Remembers `value` as the string of `slot` (replacing whatever held its place), with
   * its entry's TTL start and TTL.
   * @param {number} slot
   * @param {string} value
   * @param {number} start
   * @param {number} ttl
   */
  remember(slot, value, start, ttl) {
    if (value.length > MAX_LENGTH) return;
    const i = slot & MASK;
    this.#slots[i] = slot;
    this.#strings[i] = value;
    this.#start[i] = start;
    this.#ttl[i] = ttl;
  }

  /**
   * Forgets the string of `slot` (its value changed or it left the cache).
   * @param {number} slot
   */
  forget(slot) {
    const i = slot & MASK;
    if (this.#slots[i] === slot) {
      this.#slots[i] = -1;
      this.#strings[i] = undefined;
    }
  }

  clear() {
    this.#slots.fill(-1);
    this.#strings.fill(undefined);
  }
}

module.exports = { StringMemo, SIZE, MAX_LENGTH };
