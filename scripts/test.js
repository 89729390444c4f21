#!/usr/bin/env node
'use strict';

// `npm test`: Rust hygiene and unit tests, a fresh addon, then the node:test suites.
// Fails on the first failing step. SKIP_LINT=1 skips fmt and clippy (quick local runs).

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function run(label, cmd, args, env) {
  const started = Date.now();
  console.log(`\n== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`== ${label} failed (${secs} s)`);
    process.exit(r.status || 1);
  }
  console.log(`== ${label} ok (${secs} s)`);
}

function testFiles() {
  const dir = path.join(root, '__test__');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js') || f.endsWith('.test.mjs'))
    .sort()
    .map((f) => path.join('__test__', f));
}

if (process.env.SKIP_LINT !== '1') {
  run('rustfmt', 'cargo', ['fmt', '--check']);
  run('clippy', 'cargo', ['clippy', '--release', '--all-targets', '--locked', '--', '-D', 'warnings']);
}
// --release shares compiled dependencies with the addon build below.
run('cargo test', 'cargo', ['test', '--release', '--locked']);
run('addon build', 'node', ['scripts/install.js', '--force']);
run('node --test', 'node', ['--expose-gc', '--test', '--test-concurrency=1', ...testFiles()], { NODE_ENV: 'test' });
