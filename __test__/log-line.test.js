'use strict';

// lib/logging/line.js writes the main logger's lines itself: they must be the bytes winston's
// formats write for the same entries.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const winston = require('winston');

const { stableJson, snapshot, sortedEntry, fileLine, consoleLine } = require('../lib/logging/line');
const { rng } = require('../benchmark/support');

const MESSAGE = Symbol.for('message');

// The formats changed deliberately from winston's `timestamp({ format: 'YYYY-MM-DD HH:mm:ss' })`
// (local time, no zone, no milliseconds) to ISO 8601 UTC with milliseconds: the entry's own
// time (when it was logged), or winston's `timestamp()` (now, ISO) for an entry without one.
const { format } = winston;
const isoUnlessSet = format((info) => (typeof info.timestamp === 'string' ? info : Object.assign(info, { timestamp: new Date().toISOString() })));
const fileFormat = format.combine(isoUnlessSet(), format.errors({ stack: true }), format.json());
const consoleFormat = format.combine(
  isoUnlessSet(),
  format.printf((info) => `${info.timestamp} ${info.level}: ${info.message}${info.stack ? `\n${info.stack}` : ''}`)
);

/** What winston's format writes for a copy of `info`. */
function winstonLine(fmt, info) {
  return fmt.transform(Object.assign({}, info), fmt.options)[MESSAGE];
}

/** Both sides run within one millisecond, or are compared again (an entry without a timestamp gets now). */
function sameLine(fmt, ours, info) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const a = winstonLine(fmt, info);
    const b = ours(info);
    if (a === b || attempt === 4) return assert.equal(b, a);
  }
}

class Point {
  constructor() {
    this.y = 2;
    this.x = 1;
  }
}

test('file lines equal winston json() on awkward entries', () => {
  const cyclic = { name: 'c' };
  cyclic.self = cyclic;
  const shared = { s: 1 };
  const entries = [
    { level: 'error', message: 'plain', b: 2, a: 1 },
    { message: 'strings', s: 'quote " backslash \\ nul \u0000 tab \t lone \ud800 pair \ud83d\ude00 é', long: 'x'.repeat(6000) + '\n' },
    { message: 'numbers', n: [NaN, Infinity, -Infinity, -0, 1e21, 0.1, 2 ** 53] },
    { message: 'omitted', u: undefined, f: () => 1, sym: Symbol('s'), arr: [undefined, () => 1, Symbol('t')] },
    { message: 'bigint', big: 12345678901234567890n, nested: { b: [1n] } },
    { message: 'toJSON', d: new Date(0), custom: { toJSON: (key) => ({ key, z: 1, a: { toJSON: () => 'inner' } }) } },
    { message: 'cyclic', cyclic, twice: [shared, shared] },
    { message: 'index keys', k: { 10: 'ten', 2: 'two', b: 'b', a: 'a' } },
    { message: 'typed', t: new Uint8Array([3, 1, 2]), empty: new Uint8Array(0) },
    { message: 'objects', m: new Map([[1, 2]]), p: new Point(), e: Object.assign(new Error('e'), { code: 'E1' }) },
    { message: 'proto key', o: JSON.parse('{"__proto__": {"x": 1}, "a": 2}') },
    { message: 'toJSON key', o: { b: 1, toJSON: undefined, a: 2 }, fn: { b: 1, a() {} } },
    {},
  ];
  for (const entry of entries) {
    sameLine(fileFormat, fileLine, entry);
    sameLine(fileFormat, fileLine, { ...entry, timestamp: '2026-12-03T21:00:00.123Z' });
  }
});

test('file lines equal winston json() on random entries', () => {
  const r = rng(7);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const keys = ['a', 'b', 'B', '_', 'z9', '0', '7', '10', 'é', 'key with space', 'level', 'message', 'timestamp'];
  const leaves = ['', 'text', 'line\nbreak', '\u0001', '\udfff', 0, -1.5, 1e300, NaN, true, false, null, undefined, 3n];
  const value = (depth) => {
    const roll = r();
    if (depth > 3 || roll < 0.5) return pick(leaves);
    if (roll < 0.7) return Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1));
    const o = {};
    for (let i = Math.floor(r() * 5); i > 0; i--) o[pick(keys)] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const entry = { level: 'info', message: `m${i}` };
    for (let k = Math.floor(r() * 6); k > 0; k--) entry[pick(keys)] = value(0);
    sameLine(fileFormat, fileLine, entry);
  }
});

test('console lines equal winston printf lines', () => {
  sameLine(consoleFormat, consoleLine, { level: 'error', message: 'Error: boom', stack: 'Error: boom\n    at x' });
  sameLine(consoleFormat, consoleLine, { level: 'info', message: 'hello' });
  sameLine(consoleFormat, consoleLine, { level: 'info', message: 'hello', timestamp: '2026-12-03T21:00:00.123Z' });
});

test('console lines of handled errors carry the error id, request id, method, url and status; advice its text', () => {
  const base = { timestamp: '2026-12-03T21:00:00.123Z', level: 'warn', message: 'ServiceError: User not found' };
  assert.equal(
    consoleLine({ ...base, error: { id: 'abc123def456', stack: 'not on the console' }, requestId: 'req-1', method: 'GET', url: '/users/1', status: 404 }),
    '2026-12-03T21:00:00.123Z warn: ServiceError: User not found (error abc123def456, request req-1, GET /users/1 -> 404)'
  );
  assert.equal(consoleLine({ ...base, error: { id: 'abc123def456' }, status: 500 }), '2026-12-03T21:00:00.123Z warn: ServiceError: User not found (error abc123def456, status 500)');
  assert.equal(
    consoleLine({ ...base, level: 'info', message: 'AI advice for error 0123', context: { advice: 'Check the pool size.' } }),
    '2026-12-03T21:00:00.123Z info: AI advice for error 0123\nCheck the pool size.'
  );
});

test('sortedEntry merges fields in the order the JSON line is written', () => {
  const e = sortedEntry({ timestamp: 't', level: 'warn', message: 'm' }, { status: 404, error: { id: 'x' }, url: '/a' });
  assert.deepEqual(Object.keys(e), ['error', 'level', 'message', 'status', 'timestamp', 'url']);
  assert.equal(JSON.stringify(e), stableJson(e));
});

test('fileLine leaves the entry as it was', () => {
  const entry = { timestamp: '2026-01-01T00:00:00.000Z', message: 'm' };
  fileLine(entry);
  assert.deepEqual(entry, { timestamp: '2026-01-01T00:00:00.000Z', message: 'm' });
});

test('snapshot: a deep copy that later changes do not reach, written the same', () => {
  const record = { id: 'x', context: { route: '/a', nested: { b: 1, a: 2 } }, stack: 's', big: 1n };
  const copy = snapshot(record);
  const before = stableJson(record);
  record.context.route = '/changed';
  record.context.nested.a = 3;
  delete record.stack;
  assert.equal(stableJson(copy), before);
  assert.deepEqual(Object.keys(copy), ['big', 'context', 'id', 'stack'], 'keys in the order they are written');
  assert.equal(JSON.stringify(copy), before, 'JSON.stringify writes the copy as stableJson does');
  assert.equal(snapshot({ b: { 1: 'one' }, a: 1 }), null, 'no copy when the sorted form cannot hold it');
});
