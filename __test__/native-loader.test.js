'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

test('the addon loads and reports the package version', () => {
  const native = require('../native');
  assert.equal(native.nativeVersion(), require('../package.json').version);
});

test('a missing addon gives one clear QERRORS_NATIVE_LOAD_FAILED error', () => {
  const missing = path.join(root, 'no-such-dir', 'qerrors.node');
  const r = spawnSync(
    process.execPath,
    ['-e', "try { require('./lib/native/loader') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, stack: e.stack, tried: e.tried })) }"],
    { cwd: root, encoding: 'utf8', env: { ...process.env, QERRORS_NATIVE_LIBRARY_PATH: missing } }
  );
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout);
  assert.equal(e.code, 'QERRORS_NATIVE_LOAD_FAILED');
  assert.deepEqual(e.tried, [missing]);
  assert.match(e.message, /cannot load its native addon/);
  assert.match(e.message, /npm rebuild qerrors/);
  assert.ok(e.message.includes(missing), 'names the path it tried');
  // One message, no chain of loader stack frames.
  assert.doesNotMatch(e.stack, /\n\s+at /);
});
