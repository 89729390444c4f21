'use strict';

// opossum's `Status`: the rolling window of a circuit breaker as an EventEmitter, read
// from the native window (src/core/breaker/) rather than kept in JS. A breaker's
// `status` reads its own window; `CircuitBreaker.newStatus(options)` makes a standalone
// one (its own native window) that a breaker adopts through the `status` option.

const { EventEmitter } = require('node:events');
const native = require('../loader');

// Slots of the window block, generated from the Rust layout (./contract.js).
const { breakerSlots } = require('../contract');
const S_WINDOW = breakerSlots.WINDOW;
const S_EXTRA = breakerSlots.WINDOW_EXTRA;
const S_OPEN_FLAG = breakerSlots.WINDOW_OPEN_FLAG;
const PERCENTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1];
/** Counter names in the native order (`Counter::ALL`). */
const COUNTERS = [
  'fires',
  'successes',
  'failures',
  'timeouts',
  'rejects',
  'fallbacks',
  'cacheHits',
  'cacheMisses',
  'coalesceCacheHits',
  'coalesceCacheMisses',
  'semaphoreRejections',
];

/**
 * Reads the window block of `shared` into opossum's stats shape.
 * @param {Float64Array} sh
 * @param {boolean} percentiles false: latencyMean and every percentile read -1
 */
function readStats(sh, percentiles) {
  const out = {
    failures: sh[S_WINDOW + 2],
    fallbacks: sh[S_WINDOW + 5],
    successes: sh[S_WINDOW + 1],
    rejects: sh[S_WINDOW + 4],
    fires: sh[S_WINDOW],
    timeouts: sh[S_WINDOW + 3],
    cacheHits: sh[S_EXTRA],
    cacheMisses: sh[S_EXTRA + 1],
    coalesceCacheHits: sh[S_EXTRA + 2],
    coalesceCacheMisses: sh[S_EXTRA + 3],
    semaphoreRejections: sh[S_EXTRA + 4],
    percentiles: {},
    latencyMean: percentiles ? sh[S_WINDOW + 6] : -1,
  };
  for (let i = 0; i < PERCENTILES.length; i++) out.percentiles[PERCENTILES[i]] = percentiles ? sh[S_WINDOW + 7 + i] : -1;
  return out;
}

/** Window options with opossum's meaning of 0 and absent (the defaults). */
function windowOf(options) {
  return {
    rollingCountTimeout: options.rollingCountTimeout || 10000,
    rollingCountBuckets: options.rollingCountBuckets || 10,
  };
}

class Status extends EventEmitter {
  #source;
  #snapshotTimer = null;
  #closed = false;

  /**
   * @param {Record<string, any>} [options] rollingCountTimeout, rollingCountBuckets,
   *   rollingPercentilesEnabled, enableSnapshots, rotateBucketController, stats (counts
   *   to start from)
   * @param {{ h: any, flush: () => void }} [source] the breaker's native window; a
   *   standalone status creates its own
   */
  constructor(options = {}, source = undefined) {
    super();
    this.rollingPercentilesEnabled = options.rollingPercentilesEnabled !== false;
    this.enableSnapshots = options.enableSnapshots !== false;
    this.rotateBucketController = options.rotateBucketController;
    this.#source = source ?? {
      // A window without rules: a standalone status only counts.
      h: native.createCircuitBreakerHandle({ ...windowOf(options), failureThreshold: 0, errorThresholdPercentage: false }),
      flush() {},
    };
    if (options.stats && typeof options.stats === 'object') seed(this.#source.h, options.stats);
    // The snapshot timer runs only while someone listens: a breaker nobody watches pays
    // nothing for it.
    const win = windowOf(options);
    const bucketMs = Math.floor(win.rollingCountTimeout / win.rollingCountBuckets);
    this.on('newListener', (name) => {
      if (name !== 'snapshot' || !this.enableSnapshots || this.#snapshotTimer !== null || this.#closed) return;
      this.#snapshotTimer = setInterval(() => {
        if (this.listenerCount('snapshot') === 0) return this.#stopSnapshots();
        this.emit('snapshot', this.stats);
      }, Math.max(1, bucketMs));
      this.#snapshotTimer.unref();
    });
  }

  /** Totals over the rolling window, opossum's shape. */
  get stats() {
    const { h, flush } = this.#source;
    flush();
    h.stats();
    return readStats(h.shared, this.rollingPercentilesEnabled);
  }

  /**
   * The buckets, newest first; `isCircuitBreakerOpen` is set on a bucket in which the
   * breaker opened (true) or closed (false).
   */
  get window() {
    const { h, flush } = this.#source;
    flush();
    const out = [];
    const n = h.bucketCount();
    for (let age = 0; age < n && h.bucket(age) === 1; age++) {
      const b = readStats(h.shared, this.rollingPercentilesEnabled);
      const flag = h.shared[S_OPEN_FLAG];
      if (flag !== 0) b.isCircuitBreakerOpen = flag === 1;
      out.push(b);
    }
    return out;
  }

  /** Stops the snapshot timer and removes the listeners. */
  shutdown() {
    this.#closed = true;
    this.#stopSnapshots();
    this.removeAllListeners();
  }

  #stopSnapshots() {
    clearInterval(this.#snapshotTimer);
    this.#snapshotTimer = null;
  }

  /** @internal points `status` at a breaker's window (after the breaker seeded it). */
  static rebind(status, source) {
    status.#source = source;
  }
}

/** Adds opossum-shaped counts (missing ones are 0) to the current bucket of `h`. */
function seed(h, stats) {
  for (let i = 0; i < COUNTERS.length; i++) {
    const v = Number(stats[COUNTERS[i]]);
    h.batch[i] = Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
  }
  h.seed();
}

module.exports = { Status, seed, windowOf };
