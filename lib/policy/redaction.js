'use strict';

// The one redaction policy, for log lines, HTTP answers and AI prompts alike.
//
// Text rules: implemented once, in Rust (src/core/sanitize/rules.rs), and called here for
// every string through one native crossing (`sanitizeRedact`), behind a bounded cache of
// recent results (error storms repeat the same messages). There is no JS copy of the rules:
// measured, the crossing costs about what the JS regexes cost on short strings and less on
// long ones (docs/redaction.md, benchmark/sanitize.js), so a second copy bought nothing.
//
// Key names: one vocabulary, ./sensitive-keys.json, also compiled into the Rust rules (for
// `password=…` in text). A key is split into words at separators, camelCase humps and
// letter/digit changes and judged by whole words; the split is written here as well as in
// Rust (a crossing per key would cost more than the check) and the tests compare both.
//
// Contexts are walked with a budget (nodes, depth, characters): Buffers, typed arrays and
// ArrayBuffers are summarised by size, Maps and Sets are walked like objects and arrays, and
// nothing the context holds makes the walk visit more than MAX_NODES values.

const util = require('node:util');
const VOCABULARY = require('./sensitive-keys.json');
const { codedError } = require('./errors');

/** Replaces every string when the addon cannot be loaded: nothing unredacted gets out. */
const UNAVAILABLE = '[REDACTION-UNAVAILABLE]';

let nativeRedact;
/** The native pass, loaded on first use only (requiring qerrors does no native work). */
function loadNative() {
  if (nativeRedact === undefined) {
    try {
      nativeRedact = require('../native/loader').sanitizeRedact || null;
    } catch {
      nativeRedact = null;
    }
  }
  return nativeRedact;
}

// Error storms repeat the same messages and stack traces; redaction is a pure function of
// the string, so recent results are kept. Keys are compared by content (a Map hashes a
// string once, far cheaper than redacting it). Bounded by entry count and total size;
// the oldest entry goes first.
const CACHE_MAX_ENTRIES = 512;
const CACHE_MAX_CHARS = 2 * 1024 * 1024;
const CACHE_MAX_STRING = 64 * 1024;
const redactCache = new Map();
let redactCacheChars = 0;

function remember(text, out) {
  if (text.length > CACHE_MAX_STRING) return;
  const size = text.length + (out === text ? 0 : out.length);
  while (redactCache.size >= CACHE_MAX_ENTRIES || (redactCacheChars + size > CACHE_MAX_CHARS && redactCache.size > 0)) {
    const [oldKey, oldValue] = redactCache.entries().next().value;
    redactCache.delete(oldKey);
    redactCacheChars -= oldKey.length + (oldValue === oldKey ? 0 : oldValue.length);
  }
  redactCache.set(text, out);
  redactCacheChars += size;
}

/**
 * Redacts a string with the text rules, through the cache of recent results.
 * @param {string} text
 * @returns {string}
 */
function redact(text) {
  if (text.length === 0) return text;
  const hit = redactCache.get(text);
  if (hit !== undefined) return hit;
  const native = loadNative();
  if (!native) return UNAVAILABLE;
  const r = native(text);
  const out = r === null ? text : r;
  remember(text, out);
  return out;
}

// ---- the sensitive-key vocabulary ------------------------------------------------------

const PHRASES = VOCABULARY.phrases.map((p) => p.split(' '));
const SUFFIXES = VOCABULARY.suffixes;
const DESCRIBING = new Set(VOCABULARY.describing);

const isLower = (c) => c >= 97 && c <= 122;
const isUpper = (c) => c >= 65 && c <= 90;
const isDigit = (c) => c >= 48 && c <= 57;
const isAlnum = (c) => isLower(c) || isUpper(c) || isDigit(c);

/**
 * Splits a key into lowercase ASCII words: at every character that is not an ASCII letter
 * or digit, at camelCase humps (`apiKey`, `APIKey`) and where letters meet digits. The same
 * split as `split_words` in src/core/sanitize/keys.rs.
 * @param {string} key
 * @returns {string[]}
 */
function splitWords(key) {
  const words = [];
  let start = -1;
  for (let i = 0; i <= key.length; i++) {
    const c = i < key.length ? key.charCodeAt(i) : -1;
    if (!isAlnum(c)) {
      if (start >= 0) words.push(key.slice(start, i).toLowerCase());
      start = -1;
      continue;
    }
    if (start >= 0) {
      const prev = key.charCodeAt(i - 1);
      const next = i + 1 < key.length ? key.charCodeAt(i + 1) : -1;
      const boundary =
        (isLower(prev) && isUpper(c)) || isDigit(prev) !== isDigit(c) || (isUpper(prev) && isUpper(c) && isLower(next));
      if (boundary) {
        words.push(key.slice(start, i).toLowerCase());
        start = i;
      }
    } else start = i;
  }
  return words;
}

/** `word` is `listed` or its plural with `s`. */
function sameWord(word, listed) {
  return word === listed || (word.length === listed.length + 1 && word.endsWith('s') && word.startsWith(listed));
}

function endsWithSuffix(word) {
  for (const s of SUFFIXES) {
    if (word.endsWith(s) || (word.endsWith('s') && word.slice(0, -1).endsWith(s))) return true;
  }
  return false;
}

/**
 * Whether a key name is sensitive: its last word does not describe the secret (`token_type`),
 * and its words contain a phrase of the vocabulary or one of them ends with a suffix.
 * @param {string} key
 */
function judgeKey(key) {
  const words = splitWords(key);
  if (words.length > 1 && DESCRIBING.has(words[words.length - 1])) return false;
  for (const phrase of PHRASES) {
    for (let i = 0; i + phrase.length <= words.length; i++) {
      let all = true;
      for (let j = 0; j < phrase.length && all; j++) all = sameWord(words[i + j], phrase[j]);
      if (all) return true;
    }
  }
  return words.some(endsWithSuffix);
}

// Contexts repeat the same few keys; their verdicts are kept (bounded: cleared when full).
const KEY_VERDICTS_MAX = 1024;
const keyVerdicts = new Map();

/**
 * @param {string} key
 * @returns {boolean}
 */
function isSensitiveKey(key) {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = judgeKey(key);
    if (keyVerdicts.size >= KEY_VERDICTS_MAX) keyVerdicts.clear();
    if (key.length <= 256) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

// ---- binary values ----------------------------------------------------------------------

/**
 * `[Buffer 4194304 bytes]`, `[Uint8Array 16 bytes]`, `[ArrayBuffer 8 bytes]`, or undefined
 * for anything else. Bytes are never rendered: they can hold anything, secrets included.
 * @param {object} v
 */
function binarySummary(v) {
  const t = util.types;
  // Two checks for the common case, a plain object: views (Buffers, typed arrays,
  // DataViews) and buffers.
  const view = ArrayBuffer.isView(v);
  if (!view && !t.isAnyArrayBuffer(v)) return undefined;
  if (Buffer.isBuffer(v)) return `[Buffer ${v.length} bytes]`;
  const kind = t.isSharedArrayBuffer(v) ? 'SharedArrayBuffer' : t.isArrayBuffer(v) ? 'ArrayBuffer' : t.isDataView(v) ? 'DataView' : typedArrayName(v);
  return `[${kind} ${v.byteLength} bytes]`;
}

const TYPED_ARRAY_NAME = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
function typedArrayName(v) {
  return TYPED_ARRAY_NAME.call(v) || 'TypedArray';
}

const RENDER_MAX_KEYS = 10;
const RENDER_MAX_LENGTH = 200;

/** Compact `{k:v}` rendering of objects used by sanitizeMessage (its first step, as in the original). */
function render(value, depth) {
  const binary = binarySummary(value);
  if (binary !== undefined) return binary;
  if (depth >= 2) return '[Object]';
  let keys;
  try {
    keys = Object.keys(value);
  } catch {
    return '[Object]';
  }
  const parts = [];
  let more = false;
  for (let i = 0; i < keys.length; i++) {
    if (i === RENDER_MAX_KEYS) {
      more = true;
      break;
    }
    let v;
    try {
      v = value[keys[i]];
    } catch {
      v = '[Unreadable]';
    }
    parts.push(`${keys[i]}:${v !== null && typeof v === 'object' ? render(v, depth + 1) : safeString(v)}`);
  }
  return `{${parts.join(',')}${more ? '...' : ''}}`;
}

function safeString(v) {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * Redacts secrets from a message. Objects are first rendered compactly as `{k:v,…}`.
 * @param {unknown} message
 * @param {string} [level] unused, kept for compatibility
 * @returns {string}
 */
function sanitizeMessage(message, level = 'INFO') {
  let text;
  if (message === null || message === undefined) return '';
  if (typeof message === 'string') text = message;
  else if (typeof message === 'object') {
    text = render(message, 0);
    if (text.length > RENDER_MAX_LENGTH) text = `${text.slice(0, RENDER_MAX_LENGTH)}...`;
  } else text = safeString(message);
  return redact(text);
}

// ---- contexts ---------------------------------------------------------------------------

/** Objects nest at most this deep in a sanitized context, whatever `maxDepth` says. */
const HARD_DEPTH = 10;
/** Items of an array or Set, and keys of an object or Map, kept per container. */
const MAX_ARRAY_ITEMS = 50;
const MAX_OBJECT_KEYS = 200;
/** Values visited in one context, all containers together. */
const MAX_NODES = 2000;
/** Characters of one string value kept (then redacted), and of all of them together. */
const MAX_STRING = 10000;
const MAX_TOTAL_CHARS = 100000;

/** The walk's remaining budget and what it did (the tests read `visited`). */
class Budget {
  constructor() {
    this.nodes = MAX_NODES;
    this.chars = MAX_TOTAL_CHARS;
    this.visited = 0;
  }
}

/**
 * A string value, cut to the budget, then redacted. The cut drops the partial word at the
 * end, so half a token is never left for the rules to miss.
 */
function walkString(s, budget) {
  const room = Math.min(MAX_STRING, budget.chars);
  if (room <= 0) return '[Truncated]';
  let text = s;
  if (s.length > room) {
    let cut = room;
    const blank = s.slice(Math.max(0, room - 256), room).search(/\s\S*$/);
    if (blank >= 0) cut = Math.max(0, room - 256) + blank;
    text = `${s.slice(0, cut)} [${s.length - cut} more chars]`;
  }
  budget.chars -= text.length;
  return redact(text);
}

/** A value under a sensitive key: its content is not kept, whatever its type. */
function redactedValue(v) {
  if (v === null || v === undefined || typeof v === 'boolean') return v;
  return '[REDACTED]';
}

function walkValue(v, level, maxDepth, arrayDepth, depth, ancestors, budget) {
  if (typeof v === 'string') return walkString(v, budget);
  if (v !== null && typeof v === 'object') return walk(v, level, maxDepth, arrayDepth, depth, ancestors, budget);
  return v;
}

/** Sets a property, keeping a key named `__proto__` a plain own property. */
function put(out, key, value) {
  if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  else out[key] = value;
}

/** A Map's key as a string property name; objects are not rendered. */
function mapKey(k) {
  if (typeof k === 'string') return k.length > 256 ? `${k.slice(0, 256)}...` : k;
  if (k === null || (typeof k !== 'object' && typeof k !== 'function' && typeof k !== 'symbol')) return String(k);
  return typeof k === 'symbol' ? safeString(k) : '[Object]';
}

/** One entry of an object or Map into `out`: a sensitive key's value redacted, else walked. */
function putEntry(out, key, v, level, maxDepth, depth, ancestors, budget) {
  budget.nodes--;
  budget.visited++;
  put(out, key, isSensitiveKey(key) ? redactedValue(v) : walkValue(v, level, maxDepth, 0, depth + 1, ancestors, budget));
}

/**
 * An object's own enumerable entries, read one at a time (a getter that throws gives a
 * marker). A plain loop, not an iterator: contexts are small objects, walked on every
 * handled error.
 */
function walkObject(value, level, maxDepth, depth, ancestors, budget) {
  const keys = Object.keys(value);
  const out = {};
  let n = 0;
  for (; n < keys.length; n++) {
    if (n >= MAX_OBJECT_KEYS || budget.nodes <= 0) break;
    const key = keys[n];
    let v;
    try {
      v = value[key];
    } catch {
      v = '[Unreadable]';
    }
    putEntry(out, key, v, level, maxDepth, depth, ancestors, budget);
  }
  if (keys.length > n) put(out, '...', `and ${keys.length - n} more keys`);
  return out;
}

/** A Map's entries as an object's, keys made property names (`mapKey`). */
function walkMap(map, level, maxDepth, depth, ancestors, budget) {
  const out = {};
  let n = 0;
  for (const [k, v] of map) {
    if (n >= MAX_OBJECT_KEYS || budget.nodes <= 0) break;
    n++;
    putEntry(out, mapKey(k), v, level, maxDepth, depth, ancestors, budget);
  }
  if (map.size > n) put(out, '...', `and ${map.size - n} more entries`);
  return out;
}

/** One value of a context; a value that throws when looked at becomes a marker. */
function walk(value, level, maxDepth, arrayDepth, depth, ancestors, budget) {
  try {
    return walkNode(value, level, maxDepth, arrayDepth, depth, ancestors, budget);
  } catch {
    // A revoked Proxy, a throwing trap, getter or iterator: the value is left out.
    return '[Unreadable]';
  }
}

function walkNode(value, level, maxDepth, arrayDepth, depth, ancestors, budget) {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  const binary = binarySummary(value);
  if (binary !== undefined) return binary;
  if (ancestors.includes(value)) return '[Circular]';
  if (depth >= HARD_DEPTH) return '[Depth-Limited]';
  if (budget.nodes <= 0) return '[Truncated]';
  ancestors.push(value);
  try {
    if (Array.isArray(value) || util.types.isSet(value)) {
      const isSet = !Array.isArray(value);
      const n = isSet ? value.size : value.length;
      const out = [];
      let i = 0;
      for (const item of isSet ? value : arrayItems(value)) {
        if (i >= MAX_ARRAY_ITEMS || budget.nodes <= 0) break;
        budget.nodes--;
        budget.visited++;
        i++;
        if (arrayDepth + 1 >= maxDepth) out.push('[Depth-Limited]');
        else out.push(walkValue(item, level, maxDepth, arrayDepth + 1, depth + 1, ancestors, budget));
      }
      if (n > i) out.push(`... and ${n - i} more items`);
      return out;
    }
    if (util.types.isMap(value)) return walkMap(value, level, maxDepth, depth, ancestors, budget);
    // Nested objects restart the array depth (as the original), but the hard depth, the
    // cycle check and the budget still apply.
    return walkObject(value, level, maxDepth, depth, ancestors, budget);
  } finally {
    ancestors.pop();
  }
}

/** The first items of an array, read one at a time (holes read as undefined). */
function* arrayItems(arr) {
  const n = Math.min(arr.length, MAX_ARRAY_ITEMS);
  for (let i = 0; i < n; i++) {
    let item;
    try {
      item = arr[i];
    } catch {
      item = '[Unreadable]';
    }
    yield item;
  }
}

/**
 * Returns a redacted copy of a context value: values of sensitive keys become
 * `[REDACTED]`, strings go through the text rules, Buffers and typed arrays become
 * `[Buffer N bytes]`-style summaries, Maps become objects and Sets arrays. At most 50 items
 * per array or Set, 200 keys per object or Map, 2000 values, 10 levels, 10 000 characters
 * per string and 100 000 in all; past a limit a marker says what was left out. Cycles
 * become `[Circular]`. Never throws.
 * @param {unknown} context
 * @param {string} [level]
 * @param {number} [maxDepth] depth limit through arrays (default 3)
 * @param {number} [currentDepth]
 */
function sanitizeContext(context, level = 'INFO', maxDepth = 3, currentDepth = 0) {
  return sanitizeContextCounted(context, level, maxDepth, currentDepth).value;
}

/** sanitizeContext, and the number of values the walk visited (for the tests). */
function sanitizeContextCounted(context, level = 'INFO', maxDepth = 3, currentDepth = 0) {
  const budget = new Budget();
  if (currentDepth >= maxDepth) return { value: '[Depth-Limited]', visited: 0 };
  if (!context || typeof context !== 'object') return { value: context, visited: 0 };
  // The objects on the path from the root: at most HARD_DEPTH, so a short array beats a Set.
  return { value: walk(context, level, maxDepth, currentDepth, 0, [], budget), visited: budget.visited };
}

const MAX_CUSTOM_PATTERNS = 100;
/** @type {Array<{ pattern: RegExp, replacement: string | Function, description: string }>} */
const customPatterns = [];

/**
 * Registers an extra redaction applied by sanitizeWithCustomPatterns, in insertion order.
 * @param {RegExp} pattern
 * @param {string | ((match: string, ...rest: any[]) => string)} replacement
 * @param {string} [description]
 */
function addCustomSanitizationPattern(pattern, replacement, description = '') {
  if (!(pattern instanceof RegExp)) {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_PATTERN', 'addCustomSanitizationPattern: pattern must be a RegExp');
  }
  if (typeof replacement !== 'string' && typeof replacement !== 'function') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_PATTERN', 'addCustomSanitizationPattern: replacement must be a string or a function');
  }
  if (customPatterns.length >= MAX_CUSTOM_PATTERNS) {
    throw codedError(RangeError, 'ERR_QERRORS_TOO_MANY_PATTERNS', `addCustomSanitizationPattern: at most ${MAX_CUSTOM_PATTERNS} patterns`);
  }
  customPatterns.push({ pattern, replacement, description: String(description) });
}

/** Removes every custom pattern. */
function clearCustomSanitizationPatterns() {
  customPatterns.length = 0;
}

/**
 * sanitizeMessage, then every custom pattern with String.prototype.replace (JS RegExp
 * semantics, `$1` and function replacers included).
 * @param {unknown} message
 * @param {string} [level]
 */
function sanitizeWithCustomPatterns(message, level = 'INFO') {
  return applyCustomPatterns(sanitizeMessage(message, level));
}

/** True when a custom pattern is registered (`applyCustomPatterns` may change a text). */
function hasCustomPatterns() {
  return customPatterns.length > 0;
}

/** The custom patterns alone, on a string the built-in rules already redacted. */
function applyCustomPatterns(text) {
  let out = text;
  for (const { pattern, replacement } of customPatterns) {
    try {
      out = out.replace(pattern, replacement);
    } catch {
      // A throwing replacer must not break logging; the built-in pass already ran.
    }
  }
  return out;
}

// The namespace's enumerable keys are exactly the two the original has; the three
// custom-pattern functions (the top-level exports) are reachable but not enumerable, as
// are the internals used by the tests and the benchmark.
module.exports = { sanitizeMessage, sanitizeContext };
Object.defineProperties(module.exports, {
  addCustomSanitizationPattern: { value: addCustomSanitizationPattern },
  clearCustomSanitizationPatterns: { value: clearCustomSanitizationPatterns },
  sanitizeWithCustomPatterns: { value: sanitizeWithCustomPatterns },
  _redact: { value: redact },
  _isSensitiveKey: { value: isSensitiveKey },
  _splitWords: { value: splitWords },
  _sanitizeContextCounted: { value: sanitizeContextCounted },
  _redactCacheStats: { value: () => ({ entries: redactCache.size, chars: redactCacheChars }) },
  _applyCustomPatterns: { value: applyCustomPatterns },
  _hasCustomPatterns: { value: hasCustomPatterns },
});
