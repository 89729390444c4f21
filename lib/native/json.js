'use strict';

// The `json` namespace of `require('qerrors/native')`: parse, extract and stringify
// JSON without blocking the event loop on big payloads.
//
// parse/extract: the native side validates the bytes on the libuv pool (limits,
// positioned errors) and cuts big values out of the text there: strings of 16 KB or
// more, decoded to Latin-1/UTF-16, and arrays of 128 KB or more, split into ~32 KB JSON
// chunks. The main thread then runs JSON.parse on the remaining text (or nothing at all
// for an extracted string) and drops the big values back in, building big arrays a
// slice per event-loop turn. Building JS objects from Rust costs ~5x JSON.parse, so the
// object tree is always built by JSON.parse itself: numbers, key order, duplicate keys
// and `__proto__` keys come out exactly as JSON.parse makes them.
//
// stringify: a JS value graph can only be read on the main thread, so serializing runs
// there (see docs/json.md for the measurements): one JSON.stringify pass whose replacer
// turns cycles and BigInts into text, so getters and toJSON run once.

const native = require('./loader');
const { codedError } = require('../policy/errors');

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 128;
const MAX_DEPTH_CAP = 4096;
const CIRCULAR = '[Circular]';

const config = { concurrency: 2, maxQueue: 1024 };
const counters = { started: 0, completed: 0, rejectedQueueFull: 0, aborted: 0 };
let active = 0;
/** @type {Array<{ start: () => void, cancelled: boolean, queued: boolean } | undefined>} */
let queue = [];
let queueHead = 0;
/** Queued items not cancelled: what counts against maxQueue. */
let waiting = 0;

/**
 * @typedef {object} JsonOptions
 * @property {number} [maxBytes] input (or output, for stringify) size cap in UTF-8 bytes; default 16 MiB
 * @property {number} [maxDepth] nesting cap; default 128, at most 4096
 * @property {AbortSignal} [signal] rejects the promise with an AbortError when aborted
 */

/**
 * A bad option value for an error message, without running any of its code (a Symbol or
 * a null-prototype object cannot even be turned into a string).
 * @param {unknown} v
 */
function describe(v) {
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined || v === null) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return `a value of type ${typeof v}`;
}

/**
 * Reads and checks the options object.
 * @param {JsonOptions | undefined} options
 */
function readOptions(options) {
  if (options === undefined || options === null) {
    return { maxBytes: DEFAULT_MAX_BYTES, maxDepth: DEFAULT_MAX_DEPTH, signal: undefined };
  }
  if (typeof options !== 'object') {
    throw codedError(TypeError, 'ERR_QERRORS_JSON_OPTION', 'options must be an object');
  }
  const { maxBytes = DEFAULT_MAX_BYTES, maxDepth = DEFAULT_MAX_DEPTH, signal } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw codedError(RangeError, 'ERR_QERRORS_JSON_OPTION', `maxBytes must be a positive integer, got ${describe(maxBytes)}`);
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_DEPTH_CAP) {
    throw codedError(RangeError, 'ERR_QERRORS_JSON_OPTION', `maxDepth must be an integer from 1 to ${MAX_DEPTH_CAP}, got ${describe(maxDepth)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw codedError(TypeError, 'ERR_QERRORS_JSON_OPTION', 'signal must be an AbortSignal');
  }
  return { maxBytes, maxDepth, signal };
}

function limitError(message) {
  return codedError(RangeError, 'ERR_QERRORS_JSON_LIMIT', message);
}

/**
 * A string stays a string; any byte view becomes a Uint8Array over the same memory.
 * @param {unknown} input
 * @param {number} maxBytes
 * @returns {string | Uint8Array}
 */
function readInput(input, maxBytes) {
  let out;
  if (typeof input === 'string') {
    out = input;
  } else if (input instanceof Uint8Array) {
    out = input;
  } else if (ArrayBuffer.isView(input)) {
    out = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  } else if (input instanceof ArrayBuffer || input instanceof SharedArrayBuffer) {
    out = new Uint8Array(input);
  } else {
    throw codedError(TypeError, 'ERR_QERRORS_JSON_INPUT', 'input must be a string, a Buffer, a TypedArray, a DataView or an ArrayBuffer');
  }
  // A string has at least as many UTF-8 bytes as UTF-16 units: refuse before copying it.
  const size = typeof out === 'string' ? out.length : out.byteLength;
  if (size > maxBytes) {
    throw limitError(`JSON input of ${typeof out === 'string' ? 'at least ' : ''}${size} bytes exceeds maxBytes (${maxBytes})`);
  }
  return out;
}

/**
 * The input of a job that has to wait for a slot, as the caller passed it: bytes are
 * copied now, since the caller may change, transfer or detach its buffer before the job
 * starts (the native side copies them again when it starts, for the worker to own).
 * @param {string | Uint8Array} src
 */
function ownCopy(src) {
  return typeof src === 'string' ? src : new Uint8Array(src);
}

/**
 * @param {unknown} pointers
 * @returns {string[]}
 */
function readPointers(pointers) {
  const list = typeof pointers === 'string' ? [pointers] : pointers;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) {
    throw codedError(TypeError, 'ERR_QERRORS_JSON_POINTER', 'pointers must be a JSON pointer string or an array of them');
  }
  return list;
}

/** Builds the JS error for a native failure record `[1, kind, reason, line, column, offset]`. */
function failure(r) {
  const [, kind, reason, line, column, offset] = r;
  if (kind === 'panic') return codedError(Error, 'ERR_QERRORS_PANIC', reason);
  const where = kind === 'limit' && line === 1 && column === 1 && offset === 0 ? '' : ` at line ${line} column ${column} (offset ${offset})`;
  const err = kind === 'limit' ? limitError(reason + where) : codedError(SyntaxError, 'ERR_QERRORS_JSON_PARSE', reason + where);
  err.line = line;
  err.column = column;
  err.offset = offset;
  return err;
}

/**
 * Puts a big value back where JSON.parse left its sentinel and returns the root (the
 * value itself when the whole text was cut out). A value other than the sentinel means
 * a later duplicate key replaced it, exactly as in JSON.parse.
 */
function patch(root, sentinel, path, value) {
  if (path.length === 0) return root === sentinel ? value : root;
  let holder = root;
  const last = path.length - 1;
  for (let i = 0; i < last; i++) {
    if (holder === null || typeof holder !== 'object' || !Object.hasOwn(holder, path[i])) return root;
    holder = holder[path[i]];
  }
  if (holder !== null && typeof holder === 'object' && Object.hasOwn(holder, path[last]) && holder[path[last]] === sentinel) {
    holder[path[last]] = value;
  }
  return root;
}

/** Appends the elements of one chunk (the JSON text of an array) to `out`. */
function appendChunk(out, chunk) {
  const part = JSON.parse(chunk);
  for (let i = 0; i < part.length; i++) out.push(part[i]);
}

/**
 * Turns one prepared value (see src/binding/json.rs) into the JS value, in one go.
 * @param {undefined | null | string | Array<unknown>} p
 * @param {string | Uint8Array} input
 */
function materialize(p, input) {
  if (p === undefined || typeof p === 'string') return p;
  if (p === null) return JSON.parse(/** @type {string} */ (input));
  let root = JSON.parse(/** @type {string} */ (p[0]));
  for (let i = 1; i < p.length; i += 3) {
    let value = p[i + 2];
    if (typeof value !== 'string') {
      const chunks = value;
      value = [];
      for (const chunk of chunks) appendChunk(value, chunk);
    }
    root = patch(root, p[i], p[i + 1], value);
  }
  return root;
}

/** Main-thread time one turn of the event loop may spend building a big array. */
const SLICE_MS = 1;

function hasChunks(p) {
  if (!Array.isArray(p)) return false;
  for (let i = 3; i < p.length; i += 3) if (typeof p[i] !== 'string') return true;
  return false;
}

/**
 * `materialize`, except that big arrays (sent as chunks) are built a slice at a time,
 * yielding to the event loop between slices, so that no turn blocks for long.
 */
async function materializeSliced(p, input) {
  if (!hasChunks(p)) return materialize(p, input);
  let root = JSON.parse(/** @type {string} */ (p[0]));
  let sliceStart = performance.now();
  for (let i = 1; i < p.length; i += 3) {
    let value = p[i + 2];
    if (typeof value !== 'string') {
      const chunks = value;
      value = [];
      for (const chunk of chunks) {
        if (performance.now() - sliceStart >= SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
        appendChunk(value, chunk);
      }
    }
    root = patch(root, p[i], p[i + 1], value);
  }
  return root;
}

/** Decodes RFC 6901 reference tokens (for the rare fallback below). */
function pointerTokens(pointer) {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerGet(root, pointer) {
  let v = root;
  for (const t of pointerTokens(pointer)) {
    if (Array.isArray(v)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= v.length) return undefined;
      v = v[Number(t)];
    } else if (v !== null && typeof v === 'object' && Object.hasOwn(v, t)) {
      v = v[t];
    } else {
      return undefined;
    }
  }
  return v;
}

// Native results: [0, ...values], [1, ...failure], or [2] for a valid string input
// holding lone surrogates, which only the original string represents (then JS does it).

function finishParse(r, input, sliced) {
  if (r[0] === 1) throw failure(r);
  if (r[0] === 2) return JSON.parse(/** @type {string} */ (input));
  return sliced ? materializeSliced(r[1], input) : materialize(r[1], input);
}

function finishExtract(r, input, list, single, sliced) {
  if (r[0] === 1) throw failure(r);
  if (r[0] === 2) {
    const root = JSON.parse(/** @type {string} */ (input));
    const values = list.map((pointer) => pointerGet(root, pointer));
    return single ? values[0] : values;
  }
  if (sliced && r.some(hasChunks)) {
    return (async () => {
      const values = new Array(list.length);
      for (let i = 0; i < list.length; i++) values[i] = await materializeSliced(r[i + 1], input);
      return single ? values[0] : values;
    })();
  }
  const values = new Array(list.length);
  for (let i = 0; i < list.length; i++) values[i] = materialize(r[i + 1], input);
  return single ? values[0] : values;
}

function abortError(signal) {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

function startNext() {
  while (active < config.concurrency && queueHead < queue.length) {
    const item = queue[queueHead];
    queue[queueHead++] = undefined;
    if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue = queue.slice(queueHead);
      queueHead = 0;
    }
    if (!item.cancelled) {
      waiting--;
      item.start();
    }
  }
}

/**
 * Runs `work` (which returns a native promise) when a slot is free; at most
 * `config.concurrency` run at once, `config.maxQueue` wait.
 * @param {() => Promise<unknown>} work
 * @param {(raw: unknown) => unknown} finish
 * @param {AbortSignal | undefined} signal
 * @param {() => void} onQueued runs when the job has to wait for a slot
 */
function schedule(work, finish, signal, onQueued) {
  if (signal && signal.aborted) return Promise.reject(abortError(signal));
  if (active >= config.concurrency && waiting >= config.maxQueue) {
    counters.rejectedQueueFull++;
    return Promise.reject(codedError(Error, 'ERR_QERRORS_JSON_QUEUE_FULL', `too many JSON jobs waiting (maxQueue ${config.maxQueue})`));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const item = { cancelled: false, queued: false, start: undefined };
    const onAbort = () => {
      if (settled) return;
      settled = true;
      if (item.queued) {
        item.queued = false;
        item.cancelled = true;
        waiting--;
      }
      counters.aborted++;
      reject(abortError(/** @type {AbortSignal} */ (signal)));
    };
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    item.start = () => {
      item.queued = false;
      active++;
      counters.started++;
      let promise;
      try {
        promise = work();
      } catch (err) {
        promise = Promise.reject(err);
      }
      promise.then(
        (raw) => {
          if (settled) return;
          settled = true;
          try {
            resolve(finish(raw));
          } catch (err) {
            reject(err);
          }
        },
        (err) => {
          if (settled) return;
          settled = true;
          reject(err);
        }
      ).finally(() => {
        active--;
        counters.completed++;
        if (signal) signal.removeEventListener('abort', onAbort);
        startNext();
      });
    };
    if (active < config.concurrency) item.start();
    else {
      onQueued();
      item.queued = true;
      waiting++;
      queue.push(item);
    }
  });
}

/**
 * Parses JSON off the event loop; resolves with what `JSON.parse` returns.
 * @param {string | ArrayBufferView | ArrayBuffer} input UTF-8 bytes (copied when the job starts: the caller may reuse, transfer or detach its buffer at once) or a string
 * @param {JsonOptions} [options]
 * @returns {Promise<unknown>}
 */
function parseAsync(input, options) {
  try {
    const o = readOptions(options);
    let src = readInput(input, o.maxBytes);
    const own = () => {
      src = ownCopy(src);
    };
    return schedule(() => native.jsonParse(src, o.maxBytes, o.maxDepth), (r) => finishParse(r, src, true), o.signal, own);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `parseAsync` on the calling thread (for small inputs).
 * @param {string | ArrayBufferView | ArrayBuffer} input
 * @param {JsonOptions} [options]
 */
function parseSync(input, options) {
  const o = readOptions(options);
  const src = readInput(input, o.maxBytes);
  return finishParse(native.jsonParseSync(src, o.maxBytes, o.maxDepth), src, false);
}

/**
 * Resolves with the values RFC 6901 JSON pointers refer to (`undefined` where there is
 * none): one value for a pointer string, an array of values for an array of pointers.
 * The whole document is validated; only the requested values reach JS.
 * @param {string | ArrayBufferView | ArrayBuffer} input
 * @param {string | string[]} pointers e.g. '/choices/0/message/content'
 * @param {JsonOptions} [options]
 * @returns {Promise<unknown>}
 */
function extractAsync(input, pointers, options) {
  try {
    const o = readOptions(options);
    const list = readPointers(pointers);
    let src = readInput(input, o.maxBytes);
    const own = () => {
      src = ownCopy(src);
    };
    const single = typeof pointers === 'string';
    return schedule(() => native.jsonExtract(src, list, o.maxBytes, o.maxDepth), (r) => finishExtract(r, src, list, single, true), o.signal, own);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `extractAsync` on the calling thread.
 * @param {string | ArrayBufferView | ArrayBuffer} input
 * @param {string | string[]} pointers
 * @param {JsonOptions} [options]
 */
function extractSync(input, pointers, options) {
  const o = readOptions(options);
  const list = readPointers(pointers);
  const src = readInput(input, o.maxBytes);
  return finishExtract(native.jsonExtractSync(src, list, o.maxBytes, o.maxDepth), src, list, typeof pointers === 'string', false);
}

/**
 * The replacer that makes one `JSON.stringify` pass safe: a reference to an ancestor
 * becomes "[Circular]", a BigInt (or boxed BigInt) its decimal string, nesting deeper
 * than `maxDepth` or a text sure to pass `maxBytes` stops the pass. JSON.stringify
 * calls it after `toJSON`, with the holder as `this`, depth first, so the chain of
 * ancestors is the stack of objects it returned, cut back to the current holder.
 * One pass matters: getters and `toJSON` run once, as JSON.stringify runs them.
 * @param {number} maxBytes
 * @param {number} maxDepth
 */
function safeReplacer(maxBytes, maxDepth) {
  /** @type {object[]} */
  const stack = [];
  const ancestors = new Set();
  // A lower bound of the output in UTF-16 units (never more than its UTF-8 bytes):
  // strings in full plus one unit per other value, so a runaway text (a shared
  // reference repeated at every level) stops early instead of filling memory.
  let size = 0;
  return function replace(key, value) {
    if (typeof value === 'string') {
      size += value.length + 2;
    } else {
      size++;
      if (typeof value === 'bigint') value = value.toString();
      else if (value instanceof BigInt) value = BigInt.prototype.valueOf.call(value).toString();
    }
    if (size > maxBytes) throw limitError(`JSON output exceeds maxBytes (${maxBytes})`);
    if (value === null || typeof value !== 'object') return value;
    let top = stack.length - 1;
    while (top >= 0 && stack[top] !== this) ancestors.delete(stack[top--]);
    stack.length = top + 1;
    if (ancestors.has(value)) return CIRCULAR;
    if (stack.length >= maxDepth) throw limitError(`JSON nesting exceeds maxDepth (${maxDepth})`);
    stack.push(value);
    ancestors.add(value);
    return value;
  };
}

function checkOutputSize(text, maxBytes) {
  if (text !== undefined && text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes) {
    throw limitError(`JSON output exceeds maxBytes (${maxBytes})`);
  }
  return text;
}

/**
 * Like JSON.stringify(value) (same text for plain data, `undefined` for values it
 * skips), but never throws on cycles (an ancestor reference becomes "[Circular]") or
 * BigInt (written as its decimal string), and caps the output at `maxBytes` and the
 * nesting at `maxDepth`. One pass: getters and `toJSON` run once.
 * @param {unknown} value
 * @param {JsonOptions} [options]
 * @returns {string | undefined}
 */
function stringifySync(value, options) {
  const o = readOptions(options);
  let text;
  try {
    text = JSON.stringify(value, safeReplacer(o.maxBytes, o.maxDepth));
  } catch (err) {
    // RangeError: a string longer than V8 allows, or a stack overflow. Anything else
    // (a getter or toJSON throwing, our own limit errors) propagates unchanged.
    if (err instanceof RangeError && /Invalid string length|Maximum call stack/.test(err.message)) {
      throw Object.assign(limitError(`JSON output exceeds what JSON.stringify can build: ${err.message}`), { cause: err });
    }
    throw err;
  }
  return checkOutputSize(text, o.maxBytes);
}

/**
 * `stringifySync` as a promise, run from a later turn of the event loop. Serializing
 * reads the JS value graph, which only the main thread may do, so this does not move
 * the work off the main thread, and it takes no slot of the worker pool.
 * @param {unknown} value
 * @param {JsonOptions} [options]
 * @returns {Promise<string | undefined>}
 */
function stringifyAsync(value, options) {
  try {
    const o = readOptions(options);
    const limits = { maxBytes: o.maxBytes, maxDepth: o.maxDepth };
    if (o.signal && o.signal.aborted) return Promise.reject(abortError(o.signal));
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        if (o.signal && o.signal.aborted) {
          counters.aborted++;
          reject(abortError(o.signal));
          return;
        }
        try {
          resolve(stringifySync(value, limits));
        } catch (err) {
          reject(err);
        }
      });
    });
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Sets how many async jobs run at once (default 2; they share libuv's pool of 4 with
 * fs, dns, crypto and zlib) and how many may wait (default 1024; beyond it a call
 * rejects with ERR_QERRORS_JSON_QUEUE_FULL).
 * @param {{ concurrency?: number, maxQueue?: number }} options
 */
function configure(options) {
  if (options === null || typeof options !== 'object') {
    throw codedError(TypeError, 'ERR_QERRORS_JSON_OPTION', 'options must be an object');
  }
  const { concurrency = config.concurrency, maxQueue = config.maxQueue } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw codedError(RangeError, 'ERR_QERRORS_JSON_OPTION', 'concurrency must be an integer from 1 to 64');
  }
  if (!Number.isInteger(maxQueue) || maxQueue < 0 || maxQueue > 1_000_000) {
    throw codedError(RangeError, 'ERR_QERRORS_JSON_OPTION', 'maxQueue must be an integer from 0 to 1000000');
  }
  config.concurrency = concurrency;
  config.maxQueue = maxQueue;
  startNext();
}

/** Plain counters: jobs running and waiting, limits, totals. */
function stats() {
  return {
    active,
    queued: waiting,
    concurrency: config.concurrency,
    maxQueue: config.maxQueue,
    ...counters,
  };
}

module.exports = {
  parseAsync,
  parseSync,
  extractAsync,
  extractSync,
  stringifyAsync,
  stringifySync,
  configure,
  stats,
};
