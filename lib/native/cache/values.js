'use strict';

// Where a value lives. Strings and Buffers/TypedArrays (and, with `json: true`, JSON
// primitives, arrays and plain objects, as JSON text) are copied into native memory, off
// the V8 heap. Every other value (functions, class instances, symbols, numbers without
// `json`, ...) cannot be copied faithfully: it is kept by reference in a JS array indexed
// by the entry's slot, and the native entry holds a marker (`null`) with the same size,
// TTL and recency bookkeeping.

/**
 * Whether JSON keeps `value` whole: JSON primitives, arrays and plain objects.
 * @param {unknown} value
 */
function jsonable(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null || Array.isArray(value)) return true;
      const proto = Object.getPrototypeOf(value);
      return proto === Object.prototype || proto === null;
    }
    default:
      return false;
  }
}

/**
 * The native form of a value: a string or byte view to copy, or `null` when JS keeps
 * the value by reference.
 * @param {unknown} value
 * @param {boolean} json
 * @returns {string | ArrayBufferView | null}
 */
function toNative(value, json) {
  if (json) return jsonable(value) ? JSON.stringify(value) : null;
  if (typeof value === 'string') return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return value;
  return null;
}

/**
 * The value of an entry whose first load is in flight (see fetch.js): held by reference
 * like any JS value, it counts towards `size` and the bounds as lru-cache's placeholder
 * does, and reads as absent.
 */
const PENDING = Object.freeze({ pending: true });

module.exports = { toNative, PENDING };
