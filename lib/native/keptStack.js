'use strict';

// qerrors() reads an error's stack into Rust twice otherwise: the intake call redacts it
// (lib/native/ai.js `intake`), and the log entry would carry it to the log thread again
// (lib/logging/logThread.js). The intake keeps the redacted stack on the native side of this
// thread; this remembers which JavaScript string that is, so the entry can refer to it
// (`true` in place of the stack) instead of copying it a second time. Every intake replaces
// both, so a qerrors() call made from a hook in between (mapStatus, shouldLog) can never
// hand another call's stack to the log.

/** @type {string | null} the stack the native side keeps, as JavaScript has it */
let kept = null;

/** The intake's native call kept `stack` (redacted, before the custom patterns). */
function keep(stack) {
  kept = stack;
}

/** An intake began: whatever was kept before is no longer the native side's. */
function forget() {
  kept = null;
}

/**
 * True when `stack` is the one the native side keeps; the log entry then takes it from
 * there, once.
 * @param {string | undefined} stack
 */
function take(stack) {
  if (kept === null || stack !== kept) return false;
  kept = null;
  return true;
}

module.exports = { keep, forget, take };
