/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;

/** One snapshot of everything qerrors measures. */
export interface MetricsSnapshot {
  timestamp: string;
  process: {
    uptimeSeconds: number;
    rssBytes: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    heapLimitBytes: number;
    externalBytes: number;
    arrayBuffersBytes: number;
  };
  /** Delay beyond the monitor's sampling period (resolutionMs), since monitoring started. */
  eventLoop: { delayMeanMs: number; delayP50Ms: number; delayP99Ms: number; delayMaxMs: number; samples: number; resolutionMs: number };
  qerrors: {
    errorsHandled: number;
    latencyMeanMs: number;
    latencyP50Ms: number;
    latencyP99Ms: number;
    latencyMaxMs: number;
    latencySumMs: number;
  };
  /**
   * Stats of every tracked component, by name: `ai` (the AI pipeline), `memory` (the
   * memory-pressure policy), `queue` (queueManager limiters) and your own (e.g.
   * `breaker.payments`). See docs/metrics-and-monitor.md for the fields.
   */
  components: Record<string, Record<string, unknown>>;
}

/** Takes one snapshot of all native and JS stats. */
export declare function getMetrics(): MetricsSnapshot;
/** Renders a snapshot (default: a fresh one) in the Prometheus text format. */
export declare function toPrometheus(snapshot?: MetricsSnapshot): string;
/** An Express handler serving metrics: Prometheus text, or JSON for `Accept: application/json` / `?format=json`. */
export declare function metricsHandler(): (req: { query?: Record<string, unknown>; headers?: Record<string, unknown> }, res: { setHeader(name: string, value: string): unknown; end(body: string): unknown }) => void;
/** Adds a component to every snapshot; objects with `stats` (method or getter) are held weakly. Returns an untrack function. */
export declare function trackMetrics(name: string, source: (() => object) | { readonly stats: object | (() => object) }): () => void;
/**
 * Registers qerrors' metric families into a prom-client registry (default: prom-client's
 * global `register`, which needs prom-client installed). Returns a function that removes them.
 */
export declare function registerPromMetrics(registry?: { registerMetric(metric: any): void; removeSingleMetric?(name: string): void }): () => void;
// ---- circuit breaker -------------------------------------------------------------

import { EventEmitter } from 'node:events';

/** Options of {@link CircuitBreaker}: the qerrors names and opossum's. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  failureThreshold?: number;
  /** Time open before half-open, ms (default 30000); `resetTimeout` overrides it. */
  recoveryTimeoutMs?: number;
  /** Rolling window length, ms (default 60000); `rollingCountTimeout` overrides it. */
  monitoringPeriodMs?: number;
  /** Per-call timeout, ms (default 10000; `false` disables); `timeout` overrides it. */
  timeoutMs?: number | false;
  timeout?: number | false;
  resetTimeout?: number;
  rollingCountTimeout?: number;
  /** Buckets of the rolling window (default 10, at most 1000). */
  rollingCountBuckets?: number;
  /** Open when more than this % of the window's results failed (default 50; `false` disables). */
  errorThresholdPercentage?: number | false;
  /** Results needed in the window before the percentage rule applies (default max(10, failureThreshold)). */
  volumeThreshold?: number;
  /** Calls admitted at a time while half-open (default 1). */
  halfOpenMaxProbes?: number;
  fallback?: (...args: any[]) => any;
  /** Return true for errors that must not count as failures. */
  errorFilter?: (err: any, ...args: any[]) => boolean;
  enabled?: boolean;
  /** Console lines on state changes and timeouts (default true). */
  log?: boolean;
  /** A fake clock for tests. */
  clock?: CircuitBreakerFakeClock;
  name?: string;
  [key: string]: unknown;
}

export interface CircuitBreakerStats {
  failures: number;
  fallbacks: number;
  successes: number;
  rejects: number;
  fires: number;
  timeouts: number;
  cacheHits: number;
  cacheMisses: number;
  coalesceCacheHits: number;
  coalesceCacheMisses: number;
  semaphoreRejections: number;
  percentiles: Record<string, number>;
  latencyMean: number;
}

export interface CircuitBreakerMetrics {
  totalRequests: number;
  successfulRequests: number;
  failedRequests: number;
  averageResponseTime: number;
  lastFailureTime: number | null;
  lastSuccessTime: number | null;
  opossumStats: {
    total: number;
    successful: number;
    failed: number;
    timeouts: number;
    circuitOpen: boolean;
    averageResponseTime: number;
  };
}

/** opossum's `Status`: the rolling window of a breaker (docs/circuit-breaker.md). */
export declare class CircuitBreakerStatus extends EventEmitter {
  constructor(options?: { rollingCountTimeout?: number; rollingCountBuckets?: number; rollingPercentilesEnabled?: boolean; enableSnapshots?: boolean; stats?: Partial<CircuitBreakerStats> });
  readonly stats: CircuitBreakerStats;
  readonly window: Array<Omit<CircuitBreakerStats, 'percentiles'> & { percentiles: Record<string, number>; isCircuitBreakerOpen?: boolean }>;
  rollingPercentilesEnabled: boolean;
  enableSnapshots: boolean;
  shutdown(): void;
}

/** A circuit breaker over a native state machine: the qerrors form and opossum's form. */
export declare class CircuitBreaker<A extends any[] = any[], R = any> extends EventEmitter {
  constructor(operation: (...args: A) => R | Promise<R>, serviceName: string, options: CircuitBreakerOptions);
  /** opossum's form: opossum's defaults and rule; a non-function action is a constant result. */
  constructor(action: ((...args: A) => R | Promise<R>) | R, options?: CircuitBreakerOptions);
  static isOurError(error: unknown): boolean;
  static newStatus(options?: ConstructorParameters<typeof CircuitBreakerStatus>[0]): CircuitBreakerStatus;
  static readonly Status: typeof CircuitBreakerStatus;
  readonly action: (...args: A) => R | Promise<R>;
  readonly group: string;
  readonly pendingClose: boolean;
  readonly status: CircuitBreakerStatus;
  readonly semaphore: { readonly count: number };
  clearCache(): void;
  getSignal(): AbortSignal | undefined;
  getAbortController(): AbortController | undefined;
  operation: (...args: A) => R | Promise<R>;
  serviceName: string;
  options: CircuitBreakerOptions;
  breaker: this;
  metrics: Omit<CircuitBreakerMetrics, 'opossumStats'>;
  fire(...args: A): Promise<R>;
  call(context: unknown, ...args: A): Promise<R>;
  execute(...args: A): Promise<R>;
  fallback(fn: ((...args: any[]) => any) | CircuitBreaker): this;
  open(): void;
  close(): void;
  disable(): void;
  enable(): void;
  shutdown(): void;
  readonly name: string;
  readonly enabled: boolean;
  readonly isShutdown: boolean;
  readonly opened: boolean;
  readonly halfOpen: boolean;
  readonly closed: boolean;
  readonly warmUp: boolean;
  readonly volumeThreshold: number;
  readonly stats: CircuitBreakerStats;
  toJSON(): { state: Record<string, unknown>; status: CircuitBreakerStats };
  getState(): 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  getMetrics(): CircuitBreakerMetrics;
  getSuccessRate(): number;
  getFailureRate(): number;
  reset(): void;
  forceOpen(): void;
  isRequestAllowed(): boolean;
  getStats(): CircuitBreakerStats;
  isOpen(): boolean;
  /** opossum's periodic check: runs `fn` now and every `interval` ms (default 5000). */
  healthCheck(fn: (this: this) => Promise<unknown>, interval?: number): void;
  /** The spec's synchronous snapshot. */
  healthCheck(): {
    state: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
    isRequestAllowed: boolean;
    isOpen: boolean;
    stats: CircuitBreakerStats;
    metrics: CircuitBreakerMetrics;
  };
}

/** A clock that moves only when told to; pass it as the `clock` option in tests. */
export declare class CircuitBreakerFakeClock {
  constructor(startMs?: number);
  advance(ms: number): void;
  now(): number;
}

export interface CircuitBreakerHandleOptions {
  failureThreshold?: number;
  resetTimeout?: number;
  rollingCountTimeout?: number;
  rollingCountBuckets?: number;
  errorThresholdPercentage?: number | false | null;
  volumeThreshold?: number;
  halfOpenMaxProbes?: number;
}

/** The raw native breaker behind {@link CircuitBreaker}: numbers in, numbers out. */
export interface CircuitBreakerHandle {
  /** A ticket (>= 0) or -1 when rejected. */
  acquire(): number;
  /** Record the result of a ticket; returns its latency in ms. */
  success(ticket: number): number;
  failure(ticket: number): number;
  timeout(ticket: number): number;
  fallback(): void;
  /** 0 closed, 1 open, 2 half-open. */
  state(): number;
  open(): void;
  close(): void;
  now(): number;
  /** Writes the window statistics into `shared[16..32]`. */
  stats(): void;
  /** [state, transitions, fires, successes, failures, timeouts, rejects, fallbacks, latencySum, lastSuccessMs, lastFailureMs, consecutiveFailures, openedAtMs, ...]. */
  readonly shared: Float64Array;
}

export declare function createCircuitBreakerHandle(options: CircuitBreakerHandleOptions, clock?: CircuitBreakerFakeClock | null): CircuitBreakerHandle;

// Rate limiter (docs/rate-limiter.md)
export interface RateLimiterOptions {
  /** Requests allowed per window (1 to 10 000 000). Required. */
  limit: number;
  /** Window in ms, 1 to 2^31-1 (about 24.8 days). Default 60000. */
  windowMs?: number;
  /** Requests that may arrive at once (bucket size). Default: limit. GCRA only. */
  burst?: number;
  /**
   * 'gcra' (RateLimiter's default): a bucket refilled smoothly; a refused request takes
   * nothing. 'fixed-window' (RateLimiterStore's and rateLimit()'s default): every hit counts,
   * refused ones too, until the key's window ends windowMs after its first hit
   * (express-rate-limit's MemoryStore).
   */
  algorithm?: 'gcra' | 'fixed-window';
  /** Most keys held; the least recently seen is evicted beyond it. Default 100000. */
  maxKeys?: number;
  /** Group IPv6 keys by this prefix length (1-128); false (default) does not group. */
  ipv6Subnet?: number | false;
  /**
   * 'coarse' (default, ~1-4 ms resolution), 'precise', 'manual' (tests; see advanceTime), or
   * 'js' (follows Date.now(), so jest/sinon fake timers move it). Without it,
   * QERRORS_LIMITER_CLOCK chooses ('coarse', 'precise' or 'js').
   */
  clock?: 'coarse' | 'precise' | 'manual' | 'js';
  /** How often idle keys are swept, in ms; 0 = no timer. Default 1000. The timer is unref'd. */
  sweepIntervalMs?: number;
}
export interface RateLimiterStats {
  keys: number;
  allowed: number;
  limited: number;
  evicted: number;
  swept: number;
}
export declare class RateLimiter {
  constructor(options: RateLimiterOptions);
  readonly limit: number;
  readonly windowMs: number;
  readonly burst: number;
  readonly maxKeys: number;
  readonly clock: 'coarse' | 'precise' | 'manual' | 'js';
  readonly algorithm: 'gcra' | 'fixed-window';
  /** Remaining requests after this one, or -1 when limited. */
  check(key: string): number;
  /** Weighted request (cost defaults to 1; 0 only reads): remaining, or -1. */
  consume(key: string, cost?: number): number;
  retryAfterMs(key: string): number;
  resetMs(key: string): number;
  remaining(key: string): number;
  penalty(key: string, n?: number): number;
  reward(key: string, n?: number): number;
  reset(key: string): boolean;
  resetAll(): void;
  /** keys: UTF-8 keys separated by "\n"; out receives remaining or -1 per key. Returns the key count. */
  checkBatch(keys: Uint8Array, out: Int32Array): number;
  sweep(steps?: number): number;
  stats(): RateLimiterStats;
  heapBytes(): number;
  /** 'fixed-window' only: counts n hits (default 1; 0 only reads), returns the window's hits. */
  hit(key: string, n?: number): number;
  advanceTime(ms: number): number;
  close(): void;
}
export interface ClientRateLimitInfo {
  totalHits: number;
  resetTime: Date | undefined;
}
/** An express-rate-limit v8 Store backed by a native RateLimiter. */
export declare class RateLimiterStore {
  constructor(options?: Partial<RateLimiterOptions>);
  readonly localKeys: true;
  readonly limiter: RateLimiter | undefined;
  init(options: { windowMs?: number; limit?: unknown }): void;
  incrementSync(key: string): ClientRateLimitInfo;
  increment(key: string): Promise<ClientRateLimitInfo>;
  decrement(key: string): Promise<void>;
  resetKey(key: string): Promise<void>;
  resetAll(): Promise<void>;
  get(key: string): Promise<ClientRateLimitInfo | undefined>;
  stats(): RateLimiterStats;
  shutdown(): void;
}
/** Any express-rate-limit compatible store. */
export interface RateLimitStore {
  init?(options: any): void | Promise<void>;
  increment(key: string): ClientRateLimitInfo | Promise<ClientRateLimitInfo>;
  decrement(key: string): void | Promise<void>;
  resetKey(key: string): void | Promise<void>;
  resetAll?(): void | Promise<void>;
  get?(key: string): ClientRateLimitInfo | undefined | Promise<ClientRateLimitInfo | undefined>;
  localKeys?: boolean;
  prefix?: string;
}
type Awaitable<T> = T | Promise<T>;
export interface RateLimitOptions {
  windowMs?: number;
  limit?: number | ((req: any, res: any) => Awaitable<number>);
  /** Deprecated alias of limit. */
  max?: number | ((req: any, res: any) => Awaitable<number>);
  /** Built-in store only. */
  burst?: number;
  /** Built-in store only. */
  maxKeys?: number;
  /** Built-in store only: 'fixed-window' (default, as express-rate-limit) or 'gcra'. */
  algorithm?: 'gcra' | 'fixed-window';
  message?: any;
  statusCode?: number;
  legacyHeaders?: boolean;
  headers?: boolean;
  standardHeaders?: boolean | 'draft-6' | 'draft-7' | 'draft-8';
  identifier?: string | ((req: any, res: any) => string);
  retryAfter?: number | ((req: any, res: any) => Awaitable<number>);
  requestPropertyName?: string;
  skipFailedRequests?: boolean;
  skipSuccessfulRequests?: boolean;
  requestWasSuccessful?: (req: any, res: any) => Awaitable<boolean>;
  keyGenerator?: (req: any, res: any) => Awaitable<string>;
  ipv6Subnet?: number | false | ((req: any, res: any) => Awaitable<number | false>);
  handler?: (req: any, res: any, next: (err?: unknown) => void, options: any) => unknown;
  skip?: (req: any, res: any) => Awaitable<boolean>;
  store?: RateLimitStore;
  validate?: boolean | Record<string, boolean>;
  passOnStoreError?: boolean;
  logger?: { error(...args: any[]): void; warn(...args: any[]): void };
}
export interface RateLimitMiddleware {
  (req: any, res: any, next: (err?: unknown) => void): Promise<void>;
  resetKey(key: string): unknown;
  getKey(key: string): Awaitable<ClientRateLimitInfo | undefined>;
  store: RateLimitStore;
  /** The counters the metrics report for this middleware (the native store's, or allowed/limited for another store). */
  stats(): RateLimiterStats | { allowed: number; limited: number };
}
/** Express middleware compatible with express-rate-limit v8 options and headers. */
export declare function rateLimit(options?: RateLimitOptions): RateLimitMiddleware;
/** express-rate-limit v8's key of an IP address: IPv4 as is, IPv4-mapped as IPv4, IPv6 as its /ipv6Subnet network (default 56). */
export declare function ipKeyGenerator(ip: string, ipv6Subnet?: number | false): string;

// json (async JSON: parse, extract, stringify)
/** Options of the `json` functions. */
export interface JsonOptions {
  /** Input size cap in UTF-8 bytes (output cap for stringify). Default 16 MiB. */
  maxBytes?: number;
  /** Nesting cap, 1 to 4096. Default 128. For stringify it bounds the safe walk only. */
  maxDepth?: number;
  /** Rejects the promise with an `AbortError` (`code: 'ABORT_ERR'`) when aborted. */
  signal?: AbortSignal;
}
/** JSON input: UTF-8 bytes (zero copy) or a string. */
export type JsonInput = string | ArrayBufferView | ArrayBuffer | SharedArrayBuffer;
/** A malformed document: `code` is `'ERR_QERRORS_JSON_PARSE'`. */
export interface JsonParseError extends SyntaxError {
  code: 'ERR_QERRORS_JSON_PARSE';
  /** 1-based line. */
  line: number;
  /** 1-based column: bytes for a byte input, UTF-16 units for a string. */
  column: number;
  /** Offset of the offending character: bytes for a byte input, UTF-16 units for a string. */
  offset: number;
}
export declare const json: {
  /** Parses off the event loop; resolves with exactly what `JSON.parse` returns. */
  parseAsync(input: JsonInput, options?: JsonOptions): Promise<unknown>;
  parseSync(input: JsonInput, options?: JsonOptions): unknown;
  /** Values at RFC 6901 pointers (`undefined` where none); one pointer gives one value. */
  extractAsync(input: JsonInput, pointer: string, options?: JsonOptions): Promise<unknown>;
  extractAsync(input: JsonInput, pointers: readonly string[], options?: JsonOptions): Promise<unknown[]>;
  extractSync(input: JsonInput, pointer: string, options?: JsonOptions): unknown;
  extractSync(input: JsonInput, pointers: readonly string[], options?: JsonOptions): unknown[];
  /** `JSON.stringify` text; cycles become "[Circular]", BigInt a decimal string, output capped. */
  stringifyAsync(value: unknown, options?: JsonOptions): Promise<string | undefined>;
  stringifySync(value: unknown, options?: JsonOptions): string | undefined;
  /** Parallel async jobs (default 2) and waiting jobs (default 1024). */
  configure(options: { concurrency?: number; maxQueue?: number }): void;
  stats(): {
    active: number;
    queued: number;
    concurrency: number;
    maxQueue: number;
    started: number;
    completed: number;
    rejectedQueueFull: number;
    aborted: number;
  };
};

// AI analysis pipeline (docs/ai-pipeline.md)
/** Advice parsed from the model's JSON object (or the offline advisor), plus our fields. */
export interface Advice {
  /** The model's advice text (present for the offline advisor and normally for models). */
  advice?: string;
  [key: string]: unknown;
  /** 16 hex digits identifying the error. */
  fingerprint: string;
  source: 'offline' | 'openai' | 'gemini';
  /** Milliseconds since the epoch. */
  createdAt: number;
}
export interface AiPipelineOptions {
  provider?: 'offline' | 'openai' | 'gemini' | 'google';
  apiKey?: string;
  /** Full endpoint URL (OpenAI-compatible chat completions, or Gemini generateContent). */
  url?: string;
  model?: string;
  maxTokens?: number;
  jsonMode?: boolean;
  timeoutMs?: number;
  connectTimeoutMs?: number;
  retryAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  retryAfterMaxMs?: number;
  concurrency?: number;
  queueLimit?: number;
  /** 0 disables the advice cache. */
  cacheLimit?: number;
  cacheTtlMs?: number;
  maxResponseBytes?: number;
  rateLimit?: false | { burst?: number; perSec?: number };
  breakerThreshold?: number;
  breakerResetMs?: number;
  /** How long an error whose analysis failed is not analysed again (default 60000; 0: always). */
  failureTtlMs?: number;
  /** Share the advice cache through this Redis (default `QERRORS_REDIS_URL`); see docs/redis.md. */
  redisUrl?: string;
}
export interface AiPipelineStats {
  provider: 'offline' | 'openai' | 'gemini';
  model: string;
  cacheHits: number;
  cacheMisses: number;
  cacheSize: number;
  cacheLimit: number;
  cacheEvictions: number;
  offline: number;
  scheduled: number;
  deduplicated: number;
  rejected: number;
  queued: number;
  inFlight: number;
  pending: number;
  concurrency: number;
  queueLimit: number;
  providerCalls: number;
  rateLimited: number;
  breakerRejected: number;
  breakerState: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  succeeded: number;
  failed: number;
  cancelled: number;
  skippedRecentFailure: number;
  /** Whether the advice cache is shared through Redis. */
  sharedCache: boolean;
  /** Advice found in the Redis-shared cache. */
  sharedHits: number;
  redisUp: boolean;
  redisOutages: number;
  closed: boolean;
  lastError: string | null;
  listeners: number;
  awaiting: number;
}
export declare const aiPipeline: {
  /** Hands an error to the background pipeline; returns its fingerprint. Never throws. */
  schedule(errorLike: unknown, context?: unknown): string;
  /** Advice for an error (cache hit: at once), or null on any failure. Never rejects. */
  analyze(errorLike: unknown, context?: unknown): Promise<Advice | null>;
  getAdvice(fingerprint: string): Advice | undefined;
  /** Called once per new piece of advice; returns an unsubscribe function. */
  onAdvice(listener: (advice: Advice, fingerprint: string, errorLike: unknown) => void): () => void;
  stats(): AiPipelineStats;
  clearCache(): void;
  /** Cancels pending work (their promises resolve null); the next call starts afresh. */
  shutdown(): Promise<void>;
  /** Overrides merged over the environment's settings; restarts the pipeline. */
  configure(options?: AiPipelineOptions): void;
};

// ---- LruCache (docs/lru-cache.md) ----

/** Why an entry left the cache, as passed to `dispose`. */
export type LruCacheDisposeReason = 'evict' | 'expire' | 'set' | 'delete';

/**
 * What `get` returns for values stored off-heap: strings as strings, Buffers and TypedArrays as
 * new Buffers. Any other value is held by reference and comes back as stored.
 */
export type LruCacheValue = string | Buffer;

export interface LruCacheOptions<K = string, V = LruCacheValue> {
  /** Most entries held; 0 or absent = no count bound. */
  max?: number;
  /** Most total size held; needs `size` or `sizeCalculation` on every `set`. 0 or absent = no size bound. */
  maxSize?: number;
  /** Largest entry stored (default `maxSize`); needs `size` or `sizeCalculation` on every `set`. */
  maxEntrySize?: number;
  /** Default time to live in ms; 0 or absent = no expiry. One of `max`/`maxSize`/`ttl` is required. */
  ttl?: number;
  /** A timer per entry with a TTL removes it when the TTL runs out. */
  ttlAutopurge?: boolean;
  /** Size of an entry counted against `maxSize` (a positive integer). */
  sizeCalculation?: (value: V, key: K) => number;
  /** A `get` restarts the entry's TTL. */
  updateAgeOnGet?: boolean;
  /** `get`/`peek`/`fetch` return an expired value (`get` once, removing it). */
  allowStale?: boolean;
  /** A `get` of an expired value leaves the entry in place. */
  noDeleteOnStaleGet?: boolean;
  /** A `set` replacing a value does not call `dispose` for the old one. */
  noDisposeOnSet?: boolean;
  /** Called after an entry leaves the cache. */
  dispose?: (value: V, key: K, reason: LruCacheDisposeReason) => void;
  /** Called right after `dispose` for the same entry. */
  disposeAfter?: (value: V, key: K, reason: LruCacheDisposeReason) => void;
  /** Called after a `set` stores a value. */
  onInsert?: (value: V, key: K, reason: 'add' | 'update' | 'replace') => void;
  /** Store arrays and plain objects off-heap too: serialized on `set`, parsed (a fresh copy) on `get`. */
  json?: boolean;
  /** Loads a missing or stale value for `fetch`. */
  fetchMethod?: (
    key: K,
    staleValue: V | undefined,
    ctx: { signal: AbortSignal; options: { ttl?: number; size?: number }; context: unknown }
  ) => V | undefined | Promise<V | undefined>;
  /** Computes a missing value for `memo`. */
  memoMethod?: (key: K, staleValue: V | undefined, ctx: { options: object; context: unknown }) => V;
  /** A failed `fetch` load answers the stale value. */
  allowStaleOnFetchRejection?: boolean;
  /** An aborted `fetch` load answers the stale value. */
  allowStaleOnFetchAbort?: boolean;
  /** A failed `fetch` load keeps the stale entry. */
  noDeleteOnFetchRejection?: boolean;
  /** A `fetch` load whose signal was aborted still stores what it loads. */
  ignoreFetchAbort?: boolean;
  /** The clock TTLs follow (default `performance`). */
  perf?: { now(): number };
  /** TTLs follow a clock moved only by `advanceClock` (for tests). */
  fakeClock?: boolean;
}

/** What a call did, filled in when passed as the `status` option (fields as lru-cache's). */
export interface LruCacheStatus<K = string, V = LruCacheValue> {
  op?: 'get' | 'set' | 'has' | 'peek' | 'fetch';
  key?: K;
  value?: V;
  get?: 'hit' | 'miss' | 'stale';
  set?: 'add' | 'update' | 'replace' | 'miss' | 'deleted';
  has?: 'hit' | 'miss' | 'stale';
  peek?: 'hit' | 'miss' | 'stale';
  fetch?: 'hit' | 'miss' | 'stale' | 'refresh' | 'inflight' | 'get';
  oldValue?: V;
  returnedStale?: true;
  forceRefresh?: true;
  maxEntrySizeExceeded?: true;
  fetchDispatched?: true;
  fetchResolved?: true;
  fetchUpdated?: true;
  fetchRejected?: true;
  fetchAborted?: true;
  fetchAbortIgnored?: true;
  fetchError?: unknown;
  ttl?: number;
  start?: number;
  now?: number;
  remainingTTL?: number;
  entrySize?: number;
  totalCalculatedSize?: number;
}

export interface LruCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  /** `set` calls refused because the entry alone is larger than `maxEntrySize` (default `maxSize`). */
  rejected: number;
  size: number;
  bytes: number;
}

/**
 * An LRU + TTL cache whose bookkeeping, strings and bytes live in Rust, off the V8 heap. Keys of
 * any type (compared like `Map` keys); other values held by reference.
 */
export declare class LruCache<K = string, V = LruCacheValue> implements Iterable<[K, V]> {
  constructor(options: LruCacheOptions<K, V>);
  readonly max: number;
  readonly maxSize: number;
  readonly maxEntrySize: number;
  readonly ttl: number;
  /** Entries held (expired ones not yet removed included). */
  readonly size: number;
  /** Sum of the sizes of the entries held. */
  readonly calculatedSize: number;
  /** Changeable: a `set` replacing a value does not dispose the old one. */
  noDisposeOnSet: boolean;
  get(key: K, options?: { allowStale?: boolean; noDeleteOnStaleGet?: boolean; status?: LruCacheStatus<K, V> }): V | undefined;
  set(
    key: K,
    value: V | NodeJS.TypedArray | undefined,
    options?: {
      ttl?: number;
      size?: number;
      sizeCalculation?: (value: V, key: K) => number;
      start?: number;
      noDisposeOnSet?: boolean;
      status?: LruCacheStatus<K, V>;
    }
  ): this;
  has(key: K, options?: { status?: LruCacheStatus<K, V> }): boolean;
  peek(key: K, options?: { allowStale?: boolean; status?: LruCacheStatus<K, V> }): V | undefined;
  delete(key: K): boolean;
  clear(): void;
  /** Removes every expired entry now; true if any was removed. */
  purgeStale(): boolean;
  keys(): Generator<K, void, void>;
  values(): Generator<V, void, void>;
  entries(): Generator<[K, V], void, void>;
  rkeys(): Generator<K, void, void>;
  rvalues(): Generator<V, void, void>;
  rentries(): Generator<[K, V], void, void>;
  [Symbol.iterator](): Generator<[K, V], void, void>;
  forEach(fn: (value: V, key: K, cache: this) => void, thisArg?: unknown): void;
  rforEach(fn: (value: V, key: K, cache: this) => void, thisArg?: unknown): void;
  fetch(
    key: K,
    options?: {
      forceRefresh?: boolean;
      allowStale?: boolean;
      ttl?: number;
      size?: number;
      signal?: AbortSignal;
      context?: unknown;
      noDeleteOnFetchRejection?: boolean;
      allowStaleOnFetchRejection?: boolean;
      allowStaleOnFetchAbort?: boolean;
      ignoreFetchAbort?: boolean;
      status?: LruCacheStatus<K, V>;
    }
  ): Promise<V | undefined>;
  /** Like `fetch`, but rejects when no value can be loaded. */
  forceFetch(key: K, options?: { forceRefresh?: boolean; allowStale?: boolean; ttl?: number; size?: number; signal?: AbortSignal; context?: unknown }): Promise<V>;
  memo(key: K, options?: { forceRefresh?: boolean; ttl?: number; size?: number; context?: unknown }): V;
  pop(): V | undefined;
  find(fn: (value: V, key: K, cache: this) => unknown): V | undefined;
  /** `value`, ms of TTL left, `start` (now, as `Date.now()`) and size of an entry. */
  info(key: K): { value: V; ttl?: number; start?: number; size?: number } | undefined;
  /** Ms left before `key` expires: `Infinity` without a TTL, 0 when absent. */
  getRemainingTTL(key: K): number;
  dump(): [K, { value: V; ttl?: number; start?: number; size?: number }][];
  load(entries: [K, { value: V; ttl?: number; start?: number; size?: number }][]): void;
  stats(): LruCacheStats;
  /** Moves the fake clock of a cache made with `fakeClock: true`; returns its time in ms. */
  advanceClock(ms: number): number;
  /** Memory held by all native caches of this process. */
  static nativeMemory(): { caches: number; bytes: number };
}

// Redis-backed distributed rate limiting (docs/redis.md).
export interface RedisStoreOptions {
  /** Redis URL; default `QERRORS_REDIS_URL`, then `redis://127.0.0.1:6379`. */
  url?: string;
  /** Prepended to every key; default `'qerrors:rl:'`. */
  prefix?: string;
  /** `url` is a seed node of a Redis Cluster; default false. */
  cluster?: boolean;
  /** Window in ms; taken from `rateLimit()` when omitted. */
  windowMs?: number;
  /** Requests per window; taken from `rateLimit()` when omitted. */
  limit?: number;
  /** Budget per Redis call, connecting included; default 200. */
  timeoutMs?: number;
  /** What answers while Redis cannot; default `'local'`. */
  insurance?: 'local' | 'open' | 'closed';
  /** While Redis is down, how often one call probes it; default 1000. */
  probeIntervalMs?: number;
  /** Checks waiting on Redis at once; more are answered by the insurance; default 10000. */
  maxInFlight?: number;
  /** Receives one line per outage and per recovery; default `console`. */
  logger?: { warn(message: string): void };
}
export interface RedisCheckResult {
  allowed: boolean;
  /** Requests still allowed now. */
  remaining: number;
  /** When denied, ms until one request is allowed; 0 when allowed. */
  retryAfterMs: number;
  /** Ms until the key is back to its full limit. */
  resetMs: number;
}
export interface RedisStoreStats {
  checks: number;
  redisAllowed: number;
  redisDenied: number;
  insuranceAllowed: number;
  insuranceDenied: number;
  overloaded: number;
  commands: number;
  timeouts: number;
  errors: number;
  skipped: number;
  outages: number;
  recoveries: number;
  scriptReloads: number;
  redisUp: boolean;
  downForMs: number;
  lastError: string;
  insurance: 'local' | 'open' | 'closed';
  closed: boolean;
  windowMs: number;
  limit: number;
}
/** An express-rate-limit v8 compatible Store whose counters live in Redis. */
export declare class RedisStore {
  constructor(options?: RedisStoreOptions);
  readonly localKeys: false;
  readonly prefix: string;
  init(options: { windowMs: number; limit?: unknown }): void;
  check(key: string, cost?: number): Promise<RedisCheckResult>;
  increment(key: string): Promise<{ totalHits: number; resetTime: Date }>;
  decrement(key: string): Promise<void>;
  get(key: string): Promise<{ totalHits: number; resetTime: Date } | undefined>;
  resetKey(key: string): Promise<void>;
  resetAll(): Promise<void>;
  stats(): RedisStoreStats;
  close(): Promise<void>;
}
export declare function redisStore(options?: RedisStoreOptions): RedisStore;
