'use strict';

// Structured logging (spec §3, §15.1).
//
// Nothing here touches winston, the disk or a timer at require time: winston loads on
// the first log call (or the first `await logger`), and the log directory and files are
// created by the first entry actually written to them. Entries are JSON lines; secrets
// are redacted before any transport sees them.

const os = require('node:os');
const path = require('node:path');
const sanitization = require('./sanitization');
const { lazyFileTransport } = require('./logFileTransport');
const { RotatingFile } = require('./rotatingFile');

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
const ENVIRONMENT = process.env.NODE_ENV || 'development';
const HOSTNAME = os.hostname();
const MB = 1024 * 1024;

/** Marks entries already redacted by createEnhancedLogEntry so the format skips them. */
const SANITIZED = Symbol('qerrors.sanitized');

function env(name, fallback) {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
}

function envInt(name, fallback, min) {
  const n = Number.parseInt(env(name, ''), 10);
  return Number.isFinite(n) && n >= min ? n : fallback;
}

// process.memoryUsage() reads /proc on every call (it was a third of the cost of handling
// an error); entries carry whole megabytes, so one sample per second is precise enough.
let memorySample = null;
let memorySampledAt = 0;
function memoryMb() {
  const now = Date.now();
  if (memorySample === null || now - memorySampledAt >= 1000) {
    const m = process.memoryUsage();
    memorySample = {
      heapUsed: Math.round(m.heapUsed / MB),
      heapTotal: Math.round(m.heapTotal / MB),
      external: Math.round(m.external / MB),
      rss: Math.round(m.rss / MB),
    };
    memorySampledAt = now;
  }
  return { ...memorySample };
}

/**
 * Builds one structured log entry (spec §3.3). Message and context are redacted.
 * @param {string} level e.g. 'INFO'; unknown levels are kept as given
 * @param {unknown} message
 * @param {object} [context]
 * @param {string|null} [requestId]
 */
function createEnhancedLogEntry(level, message, context = {}, requestId = null) {
  return buildEntry(level, message, context, requestId, false);
}

/**
 * createEnhancedLogEntry; `redacted` marks a message and context the built-in rules already
 * redacted (only the custom patterns still run on the message).
 */
function buildEntry(level, message, context, requestId, redacted) {
  const raw = String(level);
  const known = Object.prototype.hasOwnProperty.call(LOG_LEVELS, raw.toUpperCase()) ? LOG_LEVELS[raw.toUpperCase()] : null;
  const name = known ? known.name : raw;
  const entry = {
    timestamp: new Date().toISOString(),
    level: name,
    message: redacted ? applyCustomPatterns(String(message)) : sanitizeWithCustomPatterns(message, name),
    service: env('QERRORS_SERVICE_NAME', 'qerrors'),
    version: process.env.npm_package_version || '1.0.0',
    environment: ENVIRONMENT,
    pid: process.pid,
    hostname: HOSTNAME,
  };
  if (requestId) entry.requestId = requestId;
  if (context !== null && typeof context === 'object' && Object.keys(context).length > 0) {
    entry.context = redacted ? context : sanitizeContext(context, name);
  }
  if (known && known.priority >= LOG_LEVELS.WARN.priority) entry.memory = memoryMb();
  Object.defineProperty(entry, SANITIZED, { value: true });
  return entry;
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

function consoleFormat() {
  const { format } = winston();
  return format.combine(
    format.timestamp({ format: 'YYYY-MM-DD HH:mm:ss' }),
    format.printf((info) => `${info.timestamp} ${info.level}: ${info.message}${info.stack ? `\n${info.stack}` : ''}`)
  );
}

/** The main logger (spec §3.7), configured from the environment when first needed. */
function buildMainLogger() {
  const w = winston();
  const { format } = w;
  const transports = [];
  const fileLogs = !env('QERRORS_DISABLE_FILE_LOGS', '') && process.env.NODE_ENV !== 'test';
  const fileFormat = format.combine(format.timestamp({ format: 'YYYY-MM-DD HH:mm:ss' }), format.errors({ stack: true }), format.json());
  if (fileLogs) {
    const dir = path.resolve(env('QERRORS_LOG_DIR', 'logs'));
    const maxSize = envInt('QERRORS_LOG_MAXSIZE', 1048576, 1024);
    const maxFiles = envInt('QERRORS_LOG_MAXFILES', 5, 1);
    const maxDays = envInt('QERRORS_LOG_MAX_DAYS', 0, 0);
    for (const [level, base] of [
      ['error', 'error'],
      [undefined, 'combined'],
    ]) {
      transports.push(
        lazyFileTransport(w.Transport, { level, format: fileFormat }, () => {
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
        })
      );
    }
  }
  if (process.env.QERRORS_VERBOSE !== 'false' || transports.length === 0) {
    transports.push(new w.transports.Console({ format: consoleFormat() }));
  }
  const logger = w.createLogger({
    level: env('QERRORS_LOG_LEVEL', 'info'),
    defaultMeta: { service: env('QERRORS_SERVICE_NAME', 'qerrors') },
    format: format.combine(redactFormat(), format.errors({ stack: true })),
    transports,
  });
  ownSetup = { logger, format: logger.format, transports: transports.slice(), fileFormat };
  // A failing disk must never crash the host: report once and keep going.
  let reported = false;
  logger.on('error', (err) => {
    if (!reported) {
      reported = true;
      console.error(`qerrors: log transport failed: ${err && err.message}`);
    }
  });
  return logger;
}

let mainLogger = null;
/** The logger, its format and transports as qerrors built them (see `dispatch`). */
let ownSetup = null;
const noop = () => {};

/**
 * Hands an entry to the transports directly while the main logger is exactly as qerrors
 * built it, doing what winston's Logger and TransportStream would (default meta, level
 * filters, formats) without their stream plumbing, and formatting the entry once for both
 * log files instead of once per file. In the error-storm benchmark this path is most of
 * what `qerrors()` costs. Returns false, so winston's own path runs, when the application
 * changed the logger (added or removed a transport, replaced the format).
 * @param {any} logger
 * @param {Record<string | symbol, unknown>} info
 */
function dispatch(logger, info) {
  const own = ownSetup;
  if (!own || own.logger !== logger || logger.format !== own.format) return false;
  const transports = logger.transports;
  if (transports.length !== own.transports.length) return false;
  for (let i = 0; i < transports.length; i++) if (transports[i] !== own.transports[i]) return false;
  info[LEVEL] = info.level;
  logger._addDefaultMeta(info);
  const levels = logger.levels;
  const rank = levels[info.level];
  if (logger.silent || rank === undefined || rank > levels[logger.level]) return true;
  const entry = logger.format.transform(info, logger.format.options);
  if (!entry) return true;
  let fileLine = null;
  for (const t of transports) {
    if (t.silent || rank > levels[t.level || logger.level]) continue;
    let out;
    if (t.format === own.fileFormat) {
      if (fileLine === null) fileLine = own.fileFormat.transform(Object.assign({}, entry), own.fileFormat.options) || false;
      out = fileLine;
    } else {
      out = t.format ? t.format.transform(Object.assign({}, entry), t.format.options) : entry;
    }
    if (out) t.log(out, noop);
  }
  return true;
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

/**
 * Writes one entry; resolves once winston has taken it. Never throws or rejects.
 * @returns {Promise<void>}
 */
async function write(level, message, context, requestId, redacted = false) {
  try {
    const entry = buildEntry(level, message, context === undefined ? {} : context, requestId || null, redacted);
    const logger = getMainLogger();
    const method = METHOD[level];
    const info = { ...entry, level: method, logLevel: entry.level };
    Object.defineProperty(info, SANITIZED, { value: true });
    if (!dispatch(logger, info)) logger.log(info);
  } catch {
    // Logging never breaks the caller.
  }
}

// `.length` 0 as measured on the original (spec §3.1): (message, context = {}, requestId = null).
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
 * Starts a timer for `operation` (spec §3.2 [REIMPL]): returns `logPerformance`, a
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

/** A new console-only winston logger like simpleLogger (spec §3.6). */
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

// The namespace is the Promise itself with 15 own keys (spec §15.1). `simpleLogger` is
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

/** Closes the main logger's transports and forgets it (tests, shutdown). */
function resetMainLogger() {
  if (mainLogger) {
    try {
      mainLogger.close();
    } catch {
      // already closed
    }
  }
  mainLogger = null;
  ownSetup = null;
}

Object.defineProperties(loggerPromise, {
  // For qerrors(): logs a record whose fields are already redacted.
  _logRedactedError: { value: (message, record) => write('ERROR', message, record, null, true) },
  _getMainLogger: { value: getMainLogger },
  _resetMainLogger: { value: resetMainLogger },
});

module.exports = loggerPromise;
