'use strict';

// Secret redaction, as qerrors() pays for it on every error:
//  1. the text rules (one native crossing, `sanitizeRedact`) by string size, on realistic
//     error text with no secrets, 10% lines with secrets, and every line a secret;
//  2. sanitizeMessage on short unique strings (the cache misses: what a new message costs);
//  3. adversarial 1 MB inputs (shapes that make backtracking engines explode), one call each;
//  4. sanitizeContext on contexts that used to block the event loop (a 4 MB Buffer, a
//     million keys, deep nesting, a million-entry Map).
// Medians of per-call time over rounds, min-max across rounds. docs/redaction.md has results.

const { performance } = require('node:perf_hooks');
const sanitization = require('../lib/policy/redaction');
const native = require('../lib/native/loader');

const nat = (s) => {
  const r = native.sanitizeRedact(s);
  return r === null ? s : r;
};

const CLEAN_LINES = [
  "TypeError: Cannot read properties of undefined (reading 'id')",
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
  'connect ECONNREFUSED postgres://svc:PgPassw0rd@db-host:5432/app',
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

const SIZES = (process.env.SIZES || '32,64,256,1024,4096,65536,1048576').split(',').map(Number);
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
const f = (xs, d = 1) => `${med(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)})`;
const ROUNDS = 5;

console.log(`redaction, node ${process.version}; µs per call, median of ${ROUNDS} rounds (min-max)`);
console.log('\n| input | size | native pass µs |');
console.log('| --- | --- | --- |');
for (const [label, mix] of MIXES) {
  for (const size of SIZES) {
    const input = build(size, mix);
    const minMs = size >= 262144 ? 150 : 60;
    timeIt(nat, input, minMs);
    const a = [];
    for (let r = 0; r < ROUNDS; r++) a.push(timeIt(nat, input, minMs));
    console.log(`| ${label} | ${size} | ${f(a)} |`);
  }
}

// A new message each call: the cache cannot help, the crossing is paid every time.
console.log('\nsanitizeMessage on unique short strings (cache misses), µs per call');
console.log('| input | µs |');
console.log('| --- | --- |');
for (const [label, base] of [
  ['32 chars, clean', 'upstream timed out after 30 s #'],
  ['40 chars, a secret', 'login failed: password=hunter2 attempt #'],
]) {
  let i = 0;
  const fn = () => sanitization.sanitizeMessage(base + i++);
  const a = [];
  for (let r = 0; r < ROUNDS; r++) a.push(timeIt(fn, null, 60));
  console.log(`| ${label} | ${f(a, 2)} |`);
}

console.log('\nadversarial 1 MB inputs, ms for one call (median of 3, min-max)');
console.log('| input | ms |');
console.log('| --- | --- |');
const M = 1 << 20;
const ADVERSARIAL = {
  'one long word': 'a'.repeat(M),
  'tokentoken…': 'token'.repeat(M / 5),
  'tokenx=tokenx=… (declined keys)': 'tokenx='.repeat(Math.floor(M / 7)),
  'tokenizer0= tokenizer1= … (declined, all different)': Array.from({ length: Math.floor(M / 16) }, (_, i) => `tokenizer${i.toString(36)}=`)
    .join(' ')
    .slice(0, M),
  'a@a@a@…': 'a@'.repeat(M / 2),
  '64 chars @ 1000 letters, repeated': ('x'.repeat(70) + '@' + 'a'.repeat(1000)).repeat(Math.floor(M / 1071)),
  'long run of digits': '1'.repeat(M),
  'digits and spaces': '4111 '.repeat(M / 5),
  'eyJ-eyJ-…': 'eyJ-'.repeat(M / 4),
  'unterminated quoted password': 'password="' + 'a'.repeat(M),
  'password=password=…': 'password='.repeat(Math.floor(M / 9)),
  '<password <password …': '<password '.repeat(M / 10),
  'postgres://u:postgres://u:…': 'postgres://u:'.repeat(Math.floor(M / 13)),
  'BEGIN PRIVATE KEY, no END': '-----BEGIN PRIVATE KEY-----\n' + 'A'.repeat(M),
  'mysql mysql …': 'mysql '.repeat(Math.floor(M / 6)),
  'Basic Basic …': 'Basic '.repeat(Math.floor(M / 6)),
};
for (const [label, input] of Object.entries(ADVERSARIAL)) {
  const a = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    nat(input);
    a.push(performance.now() - t);
  }
  console.log(`| ${label} | ${f(a)} |`);
}

console.log('\nsanitizeContext on hostile contexts, ms for one call (median of 3, min-max; building the input not counted)');
console.log('| context | ms | values visited |');
console.log('| --- | --- | --- |');
const wide = {};
for (let i = 0; i < 1e6; i++) wide[`k${i}`] = i;
let deep = { leaf: 'token=abc' };
for (let i = 0; i < 1e5; i++) deep = { next: deep };
const bigMap = new Map();
for (let i = 0; i < 1e6; i++) bigMap.set(`k${i}`, i);
const CONTEXTS = {
  '4 MB Buffer': { body: Buffer.alloc(4 * 1024 * 1024, 'password=hunter2 ') },
  '1M-key object': { wide },
  '100k-deep nesting': deep,
  '1M-entry Map': { bigMap },
  '1M-item array': { list: new Array(1e6).fill('token=abc') },
  '1 MB string': { text: 'word '.repeat(M / 5) },
};
for (const [label, ctx] of Object.entries(CONTEXTS)) {
  const a = [];
  let visited = 0;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    visited = sanitization._sanitizeContextCounted(ctx).visited;
    a.push(performance.now() - t);
  }
  console.log(`| ${label} | ${f(a, 2)} | ${visited} |`);
}
