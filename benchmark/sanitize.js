'use strict';

// Secret redaction: the JS regex pass (lib/policy/redaction.js) against the native pass
// (`sanitizeRedact`, crate::core::sanitize::redact) on the same strings, by size, to find
// where one boundary crossing (UTF-16 -> UTF-8 copy in, a new JS string out when something
// changed) starts to pay off. Outputs are checked equal for every input.
//
// Workloads: realistic error text (stack traces, JSON log payloads, URLs) with a few
// secrets, the same text without secrets (nothing to replace), and secret-dense text.
// Sizes 256 B .. 1 MB. Medians of per-call time over rounds, min-max across rounds.

const { performance } = require('node:perf_hooks');
const sanitization = require('../lib/policy/redaction');
const native = require('../lib/native/loader');

const js = sanitization._redactJs;
const nat = (s) => {
  const r = native.sanitizeRedact(s);
  return r === null ? s : r;
};

const CLEAN_LINES = [
  'TypeError: Cannot read properties of undefined (reading \'id\')',
  '    at UserService.load (/srv/app/src/services/user.js:42:17)',
  '    at async Router.handle (/srv/app/node_modules/express/lib/router/index.js:284:7)',
  '{"level":"error","route":"/api/v1/orders/9f1c","durationMs":87,"status":500,"retry":false}',
  'GET /api/v1/orders?page=2&limit=50 HTTP/1.1 host=api.internal ua=Mozilla/5.0 (X11; Linux x86_64)',
  'upstream responded 503 after 3 attempts; giving up on shipment 77123 (region eu-west-1)',
];
const SECRET_LINES = [
  'login failed for jane.doe@example.com with password=hunter2!',
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl',
  'POST /charge card=4111 1111 1111 1111 cvv: 123 api_key=sk_live_abcdef123456',
  '{"user":"bob","token":"abc.def.ghi","phone":"555-123-4567"}',
];

function build(size, mix) {
  let out = '';
  let i = 0;
  while (out.length < size) {
    const secret = mix > 0 && i % Math.round(1 / mix) === 0;
    out += (secret ? SECRET_LINES[i % SECRET_LINES.length] : CLEAN_LINES[i % CLEAN_LINES.length]) + '\n';
    i++;
  }
  // Flat copy (a cons string would make the native read slower than in real use).
  return Buffer.from(out.slice(0, size)).toString();
}

const SIZES = (process.env.SIZES || '32,64,128,256,1024,4096,8192,16384,65536,262144,1048576').split(',').map(Number);
const MIXES = [
  ['clean', 0],
  ['10% lines with secrets', 0.1],
  ['every line a secret', 1],
];

function timeIt(fn, input, minMs) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs || n < 3) {
    fn(input);
    n++;
    t = performance.now();
  }
  return ((t - t0) * 1000) / n; // µs per call
}

const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ROUNDS = 5;

console.log(`redaction, node ${process.version}; µs per call, median of ${ROUNDS} rounds (min-max)`);
console.log('| input | size | JS µs | native µs | native/JS |');
console.log('| --- | --- | --- | --- | --- |');
const crossovers = {};
for (const [label, mix] of MIXES) {
  for (const size of SIZES) {
    const input = build(size, mix);
    if (js(input) !== nat(input)) throw new Error(`outputs differ for ${label} ${size}`);
    const minMs = size >= 262144 ? 150 : 60;
    timeIt(js, input, minMs);
    timeIt(nat, input, minMs);
    const a = [];
    const b = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(timeIt(js, input, minMs));
      b.push(timeIt(nat, input, minMs));
    }
    const ratio = med(b) / med(a);
    if (ratio < 1 && crossovers[label] === undefined) crossovers[label] = size;
    const f = (xs) => `${med(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
    console.log(`| ${label} | ${size} | ${f(a)} | ${f(b)} | ${ratio.toFixed(2)}x |`);
  }
}
console.log(`\nfirst size where native wins: ${JSON.stringify(crossovers)}; current threshold ${sanitization._NATIVE_MIN_LENGTH} chars`);

// Adversarial 1 MB inputs (catastrophic-backtracking shapes): both passes must stay linear.
console.log('\nadversarial 1 MB inputs, ms for one call (median of 3)');
console.log('| input | JS ms | native ms |');
console.log('| --- | --- | --- |');
const M = 1 << 20;
const ADVERSARIAL = {
  'one long word': 'a'.repeat(M),
  'tokentoken…': 'token'.repeat(M / 5),
  'a@a@a@…': 'a@'.repeat(M / 2),
  '64 chars @ 1000 letters, repeated': ('x'.repeat(70) + '@' + 'a'.repeat(1000)).repeat(Math.floor(M / 1071)),
  'long run of digits': '1'.repeat(M),
  'eyJ-eyJ-…': 'eyJ-'.repeat(M / 4),
  'unterminated quoted password': 'password="' + 'a'.repeat(M),
  'password=password=…': 'password='.repeat(Math.floor(M / 9)),
};
for (const [label, input] of Object.entries(ADVERSARIAL)) {
  if (js(input) !== nat(input)) throw new Error(`outputs differ for ${label}`);
  const a = [];
  const b = [];
  for (let r = 0; r < 3; r++) {
    let t = performance.now();
    js(input);
    a.push(performance.now() - t);
    t = performance.now();
    nat(input);
    b.push(performance.now() - t);
  }
  console.log(`| ${label} | ${med(a).toFixed(1)} | ${med(b).toFixed(1)} |`);
}
