#!/usr/bin/env node
'use strict';

// Run by scripts/registry-check.sh inside a consumer project (the working directory)
// that installed qerrors from a registry: resolves qerrors from that project, checks
// the 111 exports and exercises the native addon, and prints one JSON line.
//
//   node registry-smoke.js <expected-version>

const assert = require('node:assert/strict');
const { createRequire } = require('node:module');
const path = require('node:path');

async function main() {
  const expected = process.argv[2];
  const fromProject = createRequire(path.join(process.cwd(), 'consumer.js'));
  const qerrors = fromProject('qerrors');
  const native = fromProject('qerrors/native');

  assert.equal(Object.keys(qerrors).length, 111, 'require("qerrors") has its 111 keys');
  assert.equal(native.nativeVersion(), expected, 'the addon reports the package version');
  assert.equal(typeof qerrors.CircuitBreaker, 'function', 'the breaker getters load the addon');

  const limiter = new native.RateLimiter({ limit: 2, windowMs: 60_000 });
  const checks = [limiter.check('client'), limiter.check('client'), limiter.check('client')];
  assert.ok(checks[0] >= 0 && checks[1] >= 0 && checks[2] < 0, `limiter: ${checks}`);

  const cache = new native.LruCache({ max: 10 });
  cache.set('k', 'v');
  assert.equal(cache.get('k'), 'v');
  assert.equal(cache.get('missing'), undefined);

  const value = await native.json.extractAsync('{"a":{"b":[1,{"c":"deep"}]}}', '/a/b/1/c');
  assert.equal(value, 'deep');

  assert.doesNotMatch(qerrors.sanitizeMessage('password=hunter2'), /hunter2/);

  const addon = Object.keys(require.cache).find((f) => f.endsWith('.node'));
  console.log(JSON.stringify({ arch: process.arch, keys: Object.keys(qerrors).length, version: native.nativeVersion(), addon }));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
