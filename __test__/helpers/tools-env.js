'use strict';

// Test helpers for the tools suites: scoped env vars, captured console output, a temp cwd and
// a fake clock for time-dependent code.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/**
 * Runs `fn` with `vars` applied to process.env (undefined deletes), restoring afterwards.
 * @param {Record<string, string|undefined>} vars
 * @param {() => any} fn
 */
async function withEnv(vars, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Captures console[method] calls while `fn` runs; returns { result, calls }.
 * @param {string[]} methods
 * @param {() => any} fn
 */
async function captureConsole(methods, fn) {
  const calls = [];
  const saved = {};
  for (const m of methods) {
    saved[m] = console[m];
    console[m] = (...args) => calls.push({ method: m, args });
  }
  try {
    const result = await fn();
    return { result, calls };
  } finally {
    for (const m of methods) console[m] = saved[m];
  }
}

// Temporary directories made by a suite are removed when its process exits.
const made = [];
process.on('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed at exit. */
function tempDir(prefix = 'qerrors-tools-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Runs `fn` with process.cwd() set to `dir`. */
async function inDir(dir, fn) {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(before);
  }
}

/**
 * A manual clock: `setTimeout` registers, `advance(ms)` fires what is due in time order.
 * `flush()` lets pending promise callbacks run.
 */
class FakeClock {
  constructor(start = 0) {
    this.t = start;
    this.timers = new Map();
    this.nextId = 1;
  }
  now() {
    return this.t;
  }
  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(id) {
    this.timers.delete(id);
  }
  get pending() {
    return this.timers.size;
  }
  async advance(ms) {
    const target = this.t + ms;
    for (;;) {
      await flush();
      let due = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= target && (due === null || timer.at < due[1].at)) due = [id, timer];
      }
      if (due === null) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = target;
    await flush();
  }
}

async function flush() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Temporarily replaces members of a real module with doubles; returns the function that puts
 * the originals back.
 * @param {object} mod
 * @param {Record<string, unknown>} members
 */
function patchModule(mod, members) {
  const saved = Object.keys(members).map((k) => [k, Object.getOwnPropertyDescriptor(mod, k)]);
  for (const [k, v] of Object.entries(members)) Object.defineProperty(mod, k, { value: v, writable: true, configurable: true, enumerable: true });
  return () => {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(mod, k, d);
      else delete mod[k];
    }
  };
}

module.exports = { patchModule, withEnv, captureConsole, tempDir, inDir, FakeClock, flush };
