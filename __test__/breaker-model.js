'use strict';

// Reference model of the circuit breaker rules, written as plainly as possible (every
// result kept with its time, the window filtered on demand). The native breaker
// (src/core/breaker/) must produce the same admissions and transitions; the tests and
// benchmark/circuit-breaker.js compare the two. State codes: 0 closed, 1 open, 2 half-open.

class BreakerModel {
  /**
   * @param {{ failureThreshold: number, errorThresholdPercentage: number | false,
   *   volumeThreshold: number, resetTimeout: number, rollingCountTimeout: number,
   *   rollingCountBuckets: number, halfOpenMaxProbes: number }} o
   */
  constructor(o) {
    this.o = o;
    this.state = 0;
    this.openedAt = 0;
    this.consecutive = 0;
    this.epoch = 0;
    this.probes = 0;
    /** @type {{ t: number, failed: boolean }[]} results recorded while closed since the last close */
    this.results = [];
  }

  #set(state, t) {
    this.state = state;
    this.probes = 0;
    if (state === 1) this.openedAt = t;
    if (state === 2) this.epoch++;
    if (state === 0) {
      this.consecutive = 0;
      this.results = [];
    }
  }

  /** Open turns half-open once the reset timeout has passed. */
  poll(t) {
    if (this.state === 1 && t - this.openedAt >= this.o.resetTimeout) this.#set(2, t);
  }

  /** The state at time t, after the lazy open -> half-open check. */
  peek(t) {
    this.poll(t);
    return this.state;
  }

  /** -1 rejected, 0 admitted while closed, > 0 a half-open probe of that epoch. */
  acquire(t) {
    this.poll(t);
    if (this.state === 0) return 0;
    if (this.state === 2 && this.probes < this.o.halfOpenMaxProbes) {
      this.probes++;
      return this.epoch;
    }
    return -1;
  }

  record(permit, failed, t) {
    if (permit > 0) {
      if (this.state === 2 && permit === this.epoch) this.#set(failed ? 1 : 0, t);
      return;
    }
    if (this.state !== 0) return; // a stale result: counted, never decides
    this.results.push({ t, failed });
    if (!failed) {
      this.consecutive = 0;
      return;
    }
    this.consecutive++;
    const width = Math.ceil(this.o.rollingCountTimeout / this.o.rollingCountBuckets);
    const oldest = Math.max(0, Math.floor(t / width) - (this.o.rollingCountBuckets - 1));
    const live = this.results.filter((r) => Math.floor(r.t / width) >= oldest);
    const fails = live.filter((r) => r.failed).length;
    const byCount = this.o.failureThreshold > 0 && this.consecutive >= this.o.failureThreshold;
    const pct = this.o.errorThresholdPercentage;
    const byPct = pct !== false && live.length >= this.o.volumeThreshold && fails * 100 > pct * live.length;
    if (byCount || byPct) this.#set(1, t);
  }
}

module.exports = { BreakerModel };
