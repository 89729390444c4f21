'use strict';

// ttlAutopurge: one timer per entry with a TTL, which removes the entry once its TTL has
// run out, so expired entries do not wait for a read. A set replaces the entry's timer;
// a removal clears it. Timers are unref'd: they never keep a process alive.

class Autopurge {
  /** Slot -> its timer. @type {(ReturnType<typeof setTimeout> | undefined)[]} */
  #timers = [];

  /**
   * Replaces the timer of `slot` by one that calls `expire` just after `ttl` ms (none for
   * an entry without TTL).
   * @param {number} slot
   * @param {number} ttl
   * @param {() => void} expire
   */
  arm(slot, ttl, expire) {
    this.disarm(slot);
    if (!(ttl > 0 && Number.isFinite(ttl))) return;
    const t = setTimeout(() => {
      this.#timers[slot] = undefined;
      expire();
    }, ttl + 1);
    t.unref?.();
    this.#timers[slot] = t;
  }

  /** @param {number} slot */
  disarm(slot) {
    const t = this.#timers[slot];
    if (t === undefined) return;
    clearTimeout(t);
    this.#timers[slot] = undefined;
  }
}

module.exports = { Autopurge };
