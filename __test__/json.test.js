'use strict';

// json.parse*/extract*/stringify* against JSON.parse / JSON.stringify on a corpus.

const test = require('node:test');
const assert = require('node:assert/strict');
const { json } = require('../native');

const BIG = 20 * 1024; // over the 16 KB threshold where strings travel pre-decoded
const big = (unit) => unit.repeat(Math.ceil(BIG / unit.length));

const openai = JSON.stringify({
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1732780800,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: JSON.stringify({ advice: 'Check the "pool" size\n\tthen retry', severity: 'high', steps: ['a', 'b'] }),
        refusal: null,
      },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
});
const gemini = JSON.stringify({
  candidates: [{ content: { parts: [{ text: 'Données: naïve café — 数据库 🚀 "quoted" \\ back' }], role: 'model' }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 5, totalTokenCount: 9 },
});

function logprobItems(n) {
  return Array.from({ length: n }, (_, i) => ({ token: [' é', '🚀', 'x\\"'][i % 3], logprob: -i / 7, bytes: [32, 195, 169], top: [{ t: 'a', lp: -0.5 }] }));
}

/** Text documents: every one must come out exactly as JSON.parse makes it. */
const corpus = [
  ['openai', openai],
  ['gemini', gemini],
  ['openai with long content', JSON.stringify({ choices: [{ message: { content: big('Ärger 🚀 "x"\n\\ 数据 ') } }] })],
  ['unicode and emoji', '{"é":"ü","中文":"数据库","emoji":"🚀🔥👩‍👩‍👧","flags":"🇫🇷"}'],
  ['escapes', String.raw`["\"\\\/\b\f\n\r\t", "\u0000\u001f\u007f\u0080\u00ff\u0100\uffff", "\ud83d\ude80"]`],
  ['lone surrogate escapes', String.raw`["\ud800", "\udc00x", "a\ud83d", "\ude80\ud83d", {"\udfff": 1}]`],
  ['numbers', '[0, -0, 1, -1, 0.1, 1e21, 1E+2, 1e-7, 5e-324, 1.7976931348623157e308, 1e400, -1e400, 2.2250738585072014e-308, 123456789.12345678, 0.30000000000000004]'],
  ['big integers', '[9007199254740993, 12345678901234567890, -9223372036854775809, 123456789012345678901234567890]'],
  ['literals and empties', '[true, false, null, [], {}, "", [[]], {"":{}}]'],
  ['whitespace', ' \t\r\n{ "a" :\n[ 1 ,\t2 ] , "b"\r: { } }\n '],
  ['duplicate keys', '{"a":1,"b":2,"a":{"c":3},"b":null,"a":[4]}'],
  ['__proto__ keys', '{"__proto__":{"polluted":true},"constructor":{"prototype":1},"x":{"__proto__":[1]}}'],
  ['top-level string', '"just a string"'],
  ['top-level big string', JSON.stringify(big('é😀x'))],
  ['top-level number', ' 42.5 '],
  ['big strings in arrays and escaped keys', JSON.stringify({ 'k"/~y': [big('a'), 1, { z: big('é') }], n: [big('中'), big('\u0000')] })],
  ['big string replaced by a later duplicate', `{"a":${JSON.stringify(big('x'))},"a":5,"b":${JSON.stringify(big('y'))},"b":${JSON.stringify(big('z'))}}`],
  ['big string under a later duplicate container', `{"a":{"s":${JSON.stringify(big('x'))}},"a":{"t":1}}`],
  ['big lone surrogate string', JSON.stringify(big('x')).slice(0, -1) + '\\ud800"'],
  ['deep but allowed', '['.repeat(128) + ']'.repeat(128)],
  ['big arrays of small objects (sent in chunks)', JSON.stringify({ lp: { content: logprobItems(4000) }, n: Array.from({ length: 40000 }, (_, i) => i * 1.5 - 7), m: [[logprobItems(3000)], 'x'] })],
  ['big array replaced by a later duplicate', `{"a":${JSON.stringify(logprobItems(3000))},"a":1,"b":${JSON.stringify(logprobItems(3000))},"b":${JSON.stringify(logprobItems(2000))}}`],
  ['top-level big array with spacing', `[\n ${logprobItems(3000).map((x) => JSON.stringify(x, null, 1)).join(' ,\n ')} ]`],
];

/** Deep equality that also checks key order and -0. */
function assertSameAsJsonParse(actual, text, label) {
  const expected = JSON.parse(text);
  assert.deepStrictEqual(actual, expected, label);
  assert.equal(JSON.stringify(actual), JSON.stringify(expected), `${label}: key order`);
}

function inputs(text) {
  const buf = Buffer.from(text);
  const u8 = new Uint8Array(buf.byteLength);
  u8.set(buf);
  const padded = new ArrayBuffer(buf.byteLength + 3);
  new Uint8Array(padded).set(buf, 2);
  return [
    ['string', text],
    ['Buffer', buf],
    ['Uint8Array', u8],
    ['DataView', new DataView(u8.buffer)],
    ['ArrayBuffer', u8.buffer],
    ['offset view', new Uint8Array(padded, 2, buf.byteLength)],
  ];
}

test('parseAsync and parseSync give exactly what JSON.parse gives, for every input kind', async () => {
  for (const [name, text] of corpus) {
    for (const [kind, input] of inputs(text)) {
      assertSameAsJsonParse(await json.parseAsync(input), text, `${name} (${kind}, async)`);
      assertSameAsJsonParse(json.parseSync(input), text, `${name} (${kind}, sync)`);
    }
  }
});

test('parsed objects are plain: __proto__ is an own key, nothing is polluted', async () => {
  const v = await json.parseAsync(Buffer.from('{"__proto__":{"polluted":true}}'));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.ok(Object.hasOwn(v, '__proto__'));
  assert.equal({}.polluted, undefined);
});

test('a string input with raw lone surrogates parses like JSON.parse', async () => {
  const text = `{"a":"\ud800${'x'.repeat(BIG)}","b":"\udc00"}`;
  assert.equal(text.isWellFormed(), false);
  assertSameAsJsonParse(await json.parseAsync(text), text, 'parseAsync');
  assert.deepStrictEqual(await json.extractAsync(text, ['/a', '/b']), [JSON.parse(text).a, '\udc00']);
});

/** Reference RFC 6901 evaluation over JSON.parse's result. */
function refGet(root, pointer) {
  if (pointer === '') return root;
  let v = root;
  for (const raw of pointer.slice(1).split('/')) {
    const t = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(v)) {
      if (!/^(0|[1-9]\d*)$/.test(t) || Number(t) >= v.length) return undefined;
      v = v[Number(t)];
    } else if (v !== null && typeof v === 'object' && Object.hasOwn(v, t)) {
      v = v[t];
    } else {
      return undefined;
    }
  }
  return v;
}

test('extract follows RFC 6901, including ~0/~1 escapes, on the RFC example', async () => {
  const doc = String.raw`{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8,"\u0070q":9,"~1":10}`;
  const pointers = ['', '/foo', '/foo/0', '/foo/1', '/foo/2', '/foo/01', '/foo/-', '/', '/a~1b', '/c%d', '/e^f', '/g|h', '/i\\j', '/k"l', '/ ', '/m~0n', '/pq', '/~01', '/foo/0/x', '/nope'];
  const root = JSON.parse(doc);
  const want = pointers.map((p) => refGet(root, p));
  assert.deepStrictEqual(await json.extractAsync(Buffer.from(doc), pointers), want);
  assert.deepStrictEqual(json.extractSync(doc, pointers), want);
  assert.equal(want[17], 10);
  // One pointer gives one value; an empty list gives an empty array.
  assert.deepStrictEqual(await json.extractAsync(doc, '/foo'), ['bar', 'baz']);
  assert.deepStrictEqual(await json.extractAsync(doc, []), []);
});

test('extract matches the reference on every corpus document', async () => {
  const pointers = [
    '/choices/0/message/content',
    '/candidates/0/content/parts/0/text',
    '/choices/0',
    '/usage',
    '/a',
    '/b',
    '/a/s',
    '/k"~0~1y/2/z',
    '/n/1',
    '/x/__proto__',
    '/0',
    '/4/\udfff',
    '/lp/content',
    '/m/0/0/2999',
    '',
  ];
  for (const [name, text] of corpus) {
    const root = JSON.parse(text);
    const want = pointers.map((p) => refGet(root, p));
    for (const [kind, input] of inputs(text).slice(0, 2)) {
      const got = await json.extractAsync(input, pointers);
      assert.deepStrictEqual(got, want, `${name} (${kind})`);
      assert.equal(JSON.stringify(got), JSON.stringify(want), `${name} (${kind}): key order`);
    }
  }
});

test('provider responses: OpenAI content and Gemini text', async () => {
  assert.equal(await json.extractAsync(Buffer.from(openai), '/choices/0/message/content'), JSON.parse(openai).choices[0].message.content);
  assert.equal(await json.extractAsync(Buffer.from(gemini), '/candidates/0/content/parts/0/text'), JSON.parse(gemini).candidates[0].content.parts[0].text);
  const long = big('Ärger 🚀 "x"\n');
  const body = Buffer.from(JSON.stringify({ choices: [{ message: { content: long } }] }));
  assert.equal(await json.extractAsync(body, '/choices/0/message/content'), long);
});

test('extract validates the whole document, not only the part before the value', async () => {
  await assert.rejects(json.extractAsync('{"a":1,"b":}', '/a'), { code: 'ERR_QERRORS_JSON_PARSE', offset: 11 });
});

const invalid = [
  // [text, offset, line, column, message fragment]
  ['', 0, 1, 1, 'Unexpected end of JSON input'],
  ['{', 1, 1, 2, 'Unexpected end'],
  ['[1,]', 3, 1, 4, "Unexpected token ']'"],
  ['{"a":1,}', 7, 1, 8, 'property name'],
  ['{"a" 1}', 5, 1, 6, "':'"],
  ['[1 2]', 3, 1, 4, "',' or ']'"],
  ['01', 1, 1, 2, 'after JSON'],
  ['1.', 2, 1, 3, 'fractional'],
  ['-', 1, 1, 2, 'minus'],
  ['"abc', 4, 1, 5, 'Unterminated string'],
  ['"a\tb"', 2, 1, 3, 'control character'],
  ['"\\x"', 2, 1, 3, 'escaped character'],
  ['"\\u12G4"', 5, 1, 6, 'Unicode escape'],
  ['{} []', 3, 1, 4, 'after JSON'],
  ['NaN', 0, 1, 1, "Unexpected token 'N'"],
  ['\ufeff{}', 0, 1, 1, 'Unexpected'],
  ['{\n  "a": 1,\n  "b": ?\n}', 19, 3, 8, "Unexpected token '?'"],
];

test('malformed JSON rejects with a SyntaxError carrying code, line, column and offset', async () => {
  for (const [text, offset, line, column, fragment] of invalid) {
    const check = (err) => {
      assert.ok(err instanceof SyntaxError, text);
      assert.equal(err.code, 'ERR_QERRORS_JSON_PARSE');
      assert.deepStrictEqual([err.offset, err.line, err.column], [offset, line, column], JSON.stringify(text));
      assert.ok(err.message.includes(fragment), err.message);
      assert.ok(err.message.includes(`line ${line} column ${column} (offset ${offset})`), err.message);
      return true;
    };
    await assert.rejects(json.parseAsync(Buffer.from(text)), check);
    await assert.rejects(json.extractAsync(text, '/a'), check);
    assert.throws(() => json.parseSync(text), check);
  }
});

test('error offsets agree with the position V8 reports, where it reports one', () => {
  for (const [text] of invalid) {
    let v8;
    try {
      JSON.parse(text);
    } catch (e) {
      v8 = /at position (\d+)/.exec(e.message);
    }
    if (!v8) continue;
    assert.throws(() => json.parseSync(text), { offset: Number(v8[1]) }, text);
  }
});

test('positions count bytes for byte input and UTF-16 units for strings', () => {
  const text = '["é😀", x]';
  assert.throws(() => json.parseSync(Buffer.from(text)), { offset: 11, column: 12 });
  assert.throws(() => json.parseSync(text), { offset: 8, column: 9 });
  assert.equal(text[8], 'x');
});

test('invalid UTF-8 is a parse error at the bad byte', async () => {
  await assert.rejects(json.parseAsync(Buffer.from([0x5b, 0x22, 0x61, 0xff, 0x22, 0x5d])), { code: 'ERR_QERRORS_JSON_PARSE', offset: 3 });
});

test('maxBytes and maxDepth reject with ERR_QERRORS_JSON_LIMIT', async () => {
  const doc = JSON.stringify({ a: [1, 2, 3] });
  await assert.rejects(json.parseAsync(Buffer.from(doc), { maxBytes: doc.length - 1 }), (e) => e instanceof RangeError && e.code === 'ERR_QERRORS_JSON_LIMIT');
  await assert.rejects(json.parseAsync(doc, { maxBytes: doc.length - 1 }), { code: 'ERR_QERRORS_JSON_LIMIT' });
  // A string's UTF-8 size is what counts: 3 characters, 7 bytes.
  await assert.rejects(json.parseAsync('"é😀"', { maxBytes: 6 }), { code: 'ERR_QERRORS_JSON_LIMIT' });
  assert.equal(await json.parseAsync('"é😀"', { maxBytes: 8 }), 'é😀');
  assert.deepStrictEqual(await json.parseAsync(doc, { maxBytes: doc.length }), JSON.parse(doc));

  const nest = (n) => '['.repeat(n) + ']'.repeat(n);
  assert.equal(json.parseSync(nest(128)).length, 1);
  await assert.rejects(json.parseAsync(nest(129)), { code: 'ERR_QERRORS_JSON_LIMIT', offset: 128, line: 1, column: 129 });
  assert.throws(() => json.parseSync('{"a":{"b":{}}}', { maxDepth: 2 }), { code: 'ERR_QERRORS_JSON_LIMIT', offset: 10 });
  assert.ok(json.parseSync(nest(1000), { maxDepth: 1000 }));
  await assert.rejects(json.extractAsync(nest(200), '/0'), { code: 'ERR_QERRORS_JSON_LIMIT' });
  // A million open brackets: no stack overflow, just the limit.
  await assert.rejects(json.parseAsync('['.repeat(1_000_000), { maxDepth: 4096 }), { code: 'ERR_QERRORS_JSON_LIMIT' });
});

test('bad arguments: TypeError/RangeError with a code, rejected (never thrown) by the async functions', async () => {
  for (const input of [undefined, null, 42, {}, [], new Map()]) {
    await assert.rejects(json.parseAsync(input), { name: 'TypeError', code: 'ERR_QERRORS_JSON_INPUT' });
    assert.throws(() => json.parseSync(input), { code: 'ERR_QERRORS_JSON_INPUT' });
  }
  for (const options of [{ maxBytes: 0 }, { maxBytes: 1.5 }, { maxBytes: '10' }, { maxDepth: 0 }, { maxDepth: 5000 }, { maxDepth: NaN }]) {
    await assert.rejects(json.parseAsync('1', options), { name: 'RangeError', code: 'ERR_QERRORS_JSON_OPTION' });
  }
  await assert.rejects(json.parseAsync('1', 'fast'), { name: 'TypeError', code: 'ERR_QERRORS_JSON_OPTION' });
  await assert.rejects(json.parseAsync('1', { signal: {} }), { code: 'ERR_QERRORS_JSON_OPTION' });
  for (const pointers of [undefined, 1, [1], ['/a', null]]) {
    await assert.rejects(json.extractAsync('{}', pointers), { name: 'TypeError', code: 'ERR_QERRORS_JSON_POINTER' });
  }
  for (const pointer of ['a', '/a~2', '/a~']) {
    await assert.rejects(json.extractAsync('{}', pointer), { name: 'TypeError', code: 'ERR_QERRORS_JSON_POINTER' });
    assert.throws(() => json.extractSync('{}', [pointer]), { code: 'ERR_QERRORS_JSON_POINTER' });
  }
});

// --- stringify ---------------------------------------------------------------------

class Point {
  constructor() {
    this.x = 1;
    this.y = 2;
  }
  get sum() {
    return this.x + this.y;
  }
}

/** Plain data with everything JSON.stringify has rules for. */
const stringifyCorpus = [
  JSON.parse(openai),
  JSON.parse(gemini),
  { s: 'é😀\u0000\u001f"\\\n\ud800', n: [0, -0, 1e21, 1e-7, NaN, Infinity, -Infinity, 5e-324] },
  { u: undefined, f() {}, sym: Symbol('s'), [Symbol('k')]: 1, keep: null },
  [undefined, function () {}, Symbol('s'), , 1], // eslint-disable-line no-sparse-arrays
  { d: new Date(0), nested: { toJSON: (key) => `key:${key}` }, arr: [{ toJSON: (key) => `i${key}` }] },
  { wrappers: [new Number(3), new String('s'), new Boolean(false), Object(Symbol('x'))] },
  { point: new Point(), map: new Map([[1, 2]]), set: new Set([1]), ta: new Uint8Array([1, 2]), re: /x/g, err: new Error('e') },
  { toJSONUndefined: { toJSON: () => undefined }, deep: { a: { b: { c: { d: [[[{}]]] } } } } },
  Object.defineProperty({ visible: 1 }, 'hidden', { value: 2, enumerable: false }),
  Object.assign(Object.create({ inherited: 1 }), { own: 2 }),
  'top string',
  42,
  null,
  true,
  undefined,
  () => 1,
];

test('stringifySync/stringifyAsync give the text JSON.stringify gives for plain data', async () => {
  for (const value of stringifyCorpus) {
    assert.equal(json.stringifySync(value), JSON.stringify(value));
    assert.equal(await json.stringifyAsync(value), JSON.stringify(value));
  }
});

test('the safe walk (taken for cycles and BigInt) writes what JSON.stringify writes', () => {
  for (const value of stringifyCorpus) {
    // A BigInt anywhere sends the whole value through the safe walk.
    const withBig = { v: value, big: 12345678901234567890n };
    const reference = { v: value, big: '12345678901234567890' };
    assert.equal(json.stringifySync(withBig), JSON.stringify(reference));
    const arr = [value, -5n];
    assert.equal(json.stringifySync(arr), JSON.stringify([value, '-5']));
  }
  // BigInt.prototype.toJSON, when a program defines one, is honoured as JSON.stringify would.
  BigInt.prototype.toJSON = function () {
    return `${this}n`;
  };
  try {
    assert.equal(json.stringifySync({ a: 1n }), JSON.stringify({ a: 1n }));
  } finally {
    delete BigInt.prototype.toJSON;
  }
});

test('cycles become "[Circular]" (never a throw); shared non-cyclic references are written twice', async () => {
  const a = { name: 'a', list: [1] };
  a.self = a;
  a.list.push(a);
  a.child = { parent: a, arr: [] };
  a.child.arr.push(a.child.arr);
  assert.equal(
    await json.stringifyAsync(a),
    '{"name":"a","list":[1,"[Circular]"],"self":"[Circular]","child":{"parent":"[Circular]","arr":["[Circular]"]}}'
  );
  const shared = { x: 1 };
  const dag = { p: shared, q: [shared, shared], r: 1n };
  assert.equal(json.stringifySync(dag), '{"p":{"x":1},"q":[{"x":1},{"x":1}],"r":"1"}');
  const viaToJSON = { t: { toJSON: () => viaToJSON } };
  // toJSON handing back an ancestor is a cycle for JSON.stringify too.
  assert.equal(json.stringifySync(viaToJSON), '{"t":"[Circular]"}');
});

test('stringify caps the output at maxBytes (UTF-8 bytes) and bounds the safe walk by maxDepth', async () => {
  const value = { s: 'é'.repeat(10) };
  const text = JSON.stringify(value);
  assert.equal(Buffer.byteLength(text), 28);
  assert.equal(json.stringifySync(value, { maxBytes: 28 }), text);
  assert.throws(() => json.stringifySync(value, { maxBytes: 27 }), (e) => e instanceof RangeError && e.code === 'ERR_QERRORS_JSON_LIMIT');
  await assert.rejects(json.stringifyAsync(value, { maxBytes: 27 }), { code: 'ERR_QERRORS_JSON_LIMIT' });
  const cyclic = { s: 'x'.repeat(1000), list: [] };
  cyclic.list.push(cyclic);
  assert.throws(() => json.stringifySync(cyclic, { maxBytes: 500 }), { code: 'ERR_QERRORS_JSON_LIMIT' });
  let deep = { big: 1n };
  for (let i = 0; i < 200; i++) deep = { deep };
  assert.throws(() => json.stringifySync(deep), { code: 'ERR_QERRORS_JSON_LIMIT' });
  assert.ok(json.stringifySync(deep, { maxDepth: 300 }).endsWith('{"big":"1"}' + '}'.repeat(200)));
});

test('errors thrown by toJSON or getters propagate unchanged', async () => {
  const boom = new Error('boom');
  const value = {
    get bad() {
      throw boom;
    },
  };
  assert.throws(() => json.stringifySync(value), (e) => e === boom);
  await assert.rejects(json.stringifyAsync(value), (e) => e === boom);
});
