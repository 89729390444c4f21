'use strict';

// The file transport of the main logger: it creates its real winston file transport (and
// with it the log directory) on the first entry, never before, and it keeps a bounded
// backlog while the file is behind.
//
// winston's File transport answers a full stream buffer by adding one `drain` listener
// per entry: under an error storm on a slow disk that is thousands of listeners (and a
// MaxListenersExceededWarning in the host's stderr), with every pending entry held in
// memory; while it rotates to a new file it does the same with `rotate` listeners. Here,
// while the inner transport reports backpressure or a rotation, entries wait in one
// bounded queue, flushed on the next drain (or, for a rotation, by a short poll);
// entries beyond the bound are dropped, counted, and reported once per episode.

const DEFAULT_MAX_BACKLOG = 10_000;
const ROTATE_POLL_MS = 5;

/**
 * @param {typeof import('winston').Transport} Transport winston's base transport class
 * @param {{ level?: string, format?: unknown, maxBacklog?: number }} options
 * @param {() => any} create builds the real transport (a winston File or DailyRotateFile)
 */
function lazyFileTransport(Transport, options, create) {
  const maxBacklog = options.maxBacklog || DEFAULT_MAX_BACKLOG;

  class LazyFile extends Transport {
    constructor() {
      // The format runs here (TransportStream applies it before log()); the inner
      // transport receives finished entries.
      super({ level: options.level, format: options.format });
      this.name = 'file';
      this.inner = null;
      this.failed = false;
      this.waiting = false;
      this.queue = [];
      this.head = 0;
      this.dropped = 0;
      this.droppedInEpisode = 0;
    }

    log(info, callback) {
      try {
        if (this.failed) {
          this.dropped++;
          callback();
          return;
        }
        if (!this.inner) {
          try {
            this.inner = create();
          } catch (err) {
            // The file cannot be opened (permissions, a full disk): report once and drop
            // entries from then on rather than retrying a failing open per entry.
            this.failed = true;
            throw err;
          }
          this.inner.on('error', (err) => this.emit('error', err));
        }
        if (!this.waiting && this.inner._rotate) this.waitForRotation();
        if (!this.waiting) {
          this.send(info);
        } else if (this.queue.length - this.head < maxBacklog) {
          this.queue.push(info);
        } else {
          this.dropped++;
          if (this.droppedInEpisode++ === 0) {
            console.error(`qerrors: the log file is falling behind; entries beyond ${maxBacklog} waiting are dropped`);
          }
        }
      } catch (err) {
        this.emit('error', err);
      }
      callback();
    }

    /** Hands one entry to the inner transport and notes whether it now waits for a drain. */
    send(info) {
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
        if (this.inner._rotate) {
          this.waitForRotation();
          break;
        }
        const info = this.queue[this.head];
        this.queue[this.head++] = undefined;
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

    close() {
      if (this.inner && typeof this.inner.close === 'function') this.inner.close();
    }
  }
  return new LazyFile();
}

module.exports = { lazyFileTransport, DEFAULT_MAX_BACKLOG };
