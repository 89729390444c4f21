/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;

// ---- LruCache (docs/lru-cache.md) ----

/** Why an entry left the cache, as passed to `dispose`. */
export type LruCacheDisposeReason = 'evict' | 'expire' | 'set' | 'delete';

/** A value the cache stores as is: strings come back as strings, Buffers/TypedArrays as Buffers. */
export type LruCacheValue = string | Buffer | NodeJS.TypedArray;

export interface LruCacheOptions<V = LruCacheValue> {
  /** Most entries held; 0 or absent = bounded by `maxSize` only. One of `max`/`maxSize` is required. */
  max?: number;
  /** Most total size held (by default the bytes of key + value as stored); 0 or absent = no size bound. */
  maxSize?: number;
  /** Default time to live in ms; 0 or absent = no expiry. */
  ttl?: number;
  /** Size of an entry counted against `maxSize` (a positive integer). */
  sizeCalculation?: (value: V, key: string) => number;
  /** A `get` restarts the entry's TTL. */
  updateAgeOnGet?: boolean;
  /** `get`/`peek` return an expired value (`get` once, removing it). */
  allowStale?: boolean;
  /** Called after an entry leaves the cache. */
  dispose?: (value: V, key: string, reason: LruCacheDisposeReason) => void;
  /** Store any JSON value: serialized on `set`, parsed (a fresh copy) on `get`. */
  json?: boolean;
  /** TTLs follow a clock moved only by `advanceClock` (for tests). */
  fakeClock?: boolean;
}

export interface LruCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  expirations: number;
  /** `set` calls refused because the entry alone is larger than `maxSize`. */
  rejected: number;
  size: number;
  bytes: number;
}

/** An LRU + TTL cache whose entries live in Rust, off the V8 heap. Keys are strings. */
export declare class LruCache<V = LruCacheValue> implements Iterable<[string, V]> {
  constructor(options: LruCacheOptions<V>);
  readonly max: number;
  readonly maxSize: number;
  readonly ttl: number;
  /** Entries held (expired ones not yet removed included). */
  readonly size: number;
  /** Sum of the sizes of the entries held. */
  readonly calculatedSize: number;
  get(key: string): V | undefined;
  set(key: string, value: V | undefined, options?: { ttl?: number; size?: number }): this;
  has(key: string): boolean;
  peek(key: string): V | undefined;
  delete(key: string): boolean;
  clear(): void;
  /** Removes every expired entry now; true if any was removed. */
  purgeStale(): boolean;
  keys(): Generator<string, void, void>;
  values(): Generator<V, void, void>;
  entries(): Generator<[string, V], void, void>;
  [Symbol.iterator](): Generator<[string, V], void, void>;
  forEach(fn: (value: V, key: string, cache: this) => void, thisArg?: unknown): void;
  stats(): LruCacheStats;
  /** Moves the fake clock of a cache made with `fakeClock: true`; returns its time in ms. */
  advanceClock(ms: number): number;
  /** Memory held by all native caches of this process. */
  static nativeMemory(): { caches: number; bytes: number };
}
