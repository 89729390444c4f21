/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;

// Rate limiter (docs/rate-limiter.md)
export interface RateLimiterOptions {
  /** Requests allowed per window (1 to 10 000 000). Required. */
  limit: number;
  /** Window in ms, 1 to 2^31-1 (about 24.8 days). Default 60000. */
  windowMs?: number;
  /** Requests that may arrive at once (bucket size). Default: limit. */
  burst?: number;
  /** Most keys held; the least recently seen is evicted beyond it. Default 100000. */
  maxKeys?: number;
  /** Group IPv6 keys by this prefix length (1-128); false (default) does not group. */
  ipv6Subnet?: number | false;
  /** 'coarse' (default, ~1-4 ms resolution), 'precise', or 'manual' (tests; see advanceTime). */
  clock?: 'coarse' | 'precise' | 'manual';
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
}
/** Express middleware compatible with express-rate-limit v8 options and headers. */
export declare function rateLimit(options?: RateLimitOptions): RateLimitMiddleware;
// Redis-backed distributed rate limiting (docs/redis.md).
export interface RedisStoreOptions {
  /** Redis URL; default `QERRORS_REDIS_URL`, then `redis://127.0.0.1:6379`. */
  url?: string;
  /** Prepended to every key; default `'qerrors:rl:'`. */
  prefix?: string;
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
