'use strict';

// sanitizeContext walks a context with a budget: whatever a context holds (a 4 MB Buffer, a
// million keys, deep nesting, huge Maps and Sets, hostile proxies), the walk visits a bounded
// number of values and returns a bounded copy. The assertions are on work done (values
// visited, output size), not on time.

const test = require('node:test');
const assert = require('node:assert/strict');

const q = require('..');
const sanitization = require('../lib/policy/redaction');

const { sanitizeContext, sanitizeMessage } = q;
const counted = (ctx, ...rest) => sanitization._sanitizeContextCounted(ctx, ...rest);
const MAX_NODES = 2000;

test('Buffers, typed arrays and ArrayBuffers are summarised by size, never rendered', () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'password=hunter2 ');
  const r = counted({ body: big });
  assert.deepEqual(r.value, { body: '[Buffer 4194304 bytes]' });
  assert.equal(r.visited, 1);
  const small = Buffer.from('password=hunter2');
  const out = JSON.stringify(sanitizeContext({ raw: small, list: [small] }));
  assert.ok(!out.includes('hunter2') && !out.includes('104'), out);
  assert.equal(sanitizeMessage(small), '[Buffer 16 bytes]');
  const sab = new SharedArrayBuffer(12);
  assert.deepEqual(
    sanitizeContext({
      u8: new Uint8Array(16),
      f64: new Float64Array(2),
      big: new BigInt64Array(3),
      ab: new ArrayBuffer(8),
      dv: new DataView(new ArrayBuffer(5)),
      sab,
    }),
    {
      u8: '[Uint8Array 16 bytes]',
      f64: '[Float64Array 16 bytes]',
      big: '[BigInt64Array 24 bytes]',
      ab: '[ArrayBuffer 8 bytes]',
      dv: '[DataView 5 bytes]',
      sab: '[SharedArrayBuffer 12 bytes]',
    }
  );
});

test('a million keys, a million items, deep nesting: bounded visits and output', () => {
  const wide = {};
  for (let i = 0; i < 1e6; i++) wide[`k${i}`] = i;
  const r = counted({ wide });
  assert.ok(r.visited <= MAX_NODES, `visited ${r.visited}`);
  assert.equal(Object.keys(r.value.wide).length, 201);
  assert.equal(r.value.wide['...'], 'and 999800 more keys');

  const long = new Array(1e6).fill('token=abc');
  const a = counted({ long });
  assert.equal(a.value.long.length, 51);
  assert.equal(a.value.long[0], 'token=[REDACTED]');
  assert.ok(a.visited <= 51);

  let deep = { leaf: 'x' };
  for (let i = 0; i < 100000; i++) deep = { next: deep };
  const d = counted(deep, 'INFO', 3);
  assert.ok(d.visited <= 11, `visited ${d.visited}`);

  // Wide at every level (one shared object per level: 150^4 paths, little memory): the node
  // budget, not the per-object limits, stops it.
  let node = {};
  for (let i = 0; i < 150; i++) node[`k${i}`] = i;
  for (let level = 0; level < 3; level++) {
    const up = {};
    for (let i = 0; i < 150; i++) up[`k${i}`] = node;
    node = up;
  }
  const bushy = counted(node);
  assert.ok(bushy.visited <= MAX_NODES, `visited ${bushy.visited}`);
  assert.ok(JSON.stringify(bushy.value).length < 200000);
});

test('strings are cut to the budget without leaving half a token, then redacted', () => {
  const secret = `ghp_${'a'.repeat(36)}`;
  const text = `${'word '.repeat(1998)}${secret} ${'x'.repeat(1000)}`;
  const out = sanitizeContext({ text }).text;
  assert.ok(out.length < 10100, `length ${out.length}`);
  assert.ok(!out.includes('ghp_'), 'the token across the cut is dropped whole');
  assert.match(out, /\[\d+ more chars\]$/);
  const many = sanitizeContext({ list: Array.from({ length: 50 }, () => 'y'.repeat(10000)) });
  const total = many.list.reduce((n, s) => n + s.length, 0);
  assert.ok(total <= 100000 + 50 * 20, `total ${total}`);
  assert.ok(many.list.includes('[Truncated]'));
});

test('Maps and Sets are walked within the budget, with the same key vocabulary', () => {
  const m = new Map([
    ['password', 'p'],
    ['user', 'bob a@b.co'],
    [42, 'n'],
    [{ x: 1 }, 'o'],
  ]);
  assert.deepEqual(sanitizeContext({ m }), { m: { password: '[REDACTED]', user: 'bob [EMAIL-REDACTED]', 42: 'n', '[Object]': 'o' } });
  assert.deepEqual(sanitizeContext({ s: new Set(['token=abc', 1]) }), { s: ['token=[REDACTED]', 1] });
  const huge = new Map();
  for (let i = 0; i < 1e6; i++) huge.set(i, i);
  const r = counted({ huge });
  assert.ok(r.visited <= 201, `visited ${r.visited}`);
  assert.equal(r.value.huge['...'], 'and 999800 more entries');
  const hugeSet = new Set(Array.from({ length: 1e5 }, (_, i) => i));
  assert.equal(sanitizeContext({ hugeSet }).hugeSet.length, 51);
});

test('hostile values never make the walk throw', () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const trap = new Proxy(
    {},
    {
      ownKeys() {
        throw new Error('trap');
      },
    }
  );
  const getter = {
    get boom() {
      throw new Error('getter');
    },
  };
  assert.deepEqual(sanitizeContext({ proxy, trap, getter, ok: 1 }), { proxy: '[Unreadable]', trap: '[Unreadable]', getter: { boom: '[Unreadable]' }, ok: 1 });
});

test('qerrors() records, with a 4 MB Buffer in the context, only its size', async () => {
  (await q.logger).silent = true;
  const buf = Buffer.from(`password=hunter2 ${'z'.repeat(4 * 1024 * 1024 - 17)}`);
  const rec = await q.qerrors(new Error('upload failed'), { body: buf, route: '/upload' });
  assert.deepEqual(rec.context, { body: '[Buffer 4194304 bytes]', route: '/upload' });
});
