'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { RotatingFile } = require('../lib/logging/rotatingFile');

const MESSAGE = Symbol.for('message');
const entry = (n) => ({ [MESSAGE]: JSON.stringify({ n, pad: 'x'.repeat(40) }) });

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-rotating-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function closed(file) {
  return new Promise((resolve) => file.stream.once('finish', resolve));
}

const lines = (f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n);

test('creates its directory, appends JSON lines and keeps an existing file', async (t) => {
  const dir = path.join(tmpdir(t), 'a', 'b');
  const f = new RotatingFile({ dirname: dir, filename: 'combined.log', maxsize: 0, maxFiles: 5, eol: '\n' });
  for (let n = 1; n <= 3; n++) f.log(entry(n), () => {});
  f.close();
  await closed(f);
  const again = new RotatingFile({ dirname: dir, filename: 'combined.log', maxsize: 0, maxFiles: 5, eol: '\n' });
  assert.equal(again.size, fs.statSync(path.join(dir, 'combined.log')).size, 'size continues from the file');
  again.log(entry(4), () => {});
  again.close();
  await closed(again);
  assert.deepEqual(lines(path.join(dir, 'combined.log')), [1, 2, 3, 4]);
});

test('rotates by size, tailable: newest in name.log, at most maxFiles files, nothing lost in between', async (t) => {
  const dir = tmpdir(t);
  const lineBytes = Buffer.byteLength(`${entry(10)[MESSAGE]}\n`);
  const f = new RotatingFile({ dirname: dir, filename: 'error.log', maxsize: lineBytes * 3, maxFiles: 3, eol: '\n' });
  const old = [];
  for (let n = 10; n < 30; n++) {
    const before = f.stream;
    f.log(entry(n), () => {});
    if (f.stream !== before) old.push(before);
  }
  f.close();
  await Promise.all([closed(f), ...old.map((s) => new Promise((r) => (s.writableFinished ? r() : s.once('finish', r))))]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['error.log', 'error1.log', 'error2.log']);
  // 20 lines, 3 per file: the last 2 in error.log, the 3 before in error1.log, then error2.log.
  assert.deepEqual(lines(path.join(dir, 'error.log')), [28, 29]);
  assert.deepEqual(lines(path.join(dir, 'error1.log')), [25, 26, 27]);
  assert.deepEqual(lines(path.join(dir, 'error2.log')), [22, 23, 24]);
});

test('maxFiles 1 keeps only the live file', async (t) => {
  const dir = tmpdir(t);
  const lineBytes = Buffer.byteLength(`${entry(1)[MESSAGE]}\n`);
  const f = new RotatingFile({ dirname: dir, filename: 'c.log', maxsize: lineBytes * 2, maxFiles: 1, eol: '\n' });
  for (let n = 1; n <= 5; n++) f.log(entry(n), () => {});
  f.close();
  await closed(f);
  assert.deepEqual(fs.readdirSync(dir), ['c.log']);
  assert.deepEqual(lines(path.join(dir, 'c.log')), [5]);
});

test('a full stream buffer sets _drain and calls back on the drain', async (t) => {
  const dir = tmpdir(t);
  const f = new RotatingFile({ dirname: dir, filename: 'd.log', maxsize: 0, maxFiles: 1, eol: '\n', highWaterMark: 16 });
  let called = false;
  f.log(entry(1), () => {
    called = true;
  });
  assert.equal(f._drain, true, 'a 60-byte line fills a 16-byte buffer');
  assert.equal(called, false);
  await new Promise((resolve) => f.stream.once('drain', () => setImmediate(resolve)));
  assert.equal(called, true);
  assert.equal(f._drain, false);
  f.close();
  await closed(f);
});

test('an unwritable directory is reported as an error event, not thrown later', async (t) => {
  const dir = tmpdir(t);
  const blocker = path.join(dir, 'file');
  fs.writeFileSync(blocker, '');
  assert.throws(() => new RotatingFile({ dirname: path.join(blocker, 'sub'), filename: 'x.log', maxsize: 0, maxFiles: 1 }), { code: 'ENOTDIR' });
});

test('a chunk of several lines is split between lines at the size limit', async (t) => {
  const dir = tmpdir(t);
  const lineBytes = Buffer.byteLength(`${entry(10)[MESSAGE]}\n`);
  const f = new RotatingFile({ dirname: dir, filename: 'combined.log', maxsize: lineBytes * 4, maxFiles: 5, eol: '\n' });
  const old = [];
  const chunk = (from, to) => ({ [MESSAGE]: Array.from({ length: to - from }, (_, i) => entry(from + i)[MESSAGE]).join('\n') });
  for (const [from, to] of [
    [0, 3],
    [3, 9],
    [9, 10],
  ]) {
    const before = f.stream;
    f.log(chunk(from, to), () => {});
    if (f.stream !== before) old.push(before);
  }
  f.close();
  await Promise.all([closed(f), ...old.map((s) => new Promise((r) => (s.writableFinished ? r() : s.once('finish', r))))]);
  // 10 lines, 4 per file, no line split: 0-3, 4-7, then 8-9 in the live file.
  assert.deepEqual(lines(path.join(dir, 'combined2.log')), [0, 1, 2, 3]);
  assert.deepEqual(lines(path.join(dir, 'combined1.log')), [4, 5, 6, 7]);
  assert.deepEqual(lines(path.join(dir, 'combined.log')), [8, 9]);
  for (const name of ['combined2.log', 'combined1.log', 'combined.log']) {
    assert.ok(fs.statSync(path.join(dir, name)).size <= lineBytes * 4, name);
  }
});
