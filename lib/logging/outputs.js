'use strict';

// Where the main logger writes, configured from the environment on first use: the log
// files (through the log thread when it runs), the console, JSON lines on stdout; and
// writing a batch of entries to them without winston.

const os = require('node:os');
const path = require('node:path');
const config = require('../policy/config');
const { FileSink } = require('./fileSink');
const { fileLine, consoleLine, MESSAGE } = require('./line');
const { RotatingFile } = require('./rotatingFile');
const { openNativeLog } = require('./nativeSink');
const { ENVIRONMENT, HOSTNAME, CANONICAL, FILES_ONLY, serviceVersion } = require('./entry');

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

/** The outputs once configured, else null (configures nothing). */
function currentOutputs() {
  return outputs;
}

/** Closes the files and the log thread (throws what a close throws). */
function closeOutputs() {
  if (outputs) for (const f of outputs.files) f.sink.close();
  if (outputs && outputs.native) outputs.native.close();
}

/** Forgets the outputs: the next entry configures them anew. */
function forgetOutputs() {
  outputs = null;
}

module.exports = { NPM_LEVELS, reportFailure, getOutputs, currentOutputs, closeOutputs, forgetOutputs, writeConsole, writeOwn };
