'use strict';

// One configuration policy: lib/policy/config.js alone reads the environment, every variable is
// parsed by its row of lib/policy/variables.js as docs/configuration.md says, and every reader
// (readSettings, getEnv/getInt, the AI pipeline, the logger, the AI model manager) reports the
// same numbers.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const config = require('../lib/policy/config');
const { VARIABLES } = require('../lib/policy/variables');
const configDocs = require('../scripts/config-docs');
const { withEnv, captureConsole, patchModule } = require('./helpers/tools-env');

const root = path.resolve(__dirname, '..');
// Every variable of the table but NODE_ENV, unset, so that the host environment cannot leak in.
const CLEAR = Object.fromEntries(VARIABLES.filter((v) => v.name !== 'NODE_ENV').map((v) => [v.name, undefined]));

/** Reads `name` under `value` (and the rest cleared); returns the value and the warnings printed. */
async function read(name, value) {
  const { result, calls } = await captureConsole(['warn'], () => withEnv({ ...CLEAR, [name]: value }, () => config.readSetting(name)));
  return { value: result, warnings: calls.map((c) => c.args.join(' ')) };
}

test('docs/configuration.md shows the variable table as lib/policy/variables.js holds it', () => {
  const text = fs.readFileSync(configDocs.DOC, 'utf8');
  assert.equal(configDocs.current(text), configDocs.render(), 'run `node scripts/config-docs.js` after changing the table');
  const documented = new Set(text.match(/`(QERRORS_[A-Z_]+|[A-Z]+_API_[A-Z]+|OPENAI_BASE_URL|NODE_ENV)`/g).map((m) => m.slice(1, -1)));
  for (const v of VARIABLES) assert.ok(documented.has(v.name), `${v.name} is documented`);
});

/** Every file of lib/ (recursively), index.js and native.js. */
function sourceFiles() {
  const out = [path.join(root, 'index.js'), path.join(root, 'native.js')];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) out.push(p);
    }
  };
  walk(path.join(root, 'lib'));
  return out;
}

test('no module but lib/policy/config.js reads a QERRORS_* variable or a provider key from process.env', () => {
  // What other modules may still read directly: variables that are not qerrors settings.
  const allowed = new Set(['NODE_ENV', 'DEBUG', 'npm_package_version']);
  const offenders = [];
  for (const file of sourceFiles()) {
    if (file === path.join(root, 'lib', 'policy', 'config.js')) continue;
    // Comments may name process.env; code may not use it for a qerrors variable.
    const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/process\.env\b(\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?/g)) {
      if (!m[2] || !allowed.has(m[2])) offenders.push(`${path.relative(root, file)}: ${m[0]}`);
    }
    for (const m of code.matchAll(/\b(QERRORS_[A-Z_]+|OPENAI_API_KEY|GEMINI_API_KEY|OPENAI_BASE_URL)\b/g)) {
      const before = code.slice(Math.max(0, m.index - 40), m.index);
      if (/process\.env\s*\[\s*['"`]?$/.test(before)) offenders.push(`${path.relative(root, file)}: process.env[${m[1]}]`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('every row: unset and blank give the default', async () => {
  for (const v of VARIABLES.filter((row) => row.name !== 'NODE_ENV')) {
    assert.deepEqual((await read(v.name, undefined)).value, v.default, `${v.name} unset`);
    const blank = await read(v.name, '  ');
    assert.deepEqual(blank.value, v.default, `${v.name} blank`);
    assert.deepEqual(blank.warnings, [], `${v.name} blank warns nothing`);
  }
});

test('whole numbers and numbers: the bounds are accepted, outside them or malformed warns once and gives the default', async () => {
  for (const v of VARIABLES.filter((row) => row.kind === 'int' || row.kind === 'number')) {
    for (const ok of [v.min, v.max]) assert.equal((await read(v.name, ` ${ok} `)).value, ok, `${v.name}=${ok}`);
    const bad = v.kind === 'int' ? [String(v.min - 1), '3abc', '3.5', 'ten', '1e3'] : [String(v.min / 2), `${v.max * 2}`, 'fast', '1/2'];
    if (v.max < Number.MAX_SAFE_INTEGER) bad.push(String(v.max + 1));
    for (const raw of bad) {
      const r = await read(v.name, raw);
      assert.deepEqual(r.value, v.default, `${v.name}=${raw}`);
      assert.equal(r.warnings.length, 1, `${v.name}=${raw} warns once: ${r.warnings}`);
      assert.ok(r.warnings[0].includes(v.name) && r.warnings[0].includes(JSON.stringify(raw)), r.warnings[0]);
    }
  }
});

test('booleans accept true/1/yes/on and false/0/no/off in any case; anything else warns once', async () => {
  for (const v of VARIABLES.filter((row) => row.kind === 'bool')) {
    for (const word of ['true', '1', 'yes', 'on', 'TRUE', 'On']) assert.equal((await read(v.name, word)).value, true, `${v.name}=${word}`);
    for (const word of ['false', '0', 'no', 'off', 'False', 'NO']) assert.equal((await read(v.name, word)).value, false, `${v.name}=${word}`);
    const r = await read(v.name, 'loud');
    assert.equal(r.value, v.default);
    assert.equal(r.warnings.length, 1);
  }
});

test('QERRORS_VERBOSE=0 silences verboseLog (docs: booleans accept 0/no/off)', async () => {
  const { verboseLog } = require('../lib/compat/utils');
  for (const off of ['0', 'no', 'off', 'false']) {
    const { calls } = await captureConsole(['log'], () => withEnv({ QERRORS_VERBOSE: off }, () => verboseLog('hidden')));
    assert.deepEqual(calls, [], off);
  }
});

test('enums, URLs, flags and secrets', async () => {
  assert.equal((await read('QERRORS_LOG_LEVEL', 'DEBUG')).value, 'debug');
  assert.equal((await read('QERRORS_AI_PROVIDER', 'Google')).value, 'gemini', 'google is an alias of gemini');
  assert.equal((await read('QERRORS_AI_PROVIDER', 'openai')).value, 'openai');
  const provider = await read('QERRORS_AI_PROVIDER', 'azure');
  assert.equal(provider.value, null);
  assert.equal(provider.warnings.length, 1);
  assert.equal((await read('QERRORS_OPENAI_URL', 'http://127.0.0.1:9/v1')).value, 'http://127.0.0.1:9/v1');
  assert.equal((await read('QERRORS_OPENAI_URL', 'ftp://x')).value, 'https://api.openai.com/v1/chat/completions');
  assert.equal((await read('QERRORS_REDIS_URL', 'redis://127.0.0.1:6379')).value, 'redis://127.0.0.1:6379');
  assert.equal((await read('QERRORS_REDIS_URL', 'http://not-redis')).value, null);
  assert.equal((await read('QERRORS_DISABLE_FILE_LOGS', 'false')).value, true, 'any non-empty value disables file logs');
  assert.equal((await read('OPENAI_API_KEY', ' sk-with-spaces ')).value, ' sk-with-spaces ', 'keys are taken as they are');
});

test('the same invalid value warns once per process; a new invalid value warns again', async () => {
  const { calls } = await captureConsole(['warn'], () =>
    withEnv({ QERRORS_LOG_MAX_DAYS: 'forever-and-ever' }, async () => {
      config.readSetting('QERRORS_LOG_MAX_DAYS');
      config.readSettings();
      config.readSettings();
      await withEnv({ QERRORS_LOG_MAX_DAYS: '4abc' }, () => config.readSetting('QERRORS_LOG_MAX_DAYS'));
    })
  );
  const lines = calls.map((c) => c.args.join(' ')).filter((l) => l.includes('QERRORS_LOG_MAX_DAYS'));
  assert.equal(lines.length, 2, lines.join(' | '));
  assert.match(lines[0], /"forever-and-ever".*using 0/);
  assert.match(lines[1], /"4abc"/);
});

test('QERRORS_LOG_MAXSIZE below its minimum warns and keeps the default (it no longer silently becomes 1 MB)', async () => {
  const r = await read('QERRORS_LOG_MAXSIZE', '500');
  assert.equal(r.value, 1048576);
  assert.match(r.warnings[0], /QERRORS_LOG_MAXSIZE="500" \(not from 1024/);
});

test('concurrency, queue and cache are clamped to QERRORS_SAFE_THRESHOLD; QERRORS_CACHE_SIZE is an alias', async () => {
  await captureConsole(['warn'], () =>
    withEnv({ ...CLEAR, QERRORS_SAFE_THRESHOLD: '8', QERRORS_CONCURRENCY: '20', QERRORS_QUEUE_LIMIT: '30', QERRORS_CACHE_SIZE: '40' }, () => {
      const s = config.readSettings();
      assert.deepEqual([s.concurrency, s.queueLimit, s.cacheLimit], [8, 8, 8]);
    })
  );
  await withEnv({ ...CLEAR, QERRORS_CACHE_SIZE: '7' }, () => assert.equal(config.readSettings().cacheLimit, 7));
  await withEnv({ ...CLEAR, QERRORS_CACHE_SIZE: '7', QERRORS_CACHE_LIMIT: '0' }, () => assert.equal(config.readSettings().cacheLimit, 0));
});

// Environments the readers must agree on.
const ENVIRONMENTS = [
  {},
  { OPENAI_API_KEY: 'sk-agree' },
  { GEMINI_API_KEY: 'gem-agree' },
  { OPENAI_API_KEY: 'sk-agree', GEMINI_API_KEY: 'gem-agree' },
  { QERRORS_AI_PROVIDER: 'google', GEMINI_API_KEY: 'gem-agree', QERRORS_CONCURRENCY: '9', QERRORS_QUEUE_LIMIT: '33', QERRORS_MAX_TOKENS: '777' },
  { QERRORS_AI_PROVIDER: 'openai', GEMINI_API_KEY: 'gem-agree' },
  {
    OPENAI_API_KEY: 'sk-agree',
    QERRORS_OPENAI_URL: 'http://127.0.0.1:9/v1/chat/completions',
    QERRORS_AI_MODEL: 'local-model',
    QERRORS_SAFE_THRESHOLD: '8',
    QERRORS_CONCURRENCY: '20',
    QERRORS_CACHE_TTL: '60',
    QERRORS_RATE_LIMIT_ENABLED: 'off',
    QERRORS_SERVICE_NAME: 'billing',
  },
];

test('readSettings, getEnv/getInt, the AI pipeline, the logger and the model manager report the same settings', async (t) => {
  const loader = require('../lib/native/loader');
  const ai = require('../lib/native/ai');
  const logger = require('../lib/logging/logger');
  const { AIModelManager } = require('../lib/compat/aiModelManager');
  const create = loader.createAiPipeline;
  let handed = null;
  const restore = patchModule(loader, {
    createAiPipeline: (options, onResult) => {
      handed = options;
      return create(options, onResult);
    },
  });
  t.after(async () => {
    restore();
    await ai.configure();
    await ai.shutdown();
  });
  for (const env of ENVIRONMENTS) {
    await captureConsole(['warn', 'log'], () =>
      withEnv({ ...CLEAR, ...env }, () => {
        const s = config.readSettings();
        const label = JSON.stringify(env);
        ai.configure();
        assert.deepEqual(handed, s.ai, `the pipeline gets readSettings().ai: ${label}`);
        const stats = ai.stats();
        assert.equal(stats.provider, s.aiProvider, label);
        assert.equal(stats.model, s.ai.model, label);
        assert.equal(stats.concurrency, s.concurrency, label);
        assert.equal(stats.queueLimit, s.queueLimit, label);
        assert.equal(stats.cacheLimit, s.cacheLimit, label);
        assert.equal(s.concurrency, s.ai.concurrency);
        assert.equal(s.maxTokens, s.ai.maxTokens);
        if (env.QERRORS_CONCURRENCY === undefined) {
          assert.equal(config.getEnv('QERRORS_CONCURRENCY'), String(s.concurrency), label);
          assert.equal(config.getInt('QERRORS_CONCURRENCY'), s.concurrency, label);
        }
        if (env.QERRORS_QUEUE_LIMIT === undefined) assert.equal(config.getInt('QERRORS_QUEUE_LIMIT'), s.queueLimit, label);
        if (s.aiProvider !== 'offline') {
          assert.equal(config.getInt('QERRORS_MAX_TOKENS'), s.maxTokens, label);
          assert.equal(new AIModelManager().getCurrentModelInfo().provider, s.aiProvider, label);
        }
        assert.equal(logger.createEnhancedLogEntry('INFO', 'm').service, s.serviceName, label);
      })
    );
  }
});

test('with OPENAI_API_KEY set: provider openai, concurrency 5, queue 100, maxTokens 4096 everywhere', async () => {
  await withEnv({ ...CLEAR, OPENAI_API_KEY: 'sk-x' }, () => {
    const s = config.readSettings();
    assert.deepEqual([s.aiProvider, s.concurrency, s.queueLimit, s.maxTokens], ['openai', 5, 100, 4096]);
    assert.deepEqual([config.getEnv('QERRORS_CONCURRENCY'), config.getEnv('QERRORS_QUEUE_LIMIT'), config.getEnv('QERRORS_MAX_TOKENS')], ['5', '100', '4096']);
  });
});

test('configure() overrides are checked by the policy and merged over the environment', async () => {
  await withEnv({ ...CLEAR, GEMINI_API_KEY: 'gem' }, () => {
    const base = config.resolveAi({});
    assert.equal(base.provider, 'gemini');
    const switched = config.resolveAi({ provider: 'openai' });
    assert.equal(switched.provider, 'openai');
    assert.equal(switched.model, 'gpt-4o');
    assert.equal(switched.maxTokens, 4096);
    assert.equal(switched.apiKey, '', 'no OpenAI key in the environment');
    assert.equal(config.resolveAi({ provider: 'google' }).provider, 'gemini');
    assert.equal(config.resolveAi({ rateLimit: false }).rateLimitBurst, 0);
    assert.throws(() => config.resolveAi({ concurrency: 0 }), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
    assert.throws(() => config.resolveAi({ nope: 1 }), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
    assert.throws(() => config.resolveAi({ provider: 'azure' }), { name: 'RangeError', code: 'ERR_QERRORS_AI_OPTION' });
    assert.throws(() => config.resolveAi({ url: 'ftp://x' }), { name: 'TypeError', code: 'ERR_QERRORS_AI_OPTION' });
  });
});
