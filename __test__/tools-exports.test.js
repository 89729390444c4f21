'use strict';

// The top-level exports that come from the tools modules are the namespace members themselves
// (as in the original), and the constants the tools modules provide outside their namespaces are wired.

const test = require('node:test');
const assert = require('node:assert/strict');
const q = require('../index');

test('top-level tools exports share identity with their namespace members (as in the original)', () => {
  for (const k of ['createLimiter', 'getQueueLength', 'getQueueRejectCount', 'startQueueMetrics', 'stopQueueMetrics']) {
    assert.equal(q[k], q.queueManager[k], k);
  }
  for (const k of ['createTimer', 'deepClone', 'safeRun', 'verboseLog']) assert.equal(q[k], q.utils[k], k);
  assert.notEqual(q.safeRun, q.config.safeRun, 'utils.safeRun and config.safeRun are separate functions');
  for (const k of ['getEnv', 'getInt']) assert.equal(q[k], q.config[k], k);
  for (const k of ['getMissingEnvVars', 'throwIfMissingEnvVars', 'warnIfMissingEnvVars', 'validateRequiredEnvVars', 'NODE_ENV', 'DEFAULT_ERROR_MESSAGE']) {
    assert.equal(q[k], q.envUtils[k], k);
  }
  assert.equal(q.warnMissingEnvVars, q.warnIfMissingEnvVars, 'warnMissingEnvVars is warnIfMissingEnvVars');
  assert.notEqual(q.warnMissingEnvVars, q.envUtils.warnMissingEnvVars);
  assert.equal(q.TEST_SUCCESS_MESSAGE, '\u2713');
  assert.equal(q.TEST_FAILURE_MESSAGE, '\u2717');
  for (const k of ['initializeModule', 'initializeModuleESM', 'shouldInitialize', 'logModuleInit']) assert.equal(q[k], q.moduleInitializer[k], k);
  for (const k of ['RetryHandler', 'withRetry', 'retryOperation', 'StandardAsyncExecutor', 'AsyncOperationFactory']) {
    assert.equal(q[k], q.asyncContracts[k], k);
  }
  for (const k of ['getAIModelManager', 'resetAIModelManager', 'MODEL_PROVIDERS', 'createLangChainModel']) assert.equal(q[k], q.aiModelManager[k], k);
  assert.equal(typeof q.generateUniqueId, 'function');
  assert.equal(q.generateUniqueId.length, 0);
  assert.equal(q.RetryConfigPresets.network.maxAttempts, 5);
  for (const ns of ['config', 'envUtils', 'utils', 'queueManager', 'aiModelManager', 'moduleInitializer', 'asyncContracts']) {
    assert.equal(Object.values(q[ns]).includes(q.RetryConfigPresets), false, `RetryConfigPresets is not a ${ns} member`);
  }
});
