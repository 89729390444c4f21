'use strict';

// The size-rotating log file behind the main logger's file transports (when
// QERRORS_LOG_MAX_DAYS is 0). It replaces winston's File transport there: in an error
// storm winston's File buffered every pending entry in its own PassThrough stream, which
// doubled the handler's RSS and cost ~40% of its time (benchmark/RESULTS.md, AI storm).
//
// It keeps winston File's contract towards lib/logging/fileSink.js: `log(info, cb)`
// writes `info[MESSAGE]`, calls `cb` at once, or sets `_drain` and calls `cb` once there
// is room again. Files are "tailable" like winston's: the newest entries are always in
// `<name>.log`, older ones in `<name>1.log` … `<name>(maxFiles-1).log`.
//
// Room is counted over every stream, not just the live one: a rotation ends the old
// stream, which keeps its unwritten bytes until the event loop lets it write them. A
// caller that never yields (a batch job awaiting `qerrors()` per record) used to fill a
// fresh stream up to `maxsize` after each rotation, below the stream's own threshold, so
// backpressure never engaged and the ended streams piled up hundreds of MB.

/** Ended streams still writing, at most, before the file reports backpressure. */
const MAX_RETIRING = 4;

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventEmitter } = require('node:events');

// winston's info symbol for the formatted line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');
// The entry's line as UTF-8 bytes, cached on the entry by the first file that writes it.
const ENCODED = Symbol('qerrors.encodedLine');

class RotatingFile extends EventEmitter {
  /**
   * Opens (creating the directory) `dirname/filename` for appending.
   * @param {{ dirname: string, filename: string, maxsize: number, maxFiles: number,
   *   eol?: string, highWaterMark?: number }} options
   */
  constructor(options) {
    super();
    this.dirname = options.dirname;
    this.filename = options.filename;
    this.maxsize = options.maxsize;
    this.maxFiles = Math.max(1, options.maxFiles);
    this.eol = options.eol || os.EOL;
    // A log file takes bursts: a 1 MiB buffer lets one writev per event-loop turn carry a
    // whole burst, where the stream default (16 KiB) made entries wait for many turns.
    this.highWaterMark = options.highWaterMark || 1024 * 1024;
    /** True while the stream's buffer is full (read by logFileTransport). */
    this._drain = false;
    this.size = 0;
    this.stream = null;
    /** @type {Set<fs.WriteStream>} rotated-out streams still writing their last bytes */
    this.retiring = new Set();
    this.broken = false;
    this.open();
  }

  /** Bytes handed to the streams (the live one and those rotated out) not yet written. */
  pendingBytes() {
    let n = this.stream ? this.stream.writableLength : 0;
    for (const s of this.retiring) n += s.writableLength;
    return n;
  }

  /** Whether the streams hold as much unwritten data as they may. */
  full() {
    return this.pendingBytes() >= this.highWaterMark || this.retiring.size > MAX_RETIRING;
  }

  /**
   * Sets `_drain` and calls `callback` once the streams have room: after the live stream's
   * drain, then after rotated-out streams close, oldest first.
   * @param {() => void} callback
   */
  waitForRoom(callback) {
    this._drain = true;
    const check = () => {
      if (this.stream.writableNeedDrain && !this.stream.destroyed) {
        this.stream.once('drain', check);
        return;
      }
      const oldest = this.retiring.values().next().value;
      if (oldest !== undefined && this.full()) {
        oldest.once('close', check);
        return;
      }
      this._drain = false;
      callback();
    };
    check();
  }

  /** @param {number} i 0 for the live file, i >= 1 for the rotated ones */
  fileName(i) {
    if (i === 0) return path.join(this.dirname, this.filename);
    const ext = path.extname(this.filename);
    return path.join(this.dirname, `${path.basename(this.filename, ext)}${i}${ext}`);
  }

  open() {
    fs.mkdirSync(this.dirname, { recursive: true });
    const file = this.fileName(0);
    try {
      this.size = fs.statSync(file).size;
    } catch {
      this.size = 0;
    }
    // Opened synchronously: a rotation renames the file this stream writes to, so the
    // descriptor must exist before any rename (an asynchronous open could happen after it
    // and append to the new live file).
    const fd = fs.openSync(file, 'a');
    this.fd = fd;
    this.stream = fs.createWriteStream(file, { fd, highWaterMark: this.highWaterMark });
    this.stream.on('error', (err) => this.emit('error', err));
  }

  /**
   * Appends one formatted entry, or several lines of entries (`info[MESSAGE]` holds them
   * joined by the end of line).
   * @param {Record<string | symbol, unknown>} info
   * @param {() => void} callback
   */
  log(info, callback) {
    if (this.broken) {
      callback();
      return;
    }
    // Both log files may get the same entry object: the line is encoded once for both.
    let encoded = info[ENCODED];
    if (encoded === undefined || encoded.eol !== this.eol) {
      encoded = { eol: this.eol, bytes: Buffer.from(`${info[MESSAGE]}${this.eol}`) };
      info[ENCODED] = encoded;
    }
    let bytes = encoded.bytes;
    // Lines that would take the file past `maxsize` go to the next file; several lines
    // are split between lines (a single longer line gets a file of its own).
    while (this.maxsize > 0 && this.size + bytes.length > this.maxsize) {
      const room = this.maxsize - this.size;
      // Up to the last end of line that fits (a negative offset would count from the end).
      let cut = room > 0 ? bytes.lastIndexOf(10, room - 1) + 1 : 0;
      // An empty file takes at least one line, however long.
      if (cut === 0 && this.size === 0) cut = bytes.indexOf(10) + 1 || bytes.length;
      if (cut >= bytes.length) break;
      if (cut > 0) {
        this.stream.write(bytes.subarray(0, cut));
        this.size += cut;
        bytes = bytes.subarray(cut);
      }
      this.rotate();
      if (this.broken) {
        callback();
        return;
      }
    }
    this.size += bytes.length;
    if (this.stream.write(bytes) && !this.full()) {
      callback();
      return;
    }
    this.waitForRoom(callback);
  }

  /**
   * Appends entries synchronously, for a process that is exiting (its event loop will not
   * run the stream's writes any more). Appends are atomic on the file, so a line never
   * interleaves with a write the stream still has in flight. No rotation: the file may end
   * up past `maxsize` by what is written here.
   * @param {Record<string | symbol, unknown>} info
   */
  writeNow(info) {
    if (this.broken || this.stream.destroyed) return;
    const bytes = Buffer.from(`${info[MESSAGE]}${this.eol}`);
    fs.writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  /**
   * Moves the live file to `<name>1.log` (shifting older ones, dropping the oldest) and
   * opens a new live file. The renames are a few metadata operations once per `maxsize`
   * bytes; the old stream keeps its descriptor and finishes its pending writes into the
   * renamed file, so nothing waits and nothing is lost.
   */
  rotate() {
    const old = this.stream;
    old.end();
    this.retiring.add(old);
    old.once('close', () => this.retiring.delete(old));
    try {
      if (this.maxFiles === 1) {
        fs.rmSync(this.fileName(0), { force: true });
      } else {
        for (let i = this.maxFiles - 1; i >= 1; i--) {
          if (fs.existsSync(this.fileName(i - 1))) fs.renameSync(this.fileName(i - 1), this.fileName(i));
        }
      }
      this.open();
    } catch (err) {
      // Without a live file there is nowhere to write: report once, drop from now on.
      this.broken = true;
      this.emit('error', err);
    }
  }

  close() {
    this.stream.end();
  }
}

module.exports = { RotatingFile };
