'use strict';

// Dependency injection helpers (docs/api.md): a "core deps" object bundles the qerrors
// function, logErrorWithSeverity, withErrorHandling and the ErrorSeverity enum.

const { ErrorSeverity } = require('../handler/errorTypes');
const { codedError } = require('../policy/errors');

/**
 * @param {Function & { logErrorWithSeverity?: Function, withErrorHandling?: Function }} qerrorsModule
 */
function createQerrorsCoreDeps(qerrorsModule) {
  if (qerrorsModule === null || qerrorsModule === undefined) {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'createQerrorsCoreDeps requires the qerrors function or module');
  }
  return {
    qerrors: qerrorsModule,
    logErrorWithSeverity: qerrorsModule.logErrorWithSeverity,
    withErrorHandling: qerrorsModule.withErrorHandling,
    ErrorSeverity,
  };
}

let defaultDeps = null;

/** The cached default deps, built from this package's qerrors on first use. */
function getDefaultQerrorsCoreDeps() {
  if (!defaultDeps) defaultDeps = createQerrorsCoreDeps(require('../handler/qerrors'));
  return defaultDeps;
}

/** Alias of getDefaultQerrorsCoreDeps (the same object). */
function createDefaultErrorHandlingDeps() {
  return getDefaultQerrorsCoreDeps();
}

/** Forwards to `deps.qerrors(e, context, meta ?? {})`. */
async function qerr(e, context, meta = {}, deps = null) {
  return (deps || getDefaultQerrorsCoreDeps()).qerrors(e, context, meta ?? {});
}

/** The ErrorSeverity enum of the deps (not the severity of an error). */
function getErrorSeverity(deps = null) {
  return (deps || getDefaultQerrorsCoreDeps()).ErrorSeverity;
}

/**
 * Logs through `deps.logErrorWithSeverity`, or through `deps.qerrors` with the severity
 * merged into the context when the deps have none.
 * @param {{ error: unknown, functionName?: string, context?: object, severity?: string, deps?: object|null }} options
 */
async function logErrorWithSeverityDI({ error, functionName, context = {}, severity, deps = null }) {
  const d = deps || getDefaultQerrorsCoreDeps();
  if (d.logErrorWithSeverity) return d.logErrorWithSeverity(error, functionName, context, severity);
  return d.qerrors(error, functionName, { ...context, severity });
}

/** Returns the deps' withErrorHandling function itself. */
function withErrorHandlingDI(deps = null) {
  return (deps || getDefaultQerrorsCoreDeps()).withErrorHandling;
}

/** Drops the cached default deps. */
function resetDefaultQerrorsCoreDeps() {
  defaultDeps = null;
}

module.exports = {
  createQerrorsCoreDeps,
  createDefaultErrorHandlingDeps,
  getDefaultQerrorsCoreDeps,
  qerr,
  getErrorSeverity,
  logErrorWithSeverityDI,
  withErrorHandlingDI,
  resetDefaultQerrorsCoreDeps,
};
