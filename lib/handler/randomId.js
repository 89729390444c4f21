'use strict';

// Random v4 UUIDs for handled errors, from a pool of the operating system's random bytes
// filled by the native addon 256 ids at a time. qerrors() makes one per error; with
// node:crypto the first error paid 3-7 ms to load it, and the addon is loaded by that
// error anyway. Without the addon the pool is filled by node:crypto.

const POOL_BYTES = 4096;

// Two hex digits per byte value.
const HEX = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

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
  return (
    HEX[b[o]] +
    HEX[b[o + 1]] +
    HEX[b[o + 2]] +
    HEX[b[o + 3]] +
    '-' +
    HEX[b[o + 4]] +
    HEX[b[o + 5]] +
    '-' +
    HEX[(b[o + 6] & 0x0f) | 0x40] +
    HEX[b[o + 7]] +
    '-' +
    HEX[(b[o + 8] & 0x3f) | 0x80] +
    HEX[b[o + 9]] +
    '-' +
    HEX[b[o + 10]] +
    HEX[b[o + 11]] +
    HEX[b[o + 12]] +
    HEX[b[o + 13]] +
    HEX[b[o + 14]] +
    HEX[b[o + 15]]
  );
}

module.exports = { randomUUID };
