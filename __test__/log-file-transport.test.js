'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');
const { Transport } = require('winston');

const { FileSink, fileTransport } = require('../lib/logging/fileSink');

/** An inner transport with winston File's backpressure contract: `_drain` is set when a
 * write fills the buffer, and that write's callback runs on the drain. */
class SlowFile extends EventEmitter {
  constructor(capacity) {
    super();
    this.capacity = capacity;
    this.buffered = 0;
    this.written = [];
    this._drain = false;
    this.pendingDrain = null;
  }
  log(info, cb) {
    assert.equal(this._drain, false, 'never written to while it waits for a drain');
    this.written.push(info.n);
    if (++this.buffered >= this.capacity) {
      this._drain = true;
      this.pendingDrain = cb;
    } else {
      cb();
    }
  }
  drain() {
    this.buffered = 0;
    this._drain = false;
    const cb = this.pendingDrain;
    this.pendingDrain = null;
    cb();
  }
}

function capture(fn) {
  const lines = [];
  const orig = console.error;
  console.error = (...a) => lines.push(a.join(' '));
  try {
    fn();
  } finally {
    console.error = orig;
  }
  return lines;
}

test('creates the real transport on the first entry only', () => {
  let created = 0;
  const t = new FileSink(() => {
    created++;
    return new SlowFile(100);
  });
  assert.equal(created, 0);
  t.write({ n: 1 });
  t.write({ n: 2 });
  assert.equal(created, 1);
  assert.deepEqual(t.inner.written, [1, 2]);
});

test('a full file buffer queues entries in order and flushes them on drain', () => {
  const inner = new SlowFile(3);
  const t = new FileSink(() => inner);
  for (let n = 1; n <= 10; n++) t.write({ n });
  assert.deepEqual(inner.written, [1, 2, 3], 'writes stop at backpressure');
  assert.equal(inner.listenerCount('drain'), 0, 'no listener per entry');
  inner.drain();
  assert.deepEqual(inner.written, [1, 2, 3, 4, 5, 6]);
  inner.drain();
  inner.drain();
  assert.deepEqual(inner.written, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(t.waiting, false);
  t.write({ n: 11 });
  assert.equal(inner.written.at(-1), 11, 'writes go straight through again');
});

test('the backlog is bounded: the excess is dropped, counted and reported once', () => {
  const inner = new SlowFile(1);
  const t = new FileSink(() => inner, { maxBacklog: 5 });
  const reported = capture(() => {
    for (let n = 1; n <= 20; n++) t.write({ n });
  });
  assert.deepEqual(inner.written, [1]);
  assert.equal(t.queue.length - t.head, 5);
  assert.equal(t.dropped, 14);
  assert.equal(reported.length, 1);
  assert.match(reported[0], /falling behind/);
  const recovered = capture(() => {
    for (let i = 0; i < 6; i++) inner.drain();
  });
  assert.deepEqual(inner.written, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(recovered, ['qerrors: the log file caught up; 14 entries were dropped']);
});

test('entries logged while the file rotates wait for the new file, in order', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const inner = new SlowFile(100);
  const t1 = new FileSink(() => inner);
  t1.write({ n: 1 });
  inner._rotate = true;
  inner.log = ((orig) =>
    function guarded(info, cb) {
      assert.equal(this._rotate, false, 'never written to while it rotates');
      return orig.call(this, info, cb);
    })(inner.log);
  for (let n = 2; n <= 4; n++) t1.write({ n });
  assert.deepEqual(inner.written, [1]);
  t.mock.timers.tick(5);
  assert.deepEqual(inner.written, [1], 'still rotating');
  inner._rotate = false;
  t.mock.timers.tick(5);
  assert.deepEqual(inner.written, [1, 2, 3, 4]);
  assert.equal(t1.waiting, false);
});

test('a file that cannot be opened is reported once, then entries are dropped without retrying', () => {
  let attempts = 0;
  const t = new FileSink(() => {
    attempts++;
    throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  });
  const errors = [];
  t.on('error', (e) => errors.push(e.code));
  for (let n = 1; n <= 5; n++) t.write({ n });
  assert.equal(attempts, 1);
  assert.deepEqual(errors, ['EACCES']);
  assert.equal(t.dropped, 4);
});

test('a failure with no listener is not thrown into the host', () => {
  const t = new FileSink(() => {
    throw new Error('EROFS');
  });
  t.write({ n: 1 });
  t.write({ n: 2 });
  assert.equal(t.failed, true);
  assert.equal(t.dropped, 1);
});

test('fileTransport: a winston transport over the sink, which winston and qerrors share', () => {
  const inner = new SlowFile(100);
  const sink = new FileSink(() => inner);
  const winstonSide = fileTransport(Transport, { level: 'error' }, sink);
  assert.equal(winstonSide.level, 'error');
  let called = 0;
  winstonSide.log({ n: 1 }, () => called++);
  sink.write({ n: 2 });
  assert.deepEqual(inner.written, [1, 2], 'one writer per file, entries in order');
  assert.equal(called, 1);
  const errors = [];
  winstonSide.on('error', (e) => errors.push(e.message));
  inner.emit('error', new Error('EIO'));
  assert.deepEqual(errors, ['EIO'], 'file errors reach the winston logger');
  let closed = 0;
  inner.close = () => closed++;
  winstonSide.close();
  assert.equal(closed, 1);
  inner.emit('error', new Error('after close'));
  assert.deepEqual(errors, ['EIO'], 'a closed transport no longer listens');
});

test('the backlog bound counts entries, also when one write carries several', () => {
  const inner = new SlowFile(1);
  const t = new FileSink(() => inner, { maxBacklog: 10 });
  const reported = capture(() => {
    t.write({ n: 1 }, 4);
    t.write({ n: 2 }, 6);
    t.write({ n: 3 }, 4);
    t.write({ n: 4 }, 5);
  });
  assert.deepEqual(inner.written, [1]);
  assert.equal(t.queuedEntries, 10, 'entries 2 and 3 wait (10 entries)');
  assert.equal(t.dropped, 5, 'the write of 5 that does not fit is dropped whole');
  assert.equal(reported.length, 1);
  capture(() => inner.drain());
  assert.deepEqual(inner.written, [1, 2]);
  assert.equal(t.queuedEntries, 4);
});

test('writeNow (process exit) writes what waited for a drain first, then the entry, synchronously', () => {
  const inner = new SlowFile(1);
  const now = [];
  inner.writeNow = (info) => now.push(info.n);
  const t = new FileSink(() => inner);
  capture(() => {
    for (let n = 1; n <= 4; n++) t.write({ n });
  });
  assert.deepEqual(inner.written, [1], 'the others wait for a drain');
  t.writeNow({ n: 5 }, 1);
  assert.deepEqual(now, [2, 3, 4, 5]);
  assert.equal(t.queuedEntries, 0);
  const fresh = new FileSink(() => {
    const f = new SlowFile(1);
    f.writeNow = (info) => now.push(`fresh ${info.n}`);
    return f;
  });
  fresh.writeNow({ n: 1 });
  assert.equal(now.at(-1), 'fresh 1', 'a file not opened yet is opened and written at once');
});
