'use strict';

// Differential fuzzing of the native JSON parser against V8's JSON.parse: a fixed seed and a
// fixed number of documents (valid ones, and the same with one edit), so the run is bounded
// and any failure reproduces. Both must accept and give deep-equal values (key order
// included), or both must reject. The large-budget fuzz targets are in src/core/fuzz.rs.

const test = require('node:test');
const assert = require('node:assert/strict');

const { parseSync, parseAsync } = require('../lib/native/json');

const ITERATIONS = 4000;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const STRINGS = ['', 'a', 'é', '\u{1F600}', '\\"', '\\\\', '\\n', '\\u0041', '\\ud800', '\\udc00x', '\\ud83d\\ude00', '__proto__', 'constructor', ' ', '\\/', '\\b\\f\\r\\t'];
const NUMBERS = ['0', '-0', '1', '-1', '0.5', '1e3', '1E-7', '1e400', '-1e400', '123456789012345678901234567890', '9007199254740993', '2.5e-324', '0.1', '1.7976931348623157e308'];

function value(r, depth) {
  const k = r() % (depth > 4 ? 5 : 8);
  switch (k) {
    case 0:
      return 'null';
    case 1:
      return r() % 2 ? 'true' : 'false';
    case 2:
    case 3:
      return NUMBERS[r() % NUMBERS.length];
    case 4:
      return `"${STRINGS[r() % STRINGS.length]}${STRINGS[r() % STRINGS.length]}"`;
    case 5:
    case 6: {
      const n = r() % 5;
      const items = [];
      for (let i = 0; i < n; i++) items.push(value(r, depth + 1));
      return `[${items.join(r() % 4 ? ',' : ' , ')}]`;
    }
    default: {
      const n = r() % 5;
      const items = [];
      // Repeated keys on purpose: the last one wins, at the first one's position.
      for (let i = 0; i < n; i++) items.push(`"${STRINGS[r() % 6]}":${value(r, depth + 1)}`);
      return `{${items.join(',')}}`;
    }
  }
}

const EDITS = ['', ',', ']', '}', '"', '\\', ':', '0', '-', '.', 'e', ' ', '\n', '\u0000', 'x', '[', '{', 'nul', 'tru'];

function mutate(r, text) {
  const at = r() % (text.length + 1);
  const cut = r() % 3;
  return text.slice(0, at) + EDITS[r() % EDITS.length] + text.slice(at + cut);
}

function outcome(fn, text) {
  try {
    return { ok: true, value: fn(text) };
  } catch (err) {
    return { ok: false, error: err };
  }
}

test(`native parse agrees with JSON.parse on ${ITERATIONS} generated documents and ${ITERATIONS} edited ones`, async () => {
  const r = rng(0x5eed1234);
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const valid = value(r, 0);
    for (const text of [valid, mutate(r, valid)]) {
      const want = outcome(JSON.parse, text);
      const got = outcome((t) => parseSync(t), text);
      assert.equal(got.ok, want.ok, `${JSON.stringify(text)}: native ${got.ok ? 'accepted' : `rejected (${got.error.message})`}`);
      if (want.ok) {
        assert.deepStrictEqual(got.value, want.value, JSON.stringify(text));
        assert.deepEqual(JSON.stringify(got.value), JSON.stringify(want.value), `key order of ${JSON.stringify(text)}`);
        accepted++;
      } else {
        assert.equal(got.error.name, 'SyntaxError', JSON.stringify(text));
        rejected++;
      }
    }
    // The async path on a sample, from bytes.
    if (i % 200 === 0) {
      const bytes = Buffer.from(valid);
      assert.deepStrictEqual(await parseAsync(bytes), JSON.parse(valid), valid);
    }
  }
  assert.ok(accepted > ITERATIONS / 2 && rejected > ITERATIONS / 4, `both outcomes exercised (${accepted} accepted, ${rejected} rejected)`);
});
