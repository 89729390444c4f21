'use strict';

// One redaction policy, seen from outside: every key of the sensitive-key vocabulary (and
// look-alikes), and every entry of the secrets corpus, go through sanitizeContext /
// sanitizeMessage, a qerrors() HTTP answer (real Express on 127.0.0.1), the log entry and
// the AI prompt (mock provider on 127.0.0.1); the verdict must be the same in all four.
// The corpus results are also the table of docs/redaction.md (checked here; rewritten with
// UPDATE_REDACTION_DOCS=1).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { sanitizeContext, sanitizeMessage } = require('../lib/policy/redaction');
const { startChannels, tagOf } = require('./helpers/redaction-channels');
const corpus = require('./fixtures/secrets-corpus.json');

/** The text as it appears inside a JSON string. */
const inJson = (s) => JSON.stringify(s).slice(1, -1);
/**
 * The text as the prompt shows it: the prompt builder (src/core/ai/prompt.rs) drops `<`, `>`
 * and control characters and turns line breaks and tabs into single spaces.
 */
const inPrompt = (s) =>
  s
    .replace(/[<>]/g, '')
    .replace(/[\r\n\t]/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/ {2,}/g, ' ');

let channels;
let next = 0;
before(async () => {
  channels = await startChannels();
});
after(async () => {
  await channels.close();
});

/** Sends cases in batches (the AI queue is bounded) and returns every channel's text. */
async function runCases(items) {
  const out = [];
  for (let i = 0; i < items.length; i += 40) {
    // The tag, in the message, keeps every case's fingerprint (and so its prompt) its own.
    const batch = items.slice(i, i + 40).map((item) => {
      const tag = tagOf(next++);
      return { ...item, tag, message: `(${tag}) ${item.text}` };
    });
    for (const c of batch) c.answer = await channels.send(c.tag, c.message, c.context);
    const { logs, prompts } = await channels.collect(batch.map((c) => c.tag));
    for (const c of batch) out.push({ ...c, log: logs.get(c.tag), prompt: prompts.get(c.tag) });
  }
  return out;
}

const REQUIRED_KEYS = [
  'password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'x-api-key', 'authorization', 'cookie', 'set-cookie', 'session',
  'private_key', 'client_secret', 'access_key', 'credit_card', 'card_number', 'cvv', 'ssn',
];
const LOOK_ALIKE_KEYS = ['author', 'shipping', 'authority', 'tokenizer', 'secretary', 'passenger', 'token_type', 'cache_key'];

test('every vocabulary key gets the same verdict from sanitizeContext, the HTTP answer, the log entry and the AI prompt', async () => {
  const keys = [...REQUIRED_KEYS, 'apiKey', 'clientSecret', 'Set-Cookie', 'sessionId', 'dbPassword', ...LOOK_ALIKE_KEYS];
  const items = keys.map((key, i) => {
    const value = `plainvalue${tagOf(1000 + i)}`;
    return { key, value, text: 'vocabulary check for one key', context: { [key]: value, route: '/check' } };
  });
  const results = await runCases(items);
  for (const r of results) {
    const kept = {
      sanitizeContext: JSON.stringify(sanitizeContext(r.context)).includes(r.value),
      answer: r.answer.body.includes(r.value),
      log: r.log.includes(r.value),
      prompt: r.prompt.includes(r.value),
    };
    const shouldKeep = LOOK_ALIKE_KEYS.includes(r.key);
    for (const [channel, wasKept] of Object.entries(kept)) {
      assert.equal(wasKept, shouldKeep, `${r.key}: ${channel} ${wasKept ? 'kept' : 'redacted'} the value`);
    }
    // The context did reach every channel (a verdict on a missing context would prove nothing).
    assert.ok(r.answer.body.includes('/check') && r.log.includes('/check') && r.prompt.includes('/check'), r.key);
  }
});

/** Per form: secrets redacted / total, or harmless strings changed / total. */
function table(rows) {
  const byForm = new Map();
  for (const r of rows) {
    const k = `${r.kind}\u0000${r.form}`;
    const t = byForm.get(k) || { kind: r.kind, form: r.form, n: 0, ok: 0 };
    t.n++;
    if (r.ok) t.ok++;
    byForm.set(k, t);
  }
  return [...byForm.values()].sort((a, b) => (a.kind === b.kind ? a.form.localeCompare(b.form) : a.kind === 'secret' ? -1 : 1));
}

function renderTable(rows) {
  const secrets = rows.filter((r) => r.kind === 'secret');
  const harmless = rows.filter((r) => r.kind === 'harmless');
  const redacted = secrets.filter((r) => r.ok).length;
  const changed = harmless.filter((r) => !r.ok).length;
  const pct = (a, b) => ((100 * a) / b).toFixed(1);
  const lines = [
    `| | strings | result |`,
    `| --- | --- | --- |`,
    `| secret forms redacted | ${secrets.length} | ${redacted} (${pct(redacted, secrets.length)}%) |`,
    `| harmless look-alikes changed | ${harmless.length} | ${changed} (${pct(changed, harmless.length)}%) |`,
    '',
    '| kind | form | strings | as wanted |',
    '| --- | --- | --- | --- |',
  ];
  for (const t of table(rows)) lines.push(`| ${t.kind} | ${t.form} | ${t.n} | ${t.ok} |`);
  return lines.join('\n');
}

test('the corpus: >= 98% of secrets redacted, <= 1% of look-alikes changed, the same verdict in every channel', async () => {
  assert.ok(corpus.secrets.length >= 200 && corpus.harmless.length >= 200);
  const items = [
    ...corpus.secrets.map((s) => ({ kind: 'secret', form: s.form, text: s.text, secret: s.secret })),
    ...corpus.harmless.map((h) => ({ kind: 'harmless', form: h.form, text: h.text })),
  ];
  const results = await runCases(items);
  const rows = [];
  for (const r of results) {
    // Only the message's own field is searched: a short secret (`cvv=123`) could otherwise be
    // found in a timestamp, an id or a stack line number.
    const answerMessage = JSON.stringify(JSON.parse(r.answer.body).error.message);
    const logMessage = JSON.stringify(JSON.parse(r.log).message);
    const at = r.prompt.indexOf(' - (');
    const promptMessage = r.prompt.slice(at, r.prompt.indexOf(' Context: ', at));
    let verdicts;
    if (r.kind === 'secret') {
      verdicts = {
        sanitizeMessage: !sanitizeMessage(r.message).includes(r.secret),
        answer: !answerMessage.includes(inJson(r.secret)),
        log: !logMessage.includes(inJson(r.secret)),
        prompt: !promptMessage.includes(inPrompt(r.secret)),
      };
    } else {
      verdicts = {
        sanitizeMessage: sanitizeMessage(r.message) === r.message,
        answer: answerMessage.includes(inJson(r.message)),
        log: logMessage.includes(inJson(r.message)),
        prompt: promptMessage.includes(inPrompt(r.message)),
      };
    }
    const distinct = new Set(Object.values(verdicts));
    assert.equal(distinct.size, 1, `${r.kind} ${r.form}: verdicts differ ${JSON.stringify(verdicts)} for ${JSON.stringify(r.text)}`);
    rows.push({ kind: r.kind, form: r.form, ok: verdicts.sanitizeMessage });
  }
  const secrets = rows.filter((r) => r.kind === 'secret');
  const harmless = rows.filter((r) => r.kind === 'harmless');
  const redacted = secrets.filter((r) => r.ok).length;
  const changed = harmless.filter((r) => !r.ok).length;
  assert.ok(redacted / secrets.length >= 0.98, `${redacted} of ${secrets.length} secrets redacted`);
  assert.ok(changed / harmless.length <= 0.01, `${changed} of ${harmless.length} look-alikes changed`);

  const docPath = path.join(__dirname, '..', 'docs', 'redaction.md');
  const start = '<!-- corpus-table:start (generated by __test__/redaction-channels.test.js) -->';
  const end = '<!-- corpus-table:end -->';
  const doc = fs.readFileSync(docPath, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  assert.ok(from >= 0 && to > from, 'docs/redaction.md has the corpus table markers');
  const generated = `${start}\n${renderTable(rows)}\n${end}`;
  if (process.env.UPDATE_REDACTION_DOCS === '1') {
    fs.writeFileSync(docPath, doc.slice(0, from) + generated + doc.slice(to + end.length));
  } else {
    assert.equal(doc.slice(from, to + end.length), generated, 'docs/redaction.md table is current (UPDATE_REDACTION_DOCS=1 rewrites it)');
  }
});
