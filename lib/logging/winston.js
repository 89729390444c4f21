'use strict';

// The winston side of the logger, loaded only when an application asks for a winston
// logger: the module itself, the formats of qerrors' transports, and the console-only
// simple logger.

const { sanitizeContext, sanitizeWithCustomPatterns } = require('../policy/redaction');
const { consoleLine } = require('./line');
const { SANITIZED } = require('./entry');

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

module.exports = { winston, jsonFormat, consoleFormat, redactFormat, createSimpleWinstonLogger, getSimpleLogger };
