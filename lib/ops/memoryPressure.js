'use strict';

// Memory pressure for the AI pipeline: every QERRORS_MEMORY_CHECK_INTERVAL ms one
// measurement of the V8 heap (against its limit) and of RSS (against the cgroup limit or the
// machine's memory) sets a level, `normal`, `high` or `critical`, kept until the next check.
// A change of level scales the advice cache and the analysis queue bound of every attached
// pipeline (100% / 50% / 25%); they are restored when the pressure passes. Every
// QERRORS_CLEANUP_INTERVAL ms expired advice is purged (natively, a few slots per lock hold).
//
// Nothing starts at require time: the timers start when the first pipeline attaches, are
// unref'd (they never keep the process alive), and stop with `stop()` (qerrors.cleanup(),
// the AI module's shutdown()). See docs/metrics-and-monitor.md.

const os = require('node:os');
const { codedError } = require('../policy/errors');

const LEVELS = Object.freeze(['normal', 'high', 'critical']);
/** Fraction of a limit at which each level starts; a level ends HYSTERESIS below its start. */
const THRESHOLDS = Object.freeze({ high: 0.7, critical: 0.85 });
const HYSTERESIS = 0.05;
/** Cache and queue bound, as a fraction of the configured one, per level. */
const SCALES = Object.freeze({ normal: 1, high: 0.5, critical: 0.25 });

function invalidArg(message) {
  return codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', message);
}

/** The memory RSS is compared with: the cgroup limit when there is one, else total memory. */
function rssLimit() {
  const total = os.totalmem();
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * One measurement (the default `measure`).
 * @returns {{ heapUsedBytes: number, heapLimitBytes: number, rssBytes: number, rssLimitBytes: number }}
 */
function measureProcess() {
  // node:v8 is loaded here, not with the module: the first error loads this module, and
  // loading node:v8 costs ~2 ms.
  const heap = require('node:v8').getHeapStatistics();
  return {
    heapUsedBytes: heap.used_heap_size,
    heapLimitBytes: heap.heap_size_limit,
    rssBytes: process.memoryUsage.rss(),
    rssLimitBytes: rssLimit(),
  };
}

/**
 * The level for `fraction` when the current level is `current` (indices into LEVELS): a
 * level rises as soon as its threshold is reached and falls only HYSTERESIS below it, so a
 * process hovering at a threshold does not flap between shrinking and restoring.
 */
function nextLevel(fraction, current) {
  let level = fraction >= THRESHOLDS.critical ? 2 : fraction >= THRESHOLDS.high ? 1 : 0;
  if (level < current) {
    const start = current === 2 ? THRESHOLDS.critical : THRESHOLDS.high;
    if (fraction > start - HYSTERESIS) level = current;
  }
  return level;
}

const ratio = (used, limit) => (Number.isFinite(used) && Number.isFinite(limit) && limit > 0 ? used / limit : 0);

/**
 * @typedef {{ setLimitScale(cacheScale: number, queueScale: number): void, purgeExpired(): number }} Target
 * A pipeline (the native object of lib/native/ai.js) or anything with the same two methods.
 */

class MemoryPressure {
  /**
   * @param {object} [options]
   * @param {() => { heapUsedBytes: number, heapLimitBytes: number, rssBytes: number, rssLimitBytes: number }} [options.measure]
   * @param {number} [options.checkIntervalMs] default QERRORS_MEMORY_CHECK_INTERVAL (30000)
   * @param {number} [options.cleanupIntervalMs] default QERRORS_CLEANUP_INTERVAL (300000)
   * @param {{ setInterval: typeof setInterval, clearInterval: typeof clearInterval }} [options.timers]
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw invalidArg('MemoryPressure: options must be an object');
    const { measure = measureProcess, checkIntervalMs, cleanupIntervalMs, timers } = options;
    if (typeof measure !== 'function') throw invalidArg('MemoryPressure: measure must be a function');
    for (const [k, v] of Object.entries({ checkIntervalMs, cleanupIntervalMs })) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
        throw codedError(RangeError, 'ERR_QERRORS_INVALID_ARG', `MemoryPressure: ${k} must be an integer >= 1`);
      }
    }
    this._measure = measure;
    this._checkIntervalMs = checkIntervalMs;
    this._cleanupIntervalMs = cleanupIntervalMs;
    this._timers = timers || { setInterval, clearInterval };
    /** @type {Map<Target, (() => void) | undefined>} target → called when stop() detaches it */
    this._targets = new Map();
    this._checkTimer = null;
    this._cleanupTimer = null;
    this._level = 0;
    this._heapFraction = 0;
    this._rssFraction = 0;
    this._checks = 0;
    this._shrinkEvents = 0;
    this._restoreEvents = 0;
    this._cleanups = 0;
    this._purged = 0;
    this._lastCheck = 0;
  }

  /** The level of the last check (`normal` before the first). Never measures. */
  get level() {
    return LEVELS[this._level];
  }

  /** Whether the timers are running. */
  get running() {
    return this._checkTimer !== null;
  }

  /**
   * Puts a pipeline under the policy: applies the current level to it at once and starts the
   * timers if they are not running. `onDetach` is called when `stop()` releases it.
   * @param {Target} target
   * @param {() => void} [onDetach]
   * @returns {() => void} detach (restores the target's limits; stops the timers with the last)
   */
  attach(target, onDetach) {
    if (!target || typeof target.setLimitScale !== 'function' || typeof target.purgeExpired !== 'function') {
      throw invalidArg('MemoryPressure.attach: target needs setLimitScale() and purgeExpired()');
    }
    this._targets.set(target, onDetach);
    if (this._level !== 0) this._apply(target, SCALES[LEVELS[this._level]]);
    this.start();
    return () => this._detach(target);
  }

  _detach(target) {
    if (!this._targets.delete(target)) return;
    this._apply(target, 1);
    if (this._targets.size === 0) this._stopTimers();
  }

  _apply(target, scale) {
    try {
      target.setLimitScale(scale, scale);
    } catch {
      // A pipeline shut down meanwhile has nothing left to shrink.
    }
  }

  /** Starts the unref'd check and cleanup timers (idempotent). */
  start() {
    if (this._checkTimer) return;
    let checkMs = this._checkIntervalMs;
    let cleanupMs = this._cleanupIntervalMs;
    if (checkMs === undefined || cleanupMs === undefined) {
      const { readSetting } = require('../policy/config');
      if (checkMs === undefined) checkMs = readSetting('QERRORS_MEMORY_CHECK_INTERVAL');
      if (cleanupMs === undefined) cleanupMs = readSetting('QERRORS_CLEANUP_INTERVAL');
    }
    this._checkTimer = this._timers.setInterval(() => this.check(), checkMs);
    this._cleanupTimer = this._timers.setInterval(() => this.cleanup(), cleanupMs);
    for (const t of [this._checkTimer, this._cleanupTimer]) if (t && typeof t.unref === 'function') t.unref();
  }

  _stopTimers() {
    if (this._checkTimer) this._timers.clearInterval(this._checkTimer);
    if (this._cleanupTimer) this._timers.clearInterval(this._cleanupTimer);
    this._checkTimer = null;
    this._cleanupTimer = null;
  }

  /** Stops the timers and releases every target with its limits restored. Idempotent. */
  stop() {
    this._stopTimers();
    const targets = [...this._targets];
    this._targets.clear();
    for (const [target, onDetach] of targets) {
      this._apply(target, 1);
      if (onDetach) {
        try {
          onDetach();
        } catch {
          // A detach callback must not break stop().
        }
      }
    }
  }

  /**
   * One check (what the timer runs): measures, updates the cached level and, when it
   * changed, scales every target. A throwing `measure` leaves the level unchanged.
   * @returns {string} the level
   */
  check() {
    let m;
    try {
      m = this._measure();
    } catch {
      return this.level;
    }
    this._checks++;
    this._lastCheck = Date.now();
    this._heapFraction = ratio(m && m.heapUsedBytes, m && m.heapLimitBytes);
    this._rssFraction = ratio(m && m.rssBytes, m && m.rssLimitBytes);
    const next = nextLevel(Math.max(this._heapFraction, this._rssFraction), this._level);
    if (next !== this._level) {
      if (next > this._level) this._shrinkEvents++;
      else this._restoreEvents++;
      this._level = next;
      const scale = SCALES[LEVELS[next]];
      for (const target of this._targets.keys()) this._apply(target, scale);
    }
    return this.level;
  }

  /**
   * One cleanup (what the cleanup timer runs): purges expired advice of every target.
   * @returns {number} entries removed
   */
  cleanup() {
    let removed = 0;
    for (const target of this._targets.keys()) {
      try {
        removed += Number(target.purgeExpired()) || 0;
      } catch {
        // A pipeline shut down meanwhile has nothing to purge.
      }
    }
    this._cleanups++;
    this._purged += removed;
    return removed;
  }

  /** Plain numbers (and the level name) for getMetrics(): component `memory`. */
  stats() {
    const scale = SCALES[LEVELS[this._level]];
    return {
      level: LEVELS[this._level],
      levelCode: this._level,
      heapFraction: this._heapFraction,
      rssFraction: this._rssFraction,
      cacheScale: scale,
      queueScale: scale,
      checks: this._checks,
      lastCheckAt: this._lastCheck,
      shrinkEvents: this._shrinkEvents,
      restoreEvents: this._restoreEvents,
      cleanups: this._cleanups,
      purged: this._purged,
      pipelines: this._targets.size,
    };
  }
}

let sharedInstance = null;

/** The process-wide instance the AI pipeline attaches to; reported as metrics component `memory`. */
function shared() {
  if (!sharedInstance) {
    const instance = new MemoryPressure();
    sharedInstance = instance;
    try {
      require('./metrics').track('memory', () => instance.stats());
    } catch {
      // Metrics are optional; the policy works without them.
    }
  }
  return sharedInstance;
}

/** The process-wide instance if the AI pipeline has created it, else null (creates nothing). */
function existing() {
  return sharedInstance;
}

module.exports = { MemoryPressure, shared, existing, measureProcess, LEVELS, THRESHOLDS, HYSTERESIS, SCALES };
