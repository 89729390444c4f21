'use strict';

// Async JSON vs JSON.parse / JSON.stringify, side by side in one process.
//
//   node --expose-gc benchmark/json.js [--quick]
//
// Workloads (see the issue): OpenAI-shaped chat completions of 10 KB, 1 MB and 5 MB
// whose content is one long string (escapes, accents, CJK, emoji), and a 1 MB response
// made of many small logprob objects. Input arrives as a Buffer (an HTTP body), so the
// JSON.parse baseline includes `buf.toString()`; a string-input row is shown too.
//
// Per operation: main-thread time (event-loop utilization's active time), event-loop
// delay max (perf_hooks.monitorEventLoopDelay, 1 ms resolution, so ~1 ms is the floor),
// and total latency. Medians over rounds with min-max, ratios against the baseline.
// Every result is checked equal to the baseline's before anything is timed.

const assert = require('node:assert/strict');
const { performance, monitorEventLoopDelay } = require('node:perf_hooks');
const { json } = require('../native');
const { median } = require('./support');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 5;

// --- workloads -------------------------------------------------------------------

const PHRASE =
  'Check the "database" connection string:\n\tretry with back-off (200 ms → 5 s), then\\or fail. ' +
  'Ärger über Zeichen: naïve café, 数据库连接失败, emoji 🚀🔥✅. ';

function content(bytes) {
  return PHRASE.repeat(Math.ceil(bytes / Buffer.byteLength(PHRASE)));
}

function openai(contentBytes) {
  return {
    id: 'chatcmpl-9x8y7z',
    object: 'chat.completion',
    created: 1732780800,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: content(contentBytes), refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 812, completion_tokens: 2048, total_tokens: 2860 },
    system_fingerprint: 'fp_0ba0d124f1',
  };
}

function logprobs(targetBytes) {
  const items = [];
  const doc = {
    id: 'chatcmpl-lp',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Use a connection pool.' }, logprobs: { content: items }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 50, completion_tokens: 0, total_tokens: 0 },
  };
  let size = 300;
  for (let i = 0; size < targetBytes; i++) {
    const tok = ['The', ' data', 'base', ' é', ' 🚀', ' pool', '.'][i % 7];
    const item = {
      token: tok,
      logprob: -Math.abs(Math.sin(i)) * 3.7,
      bytes: [...Buffer.from(tok)],
      top_logprobs: [
        { token: tok, logprob: -0.0123 * (i % 13), bytes: [...Buffer.from(tok)] },
        { token: ' x', logprob: -4.25 - (i % 5), bytes: [32, 120] },
      ],
    };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  doc.usage.completion_tokens = items.length;
  doc.usage.total_tokens = items.length + 50;
  return doc;
}

const CONTENT = '/choices/0/message/content';
const workloads = [
  { name: 'openai 10 KB', doc: openai(10 * 1024), reps: 100, pointer: CONTENT },
  { name: 'openai 1 MB', doc: openai(1 << 20), reps: 8, pointer: CONTENT },
  { name: 'openai 5 MB', doc: openai(5 << 20), reps: 3, pointer: CONTENT },
  { name: 'logprobs 1 MB', doc: logprobs(1 << 20), reps: 6, pointer: '/usage/total_tokens' },
];

// --- measurement -----------------------------------------------------------------

const histogram = monitorEventLoopDelay({ resolution: 1 });
const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `op` `reps` times sequentially, twice: once for main-thread time and latency
 * with nothing else on the loop (each rep measured alone, the median kept: on this
 * shared machine a rep is sometimes preempted for milliseconds, which a mean would
 * smear over every rep), once with the delay monitor on (its 1 ms timer wakes the loop,
 * which would inflate the main-thread time of the first pass).
 */
async function measure(op, reps) {
  const mains = [];
  const latencies = [];
  for (let i = 0; i < reps; i++) {
    await tick();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await op();
    latencies.push(performance.now() - t0);
    mains.push(performance.eventLoopUtilization(elu0).active);
  }
  histogram.reset();
  histogram.enable();
  for (let i = 0; i < reps; i++) {
    await op();
    // Let the delay monitor's timer run between operations.
    await tick();
  }
  histogram.disable();
  return { main: median(mains), latency: median(latencies), delay: histogram.max / 1e6 };
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function compare(title, reps, opsIn) {
  // The loop idle for 5 ms: the delay this busy machine adds on its own (noise floor).
  const ops = [...opsIn, { name: 'idle 5 ms (noise floor)', run: () => new Promise((resolve) => setTimeout(resolve, 5)) }];
  const samples = ops.map(() => ({ main: [], latency: [], delay: [] }));
  // Warm-up pass, then alternating rounds.
  for (const op of ops) await measure(op.run, Math.max(1, reps >> 2));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < ops.length; i++) {
      if (global.gc) global.gc();
      const m = await measure(ops[i].run, reps);
      const per = ops[i].per || 1;
      samples[i].main.push(m.main / per);
      samples[i].latency.push(m.latency / per);
      samples[i].delay.push(m.delay);
    }
  }
  const base = median(samples[0].main);
  console.log(`\n### ${title}\n`);
  console.log('| operation | main-thread ms (min-max) | vs baseline | latency ms | event-loop delay max ms (median / worst) |');
  console.log('| --- | --- | --- | --- | --- |');
  ops.forEach((op, i) => {
    const s = samples[i];
    const main = median(s.main);
    console.log(
      `| ${op.name} | ${fmt(main)} (${fmt(Math.min(...s.main))}-${fmt(Math.max(...s.main))}) | ${(main / base).toFixed(3)}x | ${fmt(median(s.latency))} | ${fmt(median(s.delay))} / ${fmt(Math.max(...s.delay))} |`
    );
  });
}

function concurrent(op, n) {
  return () => Promise.all(Array.from({ length: n }, op));
}

async function main() {
  console.log(`# json benchmark: ${new Date().toISOString()}, node ${process.version}, ${ROUNDS} rounds`);
  for (const w of workloads) {
    const text = JSON.stringify(w.doc);
    const buf = Buffer.from(text);
    const expected = JSON.parse(text);
    const field = w.pointer === CONTENT ? expected.choices[0].message.content : expected.usage.total_tokens;

    // Decisions first: every variant must give what JSON.parse gives.
    assert.deepStrictEqual(await json.parseAsync(buf), expected);
    assert.deepStrictEqual(await json.parseAsync(text), expected);
    assert.deepStrictEqual(json.parseSync(buf), expected);
    assert.equal(await json.extractAsync(buf, w.pointer), field);
    assert.equal(await json.stringifyAsync(expected), text);

    await compare(`${w.name} (${(buf.length / 1024).toFixed(0)} KB): parse`, w.reps, [
      { name: 'JSON.parse(buf.toString())', run: () => JSON.parse(buf.toString()) },
      { name: 'json.parseAsync(buf)', run: () => json.parseAsync(buf) },
      { name: 'json.parseSync(buf)', run: () => json.parseSync(buf) },
      { name: 'JSON.parse(string)', run: () => JSON.parse(text) },
      { name: 'json.parseAsync(string)', run: () => json.parseAsync(text) },
    ]);
    await compare(`${w.name}: extract ${w.pointer}`, w.reps, [
      { name: `JSON.parse(buf.toString())${w.pointer.replace(/\/(\d+)/g, '[$1]').replace(/\/(\w+)/g, '.$1')}`, run: () => (w.pointer === CONTENT ? JSON.parse(buf.toString()).choices[0].message.content : JSON.parse(buf.toString()).usage.total_tokens) },
      { name: 'json.extractAsync(buf, pointer)', run: () => json.extractAsync(buf, w.pointer) },
      { name: 'json.extractSync(buf, pointer)', run: () => json.extractSync(buf, w.pointer) },
      { name: '8 concurrent JSON.parse (per op)', run: concurrent(() => JSON.parse(buf.toString()), 8), per: 8 },
      { name: '8 concurrent json.extractAsync (per op)', run: concurrent(() => json.extractAsync(buf, w.pointer), 8), per: 8 },
    ]);
    await compare(`${w.name}: stringify`, w.reps, [
      { name: 'JSON.stringify(value)', run: () => JSON.stringify(expected) },
      { name: 'json.stringifyAsync(value)', run: () => json.stringifyAsync(expected) },
      { name: 'json.stringifySync(value)', run: () => json.stringifySync(expected) },
    ]);
  }
}

main().catch(
  (err) => {
    console.error(err);
    process.exitCode = 1;
  }
);
