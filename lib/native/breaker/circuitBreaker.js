'use strict';

// The circuit breaker of the qerrors API: a thin JS class over the native
// state machine (src/core/breaker/). The class keeps what JS must keep (subclassing,
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
const native = require('../loader');
const { breakerSlots, breakerCounters } = require('../contract');
const { Status, seed: seedStatus } = require('./status');
const { optionError, ourError, isOurError } = require('./errors');
const { configure, opossumIdentity, restoredState } = require('./construction');
const { emitGuarded, warnListenerError, logLine, logStateChanges } = require('./events');
const metrics = require('./metrics');
const { runCached } = require('./cachedCalls');
const { startHealthCheck } = require('./healthCheck');
const { sharedClockView, readClock } = require('./clock');
const { CallQueue } = require('./timeouts');

/** @type {{ CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' }} */
const CircuitState = { CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' };

const STATE_NAMES = [CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN];
const ST_OPEN = 1;
const ST_HALF_OPEN = 2;

// Slots of the shared Float64Array, generated from the Rust layout (../contract.js).
const S_STATE = breakerSlots.STATE;
const S_TRANSITIONS = breakerSlots.TRANSITIONS;
const S_OPENED_AT = breakerSlots.OPENED_AT_MS;

const BATCH = 256; // size of the native batch buffer

const C_FIRES = breakerCounters.FIRES;
const C_SEMAPHORE = breakerCounters.SEMAPHORE_REJECTIONS;

/**
 * A circuit breaker, in two forms (docs/circuit-breaker.md):
 * - `new CircuitBreaker(operation, serviceName, options)`, the qerrors form (docs/circuit-breaker.md): opens
 *   after `failureThreshold` consecutive failures, or when more than
 *   `errorThresholdPercentage` % of at least `volumeThreshold` results since the last close
 *   failed; turns half-open after `recoveryTimeoutMs` (`resetTimeout`) and lets
 *   `halfOpenMaxProbes` calls through at a time: success closes, failure re-opens.
 * - `new CircuitBreaker(action, options)`, opossum's: opossum's defaults, options, events,
 *   `status`, cache, coalescing, capacity, abort controller, health check and warm-up.
 */
class CircuitBreaker extends EventEmitter {
  #h;
  #shared;
  #seen = 0;
  #cfg;
  #enabled;
  #shutdown = false;
  #resetTimer = null;
  /** @type {CallQueue} in-flight timed (or capacity-holding) calls */
  #calls;
  #warned = false;
  /** @type {Float64Array | undefined} the shared clock (no fake clock given) */
  #clock;
  /** @type {{ now(): number } | undefined} the `clock` option */
  #fakeClock;
  #batch;
  #batched = 0;
  #batchAt = 0;
  #batchEnd = 0;
  /** opossum's form: its defaults and rules */
  #opossum = false;
  /** cache, coalescing or a finite capacity: calls go through cachedCalls.js or the capacity path */
  #special = false;
  #inUse = 0;
  #capacity = Infinity;
  #status = null;
  #name;
  #group;
  #probing = false;
  #rotateListener = null;
  #healthTimers = [];
  /** @type {import('./metrics').Source} what Status and the metrics read */
  #source;
  /** Warns once per breaker about listeners that throw (events.js). */
  #onListenerError = (event, err) => {
    if (this.#warned) return;
    this.#warned = true;
    warnListenerError(this.name, event, err);
  };
  /** What cachedCalls.js may use of the breaker. */
  #cacheHost = {
    bump: (counter, n) => this.#h.bump(counter, n),
    emit: (name, ...args) => this.#emit(name, ...args),
    run: (context, args) => this.#run(context, args, true),
  };

  /**
   * @param {(...args: any[]) => any} operation
   * @param {string} serviceName
   * @param {Record<string, any>} options
   */
  constructor(operation, serviceName, options) {
    const cfg = configure(operation, serviceName, options, arguments.length);
    super();
    // The spec lists the own enumerable properties as operation, serviceName, options,
    // breaker, metrics. Whatever EventEmitter's constructor put on the instance (its
    // listener bookkeeping, under names Node does not document) is made non-enumerable,
    // without naming it; assignments EventEmitter makes later keep that attribute.
    for (const key of Object.keys(this)) Object.defineProperty(this, key, { enumerable: false });
    this.#cfg = cfg;
    this.#enabled = cfg.enabled;
    this.#h = native.createCircuitBreakerHandle(cfg.native, cfg.clock);
    this.#shared = this.#h.shared;
    this.#batch = this.#h.batch;
    this.#source = { h: this.#h, shared: this.#shared, flush: () => this.#flush() };
    this.#fakeClock = cfg.clock;
    this.#clock = cfg.clock === undefined ? sharedClockView() : undefined;
    this.#calls = new CallQueue(cfg.timeout, Boolean(cfg.opossum), () => this.#time(), {
      settled: (call, value, ok) => (ok ? this.#succeeded(call.ticket, call.start, value) : this.#failed(call.ticket, call.start, value, call.args)),
      expired: (call) => this.#timedOut(call),
      released: () => {
        this.#inUse--;
      },
    });
    if (cfg.opossum) {
      const id = opossumIdentity(cfg.options, operation);
      this.#opossum = true;
      this.#name = id.name;
      this.#group = id.group;
      this.#capacity = id.capacity;
      this.#special = id.special;
      this.operation = id.operation;
      this.serviceName = undefined;
      this.options = cfg.options;
    } else {
      this.operation = operation;
      this.serviceName = serviceName;
      this.options = options;
    }
    // The opossum instance in the original; here the breaker itself is opossum-compatible.
    this.breaker = this;
    this.metrics = this._initializeMetrics();
    this._setupEventListeners();
    if (cfg.opossum) this.#restore(cfg.options);
  }

  /** opossum's `rotateBucketController`, `status` and `state` options. */
  #restore(o) {
    if (o.rotateBucketController) {
      this.#rotateListener = () => {
        this.#flush();
        this.#h.rotate();
      };
      this.#listenRotation();
    }
    if (o.status && typeof o.status === 'object') {
      const adopted = o.status instanceof Status;
      seedStatus(this.#h, adopted ? o.status.stats : o.status);
      if (adopted) {
        Status.rebind(o.status, this.#source);
        this.#status = o.status;
      }
    }
    const st = restoredState(o.state, this.#cfg.resetTimeout);
    if (st === null) return;
    this.#enabled = st.enabled;
    if (st.enter === 'shutdown') {
      this.shutdown();
    } else if (st.enter === 'halfOpen') {
      this.#h.halfOpen();
      this.#seen = this.#shared[S_TRANSITIONS]; // restored, not a change to announce
    } else if (st.enter === 'open') {
      this.open();
    }
  }

  #listenRotation() {
    const c = this.options.rotateBucketController;
    if (c && this.#rotateListener && c.listeners('rotate').indexOf(this.#rotateListener) < 0) c.on('rotate', this.#rotateListener);
  }

  #unlistenRotation() {
    const c = this.options.rotateBucketController;
    if (c && this.#rotateListener) c.removeListener('rotate', this.#rotateListener);
  }

  /** True for the errors the breaker raises itself (open, timeout, shutdown, capacity). */
  static isOurError(error) {
    return isOurError(error);
  }

  /** A standalone opossum `Status` (e.g. restored stats), to pass as the `status` option. */
  static newStatus(options) {
    return new Status(options ?? {});
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
    if (fn instanceof CircuitBreaker) {
      const other = fn;
      fn = (...args) => other.fire(...args);
    }
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
    this.#unlistenRotation();
  }

  enable() {
    this.#enabled = true;
    this.#listenRotation();
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
    this.#unlistenRotation();
    this.removeAllListeners();
    clearTimeout(this.#resetTimer);
    this.#resetTimer = null;
    for (const t of this.#healthTimers) clearInterval(t);
    this.#healthTimers = [];
    if (this.#status !== null) this.#status.shutdown();
    this.clearCache();
  }

  /** Empties the result cache and the coalesced calls (opossum's `cache`/`coalesce`). */
  clearCache() {
    const o = this.options;
    if (!this.#opossum) return;
    if (o.cache) o.cacheTransport.flush();
    if (o.coalesceCache) o.coalesceCache.flush();
  }

  /** opossum's name for the operation. */
  get action() {
    return this.operation;
  }

  get group() {
    return this.#group ?? this.name;
  }

  /** Half-open and no trial call admitted yet: the next call goes through. */
  get pendingClose() {
    return this.#state() === ST_HALF_OPEN && !this.#probing;
  }

  /** opossum's window as an EventEmitter ('snapshot' events); created on first use. */
  get status() {
    if (this.#status === null) this.#status = new Status(this.#opossum ? this.options : { rollingCountTimeout: this.#cfg.native.rollingCountTimeout, rollingCountBuckets: this.#cfg.native.rollingCountBuckets }, this.#source);
    return this.#status;
  }

  /** In-flight calls against `capacity` (opossum's semaphore; `count` = free units). */
  get semaphore() {
    const self = this;
    return {
      get count() {
        return self.#capacity === Infinity ? Number.MAX_SAFE_INTEGER : self.#capacity - self.#inUse;
      },
    };
  }

  getSignal() {
    const ac = this.#opossum ? this.options.abortController : undefined;
    return ac && ac.signal ? ac.signal : undefined;
  }

  getAbortController() {
    return this.#opossum ? this.options.abortController : undefined;
  }

  get name() {
    if (this.#name !== undefined) return this.#name;
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

  /** opossum's warm-up (`allowWarmUp`): the breaker does not open yet. */
  get warmUp() {
    return this.#h.warmUp() === 1;
  }

  get volumeThreshold() {
    return this.#cfg.native.volumeThreshold;
  }

  /** opossum-like statistics over the rolling window. */
  get stats() {
    return this.status.stats;
  }

  /**
   * opossum's `healthCheck(fn, interval = 5000)`: runs `fn` (with the breaker as `this`)
   * now and every `interval` ms on an unref'd timer; a rejection emits
   * `healthCheckFailed` and opens the breaker. Without arguments: the spec's synchronous
   * snapshot (see below).
   */
  healthCheck(...args) {
    // Rest parameters keep `healthCheck.length` 0, as the spec's form has it.
    if (args.length === 0) return metrics.snapshot(this);
    const [fn, interval] = args;
    const timer = startHealthCheck(this, fn, interval, (err) => {
      this.#emit('healthCheckFailed', err);
      this.open();
    });
    this.#healthTimers.push(timer);
    return undefined;
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
        warmUp: this.warmUp,
        shutdown: this.#shutdown,
        lastTimerAt: this.#shared[S_OPENED_AT] < 0 ? undefined : metrics.wallTime(this.#h, this.#shared[S_OPENED_AT]),
      },
      status: this.stats,
    };
  }

  // ---- the qerrors API -------------------------------------------------

  /** Runs the operation through the breaker (`fire`). */
  async execute(...args) {
    return this.#run(this.operation, args);
  }

  /** @returns {'CLOSED' | 'OPEN' | 'HALF_OPEN'} */
  getState() {
    return STATE_NAMES[this.#state()];
  }

  getMetrics() {
    return metrics.metricsReport(this);
  }

  /** Successes per fire since creation; 1 before the first call. */
  getSuccessRate() {
    return metrics.successRate(this.#source);
  }

  /** Failures (timeouts included) per fire since creation; 0 before the first call. */
  getFailureRate() {
    return metrics.failureRate(this.#source);
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

  /** Logs state changes and timeouts (the console lines the original printed), unless `log: false`. */
  _setupEventListeners() {
    if (this.#cfg.log) logStateChanges(this, (level, text) => this.#log(level, text));
  }

  /** Live counters since creation, read from the native side when accessed. */
  _initializeMetrics() {
    return metrics.liveMetrics(this, this.#source);
  }

  /** Mean latency (ms) of all recorded results since creation. */
  _updateAverageResponseTime() {
    return metrics.meanLatency(this.#source);
  }

  /** Wall-clock time (ms since epoch) of the last success, or null. */
  _trackSuccess() {
    return metrics.lastSuccessTime(this.#source);
  }

  /** Closes the native breaker, clearing the consecutive-failure count and the window rule. */
  _cleanupFailureState() {
    this.close();
  }

  // ---- internals -------------------------------------------------------------------

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
    this.#probing = false;
    if (state !== ST_OPEN && this.#opossum) this.#renewAbortController();
    if (state === ST_OPEN) {
      this.#armReset(this.#cfg.resetTimeout);
      this.#emit('open');
    } else if (state === ST_HALF_OPEN) {
      this.#emit('halfOpen', this.#cfg.resetTimeout);
    } else {
      this.#emit('close');
    }
  }

  /** opossum's `autoRenewAbortController`: a fresh controller once the old one aborted. */
  #renewAbortController() {
    const o = this.options;
    if (o.autoRenewAbortController && o.abortController && o.abortController.signal && o.abortController.signal.aborted) {
      o.abortController = new AbortController();
    }
  }

  /**
   * One unref'd timer while open, so `halfOpen` is emitted even with no traffic. On the
   * real clock the timer decides (as in opossum: its callback turns the breaker half-open
   * even if the clock, read a little earlier by the event loop, says a millisecond is
   * left); on a fake clock only the clock does.
   */
  #armReset(ms) {
    if (this.#shutdown) return;
    this.#resetTimer = setTimeout(() => {
      this.#resetTimer = null;
      this.#flush();
      if (this.#cfg.clock === undefined && this.#shared[S_STATE] === ST_OPEN) this.#h.halfOpen();
      else this.#h.state();
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
    if (this.listenerCount(name) === 0) return;
    emitGuarded(this, name, args, this.#onListenerError);
  }

  #log(level, text) {
    if (this.#cfg.log) logLine(level, this.name, text);
  }

  /** Milliseconds from the breaker's clock (the fake one, else the shared one). */
  #time() {
    return this.#fakeClock === undefined ? readClock(this.#clock) : this.#fakeClock.now();
  }

  /** Records the queued fast-path successes (one native call). */
  #flush() {
    if (this.#batched === 0) return;
    const n = this.#batched;
    this.#batched = 0;
    this.#h.flush(n, this.#batchAt);
  }

  /** Closed (the common case): the fast path; otherwise the native side admits. */
  #run(context, args, inner) {
    if (this.#shutdown) return Promise.reject(ourError('ESHUTDOWN', 'The circuit has been shutdown.'));
    if (!this.#enabled) {
      this.#emit('fire', args);
      if (this.#opossum) this.#h.bump(C_FIRES, 1); // opossum counts every fire
      try {
        return Promise.resolve(Reflect.apply(this.operation, context, args));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    // `inner`: the call past the cache and coalescing (cachedCalls.js calls back here).
    if (this.#special && inner !== true) {
      const o = this.options;
      if (o.cache || o.coalesce) return runCached(o, this.#cacheHost, this, context, args);
      return this.#run(context, args, true);
    }
    if (this.#shared[S_STATE] !== 0) return this.#runGuarded(context, args);
    if (this.listenerCount('fire') !== 0) this.#emit('fire', args);
    if (inner === true && this.#capacity !== Infinity) return this.#runHeld(-1, this.#time(), context, args);
    const start = this.#time();
    let result;
    try {
      result = Reflect.apply(this.operation, context, args);
    } catch (err) {
      return this.#promiseOf(() => this.#failed(-1, start, err, args));
    }
    if (this.#cfg.timeout !== 0) return this.#calls.track(result, -1, start, args, false);
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
    if (ticket % 2048 !== 0) this.#probing = true; // a half-open trial call
    if (this.#capacity !== Infinity) return this.#runHeld(ticket, this.#time(), context, args);
    let result;
    try {
      result = Reflect.apply(this.operation, context, args);
    } catch (err) {
      return this.#promiseOf(() => this.#failed(ticket, 0, err, args));
    }
    if (this.#cfg.timeout !== 0) return this.#calls.track(result, ticket, this.#time(), args, false);
    return Promise.resolve(result).then(
      (value) => this.#succeeded(ticket, 0, value),
      (err) => this.#failed(ticket, 0, err, args)
    );
  }

  /**
   * A call under a finite `capacity`: refused (ESEMLOCKED, counted as a failure, as in
   * opossum) when every unit is in use; otherwise it holds a unit until it settles or
   * times out.
   */
  #runHeld(ticket, start, context, args) {
    if (this.#inUse >= this.#capacity) {
      const err = ourError('ESEMLOCKED', 'Semaphore locked');
      this.#h.bump(C_SEMAPHORE, 1);
      this.#emit('semaphoreLocked', err, 0);
      return this.#promiseOf(() => this.#failed(ticket, start, err, args));
    }
    this.#inUse++;
    let result;
    try {
      result = Reflect.apply(this.operation, context, args);
    } catch (err) {
      this.#inUse--;
      return this.#promiseOf(() => this.#failed(ticket, start, err, args));
    }
    return this.#calls.track(result, ticket, start, args, true);
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
    if (this.listenerCount('success') !== 0) this.#emit('success', value, latency);
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
    const err = ourError('EOPENBREAKER', 'Breaker is open');
    // When the breaker lets a probe through: the error middleware's Retry-After.
    if (this.#shared[S_STATE] === ST_OPEN) err.retryAfterMs = Math.max(0, this.#shared[S_OPENED_AT] + this.#cfg.resetTimeout - this.#h.now());
    this.#emit('reject', err);
    return this.#promiseOf(() => this.#fallbackOrThrow(err, args));
  }

  /** A call reached its deadline: records the timeout; the fallback's result or throws. */
  #timedOut(call) {
    const err = ourError('ETIMEDOUT', `Timed out after ${this.#cfg.timeout}ms`);
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
    if (this.#opossum && this.options.abortController) this.options.abortController.abort();
    return this.#fallbackOrThrow(err, call.args);
  }
}

module.exports = { CircuitBreaker, CircuitState };
