/** Version of the loaded native addon; equals the package version. */
export declare function nativeVersion(): string;

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
