'use strict';

// The one table of AI providers and their models. The AI pipeline's settings
// (lib/policy/config.js) and the `aiModelManager` namespace (lib/compat/aiModelManager.js) both
// read it.
//
// One provider name per provider: `gemini` (the API, its key GEMINI_API_KEY and its models are
// all called Gemini). `google`, the name the original package used, is accepted wherever a
// provider is given and means the same (docs/api.md).

const PROVIDER_ALIASES = { google: 'gemini' };

const PROVIDERS = {
  openai: {
    models: ['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'gpt-3.5-turbo'],
    defaultModel: 'gpt-4o',
    maxTokens: 4096,
    keyVar: 'OPENAI_API_KEY',
  },
  gemini: {
    models: ['gemini-2.5-flash-lite', 'gemini-2.0-flash-exp', 'gemini-pro', 'gemini-1.5-pro', 'gemini-1.5-flash'],
    defaultModel: 'gemini-2.5-flash-lite',
    maxTokens: 8192,
    keyVar: 'GEMINI_API_KEY',
  },
};

/** OpenAI models that accept `response_format: { type: 'json_object' }`. */
const JSON_MODE_MODELS = new Set(['gpt-4o', 'gpt-4o-mini', 'gpt-4-turbo']);

const OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
const GEMINI_BASE = 'https://generativelanguage.googleapis.com/v1beta/models/';

/**
 * The canonical name of a provider (`google` → `gemini`), or null when it names none.
 * @param {unknown} name
 * @returns {'openai'|'gemini'|null}
 */
function providerName(name) {
  if (typeof name !== 'string') return null;
  const lower = name.trim().toLowerCase();
  const canonical = Object.prototype.hasOwnProperty.call(PROVIDER_ALIASES, lower) ? PROVIDER_ALIASES[lower] : lower;
  return Object.prototype.hasOwnProperty.call(PROVIDERS, canonical) ? /** @type {'openai'|'gemini'} */ (canonical) : null;
}

/**
 * The default endpoint of a provider (Gemini's names the model).
 * @param {'openai'|'gemini'} provider
 * @param {string} model
 */
function defaultUrl(provider, model) {
  return provider === 'openai' ? OPENAI_URL : `${GEMINI_BASE}${encodeURIComponent(model)}:generateContent`;
}

module.exports = { PROVIDERS, PROVIDER_ALIASES, JSON_MODE_MODELS, OPENAI_URL, providerName, defaultUrl };
