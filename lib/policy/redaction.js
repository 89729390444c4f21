'use strict';

// Secret redaction for messages and context objects (spec §4).
//
// The rules are the same, in the same order and with the same replacement texts, as
// `crate::core::sanitize::redact` in Rust; the tests compare both on a shared corpus and
// on random inputs. Above NATIVE_MIN_LENGTH characters a string goes through the native
// pass (linear-time automata, measured faster there: benchmark/RESULTS.md, sanitize).
//
// Every JS pattern is written to run in linear time on any input: no pattern can
// restart a long scan from many positions of the same run. Where that needs an atomic
// group, it is emulated with `(?=(x+))\N` (a lookahead is atomic in JS); the
// lookbehinds used below only restate what the rest of the pattern already implies, so
// the leftmost-first matches equal those of the Rust patterns, which have no lookaround.
//
// Unlike the original, there is no keyword gate (it let `api_key=…`, `user_password=…`,
// bare e-mails and card numbers through). The pre-check below is exact: every rule
// needs one of its substrings, so skipping a string without any cannot miss a secret.

const GATE = /[@:=]|[0-9]{3}|bearer|sk-|gh[pousr]_|github_pat_|a[sk]ia|aiza|eyj|xox[abprs]-/i;

const KEYWORDS =
  'password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|cvv|cvc|ssn';

/** `key=value` with a sensitive key: keep the key and separator, replace the value. */
function credential(_match, lead, key, sep, value) {
  const q = value[0];
  if (q === '"' || q === "'") return `${lead}${key}${sep}${q}[REDACTED]${q}`;
  return `${lead}${key}${sep}[REDACTED]`;
}

// E-mail: `[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,}` (the Rust
// pattern). As one JS regex it would retry up to 64 starts before every '@' and scan
// 64 characters at every position of a long word; redactEmails finds the same
// leftmost-first matches from each '@' instead, in linear time.
const EMAIL_DOMAIN = /(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,}/y;

/** @param {number} c */
function isLocalChar(c) {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45
  );
}

/** @param {string} text */
function redactEmails(text) {
  let out = '';
  let last = 0;
  let matched = false;
  for (let at = text.indexOf('@'); at !== -1; ) {
    const min = Math.max(last, at - 64);
    let start = at;
    while (start > min && isLocalChar(text.charCodeAt(start - 1))) start--;
    if (start < at) {
      EMAIL_DOMAIN.lastIndex = at + 1;
      const m = EMAIL_DOMAIN.exec(text);
      if (m !== null) {
        out += `${text.slice(last, start)}[EMAIL-REDACTED]`;
        last = at + 1 + m[0].length;
        matched = true;
        at = text.indexOf('@', last);
        continue;
      }
    }
    at = text.indexOf('@', at + 1);
  }
  return matched ? out + text.slice(last) : text;
}

/**
 * Built-in rules in application order: [pattern, replacement, literal pre-check].
 * A rule whose pre-check is absent from the text cannot match and is skipped; a rule
 * without a pattern is a function of the whole text.
 * @type {Array<[RegExp | null, string | ((...a: string[]) => string), RegExp]>}
 */
const RULES = [
  [null, redactEmails, /@/],
  [/(\bbearer[ \t]+)[A-Za-z0-9._~+/-]+=*/gi, '$1[REDACTED]', /bearer/i],
  [
    // (^|non-key char) + the whole key run taken atomically + "it contains a keyword"
    // (a lookbehind, run once per key) + separator + value.
    new RegExp(
      `(^|[^A-Za-z0-9_-])(?=([A-Za-z0-9_-]+))\\2(?<=(?:${KEYWORDS})[A-Za-z0-9_-]*)(["']?[ \\t]*[:=][ \\t]*)` +
        `("(?:[^"\\\\\\n]|\\\\.)*"|'(?:[^'\\\\\\n]|\\\\.)*'|(?:(?:bearer|basic)[ \\t]+)?[^ \\t\\r\\n\\v\\f}]+)`,
      'gi'
    ),
    credential,
    /[:=]/,
  ],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, '[AWS-KEY-REDACTED]', /A[SK]IA/],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g, '[GITHUB-TOKEN-REDACTED]', /gh[pousr]_|github_pat_/],
  [/\bsk-[A-Za-z0-9_-]{20,}/g, '[OPENAI-KEY-REDACTED]', /sk-/],
  [/\bAIza[A-Za-z0-9_-]{35}/g, '[GOOGLE-KEY-REDACTED]', /AIza/],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, '[SLACK-TOKEN-REDACTED]', /xox/],
  [/(^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '$1[JWT-REDACTED]', /eyJ/],
  [/\b(?:[0-9]{4}[ -]?[0-9]{6}[ -]?[0-9]{5}|(?:[0-9]{4}[ -]?){3}[0-9]{4})\b/g, '[CARD-REDACTED]', /[0-9]{4}/],
  [/\b[0-9]{3}-?[0-9]{2}-?[0-9]{4}\b/g, '[SSN-REDACTED]', /[0-9]{3}/],
  [/(?:\+1[-. ]?)?(?:\([0-9]{3}\)|\b[0-9]{3})[-. ]?[0-9]{3}[-. ]?[0-9]{4}\b/g, '[PHONE-REDACTED]', /[0-9]{3}/],
];

/** Strings at least this long (UTF-16 units) are redacted natively; see benchmark/RESULTS.md, sanitize. */
const NATIVE_MIN_LENGTH = 64;

let nativeRedact;
/** Loads the addon on first use only: requiring qerrors does no native work. */
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

/**
 * The JS pass over a string (exported for the equivalence tests and the benchmark).
 * @param {string} text
 * @returns {string}
 */
function redactJs(text) {
  if (!GATE.test(text)) return text;
  let out = text;
  for (const [re, replacement, pre] of RULES) {
    if (!pre.test(out)) continue;
    out = re === null ? replacement(out) : out.replace(re, replacement);
  }
  return out;
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
 * Redacts a string: natively when it is long, through the cache of recent results.
 * @param {string} text
 * @returns {string}
 */
function redact(text) {
  if (text.length < NATIVE_MIN_LENGTH) return redactJs(text);
  const hit = redactCache.get(text);
  if (hit !== undefined) return hit;
  const native = loadNative();
  let out;
  if (native) {
    const r = native(text);
    out = r === null ? text : r;
  } else {
    out = redactJs(text);
  }
  remember(text, out);
  return out;
}

const RENDER_MAX_KEYS = 10;
const RENDER_MAX_LENGTH = 200;

/** Compact `{k:v}` rendering of objects used by sanitizeMessage (spec §4.1 step 1). */
function render(value, depth) {
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
 * Redacts secrets from a message (spec §4.1 with the [REIMPL] rules: no leaky keyword
 * gate). Objects are first rendered compactly as `{k:v,…}`.
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
  return text.length === 0 ? text : redact(text);
}

const SENSITIVE_KEYS = [
  'password',
  'token',
  'secret',
  'auth',
  'credential',
  'apikey',
  'api_key',
  'privatekey',
  'private_key',
  'ssn',
  'socialsecurity',
  'creditcard',
  'cardnumber',
  'cvv',
  'cvc',
  'pin',
  'accesscode',
];
const SENSITIVE_KEY_RE = new RegExp(SENSITIVE_KEYS.join('|'));

// Contexts repeat the same few keys; their verdicts are kept (bounded: cleared when full).
const KEY_VERDICTS_MAX = 1024;
const keyVerdicts = new Map();

/** @param {string} key */
function isSensitiveKey(key) {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SENSITIVE_KEY_RE.test(key.toLowerCase());
    if (keyVerdicts.size >= KEY_VERDICTS_MAX) keyVerdicts.clear();
    if (key.length <= 256) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/** Objects nest at most this deep in a sanitized context, whatever `maxDepth` says. */
const HARD_DEPTH = 10;
const MAX_ARRAY_ITEMS = 50;

function walk(value, level, maxDepth, arrayDepth, depth, ancestors) {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= HARD_DEPTH) return '[Depth-Limited]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const n = value.length;
      const out = [];
      for (let i = 0; i < n && i < MAX_ARRAY_ITEMS; i++) {
        const item = value[i];
        if (arrayDepth + 1 >= maxDepth) out.push('[Depth-Limited]');
        else if (typeof item === 'string') out.push(sanitizeMessage(item, level));
        else if (item !== null && typeof item === 'object') {
          out.push(walk(item, level, maxDepth, arrayDepth + 1, depth + 1, ancestors));
        } else out.push(item);
      }
      if (n > MAX_ARRAY_ITEMS) out.push(`... and ${n - MAX_ARRAY_ITEMS} more items`);
      return out;
    }
    const out = {};
    for (const key of Object.keys(value)) {
      let v;
      try {
        v = value[key];
      } catch {
        v = '[Unreadable]';
      }
      const sensitive = isSensitiveKey(key);
      let result;
      if (typeof v === 'string') result = sensitive ? '[REDACTED]' : sanitizeMessage(v, level);
      // Nested objects restart the array depth (as the original), but the hard depth
      // and the cycle check still apply.
      else if (v !== null && typeof v === 'object') result = walk(v, level, maxDepth, 0, depth + 1, ancestors);
      else result = v;
      // defineProperty: a key named __proto__ stays a plain own property.
      if (key === '__proto__') Object.defineProperty(out, key, { value: result, writable: true, enumerable: true, configurable: true });
      else out[key] = result;
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Returns a redacted copy of a context value (spec §4.2): sensitive keys' strings become
 * `[REDACTED]`, other strings go through sanitizeMessage, arrays are capped at 50 items.
 * Cyclic references become `[Circular]`; nesting is capped at 10 levels.
 * @param {unknown} context
 * @param {string} [level]
 * @param {number} [maxDepth] depth limit through arrays (default 3)
 * @param {number} [currentDepth]
 */
function sanitizeContext(context, level = 'INFO', maxDepth = 3, currentDepth = 0) {
  if (currentDepth >= maxDepth) return '[Depth-Limited]';
  if (!context || typeof context !== 'object') return context;
  return walk(context, level, maxDepth, currentDepth, 0, new Set());
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
    const err = new TypeError('addCustomSanitizationPattern: pattern must be a RegExp');
    err.code = 'ERR_QERRORS_INVALID_PATTERN';
    throw err;
  }
  if (typeof replacement !== 'string' && typeof replacement !== 'function') {
    const err = new TypeError('addCustomSanitizationPattern: replacement must be a string or a function');
    err.code = 'ERR_QERRORS_INVALID_PATTERN';
    throw err;
  }
  if (customPatterns.length >= MAX_CUSTOM_PATTERNS) {
    const err = new RangeError(`addCustomSanitizationPattern: at most ${MAX_CUSTOM_PATTERNS} patterns`);
    err.code = 'ERR_QERRORS_TOO_MANY_PATTERNS';
    throw err;
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

// The namespace's enumerable keys are exactly the measured two (spec §15.5); the three
// custom-pattern functions (the top-level exports) are reachable but not enumerable, as
// are the internals used by the tests and the benchmark.
module.exports = { sanitizeMessage, sanitizeContext };
Object.defineProperties(module.exports, {
  addCustomSanitizationPattern: { value: addCustomSanitizationPattern },
  clearCustomSanitizationPatterns: { value: clearCustomSanitizationPatterns },
  sanitizeWithCustomPatterns: { value: sanitizeWithCustomPatterns },
  _redactJs: { value: redactJs },
  _redact: { value: redact },
  _NATIVE_MIN_LENGTH: { value: NATIVE_MIN_LENGTH },
  _redactCacheStats: { value: () => ({ entries: redactCache.size, chars: redactCacheChars }) },
  _applyCustomPatterns: { value: applyCustomPatterns },
});
