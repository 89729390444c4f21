'use strict';

// The main logger's log files: `FileSink` creates its real file writer (and with it the
// log directory) on the first entry, never before, and keeps a bounded backlog while the
// file is behind. It needs no winston: qerrors writes its own entries straight to it, and
// `fileTransport` adapts it for the winston logger an application may ask for, so both
// paths share one writer per file.
//
// winston's File transport answers a full stream buffer by adding one `drain` listener
// per entry: under an error storm on a slow disk that is thousands of listeners (and a
// MaxListenersExceededWarning in the host's stderr), with every pending entry held in
// memory; while it rotates to a new file it does the same with `rotate` listeners. Here,
// while the inner writer reports backpressure or a rotation, entries wait in one
// bounded queue, flushed on the next drain (or, for a rotation, by a short poll);
// entries beyond the bound are dropped, counted, and reported once per episode.
//
// Backpressure needs the event loop: a file write completes only in a later turn. A
// caller that never yields (a batch job awaiting `qerrors()` per record) would hand a
// writer that does not report backpressure (winston-daily-rotate-file ignores it) any
// amount of data. So the sink also spends at most `maxTurnBytes` per turn of the event
// loop on the writer; past it, entries wait in the same bounded queue for the next turn.

const { EventEmitter } = require('node:events');

const DEFAULT_MAX_BACKLOG = 10_000;
const DEFAULT_MAX_TURN_BYTES = 8 * 1024 * 1024;
const ROTATE_POLL_MS = 5;
// winston's info symbol for the formatted line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');

/** Emits 'error' for a file that cannot be opened or written. */
class FileSink extends EventEmitter {
  /**
   * @param {() => any} create builds the real writer (lib/logging/rotatingFile.js or a
   *   DailyRotateFile): `log(info, cb)` writes `info[MESSAGE]`
   * @param {{ maxBacklog?: number, maxTurnBytes?: number }} [options]
   */
  constructor(create, options = {}) {
    super();
    this.create = create;
    this.maxBacklog = options.maxBacklog || DEFAULT_MAX_BACKLOG;
    this.maxTurnBytes = options.maxTurnBytes || DEFAULT_MAX_TURN_BYTES;
    // UTF-16 units of lines handed to the writer since the event loop last turned.
    this.sentThisTurn = 0;
    this.turnPending = false;
    this.waitingForTurn = false;
    this.onTurn = () => {
      this.turnPending = false;
      this.sentThisTurn = 0;
      if (this.waitingForTurn) {
        this.waitingForTurn = false;
        if (!this.inner._drain) this.flush();
      }
    };
    this.inner = null;
    // Set when the file cannot be opened or was closed: entries are dropped from then on.
    this.failed = false;
    this.waiting = false;
    this.queue = [];
    this.head = 0;
    this.queuedEntries = 0;
    this.dropped = 0;
    this.droppedInEpisode = 0;
  }

  /**
   * Writes formatted entries, or queues them while the file is behind. Never throws.
   * @param {Record<string | symbol, unknown>} info one entry, or several lines of entries
   * @param {number} [entries] how many entries `info` holds (the backlog bound counts entries)
   */
  write(info, entries = 1) {
    try {
      if (!this.ready(entries)) return;
      if (!this.waiting) this.checkRoom();
      if (!this.waiting) {
        this.send(info);
      } else if (this.queuedEntries + entries <= this.maxBacklog) {
        this.queue.push([info, entries]);
        this.queuedEntries += entries;
      } else {
        this.dropped += entries;
        if (this.droppedInEpisode === 0) {
          console.error(`qerrors: the log file is falling behind; entries beyond ${this.maxBacklog} waiting are dropped`);
        }
        this.droppedInEpisode += entries;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Writes entries synchronously when the process exits (see lib/logging/queue.js); a writer
   * without `writeNow` gets them as usual, which an exiting process may not finish.
   * Never throws.
   * @param {Record<string | symbol, unknown>} info
   * @param {number} [entries]
   */
  writeNow(info, entries = 1) {
    try {
      if (!this.ready(entries)) return;
      if (typeof this.inner.writeNow !== 'function') {
        this.write(info, entries);
        return;
      }
      // What waited for a drain goes first, in order.
      while (this.head < this.queue.length) {
        this.inner.writeNow(this.queue[this.head][0]);
        this.queue[this.head++] = undefined;
      }
      this.queue = [];
      this.head = 0;
      this.queuedEntries = 0;
      this.inner.writeNow(info);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Creates the real writer on first use. False, with the entries counted as dropped, once
   * the file has failed or was closed.
   * @param {number} entries
   */
  ready(entries) {
    if (this.failed) {
      this.dropped += entries;
      return false;
    }
    if (this.inner) return true;
    try {
      this.inner = this.create();
    } catch (err) {
      // The file cannot be opened (permissions, a full disk): report once and drop
      // entries from then on rather than retrying a failing open per entry.
      this.failed = true;
      throw err;
    }
    this.inner.on('error', (err) => this.fail(err));
    return true;
  }

  /** Reports a failure to the listeners; without any, an 'error' event would throw into the host. */
  fail(err) {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Starts waiting when the writer is rotating or this turn's budget is spent. */
  checkRoom() {
    if (this.inner._rotate) this.waitForRotation();
    else if (this.sentThisTurn >= this.maxTurnBytes) {
      this.waiting = true;
      this.waitingForTurn = true;
    }
  }

  /** Hands one entry to the inner transport and notes whether it now waits for a drain. */
  send(info) {
    const line = info[MESSAGE];
    this.sentThisTurn += typeof line === 'string' ? line.length : 0;
    if (!this.turnPending) {
      this.turnPending = true;
      setImmediate(this.onTurn);
    }
    // The callback runs at once for a written entry, or on the drain that follows a
    // full buffer: then the backlog goes out.
    this.inner.log(info, () => {
      if (this.waiting) this.flush();
    });
    if (this.inner._drain) this.waiting = true;
  }

  /**
   * Waits for a rotation without registering a listener on winston's stream. The poll
   * exists only while entries wait for the new file, like the file write it stands
   * for, so it is not unref'd: a process that exits right after logging keeps them.
   */
  waitForRotation() {
    this.waiting = true;
    setTimeout(() => {
      if (this.inner._rotate) this.waitForRotation();
      else if (!this.inner._drain) this.flush();
    }, ROTATE_POLL_MS);
  }

  flush() {
    this.waiting = false;
    while (this.head < this.queue.length && !this.waiting) {
      this.checkRoom();
      if (this.waiting) break;
      const [info, entries] = this.queue[this.head];
      this.queue[this.head++] = undefined;
      this.queuedEntries -= entries;
      this.send(info);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (this.droppedInEpisode > 0) {
        console.error(`qerrors: the log file caught up; ${this.droppedInEpisode} entries were dropped`);
        this.droppedInEpisode = 0;
      }
    }
  }

  /** Closes the file; entries written after this are dropped. */
  close() {
    this.failed = true;
    if (this.inner && typeof this.inner.close === 'function') this.inner.close();
  }
}

/**
 * A winston transport writing to `sink`. Its format runs before `log` (winston's
 * TransportStream applies it), so the sink receives finished entries.
 * @param {typeof import('winston').Transport} Transport winston's base transport class
 * @param {{ level?: string, format?: unknown }} options
 * @param {FileSink} sink
 */
function fileTransport(Transport, options, sink) {
  class FileTransport extends Transport {
    constructor() {
      super({ level: options.level, format: options.format });
      this.name = 'file';
      this.sink = sink;
      this.forward = (err) => this.emit('error', err);
      sink.on('error', this.forward);
    }

    log(info, callback) {
      sink.write(info);
      callback();
    }

    close() {
      sink.off('error', this.forward);
      sink.close();
    }
  }
  return new FileTransport();
}

module.exports = { FileSink, fileTransport, DEFAULT_MAX_BACKLOG, DEFAULT_MAX_TURN_BYTES };
