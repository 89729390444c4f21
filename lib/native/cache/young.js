'use strict';

// Young strings: a plain `set` (class.js, #setPlain) of a short string keeps the string by
// reference, like any value held in JS (values.js), instead of copying it into native
// memory at once, and records it here. Copying a 1 KB string across N-API costs about
// twice lru-cache's whole `set`; many entries of a busy cache are evicted, replaced or
// deleted soon after they are set, and those never need the copy.
//
// Bounded: a ring of `SIZE` places, filled in turn. When the ring comes round to a place,
// the string recorded there is moved off the heap: the set that reuses the place passes
// it to `setHeld`, which copies it in place of its by-reference marker in the same call
// (recency, TTL and counters do not change). A string whose slot no longer holds it (its
// entry left the cache or took another value) is not moved. So at most `SIZE` strings of
// at most `MAX_LENGTH` units each are held this way, whatever the cache's size: 4 MB of
// Latin-1 text (8 MB of UTF-16) at most. Until it is moved, a young string is not counted
// in `stats().bytes` or `LruCache.nativeMemory()`.
//
// The ring holds slots only, and each slot remembers the place that recorded its latest
// young string: a place finds its string still there when the slot still points back at
// it and still holds a string by reference (any change of the slot's value either
// records it again elsewhere, or stores it natively, or drops it). No string is kept
// here, so an entry that leaves the cache frees its string at once.

const { MAX_LENGTH } = require('./memo');

// Twice the memo's places: in a cache of ~1000 entries with steady evictions, entries
// evicted within 2048 sets are never copied (measured: in the benchmark's cache-aside at
// Zipf 0.8, 2.7% of sets move a string off the heap, against 15% with 1024 places).
const SIZE = 2048;
const MASK = SIZE - 1;
const INITIAL_SLOTS = 1024;

class YoungStrings {
  #vals;
  /** Which slot each place recorded (-1: none). */
  #slots = new Int32Array(SIZE).fill(-1);
  /**
   * Slot -> the place that recorded its latest young string (-1: none), grown as slots
   * are. A typed array: the garbage collector does not scan it, where a JS array as long
   * as the cache has slots added that many slots to every full GC's marking.
   */
  #placeOf = new Int32Array(INITIAL_SLOTS).fill(-1);
  #next = 0;

  /**
   * @param {unknown[]} vals the cache's slot -> value kept by reference
   */
  constructor(vals) {
    this.#vals = vals;
  }

  /**
   * The slot whose young string is due to move off the heap now (recorded `SIZE` calls
   * ago and still held), or -1. The caller moves it, then calls record().
   */
  due() {
    const old = this.#slots[this.#next];
    if (old === -1 || this.#placeOf[old] !== this.#next || typeof this.#vals[old] !== 'string') return -1;
    return old;
  }

  /**
   * Records that `slot` now holds a young string by reference, in the place due() looked
   * at, and moves on to the next place.
   * @param {number} slot
   */
  record(slot) {
    const i = this.#next;
    this.#next = (i + 1) & MASK;
    this.#slots[i] = slot;
    if (slot >= this.#placeOf.length) this.#grow(slot);
    this.#placeOf[slot] = i;
  }

  /** Makes room in #placeOf for `slot` (doubling: amortised O(1) per slot). */
  #grow(slot) {
    let n = this.#placeOf.length;
    while (n <= slot) n *= 2;
    const next = new Int32Array(n).fill(-1);
    next.set(this.#placeOf);
    this.#placeOf = next;
  }

  /** Forgets every record (the cache was cleared). */
  clear() {
    this.#slots.fill(-1);
    this.#placeOf = new Int32Array(INITIAL_SLOTS).fill(-1);
  }
}

module.exports = { YoungStrings, SIZE, MAX_LENGTH };
