'use strict';

// The main winston logger, built over qerrors' outputs when first asked for (`await
// logger`), and how entries reach it while it stays as qerrors built it (`dispatch`).
// The logger namespace is a Promise of it that builds it only when awaited.

const { fileTransport } = require('./fileSink');
const { fileLine, consoleLine, MESSAGE } = require('./line');
const { FILES_ONLY } = require('./entry');
const { getOutputs, reportFailure, closeOutputs, forgetOutputs } = require('./outputs');
const { winston, jsonFormat, consoleFormat, redactFormat, createSimpleWinstonLogger } = require('./winston');

// winston's info symbol for the level (triple-beam's LEVEL).
const LEVEL = Symbol.for('level');

/**
 * The main logger once built (else null), and the logger, its format and transports as
 * qerrors built them (see `dispatch`).
 * @type {{ logger: any, setup: { logger: any, format: any, transports: any[], fileFormat: any, consoleFormat: any } | null }}
 */
const main = { logger: null, setup: null };
const noop = () => {};

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
  main.setup = { logger, format: logger.format, transports: transports.slice(), fileFormat, consoleFormat: consoleTransport && consoleTransport.format };
  logger.on('error', reportFailure);
  return logger;
}

/**
 * Hands an entry to the transports qerrors built for the main logger, doing what winston's
 * Logger and TransportStream would (default meta, level filters, formats) without their
 * stream plumbing, and writing the lines of its own formats itself (lib/logging/line.js), once
 * for both files.
 * @param {any} logger
 * @param {Record<string | symbol, unknown>} info
 */
function dispatch(logger, info) {
  const own = main.setup;
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
  if (!main.logger) main.logger = buildMainLogger();
  return main.logger;
}

/** True while the winston logger is as qerrors built it (see `dispatch`). */
function intact(logger) {
  const own = main.setup;
  if (!own || own.logger !== logger || logger.format !== own.format) return false;
  const transports = logger.transports;
  if (transports.length !== own.transports.length) return false;
  for (let i = 0; i < transports.length; i++) if (transports[i] !== own.transports[i]) return false;
  return true;
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

/** Closes the log files and forgets the main logger; the next entry configures them anew. */
function resetMainLogger() {
  try {
    if (main.logger) main.logger.close();
    closeOutputs();
  } catch {
    // already closed
  }
  main.logger = null;
  main.setup = null;
  forgetOutputs();
}

module.exports = { main, loggerPromise, getMainLogger, dispatch, intact, resetMainLogger };
