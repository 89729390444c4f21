'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { tempDir } = require('./helpers/tools-env');

const root = path.resolve(__dirname, '..');
const MODULES = ['compat/queue', 'compat/utils', 'policy/config', 'compat/envUtils', 'compat/moduleInitializer', 'compat/asyncContracts', 'compat/aiModelManager'];

test('requiring the tools modules and using them does no I/O and leaves nothing running', () => {
  const cwd = tempDir();
  const script = `
    const path = require('node:path');
    const lib = (m) => require(path.join(${JSON.stringify(root)}, 'lib', m));
    const before = { sigterm: process.listenerCount('SIGTERM'), sigint: process.listenerCount('SIGINT'), exit: process.listenerCount('exit') };
    const mods = ${JSON.stringify(MODULES)}.map(lib);
    const [queue, utils, config, envUtils, init, ac, ai] = mods;
    (async () => {
      const limit = queue.createLimiter(2);
      await Promise.all([1, 2, 3].map((n) => limit(async () => n)));
      queue.startQueueMetrics(10);
      utils.stringifyContext({ a: 1 });
      utils.deepClone({ a: [1] });
      await utils.attempt(() => 1);
      config.getInt('QERRORS_CONCURRENCY');
      config.readSettings();
      envUtils.getEnvHealthSync(['PATH']);
      await init.initializeModule();
      const ex = new ac.StandardAsyncExecutor('hygiene');
      await ex.execute(async () => 1, { timeout: 60000 });
      await ac.RetryHandler.executeWithRetry(async () => 1, { retryAttempts: 3 });
      const mgr = ai.getAIModelManager();
      await mgr.analyzeError(new Error('x'));
      ai.resetAIModelManager();
      const after = { sigterm: process.listenerCount('SIGTERM'), sigint: process.listenerCount('SIGINT'), exit: process.listenerCount('exit') };
      console.log('RESULT ' + JSON.stringify({ before, after }));
    })();`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd,
    encoding: 'utf8',
    timeout: 10000,
    // NODE_ENV=test as npm test sets it: outside test mode the logger's entries (the AI
    // manager logs one) go to log files in the working directory, which is the logger's
    // job, not these modules'.
    env: { ...process.env, NODE_ENV: 'test', QERRORS_VERBOSE: 'false', GEMINI_API_KEY: '', OPENAI_API_KEY: '' },
  });
  const elapsed = Date.now() - started;
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout);
  const { before, after } = JSON.parse(line.slice('RESULT '.length));
  assert.deepEqual([after.sigterm, after.sigint], [before.sigterm, before.sigint], 'no signal listeners added');
  // The logger's one 'exit' listener writes entries still queued when the process exits
  // (lib/logging/queue.js); it keeps nothing alive, as the exit time below shows.
  assert.ok(after.exit - before.exit <= 1, `at most the logger's exit listener added (${after.exit - before.exit})`);
  assert.ok(elapsed < 3000, `exited by itself (${elapsed} ms)`);
  assert.deepEqual(fs.readdirSync(cwd), [], 'nothing written to the working directory');
});
