'use strict';

// A handled error's entry written at once: handed to the log thread (lib/logging/nativeSink.js),
// which writes the same line the JavaScript path would, when every field is one it writes
// byte for byte; or, when the console is the only output, turned into its console line.

const { _applyCustomPatterns: applyCustomPatterns, _hasCustomPatterns: hasCustomPatterns } = require('../policy/redaction');
const { consoleLine, snapshotJson } = require('./line');
const { entryContext, entryMessage } = require('./handledEntry');
const keptStack = require('../native/keptStack');
const { LOG_LEVELS, METHOD, memory, sampleMemory } = require('./entry');
const { NPM_LEVELS, getOutputs } = require('./outputs');
const { flushPendingFirst, queueConsoleLine } = require('./queue');

/** True for undefined or a string without lone surrogates (the log thread writes only those byte for byte). */
function wellFormed(s) {
  return s === undefined || (typeof s === 'string' && s.isWellFormed());
}

/** Queues the console line of a handled error's entry, made now from the record. */
function queueHandledConsoleLine(level, message, record, http, context) {
  const { requestId, method, url } = http;
  queueConsoleLine(consoleLine({ timestamp: record.timestamp, level, message, error: record, requestId, method, url, status: record.statusCode, context }));
}

/**
 * Hands a handled error's entry to the log thread, which writes the same line `fileLine`
 * would: true when it went there (or its level is below the logger's), false when it must
 * take the JavaScript path (no thread, console output, or a field the thread does not
 * write byte for byte). The entry's fields are read from the record and the request's
 * (lib/logging/handledEntry.js) without building the entry; its message is
 * `<name>: <message>` of the record, the custom patterns applied.
 * @param {{ name: string, priority: number }} known
 * @param {Record<string, any>} record
 * @param {{ method?: string, url?: string, requestId?: string }} http
 */
function toLogThread(known, record, http) {
  const out = getOutputs();
  if (out.native === null || out.json) return false;
  const status = record.statusCode;
  if (!Number.isInteger(status) || typeof record.isOperational !== 'boolean') return false;
  if (typeof record.id !== 'string' || typeof record.name !== 'string' || typeof record.severity !== 'string' || typeof record.uniqueErrorName !== 'string') return false;
  if (typeof record.message !== 'string' || !wellFormed(record.message) || !wellFormed(record.stack) || !wellFormed(record.name)) return false;
  // Without custom patterns the message is `<name>: <message>`, which the thread composes
  // from the two fields it is given anyway (`true`): no third copy crosses.
  const text = hasCustomPatterns() ? applyCustomPatterns(entryMessage(record)) : true;
  if (text !== true && !wellFormed(text)) return false;
  if (!wellFormed(record.severity) || !wellFormed(record.code) || !wellFormed(record.fingerprint) || !wellFormed(record.id) || !wellFormed(record.uniqueErrorName)) return false;
  const context = entryContext(record.context, http);
  if (!wellFormed(http.method) || !wellFormed(http.url) || !wellFormed(http.requestId)) return false;
  // Written now: nothing can change the context before, so it is not copied.
  const contextJson = snapshotJson(context);
  if (typeof contextJson !== 'string') return false;
  if (NPM_LEVELS[METHOD[known.name]] > NPM_LEVELS[out.level]) return true;
  sampleMemory();
  // Entries queued for the JavaScript path go first: the files keep the order of the calls.
  flushPendingFirst();
  const accepted = out.native.writeError(
    known === LOG_LEVELS.WARN,
    contextJson,
    record.code,
    record.fingerprint,
    record.id,
    record.isOperational,
    record.message,
    record.name,
    record.severity,
    // The intake kept this stack natively: the entry takes it from there, not copied again.
    keptStack.take(record.stack) || record.stack,
    status,
    record.uniqueErrorName,
    memory.json,
    text,
    http.method,
    http.requestId,
    record.timestamp,
    http.url
  );
  if (!accepted) out.native.dropped();
  if (out.console) {
    queueHandledConsoleLine(METHOD[known.name], text === true ? entryMessage(record) : text, record, http, context);
  }
  return true;
}

/**
 * With the console as the only output (no files, no JSON lines), a handled error's entry is
 * its console line, made now: the sorted copy of the entry and of its context that the
 * JavaScript path makes for the files would be thrown away. True when handled so.
 * @param {{ name: string, priority: number }} known
 * @param {Record<string, any>} record
 * @param {{ method?: string, url?: string, requestId?: string }} http
 */
function toConsoleOnly(known, record, http) {
  const out = getOutputs();
  if (out.files.length > 0 || out.json || !out.console) return false;
  const level = METHOD[known.name];
  if (NPM_LEVELS[level] > NPM_LEVELS[out.level]) return true;
  // Entries queued before this one go first: the console keeps the order of the calls.
  flushPendingFirst();
  queueHandledConsoleLine(level, applyCustomPatterns(entryMessage(record)), record, http, entryContext(record.context, http));
  return true;
}

module.exports = { toLogThread, toConsoleOnly };
