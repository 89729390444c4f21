'use strict';

// The `aiModelManager` namespace (docs/ai-model-manager.md).
//
// Error analysis itself runs in the native pipeline (lib/native/ai.js): `analyzeError` hands the
// error to it and never rejects. LangChain is optional: `createLangChainModel` builds a LangChain
// chat model for callers who want one, and says how to install the packages when they are absent.
// The singleton is created on first use and starts no timers and no signal listeners; health
// checks run only when asked (the original ran one every minute, see docs/ai-model-manager.md).

const config = require('../policy/config');
const models = require('../policy/models');
const aiPipeline = require('../native/ai');
const { codedError } = require('../policy/errors');
const { verboseLog } = require('./utils');

const MODEL_PROVIDERS = { OPENAI: 'openai', GOOGLE: 'google' };

/** The original's shape of one provider's entry, built from the one model table. */
function modelConfig(provider) {
  const table = models.PROVIDERS[provider];
  const limits = { maxTokens: table.maxTokens, temperature: 0.1, topP: 1 };
  return {
    models: Object.fromEntries(table.models.map((name) => [name, { ...limits }])),
    defaultModel: table.defaultModel,
    requiredEnvVars: [table.keyVar],
  };
}

// Keyed by the original's provider names (`google` for Gemini).
const MODEL_CONFIGS = { openai: modelConfig('openai'), google: modelConfig('gemini') };
const CONFIG_KEY = { openai: 'openai', gemini: 'google' };

/** The MODEL_CONFIGS entry of a provider name or alias, or null. */
function configOf(provider) {
  const canonical = models.providerName(provider);
  return canonical ? MODEL_CONFIGS[CONFIG_KEY[canonical]] : null;
}

// Where each provider's LangChain class lives.
const LANGCHAIN = {
  openai: { pkg: '@langchain/openai', className: 'ChatOpenAI' },
  gemini: { pkg: '@langchain/google-genai', className: 'ChatGoogleGenerativeAI' },
};

const SAFETY_CATEGORIES = [
  'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_HATE_SPEECH',
  'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_DANGEROUS_CONTENT',
];

function own(obj, key) {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(obj, key);
}

function fail(message, code) {
  return codedError(Error, code, message);
}

/**
 * Requires a LangChain package the way the application would: from qerrors' own location, then
 * from the working directory (for installs where qerrors cannot see the application's packages).
 * Returns null when the package (or one of its own dependencies) is not installed.
 * @param {string} pkg
 */
function loadPackage(pkg) {
  const attempts = [() => require(pkg), () => require(require.resolve(pkg, { paths: [process.cwd()] }))];
  let missing = null;
  for (const load of attempts) {
    try {
      return { module: load(), missing: null };
    } catch (err) {
      if (!err || err.code !== 'MODULE_NOT_FOUND') throw err;
      missing = missing || err;
    }
  }
  return { module: null, missing };
}

/**
 * Validates provider, keys and model in the order the original checked them and returns what to build.
 * @param {*} provider
 * @param {*} modelName
 */
function resolveModel(provider, modelName) {
  const canonical = models.providerName(provider);
  if (!canonical) throw fail(`Unsupported AI provider: ${provider}`, 'ERR_QERRORS_AI_PROVIDER');
  const cfg = configOf(canonical);
  const missing = cfg.requiredEnvVars.filter((name) => !config.readSetting(name));
  if (missing.length > 0) {
    throw fail(`Missing required environment variables for ${provider}: ${missing.join(', ')}`, 'ERR_QERRORS_AI_KEY_MISSING');
  }
  if (canonical === 'openai' && !config.readSetting('OPENAI_API_KEY').startsWith('sk-')) {
    throw fail('Invalid OpenAI API key format. Expected key starting with "sk-"', 'ERR_QERRORS_AI_KEY_FORMAT');
  }
  const model = modelName || cfg.defaultModel;
  if (!own(cfg.models, model)) throw fail(`Unsupported model ${model} for provider ${provider}`, 'ERR_QERRORS_AI_MODEL');
  return { canonical, cfg, model };
}

/**
 * @param {string} provider
 * @param {string|null} modelName
 * @param {{ temperature?: number, topP?: number }} [overrides]
 */
function buildModel(provider, modelName, overrides = {}) {
  const { canonical, cfg, model } = resolveModel(provider, modelName);
  const { pkg, className } = LANGCHAIN[canonical];
  const { module: lib, missing } = loadPackage(pkg);
  const Chat = lib && lib[className];
  if (typeof Chat !== 'function') {
    const err = fail(
      `createLangChainModel('${provider}') needs the optional package ${pkg}, which is not installed` +
        `${lib ? ` (it has no ${className} export)` : ''}. Install it in your application with: ` +
        `npm install ${pkg} @langchain/core`,
      'ERR_QERRORS_LANGCHAIN_MISSING'
    );
    if (missing) err.cause = missing;
    throw err;
  }
  const maxTokens = config.readSetting('QERRORS_MAX_TOKENS');
  const verbose = config.readSetting('QERRORS_VERBOSE');
  const limits = cfg.models[model];
  const temperature = overrides.temperature ?? limits.temperature;
  const topP = overrides.topP ?? limits.topP;
  if (canonical === 'openai') {
    const options = {
      modelName: model,
      temperature,
      maxCompletionTokens: maxTokens || limits.maxTokens,
      topP,
      openAIApiKey: config.readSetting('OPENAI_API_KEY'),
      verbose,
      apiVersion: config.readSetting('OPENAI_API_VERSION'),
    };
    if (models.JSON_MODE_MODELS.has(model)) options.responseFormat = { type: 'json_object' };
    return new Chat(options);
  }
  return new Chat({
    modelName: model,
    temperature,
    maxOutputTokens: maxTokens || limits.maxTokens,
    topP,
    apiKey: config.readSetting('GEMINI_API_KEY'),
    verbose,
    safetySettings: SAFETY_CATEGORIES.map((category) => ({ category, threshold: 'BLOCK_MEDIUM_AND_ABOVE' })),
  });
}

/**
 * A LangChain chat model (`ChatOpenAI` or `ChatGoogleGenerativeAI`) for `provider` (default
 * 'google') and `modelName` (default: the provider's default model). Throws, in this order:
 * unsupported provider, missing key, bad OpenAI key format, unsupported model, and then
 * `ERR_QERRORS_LANGCHAIN_MISSING` with install instructions when the LangChain package is absent.
 * Makes no network call.
 */
function createLangChainModel(provider = 'google', modelName = null) {
  return buildModel(provider, modelName);
}

/** A small LRU with a TTL for analysis models (at most `max` entries). */
class TtlLru {
  constructor(max, ttlMs) {
    this.max = max;
    this.ttlMs = ttlMs;
    this.map = new Map();
  }
  get(key) {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    if (Date.now() - hit.at > this.ttlMs) return undefined;
    this.map.set(key, hit);
    return hit.value;
  }
  set(key, value) {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value);
    this.map.set(key, { value, at: Date.now() });
  }
  keys() {
    const now = Date.now();
    return [...this.map].filter(([, v]) => now - v.at <= this.ttlMs).map(([k]) => k);
  }
  clear() {
    this.map.clear();
  }
}

const ANALYSIS_CACHE_MAX = 10;
const ANALYSIS_CACHE_TTL_MS = 30 * 60 * 1000;

function closeModel(model) {
  if (model && typeof model.close === 'function') {
    try {
      const closing = model.close();
      if (closing && typeof closing.catch === 'function') closing.catch(() => {});
    } catch {
      // closing is best-effort
    }
  }
}

class AIModelManager {
  constructor() {
    // The pipeline's provider; with none configured, the one QERRORS_AI_PROVIDER names, else Gemini.
    const { provider } = config.readSettings().ai;
    this.currentProvider = provider !== 'offline' ? provider : config.readSetting('QERRORS_AI_PROVIDER') || 'gemini';
    this.currentModel = config.readSetting('QERRORS_AI_MODEL');
    this.modelInstance = null;
    this.analysisModelCache = new TtlLru(ANALYSIS_CACHE_MAX, ANALYSIS_CACHE_TTL_MS);
    this.cacheHits = 0;
    this.cacheMisses = 0;
    this.initializeModel();
  }

  /** Re-creates `modelInstance`; a failure leaves it `null` and is reported via verboseLog. */
  initializeModel() {
    try {
      this.modelInstance = buildModel(this.currentProvider, this.currentModel);
    } catch (err) {
      this.modelInstance = null;
      verboseLog(`qerrors: LangChain model unavailable: ${err.message}`);
    }
  }

  /** `true` after switching to `provider`/`modelName`, `false` (nothing changed) on failure. */
  switchModel(provider, modelName = null) {
    let instance;
    try {
      instance = buildModel(provider, modelName);
    } catch (err) {
      verboseLog(`qerrors: cannot switch AI model: ${err.message}`);
      return false;
    }
    closeModel(this.modelInstance);
    this.currentProvider = models.providerName(provider);
    this.currentModel = modelName;
    this.modelInstance = instance;
    this.clearCache();
    return true;
  }

  getCurrentModelInfo() {
    const cfg = configOf(this.currentProvider);
    return {
      provider: this.currentProvider,
      model: this.currentModel || (cfg ? cfg.defaultModel : null),
      available: this.modelInstance !== null,
    };
  }

  getAvailableModels(provider = this.currentProvider) {
    const cfg = configOf(provider);
    return cfg ? Object.keys(cfg.models) : [];
  }

  /**
   * Advice for an error (or a message string) from the native analysis pipeline, or `null` on
   * any failure. Never rejects.
   * @param {Error|object|string} prompt
   * @param {*} [context]
   */
  async analyzeError(prompt, context = undefined) {
    try {
      const errorLike = prompt !== null && typeof prompt === 'object' ? prompt : { name: 'Error', message: String(prompt) };
      const advice = await aiPipeline.analyze(errorLike, context);
      return advice !== null && typeof advice === 'object' && !Array.isArray(advice) ? advice : null;
    } catch {
      return null;
    }
  }

  /** A cached LangChain copy of the current model with temperature 1 and topP 1, or null. */
  createAnalysisModel() {
    if (this.modelInstance === null) return null;
    const key = `${this.currentProvider}:${this.currentModel || configOf(this.currentProvider).defaultModel}`;
    const cached = this.analysisModelCache.get(key);
    if (cached) {
      this.cacheHits++;
      return cached;
    }
    this.cacheMisses++;
    try {
      const model = buildModel(this.currentProvider, this.currentModel, { temperature: 1, topP: 1 });
      this.analysisModelCache.set(key, model);
      return model;
    } catch (err) {
      verboseLog(`qerrors: cannot create analysis model: ${err.message}`);
      return null;
    }
  }

  getCacheStats() {
    const lookups = this.cacheHits + this.cacheMisses;
    const cachedKeys = this.analysisModelCache.keys();
    return {
      size: cachedKeys.length,
      maxSize: ANALYSIS_CACHE_MAX,
      hitRate: lookups === 0 ? 0 : this.cacheHits / lookups,
      cachedKeys,
    };
  }

  clearCache() {
    this.analysisModelCache.clear();
  }

  initializeCacheTracking() {
    this.cacheHits = 0;
    this.cacheMisses = 0;
  }

  /**
   * Sends one tiny prompt to the LangChain model (explicit only: nothing calls it periodically).
   * Resolves `{ healthy: true, provider, model, response }` or `{ healthy: false, error, provider }`;
   * gives up after QERRORS_TIMEOUT ms.
   */
  async healthCheck() {
    const { provider, model } = this.getCurrentModelInfo();
    if (this.modelInstance === null) return { healthy: false, error: 'No AI model available', provider };
    let timer;
    try {
      const timeoutMs = config.readSettings().timeoutMs;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Health check timed out after ${timeoutMs}ms`)), timeoutMs);
        timer.unref();
      });
      const reply = await Promise.race([Promise.resolve(this.modelInstance.invoke('Reply with the single word OK.')), timeout]);
      return { healthy: true, provider, model, response: reply && reply.content !== undefined ? reply.content : reply };
    } catch (err) {
      return { healthy: false, error: err && err.message ? err.message : String(err), provider };
    } finally {
      clearTimeout(timer);
    }
  }
}

let singleton = null;

/** The process-wide AIModelManager, created on first call. */
function getAIModelManager() {
  if (singleton === null) singleton = new AIModelManager();
  return singleton;
}

/** Closes the current model (when it has `close()`) and drops the singleton. */
function resetAIModelManager() {
  if (singleton === null) return;
  closeModel(singleton.modelInstance);
  singleton = null;
}

module.exports = {
  AIModelManager,
  getAIModelManager,
  resetAIModelManager,
  MODEL_PROVIDERS,
  MODEL_CONFIGS,
  createLangChainModel,
};
