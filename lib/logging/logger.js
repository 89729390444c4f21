'use strict';

// Structured logging.
//
// Nothing here touches winston, the disk or a timer at require time. qerrors writes its
// own entries to its files and console itself (lib/logging/fileSink.js, lib/logging/line.js);
// winston loads only when the application asks for a winston logger (`await logger`,
// `simpleLogger`), which then writes to the same files. The log directory and files are
// created by the first entry actually written to them. Entries are JSON lines; secrets
// are redacted before any output sees them.

// One module per idea: entry.js (levels and entry shapes), outputs.js (files, console,
// JSON stdout), mainLogger.js (the winston main logger and the namespace's Promise),
// queue.js (the end-of-turn batch), logThread.js (handled errors to the log thread),
// handledEntry.js (a handled error's entry from qerrors()' record),
// winston.js (formats, the simple logger), perfTimer.js; this module holds the public
// log functions and assembles the namespace.

const sanitization = require('../policy/redaction');
const { snapshot, sortedEntry } = require('./line');
const { LOG_LEVELS, CANONICAL, FILES_ONLY, ownEntry, createEnhancedLogEntry } = require('./entry');
const { getOutputs, currentOutputs } = require('./outputs');
const { main, loggerPromise, getMainLogger, resetMainLogger } = require('./mainLogger');
const { submit, pendingCount } = require('./queue');
const { toLogThread, toConsoleOnly } = require('./logThread');
const { logFields, entryMessage } = require('./handledEntry');
const { createSimpleWinstonLogger, getSimpleLogger } = require('./winston');
const { formatMs, performanceTimers } = require('./perfTimer');

const { sanitizeContext, sanitizeWithCustomPatterns, _applyCustomPatterns: applyCustomPatterns } = sanitization;

/**
 * Writes one entry: redacts it now and queues it for its outputs. Never throws or rejects.
 * @returns {Promise<void>}
 */
async function write(level, message, context, requestId) {
  try {
    const known = LOG_LEVELS[level];
    const hasContext = context !== null && typeof context === 'object' && Object.keys(context).length > 0;
    submit(
      ownEntry(known, sanitizeWithCustomPatterns(message, known.name), hasContext ? sanitizeContext(context, known.name) : null, requestId || null)
    );
  } catch {
    // Logging never breaks the caller.
  }
}

/**
 * Logs qerrors' record of a handled error (already redacted but for the custom patterns): at
 * `warn` for a client error (4xx), at `error` otherwise. The entry's fields are the record's
 * (lib/logging/handledEntry.js), read now: the caller gets the record back and may change
 * its context before a line written later is, so the JavaScript path copies the context here
 * (`snapshot`); the log thread takes its JSON at once. Never throws.
 * @param {Record<string, any>} record
 * @param {{ method?: string, url?: string, requestId?: string }} http the request's fields
 */
function logHandledError(record, http) {
  try {
    const status = record.statusCode;
    const known = Number.isInteger(status) && status >= 400 && status < 500 ? LOG_LEVELS.WARN : LOG_LEVELS.ERROR;
    if (main.logger === null && (toLogThread(known, record, http) || toConsoleOnly(known, record, http))) return;
    const fields = logFields(record, http);
    // Sorted keys, only JSON values throughout: the file line then needs no check
    // (lib/logging/line.js); index keys keep the context as it is, written the slow way.
    const ctx = fields.context;
    const copy = ctx !== null && typeof ctx === 'object' ? snapshot(ctx) : ctx;
    if (copy !== null) fields.context = copy;
    const info = sortedEntry(ownEntry(known, applyCustomPatterns(entryMessage(record)), null, null, record.timestamp), fields);
    if (copy !== null) info[CANONICAL] = true;
    submit(info);
  } catch {
    // Logging never breaks the caller.
  }
}

/**
 * A circuit breaker's state change or timeout, through the logger (`breaker` and `event` fields).
 * With QERRORS_LOG_FORMAT=json the entry is the only output (a JSON line on stdout) and this
 * returns true; otherwise the breaker prints its own console line and the entry
 * goes to the files only, and this returns false. Never throws.
 * @param {'log' | 'warn'} level
 * @param {string} breaker its name
 * @param {string} text
 */
function logBreakerEvent(level, breaker, text) {
  try {
    const known = level === 'warn' ? LOG_LEVELS.WARN : LOG_LEVELS.INFO;
    const message = sanitizeWithCustomPatterns(`[CircuitBreaker] ${breaker}: ${text}`, known.name);
    const info = ownEntry(known, message, sanitizeContext({ breaker, event: text }, known.name), null);
    const json = getOutputs().json;
    if (!json) info[FILES_ONLY] = true;
    submit(info);
    return json;
  } catch {
    return false;
  }
}

// `.length` 0 as measured on the original: (message, context = {}, requestId = null).
const logDebug = async (...args) => write('DEBUG', args[0], args[1], args[2]);
const logInfo = async (...args) => write('INFO', args[0], args[1], args[2]);
const logWarn = async (...args) => write('WARN', args[0], args[1], args[2]);
const logError = async (...args) => write('ERROR', args[0], args[1], args[2]);
const logFatal = async (...args) => write('FATAL', args[0], args[1], args[2]);
const logAudit = async (...args) => write('AUDIT', args[0], args[1], args[2]);

function stringify(data) {
  try {
    return JSON.stringify(data);
  } catch {
    return '[Unserializable]';
  }
}

/** Info line `<name> start <json>`. */
const logStart = async (...args) => write('INFO', `${args[0]} start ${stringify(args[1])}`);
/** Info line `<name> return <json>`. */
const logReturn = async (...args) => write('INFO', `${args[0]} return ${stringify(args[1])}`);


const createPerformanceTimer = performanceTimers(logInfo, logWarn);

// The namespace is the Promise itself with 15 own keys. `simpleLogger` is
// an accessor so that winston loads only when it is used.
const members = {
  logStart,
  logReturn,
  logDebug,
  logInfo,
  logWarn,
  logError,
  logFatal,
  logAudit,
  createPerformanceTimer,
  sanitizeMessage: sanitization.sanitizeMessage,
  sanitizeContext,
  createEnhancedLogEntry,
  LOG_LEVELS,
};
for (const [k, v] of Object.entries(members)) {
  Object.defineProperty(loggerPromise, k, { value: v, enumerable: true, writable: true, configurable: true });
}
Object.defineProperty(loggerPromise, 'simpleLogger', { get: getSimpleLogger, enumerable: true, configurable: true });
Object.defineProperty(loggerPromise, 'createSimpleWinstonLogger', {
  value: createSimpleWinstonLogger,
  enumerable: true,
  writable: true,
  configurable: true,
});
// The timers' duration format, shared with utils.createTimer (not a member of the namespace).
Object.defineProperty(loggerPromise, '_formatDuration', { value: formatMs });

Object.defineProperties(loggerPromise, {
  // For qerrors(): logs a record whose fields are already redacted.
  // Writable: a test replaces it to see what is logged.
  _logHandledError: { value: logHandledError, writable: true },
  _logBreakerEvent: { value: logBreakerEvent },
  _getMainLogger: { value: getMainLogger },
  _pendingCount: { value: pendingCount },
  // Waits until the log thread has written what it accepted (benchmarks count that work).
  _flushLogThread: {
    value: () => {
      const outputs = currentOutputs();
      return outputs && outputs.native && outputs.native.flush();
    },
  },
  // The log thread's counters ({ accepted, written, dropped, failed }), or null without it.
  _logThreadStats: {
    value: () => {
      const outputs = currentOutputs();
      return outputs && outputs.native ? outputs.native.stats() : null;
    },
  },
  _resetMainLogger: { value: resetMainLogger },
});

module.exports = loggerPromise;
