'use strict';

// The log files written by a native thread (src/core/error_log): the event loop hands each
// entry over with one call that only queues it; formatting a handled error's JSON line,
// writing the files (buffered: one write per 64 KiB) and rotating them run on that thread.
// The queue is bounded (QERRORS_LOG_QUEUE): an entry that finds it full is dropped, counted,
// and the first drop is reported. What was accepted is on disk after `flush()`, which runs
// on 'exit' (process.exit() included) and when the logger is reset.
//
// Used when QERRORS_LOG_THREAD is on (the default) and the files rotate by size; daily
// rotation keeps the JavaScript writer (winston-daily-rotate-file).

const { readSetting } = require('../policy/config');

// winston's info symbol for the formatted line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');

/** The file indexes of `ErrorLog.writeLines` (src/binding/error_path.rs). */
const ERROR_FILE = 0;
const COMBINED_FILE = 1;

let dropReported = false;
/** Reports the first entry the full queue dropped; later drops are only counted (`stats()`). */
function reportDrop() {
  if (dropReported) return;
  dropReported = true;
  console.error(`qerrors: the log queue is full; entries beyond ${readSetting('QERRORS_LOG_QUEUE')} waiting are dropped (counted in the log stats)`);
}

/**
 * A log thread for the two files, or null when the thread is off or cannot start (then the
 * files are written from JavaScript).
 * @param {{ dir: string, maxSize: number, maxFiles: number, maxDays: number, service: string,
 *   version: string, environment: string | undefined, hostname: string }} o
 * @returns {NativeLog | null}
 */
function openNativeLog(o) {
  if (!readSetting('QERRORS_LOG_THREAD') || o.maxDays > 0) return null;
  if (o.environment !== undefined && typeof o.environment !== 'string') return null;
  try {
    const native = require('../native/loader');
    const log = new native.ErrorLog({
      dir: o.dir,
      errorFile: 'error.log',
      combinedFile: 'combined.log',
      maxSize: o.maxSize,
      maxFiles: o.maxFiles,
      queue: readSetting('QERRORS_LOG_QUEUE'),
      environment: o.environment,
      hostname: o.hostname,
      pid: process.pid,
      service: o.service,
      version: o.version,
    });
    return new NativeLog(log);
  } catch (err) {
    console.warn(`qerrors: the native log thread is unavailable, writing logs from JavaScript: ${err && err.message}`);
    return null;
  }
}

class NativeLog {
  constructor(log) {
    this.log = log;
    /**
     * Queues a handled error's entry (the arguments of `ErrorEntryWriter.writeError` in
     * binding.header.d.ts); false when the queue was full or the log closed. A raw native
     * method, called directly by lib/logging/logThread.js: a forwarding call would copy its 18
     * arguments.
     */
    this.writeError = log.entryWriter().writeError;
    this.closed = false;
    this.onExit = () => this.flush();
    process.once('exit', this.onExit);
  }

  /** Reports the first entry the full queue dropped (called when `writeError` returns false). */
  dropped() {
    reportDrop();
  }

  /**
   * The writer behind one FileSink (lib/logging/fileSink.js): the contract of
   * lib/logging/rotatingFile.js, with lines queued for the thread instead of written.
   * @param {number} file ERROR_FILE or COMBINED_FILE
   */
  fileWriter(file) {
    const self = this;
    return {
      _drain: false,
      _rotate: false,
      on() {},
      log(info, callback) {
        if (!self.log.writeLines(file, info[MESSAGE])) reportDrop();
        callback();
      },
      writeNow(info) {
        if (!self.log.writeLines(file, info[MESSAGE])) reportDrop();
        self.flush();
      },
      close() {},
    };
  }

  /** Waits until every accepted entry is in its file. Never throws. */
  flush() {
    if (this.closed) return;
    try {
      this.log.flush();
    } catch {
      // Exiting or closing: nothing more can be done.
    }
  }

  /** Writes what was accepted and stops the thread. */
  close() {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
    try {
      this.log.close();
    } catch {
      // already closed
    }
  }

  /** `{ accepted, written, dropped, failed }`: entries queued and dropped, lines written and lost to a failed file. */
  stats() {
    return this.log.stats();
  }
}

module.exports = { openNativeLog, ERROR_FILE, COMBINED_FILE };
