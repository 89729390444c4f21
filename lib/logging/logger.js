'use strict';

// Structured logging.
//
// Nothing here touches winston, the disk or a timer at require time. qerrors writes its
// own entries to its files and console itself (lib/logging/fileSink.js, lib/logging/line.js);
// winston loads only when the application asks for a winston logger (`await logger`,
// `simpleLogger`), which then writes to the same files. The log directory and files are
// created by the first entry actually written to them. Entries are JSON lines; secrets
// are redacted before any output sees them.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const config = require('../policy/config');
const sanitization = require('../policy/redaction');
const { FileSink, fileTransport } = require('./fileSink');
const { fileLine, consoleLine, snapshot, snapshotJson, sortedEntry, MESSAGE } = require('./line');
const { RotatingFile } = require('./rotatingFile');
const { openNativeLog } = require('./nativeSink');
const keptStack = require('../native/keptStack');

// winston's info symbol for the level (triple-beam's LEVEL).
const LEVEL = Symbol.for('level');

const { sanitizeContext, sanitizeWithCustomPatterns, _applyCustomPatterns: applyCustomPatterns } = sanitization;

const LOG_LEVELS = {
  DEBUG: { priority: 10, color: '\x1b[36m', name: 'DEBUG' },
  INFO: { priority: 20, color: '\x1b[32m', name: 'INFO' },
  WARN: { priority: 30, color: '\x1b[33m', name: 'WARN' },
  ERROR: { priority: 40, color: '\x1b[31m', name: 'ERROR' },
  FATAL: { priority: 50, color: '\x1b[35m', name: 'FATAL' },
  AUDIT: { priority: 60, color: '\x1b[34m', name: 'AUDIT' },
};

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
let memorySample = null;
let memorySorted = null;
/** `memorySorted` as JSON, for the log thread's lines. */
let memoryJson = '';
let memorySampledAt = 0;
function sampleMemory() {
  const now = Date.now();
  if (memorySample === null || now - memorySampledAt >= 1000) {
    const m = process.memoryUsage();
    const heapUsed = Math.round(m.heapUsed / MB);
    const heapTotal = Math.round(m.heapTotal / MB);
    const external = Math.round(m.external / MB);
    const rss = Math.round(m.rss / MB);
    memorySample = { heapUsed, heapTotal, external, rss };
    memorySorted = { external, heapTotal, heapUsed, rss };
    memoryJson = JSON.stringify(memorySorted);
    memorySampledAt = now;
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
    entry.memory = { ...memorySample };
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
  if (withMemory) info.memory = memorySorted;
  info.message = message;
  info.pid = process.pid;
  if (requestId) info.requestId = requestId;
  // Set when the entry is written, from the main logger's default meta (`writeOwn`, `dispatch`).
  info.service = undefined;
  info.timestamp = timestamp || new Date().toISOString();
  info.version = serviceVersion();
  return info;
}

let winstonModule;
function winston() {
  if (!winstonModule) winstonModule = require('winston');
  return winstonModule;
}

/** Redacts message and metadata of entries that did not come from createEnhancedLogEntry. */
function redactFormat() {
  return winston().format((info) => {
    if (info[SANITIZED]) return info;
    if (typeof info.message === 'string') info.message = sanitizeWithCustomPatterns(info.message);
    const meta = {};
    for (const key of Object.keys(info)) {
      if (key !== 'level' && key !== 'message' && key !== 'timestamp' && key !== 'stack' && key !== '__proto__') meta[key] = info[key];
    }
    // Key-aware redaction of the metadata (a `password` field is redacted whatever its value).
    Object.assign(info, sanitizeContext(meta, 'INFO', 10));
    if (typeof info.stack === 'string') info.stack = sanitizeWithCustomPatterns(info.stack);
    return info;
  })();
}

/** Keeps an entry's own ISO 8601 UTC time (the time it was logged); adds one when it has none. */
function isoTimestampFormat() {
  return winston().format((info) => {
    if (typeof info.timestamp !== 'string') info.timestamp = new Date().toISOString();
    return info;
  })();
}

function consoleFormat() {
  const { format } = winston();
  return format.combine(isoTimestampFormat(), format.printf(consoleLine));
}

/** The JSON line format of the files, and of stdout with QERRORS_LOG_FORMAT=json. */
function jsonFormat() {
  const { format } = winston();
  return format.combine(isoTimestampFormat(), format.errors({ stack: true }), format.json());
}

// winston's npm levels, which the main logger uses.
const NPM_LEVELS = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

let failureReported = false;
/** A failing disk must never crash the host: the first failure is reported, then it keeps going. */
function reportFailure(err) {
  if (!failureReported) {
    failureReported = true;
    console.error(`qerrors: log transport failed: ${err && err.message}`);
  }
}

/**
 * Where the main logger writes, from the environment: its level, its files (each a
 * FileSink with an optional level of its own) and whether it also writes to the console.
 * The log thread (`native`) writes the files when it runs (lib/logging/nativeSink.js).
 * @typedef {{ level: string, service: string, files: Array<{ level?: string, sink: FileSink }>, console: boolean,
 *   json: boolean, native: import('./nativeSink').NativeLog | null }} Outputs
 */

/** @type {Outputs | null} */
let outputs = null;

/** @returns {Outputs} */
function getOutputs() {
  if (outputs) return outputs;
  const files = [];
  const settings = config.readSettings();
  const json = config.readSetting('QERRORS_LOG_FORMAT') === 'json';
  let native = null;
  if (!json && !settings.disableFileLogs && settings.nodeEnv !== 'test') {
    const dir = path.resolve(settings.logDir);
    const { logMaxSize: maxSize, logMaxFiles: maxFiles, logMaxDays: maxDays } = settings;
    native = openNativeLog({
      dir,
      maxSize,
      maxFiles,
      maxDays,
      service: settings.serviceName,
      version: serviceVersion(),
      environment: ENVIRONMENT,
      hostname: HOSTNAME,
    });
    // The order of the log thread's files (lib/logging/nativeSink.js): error, then combined.
    for (const [level, base] of [
      ['error', 'error'],
      [undefined, 'combined'],
    ]) {
      const index = files.length;
      const sink = new FileSink(() => {
        if (native !== null) return native.fileWriter(index);
        if (maxDays > 0) {
          const DailyRotateFile = require('winston-daily-rotate-file');
          return new DailyRotateFile({
            level,
            dirname: dir,
            filename: `${base}-%DATE%.log`,
            datePattern: 'YYYY-MM-DD',
            maxFiles: `${maxDays}d`,
            maxSize: `${Math.max(1, Math.ceil(maxSize / 1024))}k`,
          });
        }
        return new RotatingFile({ dirname: dir, filename: `${base}.log`, maxsize: maxSize, maxFiles });
      });
      sink.on('error', reportFailure);
      files.push({ level, sink });
    }
  }
  outputs = {
    level: settings.logLevel,
    service: settings.serviceName,
    files,
    // JSON lines on stdout for containers: every entry, whatever QERRORS_VERBOSE says.
    json,
    console: json || settings.verbose || files.length === 0,
    native,
  };
  return outputs;
}

/** Writes a console line as winston's Console transport does. */
function writeConsole(line) {
  if (console._stdout) console._stdout.write(`${line}${os.EOL}`);
  else console.log(line);
}

/**
 * Writes queued entries to the outputs while no winston logger exists: the same level
 * rules, lines and files as the main logger, without loading winston. Each output gets
 * one write for the whole batch.
 * @param {Array<Record<string | symbol, unknown>>} batch
 * @param {boolean} [now] write the files synchronously (the process is exiting)
 */
function writeOwn(batch, now = false) {
  const out = getOutputs();
  const maxRank = NPM_LEVELS[out.level];
  const fileLines = out.files.map(() => []);
  const consoleLines = [];
  for (const info of batch) {
    try {
      info.service = out.service;
      const rank = NPM_LEVELS[info.level];
      if (rank === undefined || rank > maxRank) continue;
      let line = null;
      for (let i = 0; i < out.files.length; i++) {
        const level = out.files[i].level;
        if (level !== undefined && rank > NPM_LEVELS[level]) continue;
        if (line === null) line = fileLine(info, info[CANONICAL] === true);
        fileLines[i].push(line);
      }
      if (out.json) consoleLines.push(line === null ? fileLine(info, info[CANONICAL] === true) : line);
      else if (out.console && info[FILES_ONLY] !== true) consoleLines.push(consoleLine(info));
    } catch {
      // An entry that cannot be written must not lose the others.
    }
  }
  let shared = null;
  for (let i = 0; i < out.files.length; i++) {
    const lines = fileLines[i];
    if (lines.length === 0) continue;
    // Files that take every entry of the batch share one chunk (encoded once).
    const all = lines.length === batch.length;
    const chunk = all && shared !== null ? shared : { [MESSAGE]: lines.join(os.EOL) };
    if (all) shared = chunk;
    if (now) out.files[i].sink.writeNow(chunk, lines.length);
    else out.files[i].sink.write(chunk, lines.length);
  }
  if (consoleLines.length > 0) writeConsole(consoleLines.join(os.EOL));
}

/** The main logger: a winston logger over the same outputs, built when first asked for. */
function buildMainLogger() {
  const w = winston();
  const { format } = w;
  const out = getOutputs();
  const fileFormat = jsonFormat();
  const transports = out.files.map((f) => fileTransport(w.Transport, { level: f.level, format: fileFormat }, f.sink));
  let consoleTransport = null;
  if (out.json) {
    transports.push(new w.transports.Console({ format: fileFormat }));
  } else if (out.console) {
    consoleTransport = new w.transports.Console({ format: consoleFormat() });
    transports.push(consoleTransport);
  }
  const logger = w.createLogger({
    level: out.level,
    defaultMeta: { service: out.service },
    format: format.combine(redactFormat(), format.errors({ stack: true })),
    transports,
  });
  ownSetup = { logger, format: logger.format, transports: transports.slice(), fileFormat, consoleFormat: consoleTransport && consoleTransport.format };
  logger.on('error', reportFailure);
  return logger;
}

let mainLogger = null;
/** The logger, its format and transports as qerrors built them (see `dispatch`). */
let ownSetup = null;
const noop = () => {};

/**
 * Hands an entry to the transports qerrors built for the main logger, doing what winston's
 * Logger and TransportStream would (default meta, level filters, formats) without their
 * stream plumbing, and writing the lines of its own formats itself (lib/logging/line.js), once
 * for both files.
 * @param {any} logger
 * @param {Record<string | symbol, unknown>} info
 */
function dispatch(logger, info) {
  const own = ownSetup;
  info[LEVEL] = info.level;
  // What winston's Logger does with `defaultMeta` before its transports see an entry.
  if (logger.defaultMeta) Object.assign(info, logger.defaultMeta);
  const levels = logger.levels;
  const rank = levels[info.level];
  if (logger.silent || rank === undefined || rank > levels[logger.level]) return;
  let fileInfo = null;
  for (const t of own.transports) {
    if (t.silent || rank > levels[t.level || logger.level]) continue;
    let out;
    if (t.format === own.fileFormat) {
      if (fileInfo === null) fileInfo = { [LEVEL]: info.level, [MESSAGE]: fileLine(info) };
      out = fileInfo;
    } else if (t.format === own.consoleFormat) {
      if (info[FILES_ONLY] === true) continue;
      out = { [LEVEL]: info.level, [MESSAGE]: consoleLine(info) };
    } else {
      out = t.format ? t.format.transform(Object.assign({}, info), t.format.options) : info;
    }
    if (out) t.log(out, noop);
  }
}
function getMainLogger() {
  if (!mainLogger) mainLogger = buildMainLogger();
  return mainLogger;
}

/** A Promise of the main logger that builds it only when someone awaits it. */
class LoggerPromise extends Promise {
  static get [Symbol.species]() {
    return Promise;
  }
  then(onFulfilled, onRejected) {
    settleLogger();
    return super.then(onFulfilled, onRejected);
  }
}

let resolveLoggerPromise;
let loggerSettled = false;
const loggerPromise = new LoggerPromise((resolve) => {
  resolveLoggerPromise = resolve;
});
function settleLogger() {
  if (loggerSettled) return;
  loggerSettled = true;
  try {
    resolveLoggerPromise(getMainLogger());
  } catch (err) {
    // Never reject: fall back to a console-only logger.
    resolveLoggerPromise(createSimpleWinstonLogger());
    console.error(`qerrors: cannot configure its logger: ${err && err.message}`);
  }
}

const METHOD = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error', FATAL: 'error', AUDIT: 'info' };

// Entries wait here for the end of the current turn of the event loop and are then
// written as a batch: the caller does not wait for their JSON (~3 µs for an error with
// its stack), and an error storm's entries go out together. Bounded: a caller that logs
// without ever yielding flushes every MAX_PENDING entries itself.
const MAX_PENDING = 1024;
let pending = [];
let flushScheduled = false;

/** True while the winston logger is as qerrors built it (see `dispatch`). */
function intact(logger) {
  const own = ownSetup;
  if (!own || own.logger !== logger || logger.format !== own.format) return false;
  const transports = logger.transports;
  if (transports.length !== own.transports.length) return false;
  for (let i = 0; i < transports.length; i++) if (transports[i] !== own.transports[i]) return false;
  return true;
}

/**
 * Writes the queued entries to the outputs they were queued for: qerrors' own, even when
 * the application has changed the winston logger since.
 */
function flushPending() {
  flushScheduled = false;
  flushConsole();
  const batch = pending;
  pending = [];
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
  if (pending.length === 0 || (mainLogger !== null && !intact(mainLogger))) return;
  const batch = pending;
  pending = [];
  try {
    writeOwn(batch, true);
  } catch {
    // Exiting: nothing more can be done.
  }
}

let exitHooked = false;

// The console lines of entries the log thread writes to the files (`toLogThread`): written
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
 * `warn` for a client error (4xx), at `error` otherwise. The entry's own fields are the
 * record's, copied by the caller, but for the context: the caller gets the record back and
 * may change its context before a line written later is, so the JavaScript path copies it
 * here (`snapshot`); the log thread takes its JSON at once. Never throws.
 * @param {string} message
 * @param {Record<string, unknown>} fields `error`, `context`, `requestId`, `method`, `url`,
 *   `status`: the entry's fields beyond the logger's own
 * @param {string} timestamp ISO time of the record: the entry's time
 */
function logHandledError(message, fields, timestamp) {
  try {
    const status = fields.status;
    const known = Number.isInteger(status) && status >= 400 && status < 500 ? LOG_LEVELS.WARN : LOG_LEVELS.ERROR;
    if (mainLogger === null && (toLogThread(known, message, fields, timestamp) || toConsoleOnly(known, message, fields, timestamp))) return;
    // Sorted keys, only JSON values throughout: the file line then needs no check
    // (lib/logging/line.js); index keys keep the context as it is, written the slow way.
    const ctx = fields.context;
    const copy = ctx !== null && typeof ctx === 'object' ? snapshot(ctx) : ctx;
    if (copy !== null) fields.context = copy;
    const info = sortedEntry(ownEntry(known, applyCustomPatterns(message), null, null, timestamp), fields);
    if (copy !== null) info[CANONICAL] = true;
    submit(info);
  } catch {
    // Logging never breaks the caller.
  }
}

/** True for undefined or a string without lone surrogates (the log thread writes only those byte for byte). */
function wellFormed(s) {
  return s === undefined || (typeof s === 'string' && s.isWellFormed());
}

/**
 * Hands a handled error's entry to the log thread, which writes the same line `fileLine`
 * would: true when it went there (or its level is below the logger's), false when it must
 * take the JavaScript path (no thread, console output, or a field the thread does not
 * write byte for byte).
 * @param {{ name: string, priority: number }} known
 * @param {string} message
 * @param {Record<string, any>} fields
 * @param {string} timestamp
 */
function toLogThread(known, message, fields, timestamp) {
  const out = getOutputs();
  if (out.native === null || out.json) return false;
  const e = fields.error;
  const status = fields.status;
  if (!Number.isInteger(status) || e.statusCode !== status || typeof e.isOperational !== 'boolean') return false;
  if (typeof e.id !== 'string' || typeof e.name !== 'string' || typeof e.severity !== 'string' || typeof e.uniqueErrorName !== 'string') return false;
  const text = applyCustomPatterns(message);
  if (!wellFormed(text) || typeof e.message !== 'string' || !wellFormed(e.message) || !wellFormed(e.stack) || !wellFormed(e.name)) return false;
  if (!wellFormed(e.severity) || !wellFormed(e.code) || !wellFormed(e.fingerprint) || !wellFormed(e.id) || !wellFormed(e.uniqueErrorName)) return false;
  if (!wellFormed(fields.method) || !wellFormed(fields.url) || !wellFormed(fields.requestId)) return false;
  // Written now: nothing can change the context before, so it is not copied.
  const contextJson = snapshotJson(fields.context);
  if (typeof contextJson !== 'string') return false;
  if (NPM_LEVELS[METHOD[known.name]] > NPM_LEVELS[out.level]) return true;
  sampleMemory();
  // Entries queued for the JavaScript path go first: the files keep the order of the calls.
  if (pending.length > 0) flushPending();
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
    memoryJson,
    text,
    fields.method,
    fields.requestId,
    timestamp,
    fields.url
  );
  if (!accepted) out.native.dropped();
  if (out.console) {
    consolePending.push(consoleLine({ timestamp, level: METHOD[known.name], message: text, error: e, requestId: fields.requestId, method: fields.method, url: fields.url, status, context: fields.context }));
    if (consolePending.length >= MAX_PENDING) flushConsole();
    else scheduleFlush();
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
  if (pending.length > 0) flushPending();
  const { error, requestId, method, url, status, context } = fields;
  consolePending.push(consoleLine({ timestamp, level, message: applyCustomPatterns(message), error, requestId, method, url, status, context }));
  if (consolePending.length >= MAX_PENDING) flushConsole();
  else scheduleFlush();
  return true;
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

function formatMs(ms) {
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)}s`;
  return `${(ms / 60000).toFixed(2)}m`;
}

/**
 * Starts a timer for `operation`: returns `logPerformance`, a
 * callable that also carries `elapsed`, `elapsedFormatted`, `logPerformance` and `end`.
 * @param {string} operation
 * @param {string|null} [requestId]
 */
function createPerformanceTimer(operation, requestId = null) {
  const start = process.hrtime.bigint();
  const mem0 = process.memoryUsage();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
  const elapsedFormatted = () => formatMs(elapsed());
  async function logPerformance(success = true, additionalContext = {}) {
    const mem1 = process.memoryUsage();
    const context = {
      operation,
      duration_ms: Math.round(elapsed() * 100) / 100,
      success,
      ...additionalContext,
      memory_delta: {
        heapUsed: Math.round((mem1.heapUsed - mem0.heapUsed) / 1024),
        external: Math.round((mem1.external - mem0.external) / 1024),
      },
    };
    const line = `${operation} completed in ${context.duration_ms}ms (${success ? 'success' : 'failure'})`;
    await (success ? logInfo : logWarn)(line, context, requestId);
    return context;
  }
  logPerformance.elapsed = elapsed;
  logPerformance.elapsedFormatted = elapsedFormatted;
  logPerformance.logPerformance = logPerformance;
  logPerformance.end = () => logPerformance(true);
  return logPerformance;
}

/** A new console-only winston logger like simpleLogger. */
function createSimpleWinstonLogger() {
  const w = winston();
  return w.createLogger({
    level: 'info',
    format: w.format.combine(redactFormat(), w.format.json()),
    transports: [new w.transports.Console({ format: w.format.simple() })],
  });
}

let simpleLoggerInstance = null;
function getSimpleLogger() {
  if (!simpleLoggerInstance) simpleLoggerInstance = createSimpleWinstonLogger();
  return simpleLoggerInstance;
}

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

/** Closes the log files and forgets the main logger; the next entry configures them anew. */
function resetMainLogger() {
  try {
    if (mainLogger) mainLogger.close();
    if (outputs) for (const f of outputs.files) f.sink.close();
    if (outputs && outputs.native) outputs.native.close();
  } catch {
    // already closed
  }
  mainLogger = null;
  ownSetup = null;
  outputs = null;
}

Object.defineProperties(loggerPromise, {
  // For qerrors(): logs a record whose fields are already redacted.
  // Writable: a test replaces it to see what is logged.
  _logHandledError: { value: logHandledError, writable: true },
  _logBreakerEvent: { value: logBreakerEvent },
  _getMainLogger: { value: getMainLogger },
  _pendingCount: { value: () => pending.length },
  // Waits until the log thread has written what it accepted (benchmarks count that work).
  _flushLogThread: { value: () => outputs && outputs.native && outputs.native.flush() },
  // The log thread's counters ({ accepted, written, dropped, failed }), or null without it.
  _logThreadStats: { value: () => (outputs && outputs.native ? outputs.native.stats() : null) },
  _resetMainLogger: { value: resetMainLogger },
});

module.exports = loggerPromise;
