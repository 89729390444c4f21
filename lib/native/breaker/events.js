'use strict';

// How a breaker tells the outside: its events (a throwing listener must not become a
// rejected call or an unhandled rejection) and the console lines of its state changes.

/**
 * Calls every listener of `name` with `args`; a listener that throws is reported to
 * `onError` and the others still run.
 * @param {import('node:events').EventEmitter} emitter
 * @param {string} name
 * @param {unknown[]} args
 * @param {(name: string, err: unknown) => void} onError
 */
function emitGuarded(emitter, name, args, onError) {
  for (const fn of emitter.rawListeners(name)) {
    try {
      Reflect.apply(fn, emitter, args);
    } catch (err) {
      onError(name, err);
    }
  }
}

/** The one warning a breaker gives for its listeners' exceptions. */
function warnListenerError(breakerName, event, err) {
  process.emitWarning(
    `circuit breaker "${breakerName}": a '${event}' listener threw (${err && err.message}); later listener errors of this breaker are ignored`,
    { code: 'QERRORS_BREAKER_LISTENER_ERROR' }
  );
}

/** One line about the breaker: through the logger (files, or the only output with QERRORS_LOG_FORMAT=json), else the console. */
function logLine(level, breakerName, text) {
  try {
    if (!require('../../logging/logger')._logBreakerEvent(level, breakerName, text)) console[level](`[CircuitBreaker] ${breakerName}: ${text}`);
  } catch {
    // A broken console must not break the breaker.
  }
}

/**
 * The console lines the original printed on state changes and timeouts.
 * @param {import('node:events').EventEmitter} breaker
 * @param {(level: 'log' | 'warn', text: string) => void} log
 */
function logStateChanges(breaker, log) {
  breaker.on('open', () => log('log', 'transitioning to OPEN'));
  breaker.on('halfOpen', () => log('log', 'transitioning to HALF_OPEN'));
  breaker.on('close', () => log('log', 'transitioning to CLOSED'));
  breaker.on('timeout', () => log('warn', 'operation timeout'));
}

module.exports = { emitGuarded, warnListenerError, logLine, logStateChanges };
