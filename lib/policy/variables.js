'use strict';

// Every environment variable qerrors reads, once: its kind, default, bounds and meaning.
// lib/policy/config.js is the only reader of process.env and parses each variable by its row
// here; docs/configuration.md shows the same rows (__test__/config-docs.test.js compares them).
//
// Kinds: `int` (a plain whole number within min..max), `number` (a decimal within min..max),
// `bool` (true/1/yes/on, false/0/no/off), `enum` (one of `values`, any case; `aliases` map
// other spellings), `string`, `flag` (any non-empty value is on), `url` (http or https),
// `redisUrl` (redis://…), `secret` (a string that is never echoed in a warning).
// `docDefault` is how the docs state a default that depends on other settings.

/**
 * @typedef {object} Variable
 * @property {string} name
 * @property {'logging'|'limits'|'ai'|'native'} group
 * @property {'int'|'number'|'bool'|'enum'|'string'|'flag'|'url'|'redisUrl'|'secret'} kind
 * @property {*} default the value when unset, empty or invalid (null: none, see docDefault)
 * @property {number} [min]
 * @property {number} [max]
 * @property {string[]} [values]
 * @property {Record<string, string>} [aliases]
 * @property {string} [docDefault]
 * @property {string} doc
 */

const DAY_MS = 86400000;

/** @type {Variable[]} */
const VARIABLES = [
  // ---- logging ----
  { name: 'QERRORS_LOG_LEVEL', group: 'logging', kind: 'enum', default: 'info', values: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'], doc: 'Minimum level of the qerrors logger.' },
  { name: 'QERRORS_SERVICE_NAME', group: 'logging', kind: 'string', default: 'qerrors', doc: 'The `service` field of every log entry.' },
  { name: 'QERRORS_VERBOSE', group: 'logging', kind: 'bool', default: true, doc: 'Console output of `verboseLog` and of the logger; `false` silences them (the console stays on when no log file is written).' },
  { name: 'QERRORS_LOG_FORMAT', group: 'logging', kind: 'enum', default: 'text', values: ['text', 'json'], doc: '`text`: log files plus a human console line. `json`: one JSON line per entry on stdout and no files (for containers whose platform collects stdout). Why `text` is the default: [api.md](api.md#log-format-qerrors_log_format).' },
  { name: 'QERRORS_LOG_DIR', group: 'logging', kind: 'string', default: 'logs', doc: 'Directory of the log files, relative to the working directory; created by the first file write.' },
  { name: 'QERRORS_DISABLE_FILE_LOGS', group: 'logging', kind: 'flag', default: false, doc: 'Any non-empty value (even `false`, as in the original) writes no log files. `NODE_ENV=test` writes none either.' },
  { name: 'QERRORS_LOG_MAXSIZE', group: 'logging', kind: 'int', default: 1048576, min: 1024, max: Number.MAX_SAFE_INTEGER, doc: 'Bytes of one log file before it rotates.' },
  { name: 'QERRORS_LOG_MAXFILES', group: 'logging', kind: 'int', default: 5, min: 1, max: 1000, doc: 'Rotated files kept with size-based rotation.' },
  { name: 'QERRORS_LOG_MAX_DAYS', group: 'logging', kind: 'int', default: 0, min: 0, max: 36500, doc: 'Above 0: daily files kept this many days (each also capped by `QERRORS_LOG_MAXSIZE`). 0: size-based rotation, `QERRORS_LOG_MAXFILES` files of `QERRORS_LOG_MAXSIZE` bytes at most.' },
  { name: 'QERRORS_LOG_THREAD', group: 'logging', kind: 'bool', default: true, doc: 'Write the log files from a native thread: the event loop only queues each entry (docs/error-path.md). `false`: the files are written from JavaScript. Size-based rotation only: with `QERRORS_LOG_MAX_DAYS` above 0 the files are written from JavaScript.' },
  { name: 'QERRORS_LOG_QUEUE', group: 'logging', kind: 'int', default: 10000, min: 1, max: 10000000, doc: 'Entries waiting for the log thread at most; further entries are dropped, counted and reported once.' },
  { name: 'NODE_ENV', group: 'logging', kind: 'string', default: 'development', doc: 'The `environment` of log entries (read when qerrors is loaded); `test` writes no log files.' },

  // ---- queue and limits ----
  { name: 'QERRORS_CONCURRENCY', group: 'limits', kind: 'int', default: 5, min: 1, max: 10000, doc: 'AI analyses running at once.' },
  { name: 'QERRORS_QUEUE_LIMIT', group: 'limits', kind: 'int', default: 100, min: 1, max: 1000000, doc: 'AI analyses waiting for a slot; also the cap of tasks (running plus waiting) across every `createLimiter` limiter.' },
  { name: 'QERRORS_SAFE_THRESHOLD', group: 'limits', kind: 'int', default: 1000, min: 1, max: 10000000, doc: 'Upper clamp of `QERRORS_CONCURRENCY`, `QERRORS_QUEUE_LIMIT` and `QERRORS_CACHE_LIMIT` (one warning when applied).' },
  { name: 'QERRORS_METRIC_INTERVAL_MS', group: 'limits', kind: 'int', default: 60000, min: 1, max: DAY_MS, doc: 'Period of the `Queue metrics: …` line of `startQueueMetrics()`.' },
  { name: 'QERRORS_MEMORY_CHECK_INTERVAL', group: 'limits', kind: 'int', default: 30000, min: 1, max: DAY_MS, doc: 'Milliseconds between memory-pressure checks while the AI pipeline is in use (see metrics-and-monitor.md).' },
  { name: 'QERRORS_CLEANUP_INTERVAL', group: 'limits', kind: 'int', default: 300000, min: 1, max: DAY_MS, doc: 'Milliseconds between purges of expired advice.' },

  // ---- AI advice ----
  { name: 'QERRORS_AI_PROVIDER', group: 'ai', kind: 'enum', default: null, values: ['gemini', 'openai'], aliases: { google: 'gemini' }, docDefault: 'the first provider whose key is set (Gemini, then OpenAI), else the offline advisor', doc: '`gemini` (alias `google`) or `openai`. Its key is required: without it a warning is printed once and the offline advisor answers.' },
  { name: 'QERRORS_AI_MODEL', group: 'ai', kind: 'string', default: null, docDefault: "the provider's default model", doc: "Model name; must be one of the provider's models unless a custom endpoint URL is set." },
  { name: 'GEMINI_API_KEY', group: 'ai', kind: 'secret', default: null, doc: 'Key of the Gemini API.' },
  { name: 'OPENAI_API_KEY', group: 'ai', kind: 'secret', default: null, doc: 'Key of the OpenAI API (LangChain models also require it to start with `sk-`).' },
  { name: 'OPENAI_API_VERSION', group: 'ai', kind: 'string', default: '2024-06-01', doc: "Passed to LangChain's `ChatOpenAI` as `apiVersion`." },
  { name: 'QERRORS_OPENAI_URL', group: 'ai', kind: 'url', default: 'https://api.openai.com/v1/chat/completions', doc: 'Endpoint of OpenAI-compatible analysis calls.' },
  { name: 'OPENAI_BASE_URL', group: 'ai', kind: 'url', default: null, doc: 'Used as `<base>/chat/completions` when `QERRORS_OPENAI_URL` is unset.' },
  { name: 'QERRORS_GEMINI_URL', group: 'ai', kind: 'url', default: null, docDefault: "Google's `generateContent` endpoint of the model", doc: 'Gemini endpoint (for proxies and tests).' },
  { name: 'QERRORS_MAX_TOKENS', group: 'ai', kind: 'int', default: null, min: 1, max: 1000000, docDefault: "the model's limit (4096 OpenAI, 8192 Gemini)", doc: 'Maximum completion tokens.' },
  { name: 'QERRORS_CACHE_LIMIT', group: 'ai', kind: 'int', default: 50, min: 0, max: 10000000, doc: 'Entries of the AI advice cache; 0 disables the cache.' },
  { name: 'QERRORS_CACHE_SIZE', group: 'ai', kind: 'int', default: null, min: 0, max: 10000000, docDefault: '—', doc: 'Alias of `QERRORS_CACHE_LIMIT`; when both are set, `QERRORS_CACHE_LIMIT` wins.' },
  { name: 'QERRORS_CACHE_TTL', group: 'ai', kind: 'int', default: 86400, min: 1, max: 10000000000, doc: 'Seconds an advice stays cached.' },
  { name: 'QERRORS_USE_SECURE_CACHE_KEYS', group: 'ai', kind: 'bool', default: false, doc: 'Accepted for compatibility; no effect (fingerprints are 64-bit hashes that never leave the process).' },
  { name: 'QERRORS_TIMEOUT', group: 'ai', kind: 'int', default: 10000, min: 1, max: DAY_MS, doc: 'Milliseconds before one AI HTTP attempt is abandoned (the connect timeout is the smaller of this and 5000); also bounds `healthCheck()`.' },
  { name: 'QERRORS_RETRY_ATTEMPTS', group: 'ai', kind: 'int', default: 2, min: 0, max: 10, doc: 'Retries of a failed AI HTTP call.' },
  { name: 'QERRORS_RETRY_BASE_MS', group: 'ai', kind: 'int', default: 100, min: 0, max: DAY_MS, doc: 'First retry delay of AI HTTP calls; doubles per retry.' },
  { name: 'QERRORS_RETRY_MAX_MS', group: 'ai', kind: 'int', default: 2000, min: 0, max: DAY_MS, doc: 'Cap of one retry delay of AI HTTP calls.' },
  { name: 'QERRORS_MAX_SOCKETS', group: 'ai', kind: 'int', default: 50, min: 1, max: 100000, doc: 'Accepted for compatibility; no effect (the pipeline keeps up to `QERRORS_CONCURRENCY` connections per host).' },
  { name: 'QERRORS_MAX_FREE_SOCKETS', group: 'ai', kind: 'int', default: 256, min: 0, max: 100000, doc: 'Accepted for compatibility; no effect.' },
  { name: 'QERRORS_RATE_LIMIT_ENABLED', group: 'ai', kind: 'bool', default: true, doc: '`false` lifts the limit on provider calls.' },
  { name: 'QERRORS_RATE_LIMIT_OPENAI_TOKENS', group: 'ai', kind: 'int', default: 60, min: 1, max: 1000000, doc: 'Provider calls in a burst for `openai.com` endpoints.' },
  { name: 'QERRORS_RATE_LIMIT_OPENAI_REFILL', group: 'ai', kind: 'number', default: 1, min: 0.001, max: 1000000, doc: 'Provider calls per second for `openai.com` endpoints.' },
  { name: 'QERRORS_RATE_LIMIT_GENERIC_TOKENS', group: 'ai', kind: 'int', default: 30, min: 1, max: 1000000, doc: 'Provider calls in a burst for other endpoints (Gemini, proxies).' },
  { name: 'QERRORS_RATE_LIMIT_GENERIC_REFILL', group: 'ai', kind: 'number', default: 0.5, min: 0.001, max: 1000000, doc: 'Provider calls per second for other endpoints.' },
  { name: 'QERRORS_AI_MAX_RESPONSE_BYTES', group: 'ai', kind: 'int', default: 1048576, min: 1024, max: 1000000000, doc: 'Largest provider response read.' },
  { name: 'QERRORS_REDIS_URL', group: 'ai', kind: 'redisUrl', default: null, docDefault: '—', doc: '`redis://…`: advice shared by every process of the service (see redis.md); also the default URL of `qerrors/native` Redis stores.' },

  // ---- native addon ----
  { name: 'QERRORS_LIMITER_CLOCK', group: 'native', kind: 'enum', default: 'coarse', values: ['coarse', 'precise', 'js'], doc: 'Clock of rate limiters created without a `clock` option. `js` follows `Date.now()`, so jest/sinon fake timers move it (for a test suite); `coarse` is the fast default.' },
  { name: 'QERRORS_NATIVE_LIBRARY_PATH', group: 'native', kind: 'string', default: null, docDefault: '—', doc: 'Path of a native addon to load instead of the bundled one.' },
];

/** @type {Map<string, Variable>} */
const BY_NAME = new Map(VARIABLES.map((v) => [v.name, v]));

module.exports = { VARIABLES, BY_NAME };
