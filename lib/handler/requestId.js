'use strict';

// The request id of a request: the one the client or a proxy sent (`X-Request-Id` unless
// configured otherwise), when it is a short printable token, else a new random UUID. It is
// echoed in the answer's header and body and written in every log line of the error, so the
// id a client reports can be found in the logs.

const { randomUUID } = require('./randomId');

const DEFAULT_HEADER = 'x-request-id';
// Printable ASCII without spaces, quotes or separators a log line or header could be split by.
const VALID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
// Where an id is kept on a request once chosen, so every handler sees the same one.
const KEY = Symbol.for('qerrors.requestId');

/**
 * The request's id, taken or generated once per request.
 * @param {any} req
 * @param {string} [header] lower-case header name
 * @returns {string}
 */
function requestIdOf(req, header = DEFAULT_HEADER) {
  if (req === null || typeof req !== 'object') return randomUUID();
  try {
    const known = req[KEY];
    if (typeof known === 'string') return known;
    const headers = req.headers;
    let sent = headers && typeof headers === 'object' ? headers[header] : undefined;
    if (Array.isArray(sent)) sent = sent[0];
    const id = typeof sent === 'string' && VALID.test(sent) ? sent : randomUUID();
    try {
      // A symbol key: invisible to JSON, Object.keys and for...in. Assigned, not defined:
      // Object.defineProperty costs ~0.3 µs a request.
      req[KEY] = id;
    } catch {
      // A frozen request: the id is still returned.
    }
    return id;
  } catch {
    return randomUUID();
  }
}

module.exports = { requestIdOf, DEFAULT_HEADER };
