'use strict';

// The shape of `require('qerrors')` against the spec's exports.json (a copy in fixtures/):
// names and order, kinds, `.length`, members, async-ness (intended values for the keys
// that were undefined in the original), and the identities of the original package (docs/api.md). Also the ESM
// entry and a TypeScript compile check of a consumer file against index.d.ts.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');

const q = require('..');
const spec = require('./fixtures/exports.json');

const isClass = (v) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));
const isAsync = (v) => typeof v === 'function' && v.constructor && v.constructor.name === 'AsyncFunction';

test('exactly 111 own enumerable keys in the spec order', () => {
  assert.equal(spec.length, 111);
  assert.deepEqual(
    Object.keys(q),
    spec.map((r) => r.name)
  );
  assert.equal(q.default, q.qerrors);
});

for (const r of spec) {
  test(`export ${r.name}: kind, length, members, async`, () => {
    const v = q[r.name];
    assert.notEqual(v, undefined, `${r.name} is defined (intended value for originally undefined keys)`);
    const arity = r.arity ?? r.intendedArity;
    const asyncFlag = r.async ?? r.intendedAsync;
    switch (r.kind) {
      case 'function':
        assert.equal(typeof v, 'function');
        assert.equal(isClass(v), false, 'a plain function, not a class');
        if (arity !== null && arity !== undefined) assert.equal(v.length, arity, 'length');
        if (asyncFlag !== undefined) assert.equal(isAsync(v), asyncFlag, 'declared async');
        assert.deepEqual(Object.keys(v), r.members, 'own enumerable members');
        break;
      case 'class':
        assert.ok(isClass(v), 'a class');
        if (arity !== null && arity !== undefined) assert.equal(v.length, arity, 'constructor length');
        for (const m of r.members) {
          assert.ok(m in v.prototype || m in v, `member ${m}`);
        }
        break;
      case 'constant':
        if ('intendedValue' in r) assert.equal(v, r.intendedValue);
        else if ('value' in r && r.name !== 'NODE_ENV') assert.equal(v, r.value);
        else if (r.name === 'NODE_ENV') assert.equal(v, process.env.NODE_ENV || 'development');
        else {
          assert.equal(typeof v, 'object');
          assert.deepEqual(Object.keys(v), r.members);
          assert.equal(Object.isFrozen(v), false, 'constants are not frozen');
        }
        break;
      case 'object':
        assert.equal(typeof v, 'object');
        if (r.name === 'simpleLogger') {
          for (const m of r.members) assert.ok(m in v, `winston member ${m}`);
        } else {
          assert.deepEqual(Object.keys(v), r.members);
        }
        break;
      case 'namespace':
        assert.deepEqual(Object.keys(v), r.members);
        if (r.name === 'logger') {
          assert.ok(v instanceof Promise, 'logger is a Promise');
          assert.equal(Object.prototype.hasOwnProperty.call(v, 'then'), false);
        }
        break;
      default:
        assert.fail(`unknown kind ${r.kind}`);
    }
  });
}

test('members of object exports have the spec lengths', () => {
  const lengths = {
    ErrorFactory: { validation: 1, authentication: 0, authorization: 0, notFound: 0, rateLimit: 0, network: 1, database: 1, system: 1, configuration: 1 },
    errorUtils: { validation: 2, authentication: 1, authorization: 1, externalApi: 2, internal: 1, wrap: 2, asyncHandler: 2 },
    safeUtils: { execute: 1, validate: 3 },
  };
  for (const [obj, table] of Object.entries(lengths)) {
    for (const [k, n] of Object.entries(table)) assert.equal(q[obj][k].length, n, `${obj}.${k}`);
  }
  assert.ok(isAsync(q.errorUtils.asyncHandler));
  assert.ok(isAsync(q.safeUtils.execute));
  const m = q.qerrors;
  assert.deepEqual(
    [m.middleware.length, m.generateErrorId.length, m.extractContext.length, m.cleanup.length, m.getQueueStats.length, m.getAnalysisCache.length],
    [0, 0, 1, 0, 0, 0]
  );
  assert.equal(m.middleware().length, 4, 'the middleware is an Express error handler');
  assert.ok(isAsync(q.logger.logStart) && isAsync(q.logger.logReturn));
  assert.equal(q.logger.logStart.length, 0);
});

test('identities of the original package', () => {
  const same = (a, b, label) => assert.equal(a, b, label);
  for (const k of ['logDebug', 'logInfo', 'logWarn', 'logError', 'logFatal', 'logAudit', 'LOG_LEVELS', 'simpleLogger', 'createSimpleWinstonLogger', 'createPerformanceTimer', 'createEnhancedLogEntry']) {
    same(q[k], q.logger[k], `logger.${k}`);
  }
  for (const k of ['sanitizeMessage', 'sanitizeContext']) {
    same(q[k], q.sanitization[k], `sanitization.${k}`);
    same(q[k], q.logger[k], `logger.${k}`);
  }
  for (const k of ['addCustomSanitizationPattern', 'clearCustomSanitizationPatterns', 'sanitizeWithCustomPatterns']) {
    same(q[k], q.sanitization[k], `sanitization.${k} (non-enumerable)`);
  }
  for (const k of ['createLimiter', 'getQueueLength', 'getQueueRejectCount', 'startQueueMetrics', 'stopQueueMetrics']) same(q[k], q.queueManager[k], k);
  for (const k of ['createTypedError', 'createStandardError', 'ErrorTypes', 'ErrorSeverity', 'ErrorFactory', 'errorMiddleware', 'handleSimpleError', 'executeWithQerrors', 'attempt', 'ServiceError', 'errorUtils', 'safeUtils']) {
    same(q[k], q.errorTypes[k], `errorTypes.${k}`);
  }
  for (const k of ['createTimer', 'deepClone', 'safeRun', 'verboseLog']) same(q[k], q.utils[k], `utils.${k}`);
  assert.notEqual(q.safeRun, q.config.safeRun, 'safeRun is not config.safeRun');
  for (const k of ['getEnv', 'getInt']) same(q[k], q.config[k], k);
  for (const k of ['getMissingEnvVars', 'throwIfMissingEnvVars', 'warnIfMissingEnvVars', 'validateRequiredEnvVars', 'NODE_ENV', 'DEFAULT_ERROR_MESSAGE']) {
    same(q[k], q.envUtils[k], `envUtils.${k}`);
  }
  same(q.warnMissingEnvVars, q.warnIfMissingEnvVars, 'warnMissingEnvVars is warnIfMissingEnvVars');
  assert.notEqual(q.warnMissingEnvVars, q.envUtils.warnMissingEnvVars);
  for (const k of Object.keys(q.moduleInitializer)) same(q[k], q.moduleInitializer[k], k);
  for (const k of Object.keys(q.dependencyInterfaces)) same(q[k], q.dependencyInterfaces[k], k);
  for (const k of Object.keys(q.entityGuards)) same(q[k], q.entityGuards[k], k);
  for (const k of Object.keys(q.responseHelpers).filter((n) => n.startsWith('send') || n === 'createResponseHelper' || n === 'globalErrorHandler')) {
    same(q[k], q.responseHelpers[k], k);
  }
  for (const k of ['CircuitState', 'createCircuitBreaker']) same(q[k], q.circuitBreaker[k], k);
  same(q.CircuitBreaker, q.circuitBreaker.CircuitBreakerWrapper, 'CircuitBreaker');
  for (const k of ['RetryHandler', 'withRetry', 'retryOperation', 'StandardAsyncExecutor', 'AsyncOperationFactory']) same(q[k], q.asyncContracts[k], k);
  for (const k of ['getAIModelManager', 'resetAIModelManager', 'MODEL_PROVIDERS', 'createLangChainModel']) same(q[k], q.aiModelManager[k], k);
  assert.equal(q.createSimpleWinstonLogger() === q.simpleLogger, false, 'createSimpleWinstonLogger makes a new logger');
  // createServiceError and RetryConfigPresets belong to no namespace.
  for (const ns of ['logger', 'config', 'envUtils', 'utils', 'sanitization', 'queueManager', 'errorTypes', 'aiModelManager', 'moduleInitializer', 'dependencyInterfaces', 'entityGuards', 'responseHelpers', 'circuitBreaker', 'asyncContracts']) {
    assert.equal(Object.keys(q[ns]).includes('createServiceError'), false);
    assert.equal(Object.keys(q[ns]).includes('RetryConfigPresets'), false);
  }
  // The qerrors function reaches the DI members without listing them.
  same(q.qerrors.logErrorWithSeverity, q.logErrorWithSeverity, 'qerrors.logErrorWithSeverity');
  same(q.getDefaultQerrorsCoreDeps().withErrorHandling, q.withErrorHandling, 'default deps carry withErrorHandling');
});

test('the logger namespace is a thenable resolving to the main winston logger', async () => {
  const main = await q.logger;
  for (const m of ['error', 'warn', 'info', 'debug', 'log']) assert.equal(typeof main[m], 'function', m);
  assert.equal(await q.logger, main, 'the same logger every time');
});

test('ESM: default export and named exports are the CommonJS objects', async () => {
  const esm = await import(path.join(__dirname, '..', 'index.mjs'));
  assert.equal(esm.default, q, 'the default export is the callable module');
  for (const name of Object.keys(q)) {
    if (name === 'default') continue;
    assert.equal(esm[name], q[name], name);
  }
});

test('TypeScript: a consumer file type-checks against index.d.ts, and misuse is rejected', () => {
  const ts = require('typescript');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-ts-'));
  try {
    const root = path.resolve(__dirname, '..');
    const good = path.join(__dirname, 'fixtures', 'consumer.ts');
    const bad = path.join(dir, 'bad.ts');
    fs.writeFileSync(
      bad,
      `import { sanitizeMessage, createTypedError, ErrorFactory } from ${JSON.stringify(root)};\n` +
        'const n: number = sanitizeMessage("x");\n' +
        'createTypedError();\n' +
        'ErrorFactory.notFound(1, 2, 3);\n'
    );
    const options = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    };
    const diagnostics = (files) =>
      ts.getPreEmitDiagnostics(ts.createProgram(files, options)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(diagnostics([good]), []);
    const errors = diagnostics([bad]);
    assert.equal(errors.length, 3, errors.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
