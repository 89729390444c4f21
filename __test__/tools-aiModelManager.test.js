'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const ai = require('../lib/compat/aiModelManager');
const { withEnv, captureConsole, tempDir, inDir, patchModule } = require('./helpers/tools-env');

const root = path.resolve(__dirname, '..');
const NO_KEYS = { OPENAI_API_KEY: undefined, GEMINI_API_KEY: undefined, QERRORS_AI_PROVIDER: undefined, QERRORS_AI_MODEL: undefined };

/** Temporarily replaces members of a real qerrors module (lib/<name>.js) with doubles. */
function fakeSibling(name, members) {
  return patchModule(require(path.join(root, 'lib', `${name}.js`)), members);
}

// lib/ copied into a temporary install so that package resolution sees only what the test puts
// next to it (this checkout has real LangChain packages installed).
function isolatedInstall(fakes = {}) {
  const dir = tempDir('qerrors-ai-');
  fs.cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true });
  for (const [pkg, source] of Object.entries(fakes)) {
    const pkgDir = path.join(dir, 'node_modules', ...pkg.split('/'));
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: pkg, version: '0.0.0-test', main: 'index.js' }));
    fs.writeFileSync(path.join(pkgDir, 'index.js'), source);
  }
  return { dir, load: () => require(path.join(dir, 'lib', 'compat', 'aiModelManager.js')) };
}

// A minimal LangChain-shaped chat model: records its options, answers invoke(), counts close().
const fakeChat = (className) => `
  'use strict';
  class ${className} {
    constructor(options) { this.options = options; this.closed = 0; ${className}.created.push(this); }
    async invoke(input) { this.lastInput = input; return { content: 'OK' }; }
    close() { this.closed++; }
  }
  ${className}.created = [];
  module.exports = { ${className} };
`;

test('aiModelManager namespace: 6 members in the original order; its constants', () => {
  assert.deepEqual(Object.keys(ai), ['AIModelManager', 'getAIModelManager', 'resetAIModelManager', 'MODEL_PROVIDERS', 'MODEL_CONFIGS', 'createLangChainModel']);
  assert.equal(ai.AIModelManager.length, 0);
  assert.equal(ai.getAIModelManager.length, 0);
  assert.equal(ai.resetAIModelManager.length, 0);
  assert.equal(ai.createLangChainModel.length, 0);
  assert.deepEqual(ai.MODEL_PROVIDERS, { OPENAI: 'openai', GOOGLE: 'google' });
  const o = { maxTokens: 4096, temperature: 0.1, topP: 1 };
  const g = { maxTokens: 8192, temperature: 0.1, topP: 1 };
  assert.deepEqual(ai.MODEL_CONFIGS, {
    openai: {
      models: { 'gpt-4o': o, 'gpt-4o-mini': o, 'gpt-4': o, 'gpt-3.5-turbo': o },
      defaultModel: 'gpt-4o',
      requiredEnvVars: ['OPENAI_API_KEY'],
    },
    google: {
      models: { 'gemini-2.5-flash-lite': g, 'gemini-2.0-flash-exp': g, 'gemini-pro': g, 'gemini-1.5-pro': g, 'gemini-1.5-flash': g },
      defaultModel: 'gemini-2.5-flash-lite',
      requiredEnvVars: ['GEMINI_API_KEY'],
    },
  });
  assert.deepEqual(Object.keys(ai.MODEL_CONFIGS.openai.models), ['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'gpt-3.5-turbo']);
  assert.deepEqual(Object.keys(ai.MODEL_CONFIGS.google.models), ['gemini-2.5-flash-lite', 'gemini-2.0-flash-exp', 'gemini-pro', 'gemini-1.5-pro', 'gemini-1.5-flash']);
});

test('createLangChainModel validates in the original order with its exact messages', async () => {
  await withEnv(NO_KEYS, () => {
    assert.throws(() => ai.createLangChainModel('nope'), { message: 'Unsupported AI provider: nope' });
    assert.throws(() => ai.createLangChainModel(null), { message: 'Unsupported AI provider: null' });
    assert.throws(() => ai.createLangChainModel('toString'), { message: 'Unsupported AI provider: toString' });
    assert.throws(() => ai.createLangChainModel(), { message: 'Missing required environment variables for google: GEMINI_API_KEY' });
    // A missing key is reported before an unknown model.
    assert.throws(() => ai.createLangChainModel('openai', 'gpt-9'), { message: 'Missing required environment variables for openai: OPENAI_API_KEY' });
  });
  await withEnv({ ...NO_KEYS, OPENAI_API_KEY: '' }, () => {
    assert.throws(() => ai.createLangChainModel('openai'), { message: 'Missing required environment variables for openai: OPENAI_API_KEY' });
  });
  await withEnv({ ...NO_KEYS, OPENAI_API_KEY: 'pk-wrong' }, () => {
    // The key format is checked before the model.
    assert.throws(() => ai.createLangChainModel('openai', 'gpt-9'), {
      message: 'Invalid OpenAI API key format. Expected key starting with "sk-"',
    });
  });
  await withEnv({ ...NO_KEYS, OPENAI_API_KEY: 'sk-test', GEMINI_API_KEY: 'g' }, () => {
    assert.throws(() => ai.createLangChainModel('openai', 'gpt-9'), { message: 'Unsupported model gpt-9 for provider openai' });
    assert.throws(() => ai.createLangChainModel('google', 'gpt-4o'), { message: 'Unsupported model gpt-4o for provider google' });
  });
});

test('without the LangChain packages: a clear error with install instructions; the manager still works', async () => {
  const { dir, load } = isolatedInstall();
  const isolated = load();
  await withEnv({ ...NO_KEYS, GEMINI_API_KEY: 'g', OPENAI_API_KEY: 'sk-test', QERRORS_VERBOSE: 'false' }, () =>
    inDir(dir, async () => {
      assert.throws(
        () => isolated.createLangChainModel(),
        (err) => {
          assert.equal(err.code, 'ERR_QERRORS_LANGCHAIN_MISSING');
          assert.match(err.message, /needs the optional package @langchain\/google-genai/);
          assert.match(err.message, /npm install @langchain\/google-genai @langchain\/core/);
          assert.equal(err.cause.code, 'MODULE_NOT_FOUND');
          return true;
        }
      );
      assert.throws(() => isolated.createLangChainModel('openai'), { message: /npm install @langchain\/openai @langchain\/core/ });
      // Spec validation still comes first.
      assert.throws(() => isolated.createLangChainModel('openai', 'gpt-9'), { message: 'Unsupported model gpt-9 for provider openai' });

      const mgr = isolated.getAIModelManager();
      assert.deepEqual(mgr.getCurrentModelInfo(), { provider: 'gemini', model: 'gemini-2.5-flash-lite', available: false });
      assert.equal(mgr.modelInstance, null);
      assert.equal(mgr.switchModel('openai'), false);
      assert.equal(mgr.createAnalysisModel(), null);
      assert.deepEqual(await mgr.healthCheck(), { healthy: false, error: 'No AI model available', provider: 'gemini' });
      assert.equal(await mgr.analyzeError(new Error('no pipeline here')), null, 'no aiPipeline module: null');
      isolated.resetAIModelManager();
    })
  );
});

test('with LangChain-shaped packages present: models are built with the original options', async () => {
  const { dir, load } = isolatedInstall({
    '@langchain/openai': fakeChat('ChatOpenAI'),
    '@langchain/google-genai': fakeChat('ChatGoogleGenerativeAI'),
  });
  const isolated = load();
  const OpenAI = require(path.join(dir, 'node_modules', '@langchain', 'openai')).ChatOpenAI;
  const Google = require(path.join(dir, 'node_modules', '@langchain', 'google-genai')).ChatGoogleGenerativeAI;
  await withEnv(
    { ...NO_KEYS, OPENAI_API_KEY: 'sk-test', GEMINI_API_KEY: 'gem', QERRORS_MAX_TOKENS: undefined, QERRORS_VERBOSE: undefined, OPENAI_API_VERSION: undefined },
    async () => {
      const o = isolated.createLangChainModel('openai');
      assert.ok(o instanceof OpenAI);
      assert.deepEqual(o.options, {
        modelName: 'gpt-4o',
        temperature: 0.1,
        maxCompletionTokens: 4096,
        topP: 1,
        openAIApiKey: 'sk-test',
        verbose: true,
        apiVersion: '2024-06-01',
        responseFormat: { type: 'json_object' },
      });
      assert.equal('responseFormat' in isolated.createLangChainModel('openai', 'gpt-4').options, false, 'JSON mode only for gpt-4o family');
      const g = isolated.createLangChainModel();
      assert.ok(g instanceof Google);
      assert.equal(g.options.modelName, 'gemini-2.5-flash-lite');
      assert.equal(g.options.maxOutputTokens, 8192);
      assert.equal(g.options.apiKey, 'gem');
      assert.deepEqual(
        g.options.safetySettings.map((s) => [s.category, s.threshold]),
        [
          ['HARM_CATEGORY_HARASSMENT', 'BLOCK_MEDIUM_AND_ABOVE'],
          ['HARM_CATEGORY_HATE_SPEECH', 'BLOCK_MEDIUM_AND_ABOVE'],
          ['HARM_CATEGORY_SEXUALLY_EXPLICIT', 'BLOCK_MEDIUM_AND_ABOVE'],
          ['HARM_CATEGORY_DANGEROUS_CONTENT', 'BLOCK_MEDIUM_AND_ABOVE'],
        ]
      );
    }
  );
  await withEnv({ ...NO_KEYS, OPENAI_API_KEY: 'sk-x', QERRORS_MAX_TOKENS: '300', QERRORS_VERBOSE: 'false', OPENAI_API_VERSION: '2025-01-01' }, () => {
    const o = isolated.createLangChainModel('openai', 'gpt-4o-mini');
    assert.equal(o.options.maxCompletionTokens, 300);
    assert.equal(o.options.verbose, false);
    assert.equal(o.options.apiVersion, '2025-01-01');
  });
});

test('the manager with a model: switching, analysis-model cache, explicit health check, reset closes', async () => {
  const { load } = isolatedInstall({
    '@langchain/openai': fakeChat('ChatOpenAI'),
    '@langchain/google-genai': fakeChat('ChatGoogleGenerativeAI'),
  });
  const isolated = load();
  await withEnv({ ...NO_KEYS, OPENAI_API_KEY: 'sk-test', GEMINI_API_KEY: 'gem', QERRORS_VERBOSE: 'false', QERRORS_AI_PROVIDER: 'openai', QERRORS_AI_MODEL: 'gpt-4' }, async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const sigterm = process.listenerCount('SIGTERM');
    const mgr = isolated.getAIModelManager();
    assert.equal(isolated.getAIModelManager(), mgr, 'a singleton');
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore, 'no timers');
    assert.equal(process.listenerCount('SIGTERM'), sigterm, 'no signal listeners');
    assert.deepEqual(mgr.getCurrentModelInfo(), { provider: 'openai', model: 'gpt-4', available: true });
    assert.deepEqual(mgr.getAvailableModels(), ['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'gpt-3.5-turbo']);
    assert.equal(mgr.getAvailableModels('google').length, 5);
    assert.deepEqual(mgr.getAvailableModels('nope'), []);

    const analysis = mgr.createAnalysisModel();
    assert.equal(analysis.options.temperature, 1);
    assert.equal(analysis.options.topP, 1);
    assert.equal(mgr.createAnalysisModel(), analysis, 'cached');
    assert.deepEqual(mgr.getCacheStats(), { size: 1, maxSize: 10, hitRate: 0.5, cachedKeys: ['openai:gpt-4'] });
    mgr.initializeCacheTracking();
    assert.equal(mgr.getCacheStats().hitRate, 0);

    const health = await mgr.healthCheck();
    assert.deepEqual(health, { healthy: true, provider: 'openai', model: 'gpt-4', response: 'OK' });
    mgr.modelInstance.invoke = async () => {
      throw new Error('provider down');
    };
    assert.deepEqual(await mgr.healthCheck(), { healthy: false, error: 'provider down', provider: 'openai' });

    const old = mgr.modelInstance;
    assert.equal(mgr.switchModel('google', 'gemini-pro'), true);
    assert.equal(old.closed, 1, 'the replaced model is closed');
    assert.equal(mgr.getCacheStats().size, 0, 'switching clears the analysis cache');
    assert.deepEqual(mgr.getCurrentModelInfo(), { provider: 'gemini', model: 'gemini-pro', available: true });
    assert.equal(mgr.switchModel('google', 'nope'), false);
    assert.deepEqual(mgr.getCurrentModelInfo(), { provider: 'gemini', model: 'gemini-pro', available: true }, 'unchanged on failure');

    const current = mgr.modelInstance;
    isolated.resetAIModelManager();
    assert.equal(current.closed, 1);
    assert.notEqual(isolated.getAIModelManager(), mgr, 'a fresh singleton after reset');
    isolated.resetAIModelManager();
    isolated.resetAIModelManager();
  });
});

test('analyzeError delegates to the AI pipeline and returns null on any failure', async () => {
  const calls = [];
  let behaviour = 'advice';
  const restore = fakeSibling('native/ai', {
    analyze: (errorLike, context) => {
      calls.push([errorLike, context]);
      if (behaviour === 'throw') throw new Error('sync failure');
      if (behaviour === 'reject') return Promise.reject(new Error('async failure'));
      if (behaviour === 'string') return Promise.resolve('not an object');
      if (behaviour === 'null') return Promise.resolve(null);
      return Promise.resolve({ advice: 'check the input', fingerprint: '0123456789abcdef', source: 'offline', createdAt: 1 });
    },
  });
  try {
    const mgr = await withEnv({ ...NO_KEYS, QERRORS_VERBOSE: 'false' }, () => new ai.AIModelManager());
    const err = new Error('boom');
    assert.deepEqual(await mgr.analyzeError(err, { route: '/x' }), {
      advice: 'check the input',
      fingerprint: '0123456789abcdef',
      source: 'offline',
      createdAt: 1,
    });
    assert.equal(calls[0][0], err);
    assert.deepEqual(calls[0][1], { route: '/x' });
    await mgr.analyzeError('a prompt string');
    assert.deepEqual(calls[1][0], { name: 'Error', message: 'a prompt string' });
    for (behaviour of ['throw', 'reject', 'string', 'null']) {
      assert.equal(await mgr.analyzeError(err), null, behaviour);
    }
  } finally {
    restore();
  }
  const restoreBroken = fakeSibling('native/ai', { analyze: undefined });
  try {
    const mgr = await withEnv({ ...NO_KEYS, QERRORS_VERBOSE: 'false' }, () => new ai.AIModelManager());
    assert.equal(await mgr.analyzeError(new Error('x')), null);
  } finally {
    restoreBroken();
  }
});

test('a failed model creation is reported through verboseLog, never thrown', async () => {
  const { result, calls } = await captureConsole(['log'], () => withEnv({ ...NO_KEYS, QERRORS_VERBOSE: 'true' }, () => new ai.AIModelManager()));
  assert.equal(result.modelInstance, null);
  assert.equal(calls.length, 1);
  assert.match(calls[0].args[0], /Missing required environment variables for gemini: GEMINI_API_KEY/);
});

test('end to end: analyzeError gets advice from the real native pipeline (offline without keys)', async () => {
  await withEnv({ ...NO_KEYS, QERRORS_VERBOSE: 'false' }, async () => {
    const mgr = new ai.AIModelManager();
    const err = new TypeError("Cannot read properties of undefined (reading 'id')");
    const advice = await mgr.analyzeError(err, { route: '/users/:id' });
    assert.ok(advice && typeof advice === 'object', 'advice from the pipeline');
    assert.match(advice.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(typeof advice.advice, 'string');
    assert.ok(['offline', 'openai', 'gemini'].includes(advice.source));
    const again = await mgr.analyzeError(err, { route: '/users/:id' });
    assert.equal(again.fingerprint, advice.fingerprint, 'the same error gives the same fingerprint');
  });
});
