'use strict';

// json.parseAsync/extractAsync own their input: the caller may transfer or detach its
// buffer while the job runs (or waits for a slot) without crashing the process, and the
// answer is that of the bytes as they were at the call. stringify runs getters once.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { json } = require('../native');

const ROOT = path.resolve(__dirname, '..');

// Each mode runs 4 times in its own child process: a use-after-free shows as a signal
// (exit 139), not as a failed assertion.
const CHILD = `
const { json } = require('./native');
const { MessageChannel } = require('node:worker_threads');
const mode = process.argv[1];
const items = Array.from({ length: 120000 }, (_, i) => ({ id: i, name: 'item ' + i, tags: ['x', 'y'], v: i / 7 }));
const text = JSON.stringify({ items, tail: 'end' });
const expected = JSON.stringify(JSON.parse(text));
function bytes() {
  const u8 = new Uint8Array(Buffer.byteLength(text));
  new TextEncoder().encodeInto(text, u8);
  return u8;
}
function detach(u8) {
  if (mode === 'postMessage') {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(u8.buffer, [u8.buffer]);
    port1.close();
    port2.close();
  } else {
    structuredClone(u8.buffer, { transfer: [u8.buffer] });
  }
  if (u8.byteLength !== 0) throw new Error('the buffer was not detached');
  // Free the transferred memory and reuse it, so a reader of the old pages would crash
  // or read garbage.
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    new Uint8Array(u8.buffer.byteLength + text.length).fill(0x5b);
  }
}
(async () => {
  for (let run = 0; run < 4; run++) {
    let jobs = [];
    if (mode === 'queued') {
      json.configure({ concurrency: 1 });
      jobs.push(json.parseAsync(bytes()));
    }
    const u8 = bytes();
    const job = mode === 'extract' ? json.extractAsync(u8, '/tail') : json.parseAsync(u8);
    detach(u8);
    try {
      const value = await job;
      const got = mode === 'extract' ? value : JSON.stringify(value);
      if (got !== (mode === 'extract' ? 'end' : expected)) throw new Error('wrong result in run ' + run);
      console.log('ok');
    } catch (err) {
      if (!/^ERR_QERRORS_/.test(err.code)) throw err;
      console.log('coded ' + err.code);
    }
    await Promise.all(jobs);
  }
})().catch((err) => { console.error(err); process.exit(2); });
`;

for (const mode of ['structuredClone', 'postMessage', 'extract', 'queued']) {
  test(`parseAsync input detached mid-job (${mode}): no crash, the answer of the bytes at the call`, () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD, mode], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    // The native side copies the bytes, so every run gives the right value, not just a
    // coded error.
    assert.deepEqual(r.stdout.trim().split('\n'), ['ok', 'ok', 'ok', 'ok'], r.stderr);
  });
}

test('parseAsync answers with the bytes as they were at the call, even if changed at once', async () => {
  const buf = Buffer.from('{"a":[1,2,3]}');
  const job = json.parseAsync(buf);
  buf.fill(0x20);
  assert.deepEqual(await job, { a: [1, 2, 3] });
});

test('stringify runs getters and toJSON once, also when the value holds a BigInt or a cycle', async () => {
  for (const extra of [{}, { big: 10n }, 'cycle']) {
    let getterRuns = 0;
    let toJSONRuns = 0;
    const iterator = [1, 2, 3][Symbol.iterator]();
    const value = {
      get next() {
        getterRuns++;
        return iterator.next().value;
      },
      when: {
        toJSON() {
          toJSONRuns++;
          return 'then';
        },
      },
      ...(extra === 'cycle' ? {} : extra),
    };
    if (extra === 'cycle') value.self = value;
    const text = await json.stringifyAsync(value);
    assert.equal(getterRuns, 1, `getter runs with ${JSON.stringify(String(Object.keys(extra)))}`);
    assert.equal(toJSONRuns, 1);
    const parsed = JSON.parse(/** @type {string} */ (text));
    assert.equal(parsed.next, 1, 'the first value the iterator gave');
    assert.equal(parsed.when, 'then');
    if (extra === 'cycle') assert.equal(parsed.self, '[Circular]');
    else if ('big' in extra) assert.equal(parsed.big, '10');
  }
});

test('stringify stops early on a text sure to pass maxBytes (a shared reference at every level)', () => {
  let v = /** @type {unknown} */ ('x'.repeat(64));
  for (let i = 0; i < 40; i++) v = [v, v];
  assert.throws(() => json.stringifySync(v, { maxBytes: 1_000_000 }), (e) => e instanceof RangeError && e.code === 'ERR_QERRORS_JSON_LIMIT');
});
