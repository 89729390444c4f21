'use strict';

// A handled error's entry written at once: handed to the log thread (lib/logging/nativeSink.js),
// which writes the same line the JavaScript path would, when every field is one it writes
// byte for byte; or, when the console is the only output, turned into its console line.

const { _applyCustomPatterns: applyCustomPatterns, _hasCustomPatterns: hasCustomPatterns } = require('../policy/redaction');
const { consoleLine, snapshotJson } = require('./line');
const keptStack = require('../native/keptStack');
const { LOG_LEVELS, METHOD, memory, sampleMemory } = require('./entry');
const { NPM_LEVELS, getOutputs } = require('./outputs');
const { flushPendingFirst, queueConsoleLine } = require('./queue');

/** True for undefined or a string without lone surrogates (the log thread writes only those byte for byte). */
function wellFormed(s) {
  return s === undefined || (typeof s === 'string' && s.isWellFormed());
}

/** Queues the console line of a handled error's entry, made now from its fields. */
function queueHandledConsoleLine(level, message, fields, timestamp) {
  const { error, requestId, method, url, status, context } = fields;
  queueConsoleLine(consoleLine({ timestamp, level, message, error, requestId, method, url, status, context }));
}

/**
 * Hands a handled error's entry to the log thread, which writes the same line `fileLine`
 * would: true when it went there (or its level is below the logger's), false when it must
 * take the JavaScript path (no thread, console output, or a field the thread does not
 * write byte for byte). The entry's message is `<name>: <message>` of `fields.error`, the
 * custom patterns applied.
 * @param {{ name: string, priority: number }} known
 * @param {Record<string, any>} fields
 * @param {string} timestamp
 */
function toLogThread(known, fields, timestamp) {
  const out = getOutputs();
  if (out.native === null || out.json) return false;
  const e = fields.error;
  const status = fields.status;
  if (!Number.isInteger(status) || e.statusCode !== status || typeof e.isOperational !== 'boolean') return false;
  if (typeof e.id !== 'string' || typeof e.name !== 'string' || typeof e.severity !== 'string' || typeof e.uniqueErrorName !== 'string') return false;
  if (typeof e.message !== 'string' || !wellFormed(e.message) || !wellFormed(e.stack) || !wellFormed(e.name)) return false;
  // Without custom patterns the message is `<name>: <message>`, which the thread composes
  // from the two fields it is given anyway (`true`): no third copy crosses.
  const text = hasCustomPatterns() ? applyCustomPatterns(`${e.name}: ${e.message}`) : true;
  if (text !== true && !wellFormed(text)) return false;
  if (!wellFormed(e.severity) || !wellFormed(e.code) || !wellFormed(e.fingerprint) || !wellFormed(e.id) || !wellFormed(e.uniqueErrorName)) return false;
  if (!wellFormed(fields.method) || !wellFormed(fields.url) || !wellFormed(fields.requestId)) return false;
  // Written now: nothing can change the context before, so it is not copied.
  const contextJson = snapshotJson(fields.context);
  if (typeof contextJson !== 'string') return false;
  if (NPM_LEVELS[METHOD[known.name]] > NPM_LEVELS[out.level]) return true;
  sampleMemory();
  // Entries queued for the JavaScript path go first: the files keep the order of the calls.
  flushPendingFirst();
  const accepted = out.native.writeError(
    known === LOG_LEVELS.WARN,
    contextJson,
    e.code,
    e.fingerprint,
    e.id,
    e.isOperational,
    e.message,
    e.name,
    e.severity,
    // The intake kept this stack natively: the entry takes it from there, not copied again.
    keptStack.take(e.stack) || e.stack,
    status,
    e.uniqueErrorName,
    memory.json,
    text,
    fields.method,
    fields.requestId,
    timestamp,
    fields.url
  );
  if (!accepted) out.native.dropped();
  if (out.console) {
    queueHandledConsoleLine(METHOD[known.name], text === true ? `${e.name}: ${e.message}` : text, fields, timestamp);
  }
  return true;
}

/**
 * With the console as the only output (no files, no JSON lines), a handled error's entry is
 * its console line, made now: the sorted copy of the entry and of its context that the
 * JavaScript path makes for the files would be thrown away. True when handled so.
 * @param {{ name: string, priority: number }} known
 * @param {string} message
 * @param {Record<string, any>} fields
 * @param {string} timestamp
 */
function toConsoleOnly(known, message, fields, timestamp) {
  const out = getOutputs();
  if (out.files.length > 0 || out.json || !out.console) return false;
  const level = METHOD[known.name];
  if (NPM_LEVELS[level] > NPM_LEVELS[out.level]) return true;
  // Entries queued before this one go first: the console keeps the order of the calls.
  flushPendingFirst();
  queueHandledConsoleLine(level, applyCustomPatterns(message), fields, timestamp);
  return true;
}

module.exports = { toLogThread, toConsoleOnly };
