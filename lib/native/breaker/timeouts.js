'use strict';

// The records of in-flight timed calls and the FIFO they wait in for their deadline.

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
    this.queued = false; // waits in the timeout queue
    this.held = false; // holds a unit of `capacity`
  }
}

module.exports = { CallQueue, PendingCall, captured, capture };
