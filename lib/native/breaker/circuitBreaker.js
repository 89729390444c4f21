'use strict';

// The circuit breaker of the qerrors API: a thin JS class over the native
// state machine (src/core/breaker/). The class keeps what JS must keep (subclassing,
// `this`, promises, events, timers); Rust keeps the rules, the window and the stats.
//
// The per-call path (admission, timing, the success batch, recording results) is in
// callPath.js; this class holds one and keeps the public surface, the events of state
// changes and the reset timer.

const { EventEmitter } = require('node:events');
const native = require('../loader');
const { breakerSlots } = require('../contract');
const { Status, seed: seedStatus } = require('./status');
const { optionError, isOurError } = require('./errors');
const { configure, opossumIdentity, restoredState } = require('./construction');
const { warnListenerError, logLine, logStateChanges } = require('./events');
const metrics = require('./metrics');
const { startHealthCheck } = require('./healthCheck');
const { sharedClockView } = require('./clock');
const { CallPath } = require('./callPath');

/** @type {{ CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' }} */
const CircuitState = { CLOSED: 'CLOSED', OPEN: 'OPEN', HALF_OPEN: 'HALF_OPEN' };

const STATE_NAMES = [CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN];
const ST_OPEN = 1;
const ST_HALF_OPEN = 2;

// Slots of the shared Float64Array, generated from the Rust layout (../contract.js).
const S_STATE = breakerSlots.STATE;
const S_TRANSITIONS = breakerSlots.TRANSITIONS;
const S_OPENED_AT = breakerSlots.OPENED_AT_MS;

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
  #cfg;
  /** @type {CallPath} the per-call state and path */
  #path;
  #resetTimer = null;
  #warned = false;
  /** opossum's form: its defaults and rules */
  #opossum = false;
  #status = null;
  #name;
  #group;
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
    this.#h = native.createCircuitBreakerHandle(cfg.native, cfg.clock);
    this.#shared = this.#h.shared;
    const path = new CallPath(this, this.#h, cfg, cfg.clock === undefined ? sharedClockView() : undefined, {
      sync: () => this.#sync(),
      onListenerError: this.#onListenerError,
    });
    this.#path = path;
    this.#source = { h: this.#h, shared: this.#shared, flush: () => path.flush() };
    if (cfg.opossum) {
      const id = opossumIdentity(cfg.options, operation);
      this.#opossum = true;
      this.#name = id.name;
      this.#group = id.group;
      path.capacity = id.capacity;
      path.special = id.special;
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
        this.#path.flush();
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
    this.#path.enabled = st.enabled;
    if (st.enter === 'shutdown') {
      this.shutdown();
    } else if (st.enter === 'halfOpen') {
      this.#h.halfOpen();
      this.#path.seen = this.#shared[S_TRANSITIONS]; // restored, not a change to announce
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
    return this.#path.run(this.operation, args);
  }

  /** Like `fire`, with `this` of the operation set to `context`. */
  call(context, ...args) {
    return this.#path.run(context, args);
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
    this.#path.flush();
    this.#h.open();
    this.#sync();
  }

  /** Closes the breaker now (no-op when closed). */
  close() {
    this.#path.flush();
    this.#h.close();
    this.#sync();
  }

  /** Calls go straight to the operation, without accounting, until `enable()`. */
  disable() {
    this.#path.enabled = false;
    this.#unlistenRotation();
  }

  enable() {
    this.#path.enabled = true;
    this.#listenRotation();
  }

  /**
   * Stops the breaker: emits `shutdown`, removes listeners, clears the reset timer; later
   * calls reject with ESHUTDOWN. Calls already in flight still time out (their timer
   * stops once they have all settled).
   */
  shutdown() {
    if (this.#path.shutdown) return;
    this.#path.flush();
    this.#emit('shutdown');
    this.#path.shutdown = true;
    this.#path.enabled = false;
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
    return this.#state() === ST_HALF_OPEN && !this.#path.probing;
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
        const p = self.#path;
        return p.capacity === Infinity ? Number.MAX_SAFE_INTEGER : p.capacity - p.inUse;
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
    return this.#path.enabled;
  }

  get isShutdown() {
    return this.#path.shutdown;
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
        enabled: this.#path.enabled,
        closed: state === 0,
        open: state === ST_OPEN,
        halfOpen: state === ST_HALF_OPEN,
        warmUp: this.warmUp,
        shutdown: this.#path.shutdown,
        lastTimerAt: this.#shared[S_OPENED_AT] < 0 ? undefined : metrics.wallTime(this.#h, this.#shared[S_OPENED_AT]),
      },
      status: this.stats,
    };
  }

  // ---- the qerrors API -------------------------------------------------

  /** Runs the operation through the breaker (`fire`). */
  async execute(...args) {
    return this.#path.run(this.operation, args);
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
    if (this.#shared[S_STATE] === ST_OPEN && !this.#path.shutdown) {
      this.#path.flush();
      this.#h.state();
      this.#sync();
    }
    return this.#shared[S_STATE];
  }

  /** Emits the event of a state change the native side made since the last look. */
  #sync() {
    const sh = this.#shared;
    if (sh[S_TRANSITIONS] === this.#path.seen) return;
    this.#path.seen = sh[S_TRANSITIONS];
    const state = sh[S_STATE];
    clearTimeout(this.#resetTimer);
    this.#resetTimer = null;
    this.#path.probing = false;
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
    if (this.#path.shutdown) return;
    this.#resetTimer = setTimeout(() => {
      this.#resetTimer = null;
      this.#path.flush();
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
    this.#path.emit(name, ...args);
  }

  #log(level, text) {
    if (this.#cfg.log) logLine(level, this.name, text);
  }
}

module.exports = { CircuitBreaker, CircuitState };
