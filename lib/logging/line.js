'use strict';

// The text of a log line, written by qerrors itself instead of winston's formats.
//
// The main logger's files (and stdout with QERRORS_LOG_FORMAT=json) hold the lines of
// `format.combine(<the entry's ISO 8601 UTC timestamp, or now>, errors({ stack: true }),
// json())`, and its console `printf(consoleLine)` lines. Producing those through logform cost
// ~30-40 µs per entry in an error storm (a replacer call per value), most of what `qerrors()`
// cost (benchmark/RESULTS.md, error storm). The functions here produce the same bytes: the
// logger tests compare them with winston's formats on the same entries.

// winston's info symbol for the formatted line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');

// The same "has elements" test the JSON format uses: typed arrays keep index order.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag).get;

/** @param {object} value */
function isTypedArrayWithEntries(value) {
  return typedArrayTag.call(value) !== undefined && value.length !== 0;
}

/**
 * Sorts keys in place by UTF-16 code units. Insertion sort: an object's keys are few and
 * usually sorted already.
 * @param {string[]} keys
 */
function sortKeys(keys) {
  if (keys.length > 200) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i;
    while (j !== 0 && keys[j - 1] > k) {
      keys[j] = keys[j - 1];
      j--;
    }
    keys[j] = k;
  }
  return keys;
}

/**
 * One value as deterministic JSON: object keys sorted, `toJSON` honoured, bigints as
 * strings, an object that contains itself as "[Circular]", non-finite numbers as null.
 * `undefined` for values JSON omits (undefined, functions, symbols).
 * @param {string} key
 * @param {any} parent
 * @param {object[]} stack the objects being serialized around this one
 * @returns {string | undefined}
 */
function valueJson(key, parent, stack) {
  let value = parent[key];
  if (typeof value === 'object' && value !== null && typeof value.toJSON === 'function') value = value.toJSON(key);
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (stack.includes(value)) return '"[Circular]"';
  stack.push(value);
  let out;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      const item = valueJson(String(i), value, stack);
      out += `${i === 0 ? '' : ','}${item === undefined ? 'null' : item}`;
    }
    out += ']';
  } else {
    let keys = Object.keys(value);
    if (!isTypedArrayWithEntries(value)) keys = sortKeys(keys);
    out = '{';
    let sep = '';
    for (const k of keys) {
      const item = valueJson(k, value, stack);
      if (item !== undefined) {
        out += `${sep}${JSON.stringify(k)}:${item}`;
        sep = ',';
      }
    }
    out += '}';
  }
  stack.pop();
  return out;
}

/** A sentinel: the value holds something only the slow path writes exactly. */
const SLOW = Symbol('slow');

/** True for a key JSON.stringify would move ahead of the others (an array index). */
function isIndexKey(k) {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(k) >>> 0) === k && k !== '4294967295';
}

/**
 * `value` itself when JSON.stringify writes it exactly as `valueJson` would (plain data,
 * keys already sorted), else a copy that it does write that way. Throws SLOW for index
 * keys and `__proto__` (a plain copy cannot hold them in sorted order).
 * @param {any} value
 * @param {string} key
 * @param {object[]} stack
 * @param {boolean} copy copy this object even when it is canonical already
 * @param {boolean} deep copy every object inside it too
 */
function canonical(value, key, stack, copy, deep) {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (typeof value.toJSON === 'function') {
    // JSON.stringify would call toJSON again on what it returns; valueJson does not.
    value = value.toJSON(key);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    copy = true;
  }
  if (stack.includes(value)) return '[Circular]';
  stack.push(value);
  let out = value;
  if (Array.isArray(value)) {
    if (copy) out = [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const c = canonical(item, String(i), stack, deep, deep);
      if ((c !== item || copy) && out === value) out = value.slice(0, i);
      if (out !== value) out.push(c);
    }
  } else {
    const keys = Object.keys(value);
    let sorted = true;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (isIndexKey(k) || k === '__proto__') throw SLOW;
      if (i > 0 && keys[i - 1] > k) sorted = false;
    }
    if (!sorted || copy || isTypedArrayWithEntries(value)) {
      out = {};
      for (const k of sorted ? keys : sortKeys(keys)) {
        const v = value[k];
        if (typeof v !== 'function') out[k] = canonical(v, k, stack, deep, deep);
      }
    } else {
      for (const k of keys) {
        const v = value[k];
        if (typeof v === 'object' && v !== null) {
          const c = canonical(v, k, stack, false, false);
          if (c !== v) {
            stack.pop();
            return canonical(value, key, stack, true, false);
          }
        } else if (typeof v === 'bigint' || (typeof v === 'function' && k === 'toJSON')) {
          stack.pop();
          return canonical(value, key, stack, true, false);
        }
      }
    }
  }
  stack.pop();
  return out;
}

/**
 * Deterministic JSON of a log entry, byte for byte what winston's `format.json()` writes:
 * object keys sorted, `toJSON` honoured, bigints as strings, an object inside itself as
 * "[Circular]". Entries are brought into a form JSON.stringify writes that way (usually
 * they are in it already, see `ownEntry` in lib/logging/entry.js) and written by it: three times faster than
 * walking them here.
 * @param {unknown} value
 * @returns {string | undefined}
 */
function stableJson(value) {
  try {
    return JSON.stringify(canonical(value, '', [], false, false));
  } catch (err) {
    if (err !== SLOW) throw err;
    return valueJson('', { '': value }, []);
  }
}

/**
 * A deep copy of `value` in the form JSON.stringify writes as `stableJson` does (keys
 * sorted, only JSON values), or null when that form cannot hold it (index keys).
 * @param {Record<string, unknown>} value
 * @returns {Record<string, unknown> | null}
 */
function snapshot(value) {
  try {
    return canonical(value, '', [], true, true);
  } catch (err) {
    if (err !== SLOW) throw err;
    return null;
  }
}

/**
 * `JSON.stringify(snapshot(value))` without the copy, for a value written at once (nothing
 * can change it before it is): undefined when `snapshot` would give null (index keys).
 * @param {unknown} value
 * @returns {string | undefined}
 */
function snapshotJson(value) {
  try {
    return JSON.stringify(canonical(value, '', [], false, false));
  } catch (err) {
    if (err !== SLOW) throw err;
    return undefined;
  }
}

/**
 * A new entry with the keys of `info` and `fields` in sorted order (the order the JSON line
 * is written in), `fields` winning.
 * @param {Record<string, unknown>} info
 * @param {Record<string, unknown>} fields
 */
function sortedEntry(info, fields) {
  const all = Object.assign({}, info, fields);
  const out = {};
  for (const k of sortKeys(Object.keys(all))) out[k] = all[k];
  return out;
}

/**
 * The JSON line of an entry, with its own ISO 8601 UTC `timestamp` (qerrors' entries carry
 * the time they were logged) or the current time when it has none.
 * @param {Record<string, unknown>} info
 * @param {boolean} [canonicalAlready] the entry is a `snapshot` already: write it as it is
 */
function fileLine(info, canonicalAlready = false) {
  if (typeof info.timestamp === 'string') return canonicalAlready ? JSON.stringify(info) : stableJson(info);
  info.timestamp = new Date().toISOString();
  try {
    return stableJson(info);
  } finally {
    delete info.timestamp;
  }
}

/** ` (error 1a2b…, request 7f…, GET /x -> 502)` for a handled error's entry, else ''. */
function errorSuffix(info) {
  const error = info.error;
  if (error === null || typeof error !== 'object' || typeof error.id !== 'string') return '';
  let out = ` (error ${error.id}`;
  if (typeof info.requestId === 'string') out += `, request ${info.requestId}`;
  if (typeof info.method === 'string' && typeof info.url === 'string') out += `, ${info.method} ${info.url} -> ${info.status}`;
  else if (info.status !== undefined) out += `, status ${info.status}`;
  return `${out})`;
}

/**
 * The console line of an entry: `<ISO time> <level>: <message>`, the error id, request id,
 * method, url and status of a handled error, an advice text, and the entry's `stack`, if any
 * (a handled error's stack is in its `error` field: the files have it, the console does not).
 * @param {Record<string, unknown>} info
 */
function consoleLine(info) {
  const time = typeof info.timestamp === 'string' ? info.timestamp : new Date().toISOString();
  const ctx = info.context;
  const advice = ctx !== null && typeof ctx === 'object' && typeof ctx.advice === 'string' ? `\n${ctx.advice}` : '';
  return `${time} ${info.level}: ${info.message}${errorSuffix(info)}${advice}${info.stack ? `\n${info.stack}` : ''}`;
}

module.exports = { stableJson, snapshot, snapshotJson, sortedEntry, fileLine, consoleLine, MESSAGE };
