'use strict';

// `_intake`: schedule() for qerrors(), which also gets the error's message and stack back
// redacted from the same native call.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const ai = require('../lib/native/ai');
const { sanitizeMessage } = require('../lib/policy/redaction');

/** Fully resolved offline AI settings: Rust fills nothing in. */
const offlineSettings = () => ({ provider: 'offline', timeoutMs: 10000, connectTimeoutMs: 5000, retryAttempts: 2, retryBaseMs: 100, retryMaxMs: 2000, retryAfterMaxMs: 30000, concurrency: 5, queueLimit: 100, cacheLimit: 50, cacheTtlMs: 86400000, maxResponseBytes: 1048576, rateLimitBurst: 0, breakerThreshold: 5, breakerResetMs: 30000, failureTtlMs: 60000 });

before(() => {
  ai.configure({ provider: 'offline' });
});

after(async () => {
  await ai.shutdown();
});

const FRAMES = [
  '    at Layer.handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)',
  '    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
];

/** An error whose stack is its first line plus `frames`. */
function errorWith(message, frames = FRAMES) {
  const err = new Error(message);
  err.stack = [`Error: ${message}`, ...frames].join('\n');
  return err;
}

const SECRET_FRAMES = [
  '    at login (/srv/app/auth.js:12:7) password=hunter2',
  '    at call (/srv/app/client.js:40:3) Authorization: Bearer abc.def-ghi',
  '    at openai (/srv/app/ai.js:7:1) sk-proj-abcdefghijklmnopqrstuvwx',
  '    at mail (/srv/app/mail.js:3:9) for john.doe@example.com',
  '    at query (/srv/app/db.js:88:2) token=abc123 secret: "s3 cr3t"',
];

function check(err, context) {
  const message = err.message;
  const stack = err.stack;
  const r = ai._intake(err, context, message, stack);
  assert.ok(r, 'intake succeeded');
  assert.equal(r.message, sanitizeMessage(message), 'message as sanitizeMessage redacts it');
  assert.equal(r.stack, sanitizeMessage(stack), 'stack as sanitizeMessage redacts it');
  assert.match(r.fp, /^[0-9a-f]{16}$/);
  return r;
}

test('redacts message and stack exactly as sanitizeMessage, with and without secrets', () => {
  const rows = [
    errorWith('failure 3 at port 3042'),
    errorWith('plain words only', []),
    errorWith('login failed for john.doe@example.com with password=hunter2'),
    errorWith('upstream said Bearer eyJhbGciOi.eyJzdWIiOi.c2ln and sk-abcdefghijklmnopqrstuvwxyz'),
    errorWith('failure 4 at port 3043', SECRET_FRAMES),
    errorWith('call 555-123-4567 or card 4111 1111 1111 1111', [...FRAMES, ...SECRET_FRAMES, ...FRAMES]),
    errorWith('crlf\r\ntoken: abc', ['    at x (/a.js:1:1)\r', '\r', '  api_key="k\\"q" more']),
  ];
  // Twice: the second round is served by the cache of recent stack lines.
  for (let round = 0; round < 2; round++) {
    for (const err of rows) check(err, { route: '/t', round });
  }
  const secret = check(errorWith('failure 5 at port 3044', [...FRAMES, ...SECRET_FRAMES]), {});
  for (const leaked of ['hunter2', 'abc.def-ghi', 'sk-proj-', 'john.doe@', 'abc123', 's3 cr3t']) {
    assert.ok(!secret.stack.includes(leaked), `stack leaks ${leaked}`);
  }
  assert.ok(secret.stack.includes('    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)'));
});

test('long messages and stacks are redacted in full', () => {
  const message = `${'m'.repeat(9_000)} password=late`;
  const frames = [];
  for (let i = 0; frames.join('\n').length < 19_000; i++) frames.push(`    at f${i} (/srv/app/f.js:${i}:1)`);
  frames.push('    at g (/srv/app/g.js:1:1) token=tail');
  const err = errorWith(message, frames);
  const r = check(err, null);
  assert.ok(r.message.endsWith('password=[REDACTED]'));
  assert.ok(r.stack.endsWith('token=[REDACTED]'));
  assert.equal(r.fp, ai.schedule(err, null), 'the fingerprint reads the same prefix as schedule()');
});

test('fingerprints equal schedule() for the same error', () => {
  const ctx = { route: '/storm', attempt: 1 };
  for (const err of [
    errorWith('failure 7 at port 3007'),
    errorWith('boom password=x', SECRET_FRAMES),
    errorWith('é😀'.repeat(3000), FRAMES),
    Object.assign(errorWith('coded'), { code: 'ECONNRESET', name: 'FetchError' }),
  ]) {
    assert.equal(ai._intake(err, ctx, err.message, err.stack).fp, ai.schedule(err, ctx));
  }
  // Anything thrown: qerrors reads String(error) as the message.
  assert.equal(ai._intake('bare string', ctx, 'bare string', undefined).fp, ai.schedule('bare string', ctx));
  assert.equal(ai._intake(42, ctx, '42', '').fp, ai.schedule(42, ctx));
});

test('outcomes are handled as schedule() handles them: new offline advice is emitted', async () => {
  const seen = [];
  const off = ai.onAdvice((advice, fp, errorLike) => seen.push({ advice, fp, errorLike }));
  try {
    const err = errorWith('connect ECONNREFUSED 10.1.2.3:6379 password=pw');
    const r = ai._intake(err, {}, err.message, err.stack);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 1);
    assert.equal(seen[0].fp, r.fp);
    assert.equal(seen[0].errorLike, err);
    assert.equal(seen[0].advice.category, 'ECONNREFUSED');
    ai._intake(err, {}, err.message, err.stack);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 1, 'a cache hit is not new advice');
  } finally {
    off();
  }
});

test("the pipeline's own errors are fingerprinted, not analysed, and still redacted", () => {
  const err = Object.assign(errorWith('AI call failed token=abc123', SECRET_FRAMES), { code: 'ERR_QERRORS_AI_PROVIDER' });
  const before = ai.stats();
  const r = check(err, {});
  assert.equal(r.fp, ai.schedule(err, {}));
  const now = ai.stats();
  assert.equal(now.cacheHits + now.cacheMisses, before.cacheHits + before.cacheMisses, 'never submitted');
});

test('never throws on odd input', () => {
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('getter');
      },
      has() {
        throw new Error('has');
      },
    }
  );
  const throwingGetters = Object.defineProperties(new Error('x'), {
    name: {
      get() {
        throw new Error('name');
      },
    },
    code: {
      get() {
        throw new Error('code');
      },
    },
  });
  const huge = `${'a'.repeat(1 << 20)} password=x`;
  const rows = [
    [hostile, hostile, 'm password=1', 'Error: m\n    at f (/a.js:1:1)'],
    [throwingGetters, {}, 'x', undefined],
    [null, undefined, 'null', null],
    [undefined, 'ctx', undefined, undefined],
    [new Error('e'), () => 'ctx', 42, { toString: () => 'stack' }],
    [new Error('huge'), {}, huge, `${huge}\n${huge}`],
    [Symbol('s'), {}, 'Symbol(s)', ''],
  ];
  for (const [errorLike, context, message, stack] of rows) {
    const r = ai._intake(errorLike, context, message, stack);
    assert.ok(r, 'the pipeline works, so intake returns a result');
    assert.match(r.fp, /^[0-9a-f]{16}$/);
    assert.equal(r.message, typeof message === 'string' ? sanitizeMessage(message) : '');
    assert.equal(r.stack, typeof stack === 'string' ? sanitizeMessage(stack) : '');
  }
});

test('the raw submit returns the plain string when nothing changed, nulls for unchanged parts', () => {
  const p = require('../lib/native/loader').createAiPipeline(offlineSettings(), () => {});
  try {
    const stack = ['Error: fine', ...FRAMES].join('\n');
    const plain = p.submit('Error', '', 'fine', stack, '', 0, true);
    assert.equal(typeof plain, 'string', 'no array and no new strings when nothing was redacted');
    assert.equal(plain.slice(1), p.submit('Error', '', 'fine', stack, '', 0).slice(1));
    const onlyStack = p.submit('Error', '', 'fine', `${stack}\n    at x (/a.js:1:1) token=t`, '', 0, true);
    assert.ok(Array.isArray(onlyStack));
    assert.equal(onlyStack.length, 3);
    assert.match(onlyStack[0], /^[crsjxz][0-9a-f]{16}/);
    assert.equal(onlyStack[1], null);
    assert.equal(onlyStack[2], `${stack}\n    at x (/a.js:1:1) token=[REDACTED]`);
    const onlyMessage = p.submit('Error', '', 'pwd=1', stack, '', 0, true);
    assert.deepEqual(onlyMessage.slice(1), ['pwd=[REDACTED]', null]);
    // Only `true` asks for redaction; without it the result is the usual string.
    assert.equal(typeof p.submit('Error', '', 'pwd=1', stack, '', 0, 1), 'string');
    // The fingerprint is of the raw text, redacting or not.
    assert.equal(onlyMessage[0].slice(1, 17), p.submit('Error', '', 'pwd=1', stack, '', 0).slice(1, 17));
  } finally {
    p.shutdown();
  }
});
