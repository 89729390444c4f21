'use strict';

// One list of error codes: every `ERR_QERRORS_*` literal in the sources is documented in
// docs/errors.md, and every code documented there is still used.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { codedError } = require('../lib/policy/errors');

const root = path.resolve(__dirname, '..');
const CODE = /ERR_QERRORS_[A-Z0-9_]*[A-Z0-9]/g;
// Literals that name a family rather than one code: `ERR_QERRORS_AI` is the prefix the AI
// pipeline tests to leave its own errors unanalysed (docs/errors.md, ERR_QERRORS_AI_OPTION).
const PREFIXES = new Set(['ERR_QERRORS_AI']);

/** Files of `dir` (recursively) whose names end with one of `exts`. */
function files(dir, exts) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) out.push(p);
  }
  return out;
}

function usedCodes() {
  const sources = [...files(path.join(root, 'lib'), ['.js']), ...files(path.join(root, 'src'), ['.rs']), path.join(root, 'index.js'), path.join(root, 'native.js')];
  const used = new Map();
  for (const file of sources) {
    for (const code of fs.readFileSync(file, 'utf8').match(CODE) || []) {
      if (PREFIXES.has(code)) continue;
      if (!used.has(code)) used.set(code, path.relative(root, file));
    }
  }
  return used;
}

test('every ERR_QERRORS_* code in lib/, src/, index.js and native.js is in docs/errors.md, and nothing else is', () => {
  const documented = new Set(fs.readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8').match(CODE).filter((c) => !PREFIXES.has(c)));
  const used = usedCodes();
  const missing = [...used].filter(([code]) => !documented.has(code)).map(([code, file]) => `${code} (${file})`);
  const unused = [...documented].filter((code) => !used.has(code));
  assert.deepEqual(missing, [], 'codes used but not documented');
  assert.deepEqual(unused, [], 'codes documented but used nowhere');
});

test('codedError: the class, the code, the message, extra properties and the cause', () => {
  const cause = new Error('root');
  const err = codedError(RangeError, 'ERR_QERRORS_INVALID_ARG', 'n must be positive', { cause, option: 'n' });
  assert.ok(err instanceof RangeError);
  assert.equal(err.code, 'ERR_QERRORS_INVALID_ARG');
  assert.equal(err.message, 'n must be positive');
  assert.equal(err.option, 'n');
  assert.equal(err.cause, cause);
  assert.deepEqual(Object.keys(codedError(Error, 'ERR_QERRORS_MISSING_ENV', 'm')), ['code']);
});

test('the configuration, compat, error-type and memory-pressure modules build coded errors with codedError only', () => {
  const own = [
    ...files(path.join(root, 'lib', 'compat'), ['.js']),
    ...['policy/config.js', 'handler/errorTypes.js', 'ops/memoryPressure.js', 'native/ai.js'].map((f) => path.join(root, 'lib', f)),
  ];
  const offenders = [];
  for (const file of own) {
    const text = fs.readFileSync(file, 'utf8');
    if (/\.code\s*=\s*['"`]ERR_QERRORS_|code:\s*['"`]ERR_QERRORS_[A-Z_]+['"`]\s*\}\)/.test(text)) offenders.push(path.relative(root, file));
  }
  assert.deepEqual(offenders, []);
});
