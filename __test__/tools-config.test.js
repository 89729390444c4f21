'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const config = require('../lib/policy/config');
const { withEnv, captureConsole, tempDir, inDir } = require('./helpers/tools-env');


// Every variable readSettings consults (the whole table but NODE_ENV), cleared so the host
// environment cannot leak in.
const ALL_VARS = Object.fromEntries(config.VARIABLES.filter((v) => v.name !== 'NODE_ENV').map((v) => [v.name, undefined]));

test('config namespace: 8 members in the original order with the measured arities', () => {
  assert.deepEqual(Object.keys(config), [
    'defaults',
    'getEnv',
    'safeRun',
    'getInt',
    'validateRequiredVars',
    'getConfigSummary',
    'getConfigSummarySync',
    'loadDotenv',
  ]);
  assert.equal(config.getEnv.length, 2);
  assert.equal(config.safeRun.length, 4);
  assert.equal(config.getInt.length, 3);
  assert.equal(config.validateRequiredVars.length, 1);
  assert.equal(config.getConfigSummary.length, 0);
  assert.equal(config.getConfigSummary.constructor.name, 'AsyncFunction');
  assert.equal(config.loadDotenv.constructor.name, 'AsyncFunction');
  assert.equal(config.getConfigSummarySync.length, 0);
});

test('CONFIG_DEFAULTS: the original 22 string defaults, in the order and with the values docs/configuration.md lists', () => {
  // The page's "Defaults table" paragraph: `NAME` `'value'` pairs (QERRORS_OPENAI_URL without one).
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'configuration.md'), 'utf8');
  const start = doc.indexOf('## Defaults table');
  const paragraph = doc.slice(start, doc.indexOf('each the default of the table above', start));
  const listed = [...paragraph.matchAll(/`(QERRORS_[A-Z_]+)`(?: `'([^']*)'`)?/g)];
  assert.deepEqual(Object.keys(config.defaults), listed.map((m) => m[1]));
  for (const [, name, value] of listed) if (value !== undefined) assert.equal(config.defaults[name], value, name);
  assert.equal(Object.keys(config.defaults).length, 22);
  for (const v of Object.values(config.defaults)) assert.equal(typeof v, 'string');
  assert.equal(config.defaults.QERRORS_CACHE_LIMIT, '50');
  assert.equal(config.defaults.QERRORS_CACHE_TTL, '86400');
  assert.equal(config.defaults.QERRORS_RETRY_MAX_MS, '2000');
  assert.equal(config.defaults.QERRORS_METRIC_INTERVAL_MS, '60000');
  assert.equal(config.defaults.QERRORS_OPENAI_URL, 'https://api.openai.com/v1/chat/completions');
  assert.equal(config.defaults.QERRORS_DISABLE_FILE_LOGS, '');
});

test('getEnv: env, then default, then CONFIG_DEFAULTS', async () => {
  await withEnv({ QERRORS_CONCURRENCY: undefined, NOPE_TOOLS: undefined, EMPTY_TOOLS: '' }, () => {
    assert.equal(config.getEnv('QERRORS_CONCURRENCY'), '5');
    assert.equal(config.getEnv('NOPE_TOOLS', 'd'), 'd');
    assert.equal(config.getEnv('NOPE_TOOLS'), undefined);
    assert.equal(config.getEnv('EMPTY_TOOLS', 'd'), '', 'an empty string counts as set');
    assert.equal(config.getEnv('QERRORS_CONCURRENCY', 7), 7, 'an explicit default beats CONFIG_DEFAULTS');
    assert.equal(config.getEnv('toString'), undefined, 'prototype names are not defaults');
  });
  await withEnv({ QERRORS_CONCURRENCY: '9' }, () => assert.equal(config.getEnv('QERRORS_CONCURRENCY', '1'), '9'));
});

test("getInt: the original package's measured results", async () => {
  await withEnv({ QERRORS_CONCURRENCY: undefined, UNKNOWN_T: undefined, QERRORS_CACHE_LIMIT: undefined }, () => {
    assert.equal(config.getInt('QERRORS_CONCURRENCY'), 5);
    assert.equal(config.getInt('UNKNOWN_T'), 1);
    assert.equal(config.getInt('UNKNOWN_T', 8080), 8080);
    assert.equal(config.getInt('UNKNOWN_T', 3000, 1024), 3000);
    assert.equal(config.getInt('UNKNOWN_T', 0, 0), 0);
    assert.equal(config.getInt('UNKNOWN_T', 'x'), 1);
    assert.equal(config.getInt('QERRORS_CACHE_LIMIT', 0), 1);
    assert.equal(config.getInt('UNKNOWN_T', 10, 50), 50, 'a default below the minimum is raised');
  });
  await withEnv({ N_T: '42abc' }, () => assert.equal(config.getInt('N_T'), 42));
  await withEnv({ N_T: '-5' }, () => {
    assert.equal(config.getInt('N_T'), 1);
    assert.equal(config.getInt('N_T', -10), 1);
    assert.equal(config.getInt('N_T', 7, -10), -5);
  });
  await withEnv({ N_T: '3.9' }, () => assert.equal(config.getInt('N_T'), 3));
  await withEnv({ N_T: 'abc' }, () => assert.equal(config.getInt('N_T', 12), 12));
});

test('getEnv/getInt: a non-string name is a TypeError with a code', () => {
  for (const bad of [undefined, null, 42, {}]) {
    assert.throws(() => config.getEnv(bad), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
    assert.throws(() => config.getInt(bad), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  }
});

test('config.safeRun: result, or fallback with "<name> failed" on a throw', async () => {
  assert.equal(config.safeRun('op', () => 3, 'fb'), 3);
  const { result, calls } = await captureConsole(['error'], () =>
    config.safeRun('op', () => {
      throw new Error('x');
    }, 'fb', { i: 1 })
  );
  assert.equal(result, 'fb');
  assert.deepEqual(calls, [{ method: 'error', args: ['op failed', { i: 1 }] }]);
  const p = Promise.reject(new Error('not awaited'));
  assert.equal(config.safeRun('op', () => p, 'fb'), p, 'a returned promise passes through');
  await assert.rejects(p);
});

test('validateRequiredVars: empty strings count as missing', async () => {
  await withEnv({ MYVAR_T: 'x', MISSING_A_T: undefined, EMPTY_T: '' }, () => {
    assert.deepEqual(config.validateRequiredVars(['MYVAR_T', 'MISSING_A_T', 'EMPTY_T']), {
      isValid: false,
      missing: ['MISSING_A_T', 'EMPTY_T'],
      present: ['MYVAR_T'],
    });
    assert.deepEqual(config.validateRequiredVars([]), { isValid: true, missing: [], present: [] });
  });
  assert.throws(() => config.validateRequiredVars('X'), { code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => config.validateRequiredVars([1]), { code: 'ERR_QERRORS_INVALID_ARG' });
});

test('getConfigSummary and its sync twin report env file, configured vars and 22 totals', async () => {
  const dir = tempDir();
  await withEnv({ ...ALL_VARS, QERRORS_TIMEOUT: '5', QERRORS_LOG_DIR: '' }, () =>
    inDir(dir, async () => {
      const expected = {
        environment: process.env.NODE_ENV || 'development',
        hasEnvFile: false,
        configuredVars: ['QERRORS_TIMEOUT', 'QERRORS_LOG_DIR'],
        totalVars: 22,
      };
      assert.deepEqual(await config.getConfigSummary(), expected);
      assert.deepEqual(config.getConfigSummarySync(), expected);
      fs.writeFileSync(path.join(dir, '.env'), '');
      assert.equal((await config.getConfigSummary()).hasEnvFile, true);
      assert.equal(config.getConfigSummarySync().hasEnvFile, true);
    })
  );
});

test('loadDotenv reads ./.env once, never overwrites, and resolves false without a file', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, '.env'), '# comment\nDOTENV_T_A=from-file\nDOTENV_T_B="quoted value"\nexport DOTENV_T_C=c\n');
  await withEnv({ DOTENV_T_A: 'already', DOTENV_T_B: undefined, DOTENV_T_C: undefined }, () =>
    inDir(dir, async () => {
      const first = config.loadDotenv();
      assert.equal(await first, true);
      assert.equal(process.env.DOTENV_T_A, 'already', 'existing values win');
      assert.equal(process.env.DOTENV_T_B, 'quoted value');
      assert.equal(process.env.DOTENV_T_C, 'c');
      delete process.env.DOTENV_T_B;
      assert.equal(await config.loadDotenv(), true);
      assert.equal(process.env.DOTENV_T_B, undefined, 'the second call does not read again');
    })
  );
  const empty = tempDir();
  await inDir(empty, async () => assert.equal(await config.readDotenvFile(), false));
  // An unreadable .env (a directory) warns and resolves false instead of rejecting.
  const broken = tempDir();
  fs.mkdirSync(path.join(broken, '.env'));
  const { result, calls } = await captureConsole(['warn'], () => inDir(broken, () => config.readDotenvFile()));
  assert.equal(result, false);
  assert.ok(calls.length <= 1);
});

test('readSettings: corrected defaults when nothing is set', async () => {
  // NODE_ENV too: nothing set means Node's own default, development.
  await withEnv({ ...ALL_VARS, NODE_ENV: undefined }, () => {
    assert.deepEqual(config.readSettings(), {
      concurrency: 5,
      queueLimit: 100,
      safeThreshold: 1000,
      cacheLimit: 50,
      cacheTtlSeconds: 86400,
      retryAttempts: 2,
      retryBaseMs: 100,
      retryMaxMs: 2000,
      timeoutMs: 10000,
      maxSockets: 50,
      maxFreeSockets: 256,
      maxTokens: 1000000,
      openaiUrl: 'https://api.openai.com/v1/chat/completions',
      openaiApiVersion: '2024-06-01',
      logMaxSize: 1048576,
      logMaxFiles: 5,
      logMaxDays: 0,
      verbose: true,
      logDir: 'logs',
      disableFileLogs: false,
      serviceName: 'qerrors',
      logLevel: 'info',
      nodeEnv: 'development',
      metricIntervalMs: 60000,
      memoryCheckIntervalMs: 30000,
      cleanupIntervalMs: 300000,
      aiProvider: 'offline',
      aiModel: null,
      useSecureCacheKeys: false,
      ai: {
        provider: 'offline',
        apiKey: '',
        url: '',
        model: '',
        maxTokens: 1000000,
        jsonMode: false,
        timeoutMs: 10000,
        connectTimeoutMs: 5000,
        retryAttempts: 2,
        retryBaseMs: 100,
        retryMaxMs: 2000,
        retryAfterMaxMs: 30000,
        concurrency: 5,
        queueLimit: 100,
        cacheLimit: 50,
        cacheTtlMs: 86400000,
        maxResponseBytes: 1048576,
        rateLimitBurst: 30,
        rateLimitPerSec: 0.5,
        breakerThreshold: 5,
        breakerResetMs: 30000,
        failureTtlMs: 60000,
        redisUrl: '',
      },
    });
  });
  assert.equal(Object.keys(config).includes('readSettings'), false, 'not enumerable');
});

test('readSettings: valid values are honoured, 0 disables the cache, the alias yields to CACHE_LIMIT', async () => {
  const set = {
    ...ALL_VARS,
    QERRORS_CACHE_LIMIT: '0',
    QERRORS_CACHE_SIZE: '70',
    QERRORS_LOG_MAX_DAYS: '14',
    QERRORS_VERBOSE: 'false',
    QERRORS_MEMORY_CHECK_INTERVAL: '250',
    QERRORS_CLEANUP_INTERVAL: '9000',
    QERRORS_LOG_LEVEL: 'DEBUG',
    QERRORS_AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-test',
    QERRORS_DISABLE_FILE_LOGS: '1',
    QERRORS_MAX_TOKENS: '300',
  };
  await withEnv(set, () => {
    const s = config.readSettings();
    assert.equal(s.cacheLimit, 0);
    assert.equal(s.logMaxDays, 14);
    assert.equal(s.verbose, false);
    assert.equal(s.memoryCheckIntervalMs, 250);
    assert.equal(s.cleanupIntervalMs, 9000);
    assert.equal(s.logLevel, 'debug');
    assert.equal(s.aiProvider, 'openai');
    assert.equal(s.disableFileLogs, true);
    assert.equal(s.maxTokens, 300);
  });
  await withEnv({ ...ALL_VARS, QERRORS_DISABLE_FILE_LOGS: 'false' }, () =>
    assert.equal(config.readSettings().disableFileLogs, true, 'any non-empty value disables, as in the original')
  );
  await withEnv({ ...ALL_VARS, QERRORS_CACHE_SIZE: '70' }, () => assert.equal(config.readSettings().cacheLimit, 70));
  await withEnv({ ...ALL_VARS, QERRORS_CACHE_SIZE: '70', QERRORS_CACHE_LIMIT: '20' }, () =>
    assert.equal(config.readSettings().cacheLimit, 20)
  );
});

test('readSettings: invalid values warn once per variable and fall back', async () => {
  const bad = {
    ...ALL_VARS,
    QERRORS_LOG_MAX_DAYS: 'forever',
    QERRORS_VERBOSE: 'loud',
    QERRORS_CACHE_SIZE: '-3',
    QERRORS_MEMORY_CHECK_INTERVAL: '1.5',
    QERRORS_CLEANUP_INTERVAL: '0',
    QERRORS_LOG_LEVEL: 'shouty',
    QERRORS_AI_PROVIDER: 'azure',
    QERRORS_OPENAI_URL: 'ftp://x',
    QERRORS_CONCURRENCY: '5000',
  };
  const { result, calls } = await captureConsole(['warn'], () =>
    withEnv(bad, () => [config.readSettings(), config.readSettings()])
  );
  const [s, again] = result;
  assert.deepEqual(s, again);
  assert.equal(s.logMaxDays, 0);
  assert.equal(s.verbose, true);
  assert.equal(s.cacheLimit, 50);
  assert.equal(s.memoryCheckIntervalMs, 30000);
  assert.equal(s.cleanupIntervalMs, 300000);
  assert.equal(s.logLevel, 'info');
  assert.equal(s.aiProvider, 'offline', 'no key set: the offline advisor');
  assert.equal(s.openaiUrl, 'https://api.openai.com/v1/chat/completions');
  assert.equal(s.concurrency, 1000, 'clamped to QERRORS_SAFE_THRESHOLD');
  const text = calls.map((c) => c.args.join(' '));
  for (const name of [
    'QERRORS_LOG_MAX_DAYS',
    'QERRORS_VERBOSE',
    'QERRORS_CACHE_SIZE',
    'QERRORS_MEMORY_CHECK_INTERVAL',
    'QERRORS_CLEANUP_INTERVAL',
    'QERRORS_LOG_LEVEL',
    'QERRORS_AI_PROVIDER',
    'QERRORS_OPENAI_URL',
    'QERRORS_CONCURRENCY',
  ]) {
    assert.equal(text.filter((t) => t.includes(name)).length, 1, `${name} warned exactly once: ${text.join(' | ')}`);
  }
  assert.match(text.find((t) => t.includes('QERRORS_LOG_MAX_DAYS')), /"forever".*using 0/);
});
