'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');

const DEMO = path.join(__dirname, '..', 'examples', 'demo.js');
const TIME_BOUND_MS = 20_000;

/** Runs the demo as a child; resolves with its exit code, output and wall time. */
function runDemo(args, extraEnv) {
  const env = { ...process.env, NODE_ENV: 'production' };
  // Offline advice unless a test asks for a (mock) provider: no dependence on the network.
  for (const k of ['OPENAI_API_KEY', 'GEMINI_API_KEY', 'QERRORS_AI_PROVIDER', 'QERRORS_OPENAI_URL', 'QERRORS_LOG_DIR']) delete env[k];
  Object.assign(env, extraEnv);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [DEMO, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Not a sleep: a kill switch so a hung demo fails the test instead of hanging the suite.
    const killer = setTimeout(() => child.kill('SIGKILL'), TIME_BOUND_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The lines of one section: from its heading to the next blank line. */
function section(text, heading) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `section "${heading}" is printed`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

function row(lines, label) {
  const l = lines.find((x) => x.trimStart().startsWith(label));
  assert.ok(l, `summary row "${label}"`);
  return l.trim().slice(label.length).trim();
}

test('the quick demo prints every section and exits 0 by itself', async () => {
  const r = await runDemo(['--quick']);
  assert.equal(r.signal, null, `the demo exited by itself (stderr: ${r.stderr})`);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.ms < TIME_BOUND_MS, `finished in ${r.ms} ms`);
  const out = r.stdout;

  assert.match(out, /qerrors demo — a shop API on http:\/\/127\.0\.0\.1:\d+, quick run/);
  assert.match(out, /AI advice: offline advisor/);
  assert.match(out, /\[#{24}\] 82\/82 requests/, 'the progress line reaches the end');

  const examples = section(out, 'Example responses');
  const jsonAt = examples.findIndex((l) => /\(Accept: application\/json\)\s+→\s+500/.test(l));
  const htmlAt = examples.findIndex((l) => /\(Accept: text\/html\)\s+→\s+\d{3}/.test(l));
  assert.ok(jsonAt >= 0 && htmlAt > jsonAt, 'one JSON and one HTML example');
  const body = JSON.parse(examples.slice(jsonAt + 1, htmlAt).join('\n'));
  // Production (NODE_ENV=production): the TypeError's message stays in the logs.
  assert.equal(body.error.message, 'Internal Server Error');
  assert.equal(body.error.code, 'INTERNAL_SERVER_ERROR');
  assert.match(body.error.id, /^[0-9a-f]{12}$/);
  assert.match(body.error.requestId, /^demo-\d+$/);
  assert.ok(examples.some((l) => l.includes('<!DOCTYPE html>')));

  const advice = section(out, 'Advice per error signature (offline advisor)');
  const rows = advice.filter((l) => /^ {2}[0-9a-f]{16} +\d+ +\d{3} /.test(l));
  const errors = rows.join('\n');
  for (const kind of ['TypeError', 'ECONNREFUSED', 'Breaker is open', 'ENOENT', 'SyntaxError', 'email is required', 'RangeError: Maximum call stack']) {
    assert.ok(errors.includes(kind), `a signature for ${kind}`);
  }
  assert.ok(advice.filter((l) => /^\s+→ \S/.test(l)).length >= rows.length, 'advice under every signature');
  assert.ok(!advice.some((l) => l.includes('(no advice yet)')));

  const summary = section(out, 'Summary');
  assert.match(row(summary, 'requests'), /^82 in [\d.]+ s .*429 [1-9]/);
  const handled = Number(row(summary, 'errors handled'));
  assert.ok(handled >= 35, `errors handled ${handled}`);
  assert.equal(row(summary, 'signatures'), `${rows.length} distinct`);
  assert.match(row(summary, 'qerrors() time'), /^mean [\d.]+ (ms|µs) +p50 .+ p99 /);
  const hit = /hit rate ([\d.]+)% +\((\d+) hits \/ (\d+) lookups\)/.exec(row(summary, 'advice cache'));
  assert.ok(hit, 'cache hit rate');
  assert.equal(Number(hit[3]), handled, 'one advice lookup per handled error');
  assert.equal(Number(hit[3]) - Number(hit[2]), rows.length, 'one miss per signature');
  assert.match(row(summary, 'provider calls'), /^0 \(offline/);
  assert.match(row(summary, 'breaker'), /^[1-9]\d* state changes: CLOSED → OPEN/);
  assert.match(row(summary, 'rate limiter'), /^[1-9]\d* rejected, [67] allowed/);
  assert.match(row(summary, 'event loop'), /^delay p99 [\d.]+ (ms|µs) +max /);
  assert.match(row(summary, 'memory'), /^rss [\d.]+ MB +heap [\d.]+ MB of [\d.]+ MB +pressure normal/);
  assert.match(out, /done in [\d.]+ s; the server is closed and the process exits by itself\./);
  assert.equal(r.stderr, '', 'nothing on stderr');
});

test('with a provider key the demo asks that provider once per signature and prints its advice', async (t) => {
  const { startMock } = require('./helpers/ai-mock');
  const mock = await startMock('openai');
  t.after(() => mock.close());
  mock.fallback = { content: JSON.stringify({ advice: 'Advice from the mock provider.', cause: 'mock' }) };
  const r = await runDemo(['--quick'], { OPENAI_API_KEY: 'sk-demo-test', QERRORS_AI_PROVIDER: 'openai', QERRORS_OPENAI_URL: mock.url });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /AI advice: openai/);
  const advice = section(r.stdout, 'Advice per error signature (openai)');
  const rows = advice.filter((l) => /^ {2}[0-9a-f]{16} /.test(l));
  assert.ok(rows.length >= 7);
  assert.equal(advice.filter((l) => l.includes('→ Advice from the mock provider.')).length, rows.length);
  assert.equal(mock.requests.length, rows.length, 'one provider call per signature');
  assert.equal(row(section(r.stdout, 'Summary'), 'provider calls'), `${rows.length} (openai)`);
});
