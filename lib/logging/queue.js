'use strict';

// Entries wait here for the end of the current turn of the event loop and are then
// written as a batch: the caller does not wait for their JSON (~3 µs for an error with
// its stack), and an error storm's entries go out together. Bounded: a caller that logs
// without ever yielding flushes every MAX_PENDING entries itself.

const os = require('node:os');
const { SANITIZED } = require('./entry');
const { writeConsole, writeOwn } = require('./outputs');
const { main, dispatch, intact } = require('./mainLogger');

const MAX_PENDING = 1024;
let pending = [];
let flushScheduled = false;

/**
 * Writes the queued entries to the outputs they were queued for: qerrors' own, even when
 * the application has changed the winston logger since.
 */
function flushPending() {
  flushScheduled = false;
  flushConsole();
  const batch = pending;
  pending = [];
  const mainLogger = main.logger;
  if (mainLogger === null) {
    writeOwn(batch);
    return;
  }
  for (const info of batch) {
    try {
      dispatch(mainLogger, info);
    } catch {
      // Logging never breaks the caller.
    }
  }
}

/**
 * A process that exits (process.exit(), or the end of its work) before the end of the turn
 * would lose the queued entries: they are written synchronously, to qerrors' own files, by
 * an 'exit' listener (added with the first entry; it keeps nothing alive).
 */
function flushOnExit() {
  flushConsole();
  if (pending.length === 0 || (main.logger !== null && !intact(main.logger))) return;
  const batch = pending;
  pending = [];
  try {
    writeOwn(batch, true);
  } catch {
    // Exiting: nothing more can be done.
  }
}

let exitHooked = false;

// The console lines of entries the log thread writes to the files (logThread.js): written
// with the queued entries, before them, so the console keeps the order of the calls.
let consolePending = [];

function flushConsole() {
  if (consolePending.length === 0) return;
  const lines = consolePending;
  consolePending = [];
  try {
    writeConsole(lines.join(os.EOL));
  } catch {
    // Logging never breaks the caller.
  }
}

/** Schedules the end-of-turn flush and the 'exit' flush. */
function scheduleFlush() {
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushOnExit);
  }
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushPending);
  }
}

/** Queues an entry, or writes it at once to a logger the application changed (as winston would). */
function submit(info) {
  const mainLogger = main.logger;
  if (mainLogger !== null && !intact(mainLogger)) {
    if (pending.length > 0) flushPending();
    Object.defineProperty(info, SANITIZED, { value: true });
    mainLogger.log(info);
    return;
  }
  pending.push(info);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushOnExit);
  }
  if (pending.length >= MAX_PENDING) flushPending();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushPending);
  }
}

/** Writes the queued entries now if there are any (the log thread's entries must not pass them). */
function flushPendingFirst() {
  if (pending.length > 0) flushPending();
}

/** Queues the console line of an entry the log thread writes to the files. */
function queueConsoleLine(line) {
  consolePending.push(line);
  if (consolePending.length >= MAX_PENDING) flushConsole();
  else scheduleFlush();
}

module.exports = { submit, flushPendingFirst, queueConsoleLine, pendingCount: () => pending.length };
