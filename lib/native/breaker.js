'use strict';

// The circuit breaker of the qerrors API (spec §12): a thin JS class over the native
// state machine (src/core/breaker.rs). The class keeps what JS must keep (subclassing,
// `this`, promises, events, timers); Rust keeps the rules, the window and the stats.
//
// The boundary, per call (a raw N-API call costs ~100 ns inside promise code here):
// - closed (the common case): no native call. JS reads the state from a Float64Array
//   the native side updates, times the call with a millisecond clock shared the same
//   way (a native ticker refreshes it while breakers are in use), and queues successes
//   in a native-owned batch buffer that is flushed in one call (before any failure, any
//   state change, any stats read, at a window-bucket boundary or every 256 calls). A
//   failure is recorded at once (it may open the breaker).
// - open or half-open: one raw call to acquire a ticket (admit, probe or reject), one
//   to record its result.
// Nothing here creates a JS object for accounting.

const { EventEmitter } = require('node:events');
const native = require('./loader');

/** @type {{ CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' }} */
const CircuitState = { CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' };

const STATE_NAMES = [CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN];
const ST_OPEN = 1;
const ST_HALF_OPEN = 2;

// Slots of the shared Float64Array, generated from the Rust layout (./contract.js).
const { breakerSlots } = require('./contract');
const S_STATE = breakerSlots.STATE;
const S_TRANSITIONS = breakerSlots.TRANSITIONS;
const S_FIRES = breakerSlots.FIRES;
const S_SUCCESSES = breakerSlots.SUCCESSES;
const S_FAILURES = breakerSlots.FAILURES;
const S_LATENCY_SUM = breakerSlots.LATENCY_SUM;
const S_LAST_SUCCESS = breakerSlots.LAST_SUCCESS_MS;
const S_LAST_FAILURE = breakerSlots.LAST_FAILURE_MS;
const S_OPENED_AT = breakerSlots.OPENED_AT_MS;
const S_WINDOW = breakerSlots.WINDOW;

const PERCENTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1];
const BATCH = 256; // size of the native batch buffer

/** @type {Float64Array | undefined} the shared clock, created by the first breaker */
let sharedClock;

/**
 * The shared clock's layout (src/binding/breaker.rs): [0] ms, [1] 1 while its ticker
 * runs, [2] set on use (the ticker parks after ~100 ms without use). A fake clock gets
 * the same shape, always awake, so the hot path reads both kinds alike.
 */
function fakeClockView(clock) {
  return {
    get 0() {
      return clock.now();
    },
    1: 1,
    2: 0,
  };
}

const MAX_TIMER_MS = 2147483647;
const CODE = 'ERR_QERRORS_INVALID_OPTION';

function optionError(Ctor, message) {
  const err = new Ctor(message);
  err.code = CODE;
  return err;
}

function codedError(message, code) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/**
 * Reads an optional integer option.
 * @param {object} o
 * @param {string} name
 * @param {number} def
 * @param {number} min
 * @param {number} max
 */
function intOption(o, name, def, min, max) {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || Number.isNaN(v)) throw optionError(TypeError, `${name} must be a number`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw optionError(RangeError, `${name} must be an integer between ${min} and ${max}`);
  }
  return v;
}

/**
 * Checks the options the spec validates (exact messages), then everything else, and
 * returns the normalized configuration.
 * @param {unknown} operation
 * @param {Record<string, any> | undefined} options
 */
function normalize(operation, options) {
  if (!options || options.failureThreshold <= 0) {
    throw optionError(options && typeof options === 'object' ? RangeError : TypeError, 'failureThreshold must be positive');
  }
  if (options.recoveryTimeoutMs <= 0) throw optionError(RangeError, 'recoveryTimeoutMs must be positive');
  if (typeof operation !== 'function') throw optionError(TypeError, 'operation must be a function');

  const failureThreshold = intOption(options, 'failureThreshold', 5, 1, 2 ** 32 - 1);
  const recovery = intOption(options, 'recoveryTimeoutMs', 30000, 1, MAX_TIMER_MS);
  const monitoring = intOption(options, 'monitoringPeriodMs', 60000, 1, MAX_TIMER_MS);
  const timeoutMs = options.timeoutMs === false ? false : intOption(options, 'timeoutMs', 0, 0, MAX_TIMER_MS);
  let timeout = timeoutMs === false ? 0 : timeoutMs || 10000;
  if (options.timeout !== undefined) {
    timeout = options.timeout === false ? 0 : intOption(options, 'timeout', 0, 0, MAX_TIMER_MS);
  }
  const pct = options.errorThresholdPercentage;
  if (pct !== undefined && pct !== false && (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))) {
    throw optionError(typeof pct === 'number' ? RangeError : TypeError, 'errorThresholdPercentage must be a number from 0 to 100, or false to disable');
  }
  for (const name of ['fallback', 'errorFilter']) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw optionError(TypeError, `${name} must be a function`);
    }
  }
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') throw optionError(TypeError, 'enabled must be a boolean');
  if (options.log !== undefined && typeof options.log !== 'boolean') throw optionError(TypeError, 'log must be a boolean');
  if (options.clock !== undefined && !(options.clock instanceof native.CircuitBreakerFakeClock)) {
    throw optionError(TypeError, 'clock must be a CircuitBreakerFakeClock');
  }
  const resetTimeout = intOption(options, 'resetTimeout', recovery, 1, MAX_TIMER_MS);
  const rollingCountTimeout = intOption(options, 'rollingCountTimeout', monitoring, 1, MAX_TIMER_MS);
  const rollingCountBuckets = intOption(options, 'rollingCountBuckets', 10, 1, 1000);
  if (rollingCountBuckets > rollingCountTimeout) {
    throw optionError(RangeError, 'rollingCountBuckets must not exceed rollingCountTimeout (ms)');
  }
  return {
    timeout,
    fallback: options.fallback,
    errorFilter: options.errorFilter,
    enabled: options.enabled !== false,
    log: options.log !== false,
    clock: options.clock,
    resetTimeout,
    bucketMs: Math.ceil(rollingCountTimeout / rollingCountBuckets),
    native: {
      failureThreshold,
      resetTimeout,
      rollingCountTimeout,
      rollingCountBuckets,
      errorThresholdPercentage: pct === undefined ? 50 : pct,
      volumeThreshold: intOption(options, 'volumeThreshold', Math.max(10, failureThreshold), 0, 2 ** 32 - 1),
      halfOpenMaxProbes: intOption(options, 'halfOpenMaxProbes', 1, 1, 2 ** 32 - 1),
    },
  };
}

/** FIFO of in-flight timed calls: a ring buffer, so steady traffic allocates nothing. */
class CallQueue {
  constructor() {
    this.items = new Array(16).fill(undefined);
    this.head = 0;
    this.size = 0;
  }

  push(call) {
    if (this.size === this.items.length) this.#resize(this.items.length * 2, false);
    this.items[(this.head + this.size) & (this.items.length - 1)] = call;
    this.size++;
  }

  peek() {
    return this.items[this.head];
  }

  shift() {
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
  }

  /** Drops settled calls stuck behind a slow one. */
  compact() {
    this.#resize(this.items.length, true);
  }

  #resize(capacity, liveOnly) {
    const next = new Array(capacity).fill(undefined);
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const call = this.items[(this.head + i) & (this.items.length - 1)];
      if (!liveOnly || !call.done) next[n++] = call;
    }
    this.items = next;
    this.head = 0;
    this.size = n;
  }
}

/** `new Promise(capture)` hands its resolvers over here: no closure per call. */
const captured = { resolve: null, reject: null };
function capture(resolve, reject) {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** One in-flight call with a timeout: settled once, by its result or by the timer. */
class PendingCall {
  constructor(ticket, start, args, resolve, reject) {
    this.ticket = ticket; // -1 for a call admitted on the closed fast path
    this.start = start;
    this.deadline = 0;
    this.args = args;
    this.resolve = resolve;
    this.reject = reject;
    this.done = false;
  }
}

/**
 * A circuit breaker around `operation` (spec §12.2), opossum-compatible where the APIs
 * overlap (fire, events, stats, toJSON, enable/disable, shutdown).
 *
 * Opens after `failureThreshold` consecutive failures, or when more than
 * `errorThresholdPercentage` % of at least `volumeThreshold` results in the rolling
 * window failed; turns half-open after `recoveryTimeoutMs` (`resetTimeout`) and lets
 * `halfOpenMaxProbes` calls through at a time: success closes, failure re-opens.
 */
class CircuitBreaker extends EventEmitter {
  #h;
  #shared;
  #seen = 0;
  #cfg;
  #enabled;
  #shutdown = false;
  #resetTimer = null;
  #timeoutTimer = null;
  #pending = new CallQueue();
  #inflight = 0;
  #warned = false;
  /** @type {{ 0: number, 1: number, 2: number }} */
  #clock;
  #batch;
  #batched = 0;
  #batchAt = 0;
  #batchEnd = 0;

  /**
   * @param {(...args: any[]) => any} operation
   * @param {string} serviceName
   * @param {Record<string, any>} options
   */
  constructor(operation, serviceName, options) {
    const cfg = normalize(operation, options);
    super();
    // EventEmitter's bookkeeping stays out of Object.keys: the spec lists the own
    // instance properties as operation, serviceName, options, breaker, metrics.
    for (const key of ['_events', '_eventsCount', '_maxListeners']) {
      if (Object.prototype.hasOwnProperty.call(this, key)) Object.defineProperty(this, key, { enumerable: false });
    }
    this.#cfg = cfg;
    this.#enabled = cfg.enabled;
    this.#h = native.createCircuitBreakerHandle(cfg.native, cfg.clock);
    this.#shared = this.#h.shared;
    this.#batch = this.#h.batch;
    if (cfg.clock) this.#clock = fakeClockView(cfg.clock);
    else this.#clock = sharedClock ??= native.circuitBreakerClock();
    this.operation = operation;
    this.serviceName = serviceName;
    this.options = options;
    // The opossum instance in the original; here the breaker itself is opossum-compatible.
    this.breaker = this;
    this.metrics = this._initializeMetrics();
    this._setupEventListeners();
  }

  // ---- opossum-compatible surface -------------------------------------------------

  /** Runs the operation through the breaker; resolves or rejects with its outcome. */
  fire(...args) {
    return this.#run(this.operation, args);
  }

  /** Like `fire`, with `this` of the operation set to `context`. */
  call(context, ...args) {
    return this.#run(context, args);
  }

  /** Sets the fallback run when a call fails, times out or is rejected. */
  fallback(fn) {
    if (typeof fn !== 'function') throw optionError(TypeError, 'fallback must be a function');
    this.#cfg.fallback = fn;
    return this;
  }

  /** Opens the breaker now (no-op when open). */
  open() {
    this.#flush();
    this.#h.open();
    this.#sync();
  }

  /** Closes the breaker now (no-op when closed). */
  close() {
    this.#flush();
    this.#h.close();
    this.#sync();
  }

  /** Calls go straight to the operation, without accounting, until `enable()`. */
  disable() {
    this.#enabled = false;
  }

  enable() {
    this.#enabled = true;
  }

  /**
   * Stops the breaker: emits `shutdown`, removes listeners, clears the reset timer; later
   * calls reject with ESHUTDOWN. Calls already in flight still time out (their timer
   * stops once they have all settled).
   */
  shutdown() {
    if (this.#shutdown) return;
    this.#flush();
    this.#emit('shutdown');
    this.#shutdown = true;
    this.#enabled = false;
    this.removeAllListeners();
    clearTimeout(this.#resetTimer);
    this.#resetTimer = null;
  }

  get name() {
    return String(this.serviceName ?? this.options.name ?? this.operation.name);
  }

  get enabled() {
    return this.#enabled;
  }

  get isShutdown() {
    return this.#shutdown;
  }

  get opened() {
    return this.#state() === ST_OPEN;
  }

  get halfOpen() {
    return this.#state() === ST_HALF_OPEN;
  }

  get closed() {
    return this.#state() === 0;
  }

  get warmUp() {
    return false;
  }

  get volumeThreshold() {
    return this.#cfg.native.volumeThreshold;
  }

  /** opossum-like statistics over the rolling window. */
  get stats() {
    const sh = this.#shared;
    this.#flush();
    this.#h.stats();
    const percentiles = {};
    for (let i = 0; i < PERCENTILES.length; i++) percentiles[PERCENTILES[i]] = sh[S_WINDOW + 7 + i];
    return {
      failures: sh[S_WINDOW + 2],
      fallbacks: sh[S_WINDOW + 5],
      successes: sh[S_WINDOW + 1],
      rejects: sh[S_WINDOW + 4],
      fires: sh[S_WINDOW],
      timeouts: sh[S_WINDOW + 3],
      cacheHits: 0,
      cacheMisses: 0,
      coalesceCacheHits: 0,
      coalesceCacheMisses: 0,
      semaphoreRejections: 0,
      percentiles,
      latencyMean: sh[S_WINDOW + 6],
    };
  }

  toJSON() {
    const state = this.#state();
    return {
      state: {
        name: this.name,
        enabled: this.#enabled,
        closed: state === 0,
        open: state === ST_OPEN,
        halfOpen: state === ST_HALF_OPEN,
        warmUp: false,
        shutdown: this.#shutdown,
        lastTimerAt: this.#shared[S_OPENED_AT] < 0 ? undefined : this.#wallTime(this.#shared[S_OPENED_AT]),
      },
      status: this.stats,
    };
  }

  // ---- the qerrors API (spec §12.2) -------------------------------------------------

  /** Runs the operation through the breaker (`fire`). */
  async execute(...args) {
    return this.#run(this.operation, args);
  }

  /** @returns {'CLOSED' | 'OPEN' | 'HALF_OPEN'} */
  getState() {
    return STATE_NAMES[this.#state()];
  }

  getMetrics() {
    const m = this.metrics;
    const s = this.stats;
    return {
      totalRequests: m.totalRequests,
      successfulRequests: m.successfulRequests,
      failedRequests: m.failedRequests,
      averageResponseTime: m.averageResponseTime,
      lastFailureTime: m.lastFailureTime,
      lastSuccessTime: m.lastSuccessTime,
      opossumStats: {
        total: s.fires,
        successful: s.successes,
        failed: s.failures,
        timeouts: s.timeouts,
        circuitOpen: this.isOpen(),
        averageResponseTime: s.latencyMean,
      },
    };
  }

  /** Successes per fire since creation; 1 before the first call. */
  getSuccessRate() {
    this.#flush();
    const fires = this.#shared[S_FIRES];
    return fires === 0 ? 1 : this.#shared[S_SUCCESSES] / fires;
  }

  /** Failures (timeouts included) per fire since creation; 0 before the first call. */
  getFailureRate() {
    this.#flush();
    const fires = this.#shared[S_FIRES];
    return fires === 0 ? 0 : this.#shared[S_FAILURES] / fires;
  }

  /** Closes the breaker and forgets the failure streak. */
  reset() {
    this._cleanupFailureState();
    this.#log('log', 'manually reset to CLOSED');
  }

  forceOpen() {
    this.open();
    this.#log('log', 'manually forced to OPEN');
  }

  isRequestAllowed() {
    return this.#state() !== ST_OPEN;
  }

  getStats() {
    return this.stats;
  }

  isOpen() {
    return this.#state() === ST_OPEN;
  }

  /** Synchronous snapshot (spec §12.2; not opossum's periodic health check). */
  healthCheck() {
    return {
      state: this.getState(),
      isRequestAllowed: this.isRequestAllowed(),
      isOpen: this.isOpen(),
      stats: this.getStats(),
      metrics: this.getMetrics(),
    };
  }

  /** Logs state changes and timeouts (spec §12.2 console lines), unless `log: false`. */
  _setupEventListeners() {
    if (!this.#cfg.log) return;
    this.on('open', () => this.#log('log', 'transitioning to OPEN'));
    this.on('halfOpen', () => this.#log('log', 'transitioning to HALF_OPEN'));
    this.on('close', () => this.#log('log', 'transitioning to CLOSED'));
    this.on('timeout', () => this.#log('warn', 'operation timeout'));
  }

  /** Live counters since creation, read from the native side when accessed. */
  _initializeMetrics() {
    const self = this;
    const sh = this.#shared;
    return {
      get totalRequests() {
        self.#flush();
        return sh[S_FIRES];
      },
      get successfulRequests() {
        self.#flush();
        return sh[S_SUCCESSES];
      },
      get failedRequests() {
        self.#flush();
        return sh[S_FAILURES];
      },
      get averageResponseTime() {
        return self._updateAverageResponseTime();
      },
      get lastFailureTime() {
        return sh[S_LAST_FAILURE] < 0 ? null : self.#wallTime(sh[S_LAST_FAILURE]);
      },
      get lastSuccessTime() {
        return self._trackSuccess();
      },
    };
  }

  /** Mean latency (ms) of all recorded results since creation. */
  _updateAverageResponseTime() {
    this.#flush();
    const sh = this.#shared;
    const n = sh[S_SUCCESSES] + sh[S_FAILURES];
    return n === 0 ? 0 : sh[S_LATENCY_SUM] / n;
  }

  /** Wall-clock time (ms since epoch) of the last success, or null. */
  _trackSuccess() {
    this.#flush();
    const t = this.#shared[S_LAST_SUCCESS];
    return t < 0 ? null : this.#wallTime(t);
  }

  /** Closes the native breaker, clearing the consecutive-failure count and the window rule. */
  _cleanupFailureState() {
    this.close();
  }

  // ---- internals -------------------------------------------------------------------

  /** Converts a breaker-clock time to wall-clock ms. */
  #wallTime(t) {
    return Date.now() - (this.#h.now() - t);
  }

  /** Current state code, turning open into half-open when due. */
  #state() {
    if (this.#shared[S_STATE] === ST_OPEN && !this.#shutdown) {
      this.#flush();
      this.#h.state();
      this.#sync();
    }
    return this.#shared[S_STATE];
  }

  /** Emits the event of a state change the native side made since the last look. */
  #sync() {
    const sh = this.#shared;
    if (sh[S_TRANSITIONS] === this.#seen) return;
    this.#seen = sh[S_TRANSITIONS];
    const state = sh[S_STATE];
    clearTimeout(this.#resetTimer);
    this.#resetTimer = null;
    if (state === ST_OPEN) {
      this.#armReset(this.#cfg.resetTimeout);
      this.#emit('open');
    } else if (state === ST_HALF_OPEN) {
      this.#emit('halfOpen', this.#cfg.resetTimeout);
    } else {
      this.#emit('close');
    }
  }

  /** One unref'd timer while open, so `halfOpen` is emitted even with no traffic. */
  #armReset(ms) {
    if (this.#shutdown) return;
    this.#resetTimer = setTimeout(() => {
      this.#resetTimer = null;
      this.#flush();
      this.#h.state();
      this.#sync();
      if (this.#shared[S_STATE] === ST_OPEN && this.#resetTimer === null) {
        const left = this.#shared[S_OPENED_AT] + this.#cfg.resetTimeout - this.#h.now();
        this.#armReset(Math.max(1, left));
      }
    }, ms);
    this.#resetTimer.unref();
  }

  /**
   * Emits without letting a listener's exception escape: a throwing listener must not
   * turn into a rejected call or an unhandled rejection. Other listeners still run.
   */
  #emit(name, ...args) {
    // `_events` is EventEmitter's listener table; the hot path peeks at it directly
    // because listenerCount() costs a call per event per fire.
    if (this._events[name] === undefined) return;
    for (const fn of this.rawListeners(name)) {
      try {
        Reflect.apply(fn, this, args);
      } catch (err) {
        this.#listenerError(name, err);
      }
    }
  }

  #listenerError(event, err) {
    if (this.#warned) return;
    this.#warned = true;
    process.emitWarning(
      `circuit breaker "${this.name}": a '${event}' listener threw (${err && err.message}); later listener errors of this breaker are ignored`,
      { code: 'QERRORS_BREAKER_LISTENER_ERROR' }
    );
  }

  #log(level, text) {
    if (!this.#cfg.log) return;
    try {
      console[level](`[CircuitBreaker] ${this.name}: ${text}`);
    } catch {
      // A broken console must not break the breaker.
    }
  }

  /** Milliseconds from the shared clock, waking its ticker if it parked. */
  #time() {
    const c = this.#clock;
    if (c[1] !== 1) native.circuitBreakerClockWake();
    c[2] = 1;
    return c[0];
  }

  /** Records the queued fast-path successes (one native call). */
  #flush() {
    if (this.#batched === 0) return;
    const n = this.#batched;
    this.#batched = 0;
    this.#h.flush(n, this.#batchAt);
  }

  #run(context, args) {
    if (this.#shutdown) return Promise.reject(codedError('The circuit has been shutdown.', 'ESHUTDOWN'));
    if (!this.#enabled) {
      this.#emit('fire', args);
      try {
        return Promise.resolve(Reflect.apply(this.operation, context, args));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.#shared[S_STATE] !== 0) return this.#runGuarded(context, args);
    if (this._events.fire !== undefined) this.#emit('fire', args);
    const start = this.#time();
    let result;
    try {
      result = Reflect.apply(this.operation, context, args);
    } catch (err) {
      return this.#promiseOf(() => this.#failed(-1, start, err, args));
    }
    if (this.#cfg.timeout !== 0) return this.#withTimeout(-1, start, result, args);
    return Promise.resolve(result).then(
      (value) => this.#succeeded(-1, start, value),
      (err) => this.#failed(-1, start, err, args)
    );
  }

  /** Open or half-open: the native side admits (a ticket), probes or rejects. */
  #runGuarded(context, args) {
    this.#flush();
    const ticket = this.#h.acquire();
    if (this.#shared[S_TRANSITIONS] !== this.#seen) this.#sync();
    this.#emit('fire', args);
    if (ticket < 0) return this.#rejected(args);
    let result;
    try {
      result = Reflect.apply(this.operation, context, args);
    } catch (err) {
      return this.#promiseOf(() => this.#failed(ticket, 0, err, args));
    }
    if (this.#cfg.timeout !== 0) return this.#withTimeout(ticket, this.#time(), result, args);
    return Promise.resolve(result).then(
      (value) => this.#succeeded(ticket, 0, value),
      (err) => this.#failed(ticket, 0, err, args)
    );
  }

  /** A promise of `fn()`'s value, rejected with what it throws. */
  #promiseOf(fn) {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Records a success: a fast-path call (ticket -1) goes to the batch while the
   * breaker stays closed; a ticket is settled natively (it may close the breaker).
   */
  #succeeded(ticket, start, value) {
    let latency;
    if (ticket < 0) {
      const now = this.#time();
      latency = now - start;
      if (this.#shared[S_STATE] === 0) {
        if (this.#batched !== 0 && (now >= this.#batchEnd || this.#batched === BATCH)) this.#flush();
        if (this.#batched === 0) {
          this.#batchAt = now;
          this.#batchEnd = (Math.floor(now / this.#cfg.bucketMs) + 1) * this.#cfg.bucketMs;
        }
        this.#batch[this.#batched++] = latency;
      } else {
        this.#flush();
        this.#h.succeeded(latency); // admitted while closed, settled after a change: counted only
      }
    } else {
      latency = this.#h.success(ticket);
    }
    if (this._events.success !== undefined) this.#emit('success', value, latency);
    if (this.#shared[S_TRANSITIONS] !== this.#seen) this.#sync();
    return value;
  }

  /** Records a failure; returns the fallback's result or throws the error. */
  #failed(ticket, start, err, args) {
    let filtered = false;
    if (this.#cfg.errorFilter !== undefined) {
      try {
        filtered = Boolean(Reflect.apply(this.#cfg.errorFilter, undefined, [err, ...args]));
      } catch {
        filtered = false; // a broken filter counts the error, it does not hide it
      }
    }
    if (filtered) {
      this.#succeeded(ticket, start, err);
      throw err;
    }
    this.#flush();
    let latency;
    if (ticket < 0) {
      latency = this.#time() - start;
      this.#h.failed(latency);
    } else {
      latency = this.#h.failure(ticket);
    }
    this.#emit('failure', err, latency, args);
    if (this.#shared[S_TRANSITIONS] !== this.#seen) this.#sync();
    return this.#fallbackOrThrow(err, args);
  }

  #fallbackOrThrow(err, args) {
    const fb = this.#cfg.fallback;
    if (fb === undefined) throw err;
    this.#h.fallback();
    const result = Reflect.apply(fb, fb, [...args, err]);
    this.#emit('fallback', result, err);
    return result;
  }

  #rejected(args) {
    const err = codedError('Breaker is open', 'EOPENBREAKER');
    this.#emit('reject', err);
    return this.#promiseOf(() => this.#fallbackOrThrow(err, args));
  }

  // Timeouts: every call of a breaker has the same timeout, so deadlines are ordered
  // like admissions. In-flight calls wait in a FIFO; one unref'd timer targets the
  // oldest deadline. No timer is created per call; the timer stops when the queue is
  // empty.

  #withTimeout(ticket, start, result, args) {
    const promise = new Promise(capture);
    const call = new PendingCall(ticket, start, args, captured.resolve, captured.reject);
    captured.resolve = captured.reject = null;
    call.deadline = start + this.#cfg.timeout;
    this.#pending.push(call);
    this.#inflight++;
    if (this.#timeoutTimer === null) this.#armTimeout(this.#cfg.timeout);
    Promise.resolve(result).then(
      (value) => this.#settle(call, value, true),
      (err) => this.#settle(call, err, false)
    );
    return promise;
  }

  #settle(call, value, ok) {
    if (call.done) return; // a late result after the timeout: ignored
    this.#finish(call);
    try {
      call.resolve(ok ? this.#succeeded(call.ticket, call.start, value) : this.#failed(call.ticket, call.start, value, call.args));
    } catch (err) {
      call.reject(err);
    }
  }

  #finish(call) {
    call.done = true;
    this.#inflight--;
    const q = this.#pending;
    while (q.size !== 0 && q.peek().done) q.shift();
    // Settled calls behind a slow one: drop them so the queue stays ~ in-flight size.
    if (q.size > 2 * this.#inflight + 1024) q.compact();
  }

  #armTimeout(ms) {
    this.#timeoutTimer = setTimeout(() => this.#onTimeoutTimer(), ms);
    this.#timeoutTimer.unref();
  }

  #onTimeoutTimer() {
    this.#timeoutTimer = null;
    const now = this.#time();
    const q = this.#pending;
    while (q.size !== 0) {
      const call = q.peek();
      if (call.done) {
        q.shift();
        continue;
      }
      if (call.deadline > now) break;
      this.#finish(call);
      this.#timedOut(call);
    }
    if (q.size !== 0) this.#armTimeout(Math.max(1, q.peek().deadline - now));
  }

  #timedOut(call) {
    const err = codedError(`Timed out after ${this.#cfg.timeout}ms`, 'ETIMEDOUT');
    this.#flush();
    let latency;
    if (call.ticket < 0) {
      latency = this.#time() - call.start;
      this.#h.timedOut(latency);
    } else {
      latency = this.#h.timeout(call.ticket);
    }
    this.#emit('timeout', err, latency, call.args);
    this.#emit('failure', err, latency, call.args);
    if (this.#shared[S_TRANSITIONS] !== this.#seen) this.#sync();
    try {
      call.resolve(this.#fallbackOrThrow(err, call.args));
    } catch (e) {
      call.reject(e);
    }
  }
}

/**
 * `new CircuitBreaker(operation, serviceName, options)` with the spec's defaults merged
 * under `overrides`; `instance.options` is the merged object.
 * @param {(...args: any[]) => any} operation
 * @param {string} serviceName
 * @param {Record<string, any>} [overrides]
 */
function createCircuitBreaker(operation, serviceName, overrides = {}) {
  const options = { failureThreshold: 5, recoveryTimeoutMs: 30000, monitoringPeriodMs: 60000, timeoutMs: 10000, ...overrides };
  return new CircuitBreaker(operation, serviceName, options);
}

// The spec's namespace (§15.13) names the class `CircuitBreakerWrapper`; the top-level
// export and `require('qerrors/native')` name it `CircuitBreaker`, kept here as a
// non-enumerable alias so Object.keys matches the namespace.
module.exports = { CircuitBreakerWrapper: CircuitBreaker, CircuitState, createCircuitBreaker };
Object.defineProperty(module.exports, 'CircuitBreaker', { value: CircuitBreaker, enumerable: false, writable: true, configurable: true });
