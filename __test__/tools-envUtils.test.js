'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const envUtils = require('../lib/compat/envUtils');
const { withEnv, captureConsole, tempDir, inDir } = require('./helpers/tools-env');

test('envUtils namespace: 14 members in the original order, arities, the test-marker constants', () => {
  assert.deepEqual(Object.keys(envUtils), [
    'getMissingEnvVars',
    'throwIfMissingEnvVars',
    'warnIfMissingEnvVars',
    'validateRequiredEnvVars',
    'warnMissingEnvVars',
    'hasEnvFile',
    'hasEnvFileSync',
    'getEnvHealth',
    'getEnvHealthSync',
    'validateEnvironment',
    'validateEnvironmentSync',
    'NODE_ENV',
    'DEFAULT_ERROR_MESSAGE',
    'loadDotenv',
  ]);
  for (const f of ['getMissingEnvVars', 'throwIfMissingEnvVars', 'warnIfMissingEnvVars', 'validateRequiredEnvVars', 'warnMissingEnvVars']) {
    assert.equal(envUtils[f].length, 1, f);
  }
  for (const f of ['hasEnvFile', 'hasEnvFileSync', 'getEnvHealth', 'getEnvHealthSync', 'validateEnvironment', 'validateEnvironmentSync', 'loadDotenv']) {
    assert.equal(envUtils[f].length, 0, f);
  }
  for (const f of ['hasEnvFile', 'getEnvHealth', 'validateEnvironment', 'loadDotenv']) {
    assert.equal(envUtils[f].constructor.name, 'AsyncFunction', f);
  }
  assert.equal(envUtils.NODE_ENV, process.env.NODE_ENV || 'development');
  assert.equal(envUtils.DEFAULT_ERROR_MESSAGE, 'An unexpected error occurred');
  assert.equal(envUtils.TEST_SUCCESS_MESSAGE, '\u2713');
  assert.equal(envUtils.TEST_FAILURE_MESSAGE, '\u2717');
  assert.notEqual(envUtils.warnMissingEnvVars, envUtils.warnIfMissingEnvVars, 'the namespace wrapper is a different function');
});

test('getMissingEnvVars: unset and empty are missing, order kept, nothing printed', async () => {
  await withEnv({ A_T: 'a', B_T: undefined, C_T: '', D_T: 'd' }, async () => {
    const { result, calls } = await captureConsole(['error', 'warn', 'log'], () =>
      envUtils.getMissingEnvVars(['C_T', 'A_T', 'B_T', 'D_T', 'toString'])
    );
    assert.deepEqual(result, ['C_T', 'B_T', 'toString']);
    assert.deepEqual(calls, []);
  });
  assert.throws(() => envUtils.getMissingEnvVars('A_T'), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => envUtils.getMissingEnvVars([null]), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
});

test('throwIfMissingEnvVars / validateRequiredEnvVars: [] or the exact error', async () => {
  await withEnv({ A_T: 'a', B_T: undefined, C_T: undefined }, async () => {
    assert.deepEqual(envUtils.throwIfMissingEnvVars(['A_T']), []);
    assert.deepEqual(envUtils.validateRequiredEnvVars([]), []);
    for (const fn of [envUtils.throwIfMissingEnvVars, envUtils.validateRequiredEnvVars]) {
      const { calls } = await captureConsole(['error'], () => {
        assert.throws(
          () => fn(['B_T', 'A_T', 'C_T']),
          (err) => {
            assert.equal(Object.getPrototypeOf(err), Error.prototype, 'plain Error');
            assert.equal(err.message, 'Missing required environment variables: B_T, C_T');
            assert.deepEqual(err.missing, ['B_T', 'C_T']);
            return true;
          }
        );
      });
      assert.deepEqual(calls, [], 'pure: no console output');
    }
  });
});

test('warnIfMissingEnvVars: boolean, exact default text, custom message; never throws', async () => {
  await withEnv({ A_T: 'a', B_T: undefined, C_T: undefined }, async () => {
    let r = await captureConsole(['warn', 'error'], () => envUtils.warnIfMissingEnvVars(['A_T']));
    assert.equal(r.result, true);
    assert.deepEqual(r.calls, []);
    r = await captureConsole(['warn'], () => envUtils.warnIfMissingEnvVars(['B_T', 'A_T', 'C_T']));
    assert.equal(r.result, false);
    assert.deepEqual(r.calls, [{ method: 'warn', args: ['Missing optional environment variables: B_T, C_T'] }]);
    r = await captureConsole(['warn'], () => envUtils.warnIfMissingEnvVars(['B_T'], 'custom2'));
    assert.deepEqual(r.calls, [{ method: 'warn', args: ['custom2'] }]);
    // The namespace's warnMissingEnvVars drops the custom message.
    r = await captureConsole(['warn'], () => envUtils.warnMissingEnvVars(['B_T'], 'ignored'));
    assert.equal(r.result, false);
    assert.deepEqual(r.calls, [{ method: 'warn', args: ['Missing optional environment variables: B_T'] }]);
    r = await captureConsole(['warn', 'error'], () => envUtils.warnIfMissingEnvVars(42));
    assert.equal(r.result, false);
    assert.equal(r.calls.length, 1);
    assert.equal(r.calls[0].args[0], 'Error in warnIfMissingEnvVars:');
  });
});

test('hasEnvFile (cached per directory) and the health reports', async () => {
  const dir = tempDir();
  const withFile = tempDir();
  fs.writeFileSync(path.join(withFile, '.env'), 'X=1\n');
  await withEnv({ MYVAR_T: 'v', MISSING_A_T: undefined, MISSING_B_T: undefined }, async () => {
    await inDir(dir, async () => {
      assert.equal(await envUtils.hasEnvFile(), false);
      assert.equal(envUtils.hasEnvFileSync(), false);
      const expected = {
        environment: process.env.NODE_ENV || 'development',
        hasEnvFile: false,
        isHealthy: false,
        required: { total: 2, configured: 1, missing: ['MISSING_A_T'] },
        optional: { total: 1, configured: 0, missing: ['MISSING_B_T'] },
        summary: { totalVars: 3, configuredVars: 1 },
      };
      assert.deepEqual(envUtils.getEnvHealthSync(['MYVAR_T', 'MISSING_A_T'], ['MISSING_B_T']), expected);
      assert.deepEqual(await envUtils.getEnvHealth(['MYVAR_T', 'MISSING_A_T'], ['MISSING_B_T']), expected);
      const empty = envUtils.getEnvHealthSync();
      assert.equal(empty.isHealthy, true);
      assert.deepEqual(empty.summary, { totalVars: 0, configuredVars: 0 });
      // The answer is cached: creating the file afterwards is not noticed in the same directory.
      fs.writeFileSync(path.join(dir, '.env'), '');
      assert.equal(envUtils.hasEnvFileSync(), false);
    });
    await inDir(withFile, async () => {
      assert.equal(envUtils.hasEnvFileSync(), true);
      assert.equal(await envUtils.hasEnvFile(), true);
    });
  });
  assert.throws(() => envUtils.getEnvHealthSync('x'), { code: 'ERR_QERRORS_INVALID_ARG' });
  await assert.rejects(envUtils.getEnvHealth(['ok'], 5), { code: 'ERR_QERRORS_INVALID_ARG' });
});

test('validateEnvironment(+Sync): report, or the throwIfMissingEnvVars error', async () => {
  await withEnv({ MYVAR_T: 'v', MISSING_A_T: undefined }, async () => {
    const ok = await envUtils.validateEnvironment({ required: ['MYVAR_T'], optional: ['MISSING_A_T'] });
    assert.equal(ok.isHealthy, true);
    assert.deepEqual(ok.optional.missing, ['MISSING_A_T']);
    await assert.rejects(envUtils.validateEnvironment({ required: ['MISSING_A_T'] }), {
      message: 'Missing required environment variables: MISSING_A_T',
    });
    assert.throws(() => envUtils.validateEnvironmentSync({ required: ['MISSING_A_T'] }), {
      message: 'Missing required environment variables: MISSING_A_T',
    });
    const soft = envUtils.validateEnvironmentSync({ required: ['MISSING_A_T'], throwOnError: false });
    assert.equal(soft.isHealthy, false);
    assert.equal((await envUtils.validateEnvironment()).isHealthy, true);
    assert.throws(() => envUtils.validateEnvironmentSync(null), { code: 'ERR_QERRORS_INVALID_ARG' });
  });
});

test('envUtils.loadDotenv has its own once-flag, separate from config.loadDotenv', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, '.env'), 'ENVUTILS_DOTENV_T=1\n');
  await withEnv({ ENVUTILS_DOTENV_T: undefined }, () =>
    inDir(dir, async () => {
      assert.equal(await envUtils.loadDotenv(), true);
      assert.equal(process.env.ENVUTILS_DOTENV_T, '1');
      delete process.env.ENVUTILS_DOTENV_T;
      assert.equal(await envUtils.loadDotenv(), true);
      assert.equal(process.env.ENVUTILS_DOTENV_T, undefined);
    })
  );
});
