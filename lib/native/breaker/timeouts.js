'use strict';

// In-flight calls of one breaker and their timeout. Every call of a breaker has the same
// timeout, so deadlines come in admission order: the calls wait in one doubly linked
// list (oldest first) watched by one timer armed for the oldest deadline. A call that
// settles unlinks itself at once, so the list holds exactly the calls in flight. No
// timer and no closure is created per call, and the record of a call that settled by
// its own result is reused by a later call (a timed-out call's record is not: its
// action may still settle and would reach the record).

/** Records kept for reuse at most (per breaker); more calls in flight allocate. */
const POOL_MAX = 1024;

/** `new Promise(capture)` hands its resolvers over here: no closure per call. */
const captured = { resolve: null, reject: null };
function capture(resolve, reject) {
  captured.resolve = resolve;
  captured.reject = reject;
}

/**
 * What the breaker does with a settled or expired call.
 * @typedef {object} CallSink
 * @property {(call: PendingCall, value: unknown, ok: boolean) => unknown} settled
 *   records the result; returns the value to resolve with, or throws the rejection
 * @property {(call: PendingCall) => unknown} expired
 *   records the timeout; returns the value to resolve with, or throws the rejection
 * @property {(call: PendingCall) => void} released
 *   the call no longer holds its capacity unit
 */

/** One in-flight call: settled once, by its result or by the timer. */
class PendingCall {
  /** @param {CallQueue} queue */
  constructor(queue) {
    this.ticket = -1; // -1 for a call admitted on the closed fast path
    this.start = 0;
    this.deadline = 0;
    /** @type {unknown[] | undefined} */
    this.args = undefined;
    this.resolve = null;
    this.reject = null;
    this.done = false;
    this.timedOut = false;
    this.held = false; // holds a unit of `capacity`
    this.linked = false; // waits in the deadline list
    /** @type {PendingCall | null} */
    this.prev = null;
    /** @type {PendingCall | null} */
    this.next = null;
    // Made once per record, reused with it: the action's promise calls back through these.
    this.onValue = (value) => queue.settle(this, value, true);
    this.onError = (err) => queue.settle(this, err, false);
  }
}

class CallQueue {
  /**
   * @param {number} timeoutMs 0: no timeout (calls are tracked for capacity only)
   * @param {boolean} keepAlive a call in flight keeps the process alive (opossum's form)
   * @param {() => number} now the breaker's clock, in ms
   * @param {CallSink} sink
   */
  constructor(timeoutMs, keepAlive, now, sink) {
    this.timeoutMs = timeoutMs;
    this.keepAlive = keepAlive;
    this.now = now;
    this.sink = sink;
    /** @type {PendingCall | null} */
    this.head = null;
    /** @type {PendingCall | null} */
    this.tail = null;
    this.linkedCount = 0;
    /** @type {PendingCall[]} */
    this.pool = [];
    this.timer = null;
  }

  /**
   * Follows `result` (the action's value or promise) and returns the promise the caller
   * gets: settled by the result, or rejected (or served by the fallback) at the deadline.
   * @param {unknown} result
   * @param {number} ticket
   * @param {number} start breaker-clock ms of admission
   * @param {unknown[]} args
   * @param {boolean} held the call holds a capacity unit
   */
  track(result, ticket, start, args, held) {
    const promise = new Promise(capture);
    const call = this.pool.length !== 0 ? this.pool.pop() : new PendingCall(this);
    call.resolve = captured.resolve;
    call.reject = captured.reject;
    captured.resolve = captured.reject = null;
    call.ticket = ticket;
    call.start = start;
    call.args = args;
    call.done = false;
    call.timedOut = false;
    call.held = held;
    if (this.timeoutMs !== 0) {
      call.deadline = start + this.timeoutMs;
      this.#link(call);
      if (this.timer === null) this.#arm(this.timeoutMs);
      else if (this.linkedCount === 1 && this.keepAlive) this.timer.ref();
    }
    if (result instanceof Promise) result.then(call.onValue, call.onError);
    else Promise.resolve(result).then(call.onValue, call.onError);
    return promise;
  }

  /** The action settled: ignored after the timeout, else recorded by the sink. */
  settle(call, value, ok) {
    if (call.done) return;
    const { resolve, reject } = call;
    this.#finish(call);
    try {
      resolve(this.sink.settled(call, value, ok));
    } catch (err) {
      reject(err);
    }
    this.#recycle(call);
  }

  #finish(call) {
    call.done = true;
    if (call.held) this.sink.released(call);
    if (!call.linked) return;
    this.#unlink(call);
    // Nothing in flight: the timer (still armed for a settled call) must not hold the process.
    if (this.linkedCount === 0 && this.keepAlive && this.timer !== null) this.timer.unref();
  }

  #recycle(call) {
    call.args = undefined;
    call.resolve = call.reject = null;
    if (this.pool.length < POOL_MAX) this.pool.push(call);
  }

  #link(call) {
    call.linked = true;
    call.prev = this.tail;
    call.next = null;
    if (this.tail === null) this.head = call;
    else this.tail.next = call;
    this.tail = call;
    this.linkedCount++;
  }

  #unlink(call) {
    call.linked = false;
    if (call.prev === null) this.head = call.next;
    else call.prev.next = call.next;
    if (call.next === null) this.tail = call.prev;
    else call.next.prev = call.prev;
    call.prev = call.next = null;
    this.linkedCount--;
  }

  #arm(ms) {
    this.timer = setTimeout(() => this.#onTimer(), ms);
    // opossum's form: a call in flight keeps the process alive until it settles or times
    // out (at most `timeout` ms), as opossum does (track and #finish ref and unref it as
    // calls come and go); the qerrors form never holds it.
    if (!this.keepAlive || this.linkedCount === 0) this.timer.unref();
  }

  /** Expires every call whose deadline passed, then re-arms for the oldest one left. */
  #onTimer() {
    this.timer = null;
    const now = this.now();
    while (this.head !== null && this.head.deadline <= now) {
      const call = this.head;
      const { resolve, reject } = call;
      call.timedOut = true;
      this.#finish(call);
      try {
        resolve(this.sink.expired(call));
      } catch (err) {
        reject(err);
      }
      call.args = undefined;
      call.resolve = call.reject = null;
    }
    if (this.head !== null && this.timer === null) this.#arm(Math.max(1, this.head.deadline - now));
  }
}

module.exports = { CallQueue };
