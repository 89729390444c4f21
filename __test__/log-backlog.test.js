'use strict';

// The log backlog stays bounded when the caller never yields to the event loop (a batch
// job awaiting qerrors() per record), in every rotation mode: size rotation, daily
// rotation (winston-daily-rotate-file) and none. Each mode runs in a child process that
// offers ~80 MB of log lines in one turn, then checks counts: bytes the writer holds
// unwritten, entries queued, entries dropped, and one "falling behind" report.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');

const CHILD = `
const { FileSink, DEFAULT_MAX_BACKLOG, DEFAULT_MAX_TURN_BYTES } = require('./lib/logging/fileSink');
const { RotatingFile } = require('./lib/logging/rotatingFile');
const MESSAGE = Symbol.for('message');
const [mode, dir] = process.argv.slice(1);
const BATCHES = 200;
const LINES = 1024;
const line = JSON.stringify({ level: 'error', message: 'record failed '.padEnd(380, 'x') });
const text = Array(LINES).fill(line).join('\\n');
let inner = null;
let handed = 0;
const sink = new FileSink(() => {
  if (mode === 'daily') {
    const DailyRotateFile = require('winston-daily-rotate-file');
    inner = new DailyRotateFile({ dirname: dir, filename: 'combined-%DATE%.log', datePattern: 'YYYY-MM-DD', maxFiles: '2d', maxSize: '1024k' });
  } else {
    inner = new RotatingFile({ dirname: dir, filename: 'combined.log', maxsize: mode === 'size' ? 1048576 : 0, maxFiles: 3 });
  }
  const log = inner.log.bind(inner);
  inner.log = (info, cb) => {
    handed += info[MESSAGE].length;
    return log(info, cb);
  };
  return inner;
});
const before = process.memoryUsage().arrayBuffers;
for (let i = 0; i < BATCHES; i++) sink.write({ [MESSAGE]: text }, LINES);
const grown = process.memoryUsage().arrayBuffers - before;
const result = {
  offered: BATCHES * LINES,
  handedBytes: handed,
  pendingBytes: mode === 'daily' ? null : inner.pendingBytes(),
  queued: sink.queuedEntries,
  dropped: sink.dropped,
  grownMB: grown / 1048576,
  maxBacklog: DEFAULT_MAX_BACKLOG,
  maxTurnBytes: DEFAULT_MAX_TURN_BYTES,
  chunkBytes: text.length + 1,
};
// Then let the loop run: the queue goes out and the drops are reported once more, as a total.
const done = setInterval(() => {
  if (sink.queuedEntries === 0 && !sink.waiting && (mode === 'daily' || inner.pendingBytes() === 0)) {
    clearInterval(done);
    sink.close();
    console.log(JSON.stringify(result));
  }
}, 20);
`;

for (const mode of ['size', 'daily', 'none']) {
  test(`log backlog is bounded with ${mode} rotation when the caller never yields; drops counted and reported once`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `qerrors-backlog-${mode}-`));
    try {
      const r = spawnSync(process.execPath, ['-e', CHILD, mode, dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout.trim());
      // Handed to the writer within the turn: the turn budget plus the entry that crossed it.
      assert.ok(res.handedBytes <= res.maxTurnBytes + res.chunkBytes, `handed ${res.handedBytes} bytes in one turn`);
      if (res.pendingBytes !== null) {
        // Unwritten bytes over every stream, rotated-out ones included: the 1 MiB stream
        // threshold plus the line batch that crossed it.
        assert.ok(res.pendingBytes <= 1048576 + res.chunkBytes, `pending ${res.pendingBytes} bytes`);
      }
      assert.ok(res.queued <= res.maxBacklog, `queued ${res.queued}`);
      assert.ok(res.dropped > 0 && res.dropped < res.offered, `dropped ${res.dropped}`);
      assert.ok(res.grownMB < 32, `ArrayBuffers grew ${res.grownMB.toFixed(1)} MB for ${(res.offered * 381 / 1048576).toFixed(0)} MB offered`);
      const reports = r.stderr.split('\n').filter((l) => l.startsWith('qerrors:'));
      assert.deepEqual(reports, [
        'qerrors: the log file is falling behind; entries beyond 10000 waiting are dropped',
        `qerrors: the log file caught up; ${res.dropped} entries were dropped`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
