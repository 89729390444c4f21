'use strict';

// The fire/call path of one breaker: admission, timing, the batch of fast-path
// successes, recording each result natively, the fallback. The breaker (circuitBreaker.js)
// owns one CallPath and keeps the public surface, the events of state changes and the
// reset timer; everything a call touches lives here, so a call costs no more hops than
// it did as private methods of the class.
//
// Closed (the common case): no native call. The state is read from the Float64Array the
// native side updates, the call is timed with a millisecond clock shared the same way,
// and successes are queued in a native-owned batch buffer flushed in one call (before any
// failure, any state change, any stats read, at a window-bucket boundary or every 256
// calls). A failure is recorded at once (it may open the breaker). Open or half-open: one
// raw call to acquire a ticket (admit, probe or reject), one to record its result.

const { breakerSlots, breakerCounters } = require('../contract');
const { ourError } = require('./errors');
const { runCached } = require('./cachedCalls');
const { emitGuarded } = require('./events');
const { readClock } = require('./clock');
const { CallQueue } = require('./timeouts');

const ST_OPEN = 1;

const S_STATE = breakerSlots.STATE;
const S_TRANSITIONS = breakerSlots.TRANSITIONS;
const S_OPENED_AT = breakerSlots.OPENED_AT_MS;

const BATCH = 256; // size of the native batch buffer

const C_FIRES = breakerCounters.FIRES;
const C_SEMAPHORE = breakerCounters.SEMAPHORE_REJECTIONS;

/**
 * What the path needs of its breaker besides the native handle.
 * @typedef {object} PathHost
 * @property {() => void} sync announces a state change the native side made (circuitBreaker.js)
 * @property {(event: string, err: unknown) => void} onListenerError
 */

class CallPath {
  /**
   * @param {import('node:events').EventEmitter & { operation: Function, options: any }} breaker
   * @param {any} h the native handle
   * @param {Record<string, any>} cfg the normalized configuration (options.js)
   * @param {Float64Array | undefined} clock the shared clock, when no fake clock is given
   * @param {PathHost} host
   */
  constructor(breaker, h, cfg, clock, host) {
    this.breaker = breaker;
    this.h = h;
    this.shared = h.shared;
    this.batch = h.batch;
    this.cfg = cfg;
    /** @type {{ now(): number } | undefined} the `clock` option */
    this.fakeClock = cfg.clock;
    this.clock = clock;
    this.sync = host.sync;
    this.onListenerError = host.onListenerError;
    /** transitions count last announced */
    this.seen = 0;
    this.enabled = cfg.enabled;
    this.shutdown = false;
    this.batched = 0;
    this.batchAt = 0;
    this.batchEnd = 0;
    /** opossum's form: its defaults and rules */
    this.opossum = Boolean(cfg.opossum);
    /** cache, coalescing or a finite capacity: calls go through cachedCalls.js or runHeld */
    this.special = false;
    this.capacity = Infinity;
    this.inUse = 0;
    /** a half-open trial call is in flight */
    this.probing = false;
    /** @type {CallQueue} in-flight timed (or capacity-holding) calls */
    this.calls = new CallQueue(cfg.timeout, this.opossum, () => this.time(), {
      settled: (call, value, ok) => (ok ? this.succeeded(call.ticket, call.start, value) : this.failed(call.ticket, call.start, value, call.args)),
      expired: (call) => this.timedOut(call),
      released: () => {
        this.inUse--;
      },
    });
    /** What cachedCalls.js may use of the breaker. */
    this.cacheHost = {
      bump: (counter, n) => this.h.bump(counter, n),
      emit: (name, ...args) => this.emit(name, ...args),
      run: (context, args) => this.run(context, args, true),
    };
  }

  /** Emits on the breaker without letting a listener's exception escape (events.js). */
  emit(name, ...args) {
    const b = this.breaker;
    if (b.listenerCount(name) === 0) return;
    emitGuarded(b, name, args, this.onListenerError);
  }

  /** Milliseconds from the breaker's clock (the fake one, else the shared one). */
  time() {
    return this.fakeClock === undefined ? readClock(this.clock) : this.fakeClock.now();
  }

  /** Records the queued fast-path successes (one native call). */
  flush() {
    if (this.batched === 0) return;
    const n = this.batched;
    this.batched = 0;
    this.h.flush(n, this.batchAt);
  }

  /** Closed (the common case): the fast path; otherwise the native side admits. */
  run(context, args, inner) {
    if (this.shutdown) return Promise.reject(ourError('ESHUTDOWN', 'The circuit has been shutdown.'));
    const b = this.breaker;
    if (!this.enabled) {
      this.emit('fire', args);
      if (this.opossum) this.h.bump(C_FIRES, 1); // opossum counts every fire
      try {
        return Promise.resolve(Reflect.apply(b.operation, context, args));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    // `inner`: the call past the cache and coalescing (cachedCalls.js calls back here).
    if (this.special && inner !== true) {
      const o = b.options;
      if (o.cache || o.coalesce) return runCached(o, this.cacheHost, b, context, args);
      return this.run(context, args, true);
    }
    if (this.shared[S_STATE] !== 0) return this.runGuarded(context, args);
    if (b.listenerCount('fire') !== 0) this.emit('fire', args);
    if (inner === true && this.capacity !== Infinity) return this.runHeld(-1, this.time(), context, args);
    const start = this.time();
    let result;
    try {
      result = Reflect.apply(b.operation, context, args);
    } catch (err) {
      return this.promiseOf(() => this.failed(-1, start, err, args));
    }
    if (this.cfg.timeout !== 0) return this.calls.track(result, -1, start, args, false);
    return Promise.resolve(result).then(
      (value) => this.succeeded(-1, start, value),
      (err) => this.failed(-1, start, err, args)
    );
  }

  /** Open or half-open: the native side admits (a ticket), probes or rejects. */
  runGuarded(context, args) {
    this.flush();
    const ticket = this.h.acquire();
    if (this.shared[S_TRANSITIONS] !== this.seen) this.sync();
    this.emit('fire', args);
    if (ticket < 0) return this.rejected(args);
    if (ticket % 2048 !== 0) this.probing = true; // a half-open trial call
    if (this.capacity !== Infinity) return this.runHeld(ticket, this.time(), context, args);
    let result;
    try {
      result = Reflect.apply(this.breaker.operation, context, args);
    } catch (err) {
      return this.promiseOf(() => this.failed(ticket, 0, err, args));
    }
    if (this.cfg.timeout !== 0) return this.calls.track(result, ticket, this.time(), args, false);
    return Promise.resolve(result).then(
      (value) => this.succeeded(ticket, 0, value),
      (err) => this.failed(ticket, 0, err, args)
    );
  }

  /**
   * A call under a finite `capacity`: refused (ESEMLOCKED, counted as a failure, as in
   * opossum) when every unit is in use; otherwise it holds a unit until it settles or
   * times out.
   */
  runHeld(ticket, start, context, args) {
    if (this.inUse >= this.capacity) {
      const err = ourError('ESEMLOCKED', 'Semaphore locked');
      this.h.bump(C_SEMAPHORE, 1);
      this.emit('semaphoreLocked', err, 0);
      return this.promiseOf(() => this.failed(ticket, start, err, args));
    }
    this.inUse++;
    let result;
    try {
      result = Reflect.apply(this.breaker.operation, context, args);
    } catch (err) {
      this.inUse--;
      return this.promiseOf(() => this.failed(ticket, start, err, args));
    }
    return this.calls.track(result, ticket, start, args, true);
  }

  /** A promise of `fn()`'s value, rejected with what it throws. */
  promiseOf(fn) {
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
  succeeded(ticket, start, value) {
    let latency;
    if (ticket < 0) {
      const now = this.time();
      latency = now - start;
      if (this.shared[S_STATE] === 0) {
        if (this.batched !== 0 && (now >= this.batchEnd || this.batched === BATCH)) this.flush();
        if (this.batched === 0) {
          this.batchAt = now;
          this.batchEnd = (Math.floor(now / this.cfg.bucketMs) + 1) * this.cfg.bucketMs;
        }
        this.batch[this.batched++] = latency;
      } else {
        this.flush();
        this.h.succeeded(latency); // admitted while closed, settled after a change: counted only
      }
    } else {
      latency = this.h.success(ticket);
    }
    if (this.breaker.listenerCount('success') !== 0) this.emit('success', value, latency);
    if (this.shared[S_TRANSITIONS] !== this.seen) this.sync();
    return value;
  }

  /** Records a failure; returns the fallback's result or throws the error. */
  failed(ticket, start, err, args) {
    let filtered = false;
    if (this.cfg.errorFilter !== undefined) {
      try {
        filtered = Boolean(Reflect.apply(this.cfg.errorFilter, undefined, [err, ...args]));
      } catch {
        filtered = false; // a broken filter counts the error, it does not hide it
      }
    }
    if (filtered) {
      this.succeeded(ticket, start, err);
      throw err;
    }
    this.flush();
    let latency;
    if (ticket < 0) {
      latency = this.time() - start;
      this.h.failed(latency);
    } else {
      latency = this.h.failure(ticket);
    }
    this.emit('failure', err, latency, args);
    if (this.shared[S_TRANSITIONS] !== this.seen) this.sync();
    return this.fallbackOrThrow(err, args);
  }

  fallbackOrThrow(err, args) {
    const fb = this.cfg.fallback;
    if (fb === undefined) throw err;
    this.h.fallback();
    const result = Reflect.apply(fb, fb, [...args, err]);
    this.emit('fallback', result, err);
    return result;
  }

  rejected(args) {
    const err = ourError('EOPENBREAKER', 'Breaker is open');
    // When the breaker lets a probe through: the error middleware's Retry-After.
    if (this.shared[S_STATE] === ST_OPEN) err.retryAfterMs = Math.max(0, this.shared[S_OPENED_AT] + this.cfg.resetTimeout - this.h.now());
    this.emit('reject', err);
    return this.promiseOf(() => this.fallbackOrThrow(err, args));
  }

  /** A call reached its deadline: records the timeout; the fallback's result or throws. */
  timedOut(call) {
    const err = ourError('ETIMEDOUT', `Timed out after ${this.cfg.timeout}ms`);
    this.flush();
    let latency;
    if (call.ticket < 0) {
      latency = this.time() - call.start;
      this.h.timedOut(latency);
    } else {
      latency = this.h.timeout(call.ticket);
    }
    this.emit('timeout', err, latency, call.args);
    this.emit('failure', err, latency, call.args);
    if (this.shared[S_TRANSITIONS] !== this.seen) this.sync();
    const o = this.breaker.options;
    if (this.opossum && o.abortController) o.abortController.abort();
    return this.fallbackOrThrow(err, call.args);
  }
}

module.exports = { CallPath };
