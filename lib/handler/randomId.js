'use strict';

// Random v4 UUIDs for handled errors, from a pool of the operating system's random bytes
// filled by the native addon 256 ids at a time. qerrors() makes one per error; with
// node:crypto the first error paid 3-7 ms to load it, and the addon is loaded by that
// error anyway. Without the addon the pool is filled by node:crypto.

const POOL_BYTES = 4096;

// The character codes of each byte value's two hex digits: byte b at 2b and 2b + 1. One
// `String.fromCharCode` call then makes the id as one flat string, where joining 20 pieces
// with `+` makes ~20 intermediate strings.
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const digits = b.toString(16).padStart(2, '0');
  HEX_CODES[2 * b] = digits.charCodeAt(0);
  HEX_CODES[2 * b + 1] = digits.charCodeAt(1);
}
const DASH = 0x2d;

/** The code of the first (high) hex digit of byte `b`. */
const hi = (b) => HEX_CODES[2 * b];
/** The code of the second (low) hex digit of byte `b`. */
const lo = (b) => HEX_CODES[2 * b + 1];

const pool = new Uint8Array(POOL_BYTES);
let offset = POOL_BYTES;
let fill = null;

/** The native filler, or node:crypto's when the addon cannot load. */
function filler() {
  if (fill === null) {
    let native = null;
    try {
      native = require('../native/loader').fillRandom;
    } catch {
      native = null;
    }
    fill = typeof native === 'function' ? native : require('node:crypto').randomFillSync;
  }
  return fill;
}

/**
 * A random version 4 UUID (36 lowercase characters with dashes), as crypto.randomUUID().
 * @returns {string}
 */
function randomUUID() {
  if (offset + 16 > POOL_BYTES) {
    filler()(pool);
    offset = 0;
  }
  const b = pool;
  const o = offset;
  offset += 16;
  // RFC 4122 version 4: the version nibble 4 and the variant bits 10.
  const v = (b[o + 6] & 0x0f) | 0x40;
  const r = (b[o + 8] & 0x3f) | 0x80;
  return String.fromCharCode(
    hi(b[o]), lo(b[o]), hi(b[o + 1]), lo(b[o + 1]), hi(b[o + 2]), lo(b[o + 2]), hi(b[o + 3]), lo(b[o + 3]), DASH,
    hi(b[o + 4]), lo(b[o + 4]), hi(b[o + 5]), lo(b[o + 5]), DASH,
    hi(v), lo(v), hi(b[o + 7]), lo(b[o + 7]), DASH,
    hi(r), lo(r), hi(b[o + 9]), lo(b[o + 9]), DASH,
    hi(b[o + 10]), lo(b[o + 10]), hi(b[o + 11]), lo(b[o + 11]), hi(b[o + 12]), lo(b[o + 12]),
    hi(b[o + 13]), lo(b[o + 13]), hi(b[o + 14]), lo(b[o + 14]), hi(b[o + 15]), lo(b[o + 15])
  );
}

module.exports = { randomUUID };
