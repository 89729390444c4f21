'use strict';

// A handled error's log entry, from the record qerrors() resolves to: the error under
// `error`, its context under `context`, and the request's `requestId`, `method`, `url` and
// `status` at the top, where a log search finds them. The log thread's path
// (lib/logging/logThread.js) reads the record itself; the JavaScript path builds the
// entry's fields here.

/** Context keys that belong to the request: a string one goes to the top of the entry. */
const HTTP_FIELDS = ['method', 'url', 'requestId'];

const isOwnEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * The entry's context: the record's, less the request's fields, which fill `http` where it
 * has none of its own. The record's context itself when it has none of them (no copy).
 * @param {unknown} context the record's context (a string or a redacted plain object)
 * @param {{ method?: string, url?: string, requestId?: string }} http
 */
function entryContext(context, http) {
  if (context === null || typeof context !== 'object') return context;
  let moves = false;
  for (const k of HTTP_FIELDS) {
    if (isOwnEnumerable.call(context, k) && typeof context[k] === 'string') moves = true;
  }
  if (!moves) return context;
  const out = {};
  for (const k of Object.keys(context)) {
    if (HTTP_FIELDS.includes(k) && typeof context[k] === 'string') {
      if (http[k] === undefined) http[k] = context[k];
    } else out[k] = context[k];
  }
  return out;
}

/** The record without its context, keys sorted. */
function errorFields(record) {
  const out = {};
  if (record.code !== undefined) out.code = record.code;
  if (record.fingerprint !== undefined) out.fingerprint = record.fingerprint;
  out.id = record.id;
  out.isOperational = record.isOperational;
  out.message = record.message;
  out.name = record.name;
  out.severity = record.severity;
  if (record.stack !== undefined) out.stack = record.stack;
  out.statusCode = record.statusCode;
  out.uniqueErrorName = record.uniqueErrorName;
  return out;
}

/**
 * The entry's fields for the JavaScript path, keys inserted sorted. The context is the
 * record's (less the request's fields): the logger copies it when the line is written later.
 * @param {Record<string, any>} record
 * @param {{ method?: string, url?: string, requestId?: string }} http
 * @returns {Record<string, unknown>}
 */
function logFields(record, http) {
  const fields = { context: entryContext(record.context, http), error: errorFields(record) };
  if (http.method !== undefined) fields.method = http.method;
  if (http.requestId !== undefined) fields.requestId = http.requestId;
  fields.status = record.statusCode;
  if (http.url !== undefined) fields.url = http.url;
  return fields;
}

/** The entry's message: `<name>: <message>` of the record, before the custom patterns. */
function entryMessage(record) {
  return `${record.name}: ${record.message}`;
}

module.exports = { entryContext, logFields, entryMessage };
