'use strict';

// json async behaviour: bounded parallelism with a queue, AbortSignal, and an event
// loop that keeps running while big payloads are processed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { json } = require('../native');

const defaults = { concurrency: json.stats().concurrency, maxQueue: json.stats().maxQueue };
test.afterEach(() => json.configure(defaults));

const doc = (i) => JSON.stringify({ i, choices: [{ message: { content: `answer ${i} é😀` } }] });

test('concurrent calls all resolve with their own results', async () => {
  const inputs = Array.from({ length: 40 }, (_, i) => Buffer.from(doc(i)));
  const parsed = await Promise.all(inputs.map((b) => json.parseAsync(b)));
  parsed.forEach((v, i) => assert.deepStrictEqual(v, JSON.parse(doc(i))));
  const contents = await Promise.all(inputs.map((b) => json.extractAsync(b, '/choices/0/message/content')));
  contents.forEach((c, i) => assert.equal(c, `answer ${i} é😀`));
  const s = json.stats();
  assert.equal(s.active, 0);
  assert.equal(s.queued, 0);
});

test('at most `concurrency` jobs run at once; the rest wait in order', async () => {
  json.configure({ concurrency: 1 });
  let maxActive = 0;
  let maxQueued = 0;
  const order = [];
  const jobs = Array.from({ length: 6 }, (_, i) =>
    json.parseAsync(doc(i)).then((v) => {
      const s = json.stats();
      maxActive = Math.max(maxActive, s.active);
      order.push(v.i);
    })
  );
  const s = json.stats();
  maxActive = Math.max(maxActive, s.active);
  maxQueued = s.queued;
  await Promise.all(jobs);
  assert.equal(maxActive, 1);
  assert.equal(maxQueued, 5);
  assert.deepStrictEqual(order, [0, 1, 2, 3, 4, 5]);
});

test('beyond maxQueue a call rejects with ERR_QERRORS_JSON_QUEUE_FULL', async () => {
  json.configure({ concurrency: 1, maxQueue: 2 });
  const before = json.stats().rejectedQueueFull;
  const accepted = [json.parseAsync('1'), json.parseAsync('2'), json.extractAsync('[3]', '/0')];
  await assert.rejects(json.extractAsync('4', ''), { code: 'ERR_QERRORS_JSON_QUEUE_FULL' });
  // stringify runs on the main thread and takes no pool slot: never queued.
  assert.equal(await json.stringifyAsync(5), '5');
  assert.deepStrictEqual(await Promise.all(accepted), [1, 2, 3]);
  assert.equal(json.stats().rejectedQueueFull, before + 1);
  // Room again once the queue drained.
  assert.equal(await json.parseAsync('5'), 5);
});

test('configure validates its options', () => {
  assert.throws(() => json.configure({ concurrency: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_JSON_OPTION' });
  assert.throws(() => json.configure({ maxQueue: -1 }), { code: 'ERR_QERRORS_JSON_OPTION' });
  assert.throws(() => json.configure(null), { name: 'TypeError', code: 'ERR_QERRORS_JSON_OPTION' });
});

test('AbortSignal: aborted before, while queued, and while running', async () => {
  await assert.rejects(json.parseAsync('1', { signal: AbortSignal.abort() }), { name: 'AbortError', code: 'ABORT_ERR' });
  await assert.rejects(json.stringifyAsync(1, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  const later = new AbortController();
  const pending = json.stringifyAsync({ a: 1 }, { signal: later.signal });
  later.abort();
  await assert.rejects(pending, { name: 'AbortError' });

  json.configure({ concurrency: 1 });
  const big = Buffer.from(JSON.stringify({ s: 'x'.repeat(2_000_000) }));
  const running = new AbortController();
  const queued = new AbortController();
  const first = json.parseAsync(big, { signal: running.signal });
  const second = json.extractAsync(big, '/s', { signal: queued.signal });
  const third = json.parseAsync('3');
  assert.equal(json.stats().queued, 2);
  queued.abort(new Error('not needed'));
  assert.equal(json.stats().queued, 1);
  await assert.rejects(second, (e) => e.name === 'AbortError' && e.cause.message === 'not needed');
  running.abort();
  await assert.rejects(first, { name: 'AbortError' });
  // The queue keeps moving after aborts.
  assert.equal(await third, 3);
});

/** Counts interval ticks and the longest gap between them while `work` runs. */
async function ticksDuring(work) {
  let ticks = 0;
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { ticks, maxGap };
}

test('the event loop keeps ticking while 5 MB are parsed and extracted', async () => {
  const content = 'Check the "pool" size, then retry. Données naïves 数据库 🚀\n'.repeat(80_000);
  const body = Buffer.from(JSON.stringify({ id: 'x', choices: [{ message: { role: 'assistant', content } }] }));
  assert.ok(body.length > 5_000_000);
  const rounds = 4;
  const { ticks, maxGap } = await ticksDuring(async () => {
    for (let i = 0; i < rounds; i++) {
      const [parsed, extracted] = await Promise.all([json.parseAsync(body), json.extractAsync(body, '/choices/0/message/content')]);
      assert.equal(parsed.choices[0].message.content, content);
      assert.equal(extracted, content);
    }
  });
  // Synchronous parsing would allow no tick at all while it runs; scanning 5 MB off the
  // thread takes milliseconds per round, so the timer gets in. Generous bounds: the
  // machine may be busy.
  assert.ok(ticks >= rounds, `ticks: ${ticks}`);
  assert.ok(maxGap < 1000, `longest gap: ${maxGap} ms`);
});

test('a process that used json exits by itself', () => {
  const { spawnSync } = require('node:child_process');
  const script = "const { json } = require('./native'); json.parseAsync(Buffer.from('[1]')).then((v) => json.stringifyAsync(v)).then((s) => console.log(s));";
  const r = spawnSync(process.execPath, ['-e', script], { cwd: require('node:path').resolve(__dirname, '..'), encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '[1]');
});

test('the event loop keeps ticking while 5 MB of small objects are parsed (built in slices)', async () => {
  const items = Array.from({ length: 60_000 }, (_, i) => ({ token: ['The', ' é', ' 🚀'][i % 3], logprob: -i / 9, bytes: [32, 195, 169], top: [{ t: 'a', lp: -1.5 }] }));
  const text = JSON.stringify({ choices: [{ logprobs: { content: items } }] });
  const body = Buffer.from(text);
  assert.ok(body.length > 5_000_000);
  let parsed;
  const { ticks } = await ticksDuring(async () => {
    parsed = await json.parseAsync(body);
  });
  assert.deepStrictEqual(parsed, JSON.parse(text));
  // Both the off-thread scan and the sliced building of the 60 000-element array let
  // timers run; JSON.parse would let none run.
  assert.ok(ticks >= 2, `ticks: ${ticks}`);
});
