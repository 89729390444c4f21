/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;

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
