'use strict';

// What the logger's entries hold: the levels, the fields that are the same for every
// entry of the process (service version, host, environment), the memory sample, and the
// two entry shapes: createEnhancedLogEntry's (the public one) and the logger's own
// sorted entry (`ownEntry`). The symbols that mark entries for the writers are here too.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const config = require('../policy/config');
const { sanitizeContext, sanitizeWithCustomPatterns } = require('../policy/redaction');

const LOG_LEVELS = {
  DEBUG: { priority: 10, color: '\x1b[36m', name: 'DEBUG' },
  INFO: { priority: 20, color: '\x1b[32m', name: 'INFO' },
  WARN: { priority: 30, color: '\x1b[33m', name: 'WARN' },
  ERROR: { priority: 40, color: '\x1b[31m', name: 'ERROR' },
  FATAL: { priority: 50, color: '\x1b[35m', name: 'FATAL' },
  AUDIT: { priority: 60, color: '\x1b[34m', name: 'AUDIT' },
};

const METHOD = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'error', AUDIT: 'info' };

// Snapshot like the original's config: the NODE_ENV a process started with.
const ENVIRONMENT = config.readSetting('NODE_ENV');
let version = null;
/**
 * The service's version: what npm reports for the running package (`npm start`), else the
 * `version` of the nearest package.json above the main module (or the working directory),
 * found once, on the first entry; 'unknown' when there is none.
 */
function serviceVersion() {
  if (version === null) version = process.env.npm_package_version || findPackageVersion() || 'unknown';
  return version;
}

function findPackageVersion() {
  const starts = [];
  if (require.main && typeof require.main.filename === 'string') starts.push(path.dirname(require.main.filename));
  starts.push(process.cwd());
  for (const start of starts) {
    let dir = start;
    for (let depth = 0; depth < 64; depth++) {
      try {
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
        if (pkg !== null && typeof pkg === 'object') return typeof pkg.version === 'string' ? pkg.version.slice(0, 64) : null;
      } catch {
        // no (readable) package.json here: look one level up
      }
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return null;
}
const HOSTNAME = os.hostname();
const MB = 1024 * 1024;

/** Marks entries already redacted by createEnhancedLogEntry so the format skips them. */
const SANITIZED = Symbol('qerrors.sanitized');
/** Marks entries whose keys are sorted throughout, with only JSON values (see `logHandledError`). */
const CANONICAL = Symbol('qerrors.canonical');
/** Marks entries for the files (and JSON stdout) only: their text already went to the console. */
const FILES_ONLY = Symbol('qerrors.filesOnly');

// process.memoryUsage() reads /proc on every call (it was a third of the cost of handling
// an error); entries carry whole megabytes, so one sample per second is precise enough.
// The sample is kept in the spec's key order (for createEnhancedLogEntry) and in sorted
// order, shared by the logger's own entries (see `ownEntry`).
/** The last sample: `spec` in the spec's key order, `sorted` and its JSON (for the log thread's lines). */
const memory = { spec: null, sorted: null, json: '', sampledAt: 0 };
function sampleMemory() {
  const now = Date.now();
  if (memory.spec === null || now - memory.sampledAt >= 1000) {
    const m = process.memoryUsage();
    const heapUsed = Math.round(m.heapUsed / MB);
    const heapTotal = Math.round(m.heapTotal / MB);
    const external = Math.round(m.external / MB);
    const rss = Math.round(m.rss / MB);
    memory.spec = { heapUsed, heapTotal, external, rss };
    memory.sorted = { external, heapTotal, heapUsed, rss };
    memory.json = JSON.stringify(memory.sorted);
    memory.sampledAt = now;
  }
}

/**
 * The level's entry in LOG_LEVELS, or null for a level it does not know.
 * @param {string} raw
 */
function knownLevel(raw) {
  const upper = raw.toUpperCase();
  return Object.prototype.hasOwnProperty.call(LOG_LEVELS, upper) ? LOG_LEVELS[upper] : null;
}

/**
 * Builds one structured log entry. Message and context are redacted.
 * @param {string} level e.g. 'INFO'; unknown levels are kept as given
 * @param {unknown} message
 * @param {object} [context]
 * @param {string|null} [requestId]
 */
function createEnhancedLogEntry(level, message, context = {}, requestId = null) {
  const raw = String(level);
  const known = knownLevel(raw);
  const name = known ? known.name : raw;
  const entry = {
    timestamp: new Date().toISOString(),
    level: name,
    message: sanitizeWithCustomPatterns(message, name),
    service: config.readSetting('QERRORS_SERVICE_NAME'),
    version: serviceVersion(),
    environment: ENVIRONMENT,
    pid: process.pid,
    hostname: HOSTNAME,
  };
  if (requestId) entry.requestId = requestId;
  if (context !== null && typeof context === 'object' && Object.keys(context).length > 0) {
    entry.context = sanitizeContext(context, name);
  }
  if (known && known.priority >= LOG_LEVELS.WARN.priority) {
    sampleMemory();
    entry.memory = { ...memory.spec };
  }
  // Marked so that redactFormat skips it if the application logs it through winston.
  Object.defineProperty(entry, SANITIZED, { value: true });
  return entry;
}

/**
 * The entry the logger writes for createEnhancedLogEntry's fields, with winston's `level`
 * and the entry's level as `logLevel`. Its keys are inserted in sorted order and its
 * objects are its own (lib/logging/line.js then serializes it without copying it, and a caller
 * cannot change it before it is written).
 * @param {{ name: string, priority: number }} known
 * @param {string} message redacted
 * @param {object | null} context redacted, not shared with the caller
 * @param {string | null} requestId
 * @param {string} [timestamp] ISO time of the entry, now by default
 */
function ownEntry(known, message, context, requestId, timestamp) {
  const withMemory = known.priority >= LOG_LEVELS.WARN.priority;
  if (withMemory) sampleMemory();
  const info = {};
  if (context !== null) info.context = context;
  info.environment = ENVIRONMENT;
  info.hostname = HOSTNAME;
  info.level = METHOD[known.name];
  info.logLevel = known.name;
  if (withMemory) info.memory = memory.sorted;
  info.message = message;
  info.pid = process.pid;
  if (requestId) info.requestId = requestId;
  // Set when the entry is written, from the main logger's default meta (`writeOwn`, `dispatch`).
  info.service = undefined;
  info.timestamp = timestamp || new Date().toISOString();
  info.version = serviceVersion();
  return info;
}

module.exports = {
  LOG_LEVELS,
  METHOD,
  ENVIRONMENT,
  HOSTNAME,
  SANITIZED,
  CANONICAL,
  FILES_ONLY,
  memory,
  serviceVersion,
  sampleMemory,
  createEnhancedLogEntry,
  ownEntry,
};
