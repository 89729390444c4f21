'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const { randomUUID } = require('../lib/handler/randomId');
const native = require('../lib/native/loader');

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('v4 UUIDs, unique across many pool refills', () => {
  const seen = new Set();
  for (let i = 0; i < 50000; i++) {
    const id = randomUUID();
    assert.match(id, V4);
    seen.add(id);
  }
  assert.equal(seen.size, 50000);
});

test('every random hex digit takes every value at every position', () => {
  const counts = Array.from({ length: 32 }, () => new Array(16).fill(0));
  const n = 8000;
  for (let i = 0; i < n; i++) {
    const hex = randomUUID().replace(/-/g, '');
    for (let p = 0; p < 32; p++) counts[p][parseInt(hex[p], 16)]++;
  }
  for (let p = 0; p < 32; p++) {
    if (p === 12) assert.equal(counts[p][4], n, 'version nibble');
    else if (p === 16) assert.equal(counts[p][8] + counts[p][9] + counts[p][10] + counts[p][11], n, 'variant nibble');
    else for (let v = 0; v < 16; v++) assert.ok(counts[p][v] > n / 16 / 2 && counts[p][v] < (n / 16) * 2, `digit ${p} value ${v}: ${counts[p][v]}`);
  }
});

test('fillRandom fills the whole view and rejects what is not one', () => {
  const a = new Uint8Array(64);
  native.fillRandom(a);
  assert.ok(a.some((x) => x !== 0));
  const view = new Uint8Array(new ArrayBuffer(32), 8, 8);
  native.fillRandom(view);
  assert.deepEqual([...new Uint8Array(view.buffer, 0, 8)], new Array(8).fill(0), 'only the view is written');
  assert.throws(() => native.fillRandom('nope'));
});

test('without the addon the ids come from node:crypto', () => {
  const code = `
    const Module = require('module');
    const load = Module._load;
    Module._load = function (request, ...rest) {
      if (request === '../native/loader') throw new Error('no addon');
      return load.call(this, request, ...rest);
    };
    const { randomUUID } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'handler', 'randomId.js'))});
    console.log(randomUUID(), require.cache[require.resolve(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native', 'loader.js'))})] === undefined);
  `;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [id, noAddon] = r.stdout.trim().split(' ');
  assert.match(id, V4);
  assert.equal(noAddon, 'true');
});
