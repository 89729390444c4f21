// Types for `require('qerrors')` / `import qerrors from 'qerrors'`: the 111 exports of the spec.

import type { Logger as WinstonLogger } from 'winston';
import type {
  CircuitBreaker as NativeCircuitBreaker,
  CircuitBreakerOptions,
  CircuitBreakerStats,
  CircuitBreakerMetrics,
} from './native';

export type { CircuitBreakerOptions, CircuitBreakerStats, CircuitBreakerMetrics };

// ---------------------------------------------------------------------------------------------
// Express-like shapes (structural, so neither express 4 nor 5 typings are required). No index
// signatures and no overloaded methods: Express's `Request` and `Response` interfaces must be
// assignable to them, or `app.use(qerrors.middleware())` is rejected under --strict.

/** The parts of a request qerrors reads. */
export interface RequestLike {
  headers?: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  originalUrl?: string;
  path?: string;
  ip?: string;
}

/** The parts of a response qerrors writes to. */
export interface ResponseLike {
  headersSent: boolean;
  status(code: number): ResponseLike;
  json(body: unknown): unknown;
  send?(body: unknown): unknown;
  setHeader?(name: string, value: string | number | readonly string[]): unknown;
  getHeader?(name: string): unknown;
}

/** Express's `NextFunction` as qerrors calls it. */
export type NextFunction = (err?: any) => void;
/**
 * Express's `ErrorRequestHandler` shape (Express recognises it by its four parameters),
 * accepted by `app.use()` with @types/express 4 and 5.
 */
export type ErrorRequestHandler = (err: any, req: RequestLike, res: ResponseLike, next: NextFunction) => void;
/** Express's `RequestHandler` shape. */
export type RequestHandler = (req: RequestLike, res: ResponseLike, next: NextFunction) => void;

// ---------------------------------------------------------------------------------------------
// Core error handling

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** What `qerrors()` resolves to. Message, context and stack are redacted. */
export interface ErrorRecord {
  /** 12 lowercase hex characters; shown to the client as the error id. */
  id: string;
  uniqueErrorName: string;
  /** ISO-8601 time of handling. */
  timestamp: string;
  message: string;
  name: string;
  statusCode: number;
  isOperational: boolean;
  context: string | Record<string, unknown>;
  severity: Severity | string;
  /** The error's own `code` (`ECONNREFUSED`, `VALIDATION_ERROR`, …) when it is a plain identifier. */
  code?: string;
  stack?: string;
  /** 16-hex fingerprint of the error given by the AI pipeline (absent when it is unavailable). */
  fingerprint?: string;
}

export interface AnalysisCacheControls {
  clear(): void;
  purgeExpired(): void;
  startCleanup(): void;
  stopCleanup(): void;
}

/** Options of `qerrors.middleware()` (docs/api.md, "The error middleware"). */
export interface MiddlewareOptions {
  /** Show every (redacted) message to clients; default: outside production (NODE_ENV !== 'production'). */
  exposeErrors?: boolean;
  /** The status to answer with, or undefined for qerrors' own choice. */
  mapStatus?: (err: any, req: RequestLike) => number | undefined;
  /** Return false to answer without logging this error. */
  shouldLog?: (err: any, record: ErrorRecord, req: RequestLike) => boolean;
  /** Called after the answer, with the redacted record (forward it to Sentry or a pager). */
  onError?: (err: any, record: ErrorRecord, req: RequestLike) => void;
  /** The request id's header; default 'x-request-id'. */
  requestIdHeader?: string;
}

/** The body of an error answer: `{ error: ErrorAnswer }`. */
export interface ErrorAnswer {
  id: string;
  code: string;
  message: string;
  status: number;
  requestId?: string;
  details?: unknown;
}

/** Wraps an async route handler so a rejection reaches `next(err)` (Express 4). */
export type AsyncHandler = <Req extends RequestLike = any, Res = any>(
  fn: (req: Req, res: Res, next: NextFunction) => unknown
) => (req: Req, res: Res, next: NextFunction) => void;

export interface QerrorsFunction {
  /**
   * Handles an error: logs a redacted record, answers `res` (JSON, or HTML when the client
   * accepts it) unless headers were sent, otherwise calls `next(error)`, schedules background
   * analysis, and resolves the record. Never rejects; resolves `undefined` for a missing error.
   */
  (error: unknown, context?: string | Record<string, unknown>, req?: RequestLike, res?: ResponseLike, next?: NextFunction): Promise<ErrorRecord | undefined>;
  /** The original (error, location, contextObject) form. */
  (error: unknown, location: string, context: Record<string, unknown>): Promise<ErrorRecord | undefined>;
  /** An Express error handler (4 parameters) answering through qerrors. */
  middleware(options?: MiddlewareOptions): ErrorRequestHandler;
  /** Wraps an async route handler so a rejection reaches `next(err)` (Express 4). */
  asyncHandler: AsyncHandler;
  /** A last route answering 404 in the client's format. */
  notFound(options?: { requestIdHeader?: string }): RequestHandler;
  /** For `process.on('unhandledRejection', …)`: logs the reason (redacted); never exits. */
  logUnhandledRejection(reason: unknown): Promise<ErrorRecord | undefined>;
  /** For `process.on('uncaughtException', …)`: logs the error (redacted); exiting is the service's choice. */
  logUncaughtException(error: unknown, origin?: string): Promise<ErrorRecord | undefined>;
  generateErrorId(): string;
  extractContext(error: Error, context?: Record<string, unknown>): Record<string, unknown>;
  cleanup(): void;
  getQueueStats(): { length: number; rejectCount: number };
  getAnalysisCache(): AnalysisCacheControls;
  readonly logErrorWithSeverity: typeof logErrorWithSeverity;
  readonly handleControllerError: typeof handleControllerError;
  readonly withErrorHandling: typeof withErrorHandling;
}

export declare const qerrors: QerrorsFunction;
export default qerrors;
// Members of the callable module (`require('qerrors').middleware()`), also named ESM exports;
// not among the 111 enumerable keys.
export declare const middleware: QerrorsFunction['middleware'];
export declare const asyncHandler: AsyncHandler;
export declare const notFound: QerrorsFunction['notFound'];
export declare const logUnhandledRejection: QerrorsFunction['logUnhandledRejection'];
export declare const logUncaughtException: QerrorsFunction['logUncaughtException'];

export declare function logErrorWithSeverity(error: unknown, functionName: string, context?: Record<string, unknown>, severity?: Severity | (string & {})): Promise<void>;
export declare function handleControllerError(
  res: ResponseLike | null | undefined,
  error: unknown,
  functionName: string,
  context?: Record<string, unknown>,
  userMessage?: string | null
): Promise<void>;
export declare function withErrorHandling<T, F = null>(
  operation: () => T | Promise<T>,
  functionName: string,
  context?: Record<string, unknown>,
  fallback?: F
): Promise<T | F>;

// ---------------------------------------------------------------------------------------------
// Error types

export declare const ErrorTypes: {
  VALIDATION: 'validation';
  AUTHENTICATION: 'authentication';
  AUTHORIZATION: 'authorization';
  NOT_FOUND: 'not_found';
  RATE_LIMIT: 'rate_limit';
  NETWORK: 'network';
  DATABASE: 'database';
  SYSTEM: 'system';
  CONFIGURATION: 'configuration';
};
export type ErrorType = (typeof ErrorTypes)[keyof typeof ErrorTypes];

export declare const ErrorSeverity: { LOW: 'low'; MEDIUM: 'medium'; HIGH: 'high'; CRITICAL: 'critical' };

export interface ServiceErrorJSON {
  name: string;
  message: string;
  type: string;
  context: unknown;
  statusCode: number;
  severity: string;
  timestamp: string;
  cause: { message: string; stack?: string } | null;
  code?: string;
}

export declare class ServiceError<C = Record<string, unknown>> extends Error {
  constructor(message: string, type: ErrorType | string, context?: C | null, cause?: unknown);
  name: string;
  type: ErrorType | string;
  context: C | null;
  cause: unknown;
  statusCode: number;
  severity: Severity;
  timestamp: string;
  code?: string;
  toJSON(): ServiceErrorJSON;
}

export declare function createTypedError(message: string, type: ErrorType | string, code?: string | null, context?: Record<string, unknown>): ServiceError;
export declare function createStandardError(code: string, message: string, type: ErrorType | string, context?: Record<string, unknown>): ServiceError;
export declare function createServiceError(message: string, type: ErrorType | string, context?: Record<string, unknown>): ServiceError;

export interface ErrorFactoryShape {
  validation(message: string, field?: string | null): ServiceError;
  authentication(message?: string): ServiceError;
  authorization(message?: string): ServiceError;
  notFound(resource?: string): ServiceError;
  rateLimit(message?: string): ServiceError;
  network(message: string, service?: string | null, context?: Record<string, unknown>): ServiceError;
  database(message: string, operation?: string | null): ServiceError;
  system(message: string, context?: unknown): ServiceError;
  configuration(message: string, field?: string | null): ServiceError;
}
export declare const ErrorFactory: ErrorFactoryShape;

export interface ErrorUtilsShape {
  validation(field: string, value: unknown): ServiceError;
  authentication(serviceName: string): ServiceError;
  authorization(action: string): ServiceError;
  externalApi(serviceName: string, originalError: { message: string }): ServiceError;
  internal(message: string, context?: unknown): ServiceError;
  wrap(error: unknown, defaultMessage: string): ServiceError;
  asyncHandler<T>(operation: () => T | Promise<T>, errorMessage: string): Promise<T>;
}
export declare const errorUtils: ErrorUtilsShape;

export type SafeResult<T> = { success: true; data: T } | { success: false; error: unknown };
export interface SafeUtilsShape {
  execute<T>(operation: () => T | Promise<T>): Promise<SafeResult<T>>;
  validate<T>(value: T, validator: (value: T) => unknown, field: string): SafeResult<T>;
}
export declare const safeUtils: SafeUtilsShape;

export interface SimpleErrorBody {
  success: false;
  error: {
    code: string;
    message: string;
    type: string;
    severity: string;
    context: Record<string, unknown>;
    timestamp: string;
  };
}
export declare function handleSimpleError(error: unknown, context?: Record<string, unknown>): SimpleErrorBody;
export declare function errorMiddleware(err: unknown, req: RequestLike, res: ResponseLike, next: NextFunction): void;
export declare function executeWithQerrors<T>(options: { operation: () => T | Promise<T>; failureMessage?: string; [key: string]: unknown }): Promise<T>;
export type AttemptResult<T> = { ok: true; value: T } | { ok: false; error: unknown };
export declare function attempt<T>(fn: () => T | Promise<T>): Promise<AttemptResult<T>>;

// ---------------------------------------------------------------------------------------------
// Logging

export interface LogLevel {
  priority: number;
  color: string;
  name: string;
}
export declare const LOG_LEVELS: {
  DEBUG: LogLevel;
  INFO: LogLevel;
  WARN: LogLevel;
  ERROR: LogLevel;
  FATAL: LogLevel;
  AUDIT: LogLevel;
};

/** `(message, context = {}, requestId = null)`; resolves once the entry is handed to winston. */
export type LogFunction = (message?: unknown, context?: Record<string, unknown>, requestId?: string | null) => Promise<void>;
export declare const logDebug: LogFunction;
export declare const logInfo: LogFunction;
export declare const logWarn: LogFunction;
export declare const logError: LogFunction;
export declare const logFatal: LogFunction;
export declare const logAudit: LogFunction;

export interface EnhancedLogEntry {
  timestamp: string;
  level: string;
  message: string;
  service: string;
  version: string;
  environment: string;
  pid: number;
  hostname: string;
  requestId?: string;
  context?: Record<string, unknown>;
  memory?: { heapUsed: number; heapTotal: number; external: number; rss: number };
}
export declare function createEnhancedLogEntry(level: string, message: unknown, context?: Record<string, unknown> | null, requestId?: string | null): EnhancedLogEntry;

export interface PerformanceContext {
  operation: string;
  duration_ms: number;
  success: boolean;
  memory_delta: { heapUsed: number; external: number };
  [key: string]: unknown;
}
export interface PerformanceTimer {
  (success?: boolean, additionalContext?: Record<string, unknown>): Promise<PerformanceContext>;
  elapsed(): number;
  elapsedFormatted(): string;
  logPerformance(success?: boolean, additionalContext?: Record<string, unknown>): Promise<PerformanceContext>;
  end(): Promise<PerformanceContext>;
}
export declare function createPerformanceTimer(operation: string, requestId?: string | null): PerformanceTimer;

export declare const simpleLogger: WinstonLogger;
export declare function createSimpleWinstonLogger(): WinstonLogger;

export interface LoggerNamespace extends Promise<WinstonLogger> {
  logStart(name: string, data?: unknown): Promise<void>;
  logReturn(name: string, data?: unknown): Promise<void>;
  logDebug: LogFunction;
  logInfo: LogFunction;
  logWarn: LogFunction;
  logError: LogFunction;
  logFatal: LogFunction;
  logAudit: LogFunction;
  createPerformanceTimer: typeof createPerformanceTimer;
  sanitizeMessage: typeof sanitizeMessage;
  sanitizeContext: typeof sanitizeContext;
  createEnhancedLogEntry: typeof createEnhancedLogEntry;
  LOG_LEVELS: typeof LOG_LEVELS;
  readonly simpleLogger: WinstonLogger;
  createSimpleWinstonLogger: typeof createSimpleWinstonLogger;
}
/** A Promise of the main winston logger, carrying the logging functions as members. */
export declare const logger: LoggerNamespace;

// ---------------------------------------------------------------------------------------------
// Sanitization

export declare function sanitizeMessage(message: unknown, level?: string): string;
export declare function sanitizeContext<T>(context: T, level?: string, maxDepth?: number, currentDepth?: number): T extends object ? Record<string, unknown> | unknown[] | string : T;
export declare function addCustomSanitizationPattern(pattern: RegExp, replacement: string | ((substring: string, ...args: any[]) => string), description?: string): void;
export declare function clearCustomSanitizationPatterns(): void;
export declare function sanitizeWithCustomPatterns(message: unknown, level?: string): string;

export interface SanitizationNamespace {
  sanitizeMessage: typeof sanitizeMessage;
  sanitizeContext: typeof sanitizeContext;
  readonly addCustomSanitizationPattern: typeof addCustomSanitizationPattern;
  readonly clearCustomSanitizationPatterns: typeof clearCustomSanitizationPatterns;
  readonly sanitizeWithCustomPatterns: typeof sanitizeWithCustomPatterns;
}
export declare const sanitization: SanitizationNamespace;

// ---------------------------------------------------------------------------------------------
// Queue

export interface Limiter {
  <A extends unknown[], R>(task: (...args: A) => R | Promise<R>, ...args: A): Promise<R>;
  readonly activeCount: number;
  readonly pendingCount: number;
  readonly concurrency: number;
}
export declare function createLimiter(concurrency?: number, options?: { maxQueue?: number }): Limiter;
export declare function getQueueLength(): number;
export declare function getQueueRejectCount(): number;
export declare function startQueueMetrics(intervalMs?: number): void;
export declare function stopQueueMetrics(): void;

export interface QueueManagerNamespace {
  createLimiter: typeof createLimiter;
  getQueueLength: typeof getQueueLength;
  getQueueRejectCount: typeof getQueueRejectCount;
  startQueueMetrics: typeof startQueueMetrics;
  stopQueueMetrics: typeof stopQueueMetrics;
}
export declare const queueManager: QueueManagerNamespace;

// ---------------------------------------------------------------------------------------------
// Utilities

export interface Timer {
  elapsed(): number;
  elapsedFormatted(): string;
  logPerformance(success?: boolean, additionalContext?: Record<string, unknown>): Promise<{ operation: string; duration_ms: number; success: boolean; [key: string]: unknown }>;
}
export declare function generateUniqueId(prefix?: string): string;
export declare function createTimer(): Timer;
export declare function deepClone<T>(obj: T): T;
export declare function safeRun<T, F>(name: string, fn: () => T, fallback: F, info?: unknown): T | F;
export declare function verboseLog(msg: unknown): void | false;

export interface UtilsNamespace {
  createEnhancedLogEntry: typeof createEnhancedLogEntry;
  stringifyContext(ctx: unknown): string;
  safeErrorMessage(error: unknown, fallback?: string): string;
  verboseLog: typeof verboseLog;
  createPerformanceTimer(operation: string, requestId?: string | null): { elapsed(): number; elapsedFormatted(): string; logPerformance(success?: boolean, additionalContext?: Record<string, unknown>): Promise<PerformanceContext> };
  safeLogError(error: unknown, context?: Record<string, unknown>, metadata?: Record<string, unknown>): Promise<void>;
  safeLogInfo(message: unknown, metadata?: Record<string, unknown>): Promise<void>;
  safeLogWarn(message: unknown, metadata?: Record<string, unknown>): Promise<void>;
  safeLogDebug(message: unknown, metadata?: Record<string, unknown>): Promise<void>;
  safeRun: typeof safeRun;
  deepClone: typeof deepClone;
  createTimer: typeof createTimer;
  attempt: typeof attempt;
  executeWithQerrors<T, F = undefined>(options: {
    opName?: string;
    operation: () => T | Promise<T>;
    context?: Record<string, unknown>;
    failureMessage?: string;
    errorCode?: string;
    errorType?: string;
    logMessage?: string;
    rethrow?: boolean;
    fallbackValue?: F;
    timer?: unknown;
  }): Promise<T | F>;
  formatErrorMessage(error: unknown, context?: string): string;
  createSafeAsyncWrapper(options: {
    modulePath?: string;
    functionName?: string;
    fallbackFn?: (...args: any[]) => unknown;
    silent?: boolean;
    errorMessage?: string;
    timer?: unknown;
  }): (...args: unknown[]) => Promise<unknown>;
  createSafeLogger(functionName: string, fallbackLevel?: 'error' | 'warn' | 'info' | 'log' | 'debug'): (...args: unknown[]) => Promise<unknown>;
  createSafeOperation<A extends unknown[], R, F>(asyncFn: (...args: A) => R | Promise<R>, fallbackValue: F, onError?: (error: unknown, ...args: A) => void): (...args: A) => Promise<R | F>;
  safeQerrors(error: unknown, context: string, extra?: Record<string, unknown>): Promise<void>;
  logError(error: unknown, context?: Record<string, unknown>, metadata?: Record<string, unknown>): Promise<void>;
  logInfo(message: unknown, metadata?: Record<string, unknown>): Promise<void>;
  logWarn(message: unknown, metadata?: Record<string, unknown>): Promise<void>;
}
export declare const utils: UtilsNamespace;

// ---------------------------------------------------------------------------------------------
// Configuration and environment

export declare function getEnv(name: string, defaultVal?: string): string | undefined;
export declare function getEnv<T>(name: string, defaultVal: T): string | T;
export declare function getInt(name: string, defaultVal?: number, min?: number): number;
export declare function getMissingEnvVars(names: readonly string[]): string[];
export declare function throwIfMissingEnvVars(names: readonly string[]): string[];
export declare function warnIfMissingEnvVars(names: readonly string[], customMessage?: string): boolean;
export declare function validateRequiredEnvVars(names: readonly string[]): string[];
export declare const warnMissingEnvVars: typeof warnIfMissingEnvVars;
export declare const NODE_ENV: string;
export declare const DEFAULT_ERROR_MESSAGE: 'An unexpected error occurred';
export declare const TEST_SUCCESS_MESSAGE: '\u2713';
export declare const TEST_FAILURE_MESSAGE: '\u2717';

export interface ConfigSummary {
  environment: string;
  hasEnvFile: boolean;
  configuredVars: string[];
  totalVars: number;
}
export interface ConfigNamespace {
  defaults: Record<string, string>;
  getEnv: typeof getEnv;
  safeRun: typeof safeRun;
  getInt: typeof getInt;
  validateRequiredVars(names: readonly string[]): { isValid: boolean; missing: string[]; present: string[] };
  getConfigSummary(): Promise<ConfigSummary>;
  getConfigSummarySync(): ConfigSummary;
  loadDotenv(): Promise<boolean>;
}
export declare const config: ConfigNamespace;

export interface EnvHealth {
  environment: string;
  hasEnvFile: boolean;
  isHealthy: boolean;
  required: { total: number; configured: number; missing: string[] };
  optional: { total: number; configured: number; missing: string[] };
  summary: { totalVars: number; configuredVars: number };
}
export interface EnvUtilsNamespace {
  getMissingEnvVars: typeof getMissingEnvVars;
  throwIfMissingEnvVars: typeof throwIfMissingEnvVars;
  warnIfMissingEnvVars: typeof warnIfMissingEnvVars;
  validateRequiredEnvVars: typeof validateRequiredEnvVars;
  warnMissingEnvVars(names: readonly string[]): boolean;
  hasEnvFile(): Promise<boolean>;
  hasEnvFileSync(): boolean;
  getEnvHealth(required?: readonly string[], optional?: readonly string[]): Promise<EnvHealth>;
  getEnvHealthSync(required?: readonly string[], optional?: readonly string[]): EnvHealth;
  validateEnvironment(options?: { required?: readonly string[]; optional?: readonly string[]; throwOnError?: boolean }): Promise<EnvHealth>;
  validateEnvironmentSync(options?: { required?: readonly string[]; optional?: readonly string[]; throwOnError?: boolean }): EnvHealth;
  NODE_ENV: string;
  DEFAULT_ERROR_MESSAGE: string;
  loadDotenv(): Promise<boolean>;
  readonly TEST_SUCCESS_MESSAGE: typeof TEST_SUCCESS_MESSAGE;
  readonly TEST_FAILURE_MESSAGE: typeof TEST_FAILURE_MESSAGE;
}
export declare const envUtils: EnvUtilsNamespace;

// ---------------------------------------------------------------------------------------------
// Module lifecycle

export interface ModuleInitOptions {
  module?: string;
  version?: string;
  environment?: string;
}
export declare function initializeModule(options?: ModuleInitOptions): Promise<null>;
export declare function initializeModuleESM(options?: ModuleInitOptions): Promise<null>;
export declare function shouldInitialize(): boolean;
export declare function logModuleInit(moduleName: string, metadata?: Record<string, unknown>): void;
export interface ModuleInitializerNamespace {
  initializeModule: typeof initializeModule;
  initializeModuleESM: typeof initializeModuleESM;
  shouldInitialize: typeof shouldInitialize;
  logModuleInit: typeof logModuleInit;
}
export declare const moduleInitializer: ModuleInitializerNamespace;

// ---------------------------------------------------------------------------------------------
// Dependency injection

/** The qerrors function as the DI helpers call it. */
export type QerrorsLike = (error: unknown, context?: string | Record<string, unknown>, meta?: Record<string, unknown>) => Promise<unknown>;
export interface QerrorsCoreDeps {
  qerrors: QerrorsLike;
  logErrorWithSeverity?: (error: unknown, functionName: string, context?: Record<string, unknown>, severity?: Severity | (string & {})) => Promise<unknown>;
  withErrorHandling?: typeof withErrorHandling;
  ErrorSeverity: typeof ErrorSeverity;
}
export declare function createQerrorsCoreDeps(
  qerrorsModule: QerrorsLike & {
    logErrorWithSeverity?: QerrorsCoreDeps['logErrorWithSeverity'];
    withErrorHandling?: QerrorsCoreDeps['withErrorHandling'];
  }
): QerrorsCoreDeps;
export declare function getDefaultQerrorsCoreDeps(): QerrorsCoreDeps;
export declare function createDefaultErrorHandlingDeps(): QerrorsCoreDeps;
export declare function qerr(e: unknown, context?: string | Record<string, unknown>, meta?: Record<string, unknown> | null, deps?: QerrorsCoreDeps | null): Promise<unknown>;
export declare function logErrorWithSeverityDI(options: {
  error: unknown;
  functionName?: string;
  context?: Record<string, unknown>;
  severity?: Severity | string;
  deps?: QerrorsCoreDeps | null;
}): Promise<unknown>;
export declare function withErrorHandlingDI(deps?: QerrorsCoreDeps | null): typeof withErrorHandling | undefined;
export declare function getErrorSeverity(deps?: QerrorsCoreDeps | null): typeof ErrorSeverity;
export declare function resetDefaultQerrorsCoreDeps(): void;
export interface DependencyInterfacesNamespace {
  createQerrorsCoreDeps: typeof createQerrorsCoreDeps;
  createDefaultErrorHandlingDeps: typeof createDefaultErrorHandlingDeps;
  getDefaultQerrorsCoreDeps: typeof getDefaultQerrorsCoreDeps;
  qerr: typeof qerr;
  getErrorSeverity: typeof getErrorSeverity;
  logErrorWithSeverityDI: typeof logErrorWithSeverityDI;
  withErrorHandlingDI: typeof withErrorHandlingDI;
  resetDefaultQerrorsCoreDeps: typeof resetDefaultQerrorsCoreDeps;
}
export declare const dependencyInterfaces: DependencyInterfacesNamespace;

// ---------------------------------------------------------------------------------------------
// Entity guards

export declare function throwIfNotFound<T>(entity: T, entityName: string): NonNullable<T>;
export declare function throwIfNotFoundObj<T>(input: { entity?: T } | null | undefined): { entity: NonNullable<T>; found: true } | { entity: null; found: false };
export declare function throwIfNotFoundMany<T>(entities: ReadonlyArray<{ entity: T; entityName: string }>): NonNullable<T>[];
export declare function throwIfNotFoundWithMessage<T>(entity: T, errorMessage: string): NonNullable<T>;
export declare function entityExists<T>(entity: T): entity is NonNullable<T>;
export declare function assertEntityExists<T>(entity: T, entityName: string, errorType?: string): NonNullable<T>;
export interface EntityGuardsNamespace {
  throwIfNotFound: typeof throwIfNotFound;
  throwIfNotFoundObj: typeof throwIfNotFoundObj;
  throwIfNotFoundMany: typeof throwIfNotFoundMany;
  throwIfNotFoundWithMessage: typeof throwIfNotFoundWithMessage;
  entityExists: typeof entityExists;
  assertEntityExists: typeof assertEntityExists;
}
export declare const entityGuards: EntityGuardsNamespace;

// ---------------------------------------------------------------------------------------------
// Response helpers

export interface ResponseOptions {
  includeProcessingTime?: boolean;
  startTime?: number | null;
  requestId?: string;
  processingTime?: number;
}
export interface SuccessBody<T> {
  success: true;
  data: T;
  processingTime?: number;
}
export interface ErrorBody {
  success: false;
  /** The HTTP status (a deliberate fix: the original always put 500 here). */
  error: number;
  message: string;
  processingTime?: number;
  requestId?: string;
  /** Array details of a 400. */
  errors?: unknown[];
  details?: unknown;
}
export declare function sendJsonResponse(res: ResponseLike, status: number, data: unknown): unknown;
export declare function sendSuccessResponse<T>(res: ResponseLike, data: T, options?: ResponseOptions): unknown;
export declare function sendCreatedResponse<T>(res: ResponseLike, data: T): unknown;
export declare function sendErrorResponse(res: ResponseLike, status: number, message?: string | number | null, details?: unknown, options?: ResponseOptions): unknown;
export declare function sendValidationErrorResponse(res: ResponseLike, errors: unknown, options?: ResponseOptions): unknown;
export declare function sendNotFoundResponse(res: ResponseLike, message?: string | null, options?: ResponseOptions): unknown;
export declare function sendUnauthorizedResponse(res: ResponseLike, message?: string | null, options?: ResponseOptions): unknown;
export declare function sendForbiddenResponse(res: ResponseLike, message?: string | null, options?: ResponseOptions): unknown;
export declare function sendServerErrorResponse(res: ResponseLike, message?: string | null, options?: ResponseOptions): unknown;

export interface ResponseHelper {
  success<T>(data: T, options?: ResponseOptions): unknown;
  created<T>(data: T): unknown;
  error(status: number, message?: string | number | null, details?: unknown, options?: ResponseOptions): unknown;
  validation(errors: unknown, options?: ResponseOptions): unknown;
  notFound(message?: string): unknown;
  unauthorized(message?: string): unknown;
  forbidden(message?: string): unknown;
  serverError(message?: string): unknown;
}
export declare function createResponseHelper(res: ResponseLike, startTime?: number | null): ResponseHelper;
export declare function globalErrorHandler(err: unknown, req: RequestLike, res: ResponseLike, next: NextFunction): void;

export declare class ResponseBuilder {
  constructor(res: ResponseLike);
  res: ResponseLike;
  status: number;
  data: unknown;
  error: unknown;
  message: string;
  isSuccess: boolean;
  metadata: Record<string, unknown>;
  headers: Record<string, string>;
  setStatus(s: number): this;
  setSuccess(b: boolean): this;
  setData(d: unknown): this;
  setError(error: unknown, message?: string | null): this;
  setMessage(m: string): this;
  addMetadata(key: string, value: unknown): this;
  addMetadata(values: Record<string, unknown>): this;
  addHeader(k: string, v: string): this;
  addHeaders(obj: Record<string, string>): this;
  setRequestId(id: string): this;
  setProcessingTime(startMs: number): this;
  setPagination(page: number, limit: number, total: number): this;
  setValidationErrors(errors: unknown[]): this;
  fail(status: number, message: string): this;
  success(data: unknown, metaObj?: Record<string, unknown>): this;
  created(data: unknown, metaObj?: Record<string, unknown>): this;
  notFound(msg?: string): this;
  unauthorized(msg?: string): this;
  forbidden(msg?: string): this;
  validation(errors: unknown[]): this;
  serverError(msg?: string): this;
  badRequest(msg?: string): this;
  build(): Record<string, unknown>;
  send(): unknown;
}

export interface ResponseHelpersNamespace {
  ResponseBuilder: typeof ResponseBuilder;
  createResponseBuilder(res: ResponseLike): ResponseBuilder;
  responseBuilderMiddleware(req: RequestLike, res: ResponseLike & { builder?: () => ResponseBuilder }, next: NextFunction): void;
  sendJsonResponse: typeof sendJsonResponse;
  createResponseData<T>(success: true, data: T, options?: ResponseOptions): SuccessBody<T>;
  createResponseData(success: false, message: unknown, options?: ResponseOptions): ErrorBody;
  addResponseMetadata<B extends object>(body: B, metadata?: { requestId?: string; processingTime?: number; details?: unknown }): B;
  sendSuccessResponse: typeof sendSuccessResponse;
  sendCreatedResponse: typeof sendCreatedResponse;
  sendErrorResponse: typeof sendErrorResponse;
  sendValidationErrorResponse: typeof sendValidationErrorResponse;
  sendNotFoundResponse: typeof sendNotFoundResponse;
  sendUnauthorizedResponse: typeof sendUnauthorizedResponse;
  sendForbiddenResponse: typeof sendForbiddenResponse;
  sendServerErrorResponse: typeof sendServerErrorResponse;
  createResponseHelper: typeof createResponseHelper;
  createStatusResponseHelper(status: number, defaultMessage: string): (res: ResponseLike, message?: string, options?: ResponseOptions) => unknown;
  globalErrorHandler: typeof globalErrorHandler;
  handleError(error: unknown, context: string, res: ResponseLike, next?: NextFunction): Promise<void>;
  HTTP_STATUS: {
    OK: 200;
    CREATED: 201;
    BAD_REQUEST: 400;
    UNAUTHORIZED: 401;
    FORBIDDEN: 403;
    NOT_FOUND: 404;
    INTERNAL_SERVER_ERROR: 500;
  };
  DEFAULT_MESSAGES: {
    VALIDATION_FAILED: string;
    NOT_FOUND: string;
    UNAUTHORIZED: string;
    FORBIDDEN: string;
    INTERNAL_ERROR: string;
  };
}
export declare const responseHelpers: ResponseHelpersNamespace;

// ---------------------------------------------------------------------------------------------
// Circuit breaker

export declare const CircuitState: { CLOSED: 'CLOSED'; OPEN: 'OPEN'; HALF_OPEN: 'HALF_OPEN' };
/** The circuit breaker on the native core. */
export declare const CircuitBreaker: typeof NativeCircuitBreaker;
export type CircuitBreaker<A extends any[] = any[], R = any> = NativeCircuitBreaker<A, R>;
export declare function createCircuitBreaker<A extends any[], R>(
  operation: (...args: A) => R | Promise<R>,
  serviceName: string,
  overrides?: Partial<CircuitBreakerOptions>
): NativeCircuitBreaker<A, R>;
export interface CircuitBreakerNamespace {
  CircuitBreakerWrapper: typeof NativeCircuitBreaker;
  CircuitState: typeof CircuitState;
  createCircuitBreaker: typeof createCircuitBreaker;
}
export declare const circuitBreaker: CircuitBreakerNamespace;

// ---------------------------------------------------------------------------------------------
// Retry and async execution

export interface RetryOptions {
  retryAttempts?: number;
  /** Total attempts (a deliberate fix: the original counted retries). */
  maxAttempts?: number;
  retryDelayMs?: number;
  baseDelay?: number;
  retryBackoffMultiplier?: number;
  backoffFactor?: number;
  retryMaxDelayMs?: number | null;
  maxDelay?: number | null;
  jitter?: boolean;
  retryableErrors?: ((error: unknown) => boolean) | null;
  onRetry?: ((error: unknown, attemptNumber: number, totalAttempts: number) => unknown) | null;
  [key: string]: unknown;
}
export interface RetryPreset {
  maxAttempts: number;
  baseDelay: number;
  maxDelay: number;
  backoffFactor: number;
  jitter: boolean;
}
export declare const RetryConfigPresets: {
  network: RetryPreset;
  database: RetryPreset;
  externalAPI: RetryPreset;
  filesystem: RetryPreset;
  aggressive: RetryPreset;
  conservative: RetryPreset;
  [name: string]: RetryPreset;
};
export declare class RetryHandler {
  static executeWithRetry<T>(operation: () => T | Promise<T>, options?: RetryOptions): Promise<T>;
  static executeWithPreset<T>(operation: () => T | Promise<T>, presetName: string, overrides?: RetryOptions): Promise<T>;
  static delay(ms: number): Promise<void>;
}
/** The decorator returned by withRetry: legacy `(target, key, descriptor)` or standard `(value, context)`. */
export interface RetryDecorator {
  <T extends (...args: any[]) => any>(value: T, context: ClassMethodDecoratorContext): T;
  <T extends (...args: any[]) => any>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>;
}
/** A method decorator retrying the method with `config`. */
export declare function withRetry(config?: RetryOptions): RetryDecorator;
export declare function retryOperation<T>(operation: () => T | Promise<T>, config?: RetryOptions): Promise<T>;

export interface AsyncConfig {
  enableTiming: boolean;
  enableLogging: boolean;
  enableMetrics: boolean;
  timeoutMs: number | null;
  retryAttempts: number;
  retryDelayMs: number;
  retryBackoffMultiplier: number;
  retryMaxDelayMs: number | null;
  retryJitter: boolean;
  circuitBreakerThreshold: number;
  circuitBreakerTimeoutMs: number;
  [key: string]: unknown;
}
export interface ExecuteOptions<T = unknown> {
  operationName?: string;
  context?: Record<string, unknown>;
  requestId?: string;
  timeout?: number;
  retryAttempts?: number;
  rethrowErrors?: boolean;
  enableTiming?: boolean;
  enableLogging?: boolean;
  enableMetrics?: boolean;
  metrics?: Record<string, unknown>;
  onSuccess?: (response: ExecutionResponse<T>) => unknown;
  onError?: (response: ExecutionResponse<T>) => unknown;
  onComplete?: () => unknown;
  [key: string]: unknown;
}
export interface ExecutionResponse<T> {
  success: boolean;
  data: T | null;
  error: { message: string; name: string; stack?: string } | null;
  metadata: { operationName: string; timestamp: string; [key: string]: unknown };
  requestId: string | null;
  duration: number | null;
  context: Record<string, unknown>;
}
export interface ExecutorMetrics {
  totalOperations: number;
  successfulOperations: number;
  failedOperations: number;
  totalDuration: number;
  averageDuration: number;
  timeouts: number;
  retries: number;
}
export declare class StandardAsyncExecutor {
  constructor(name: string, config?: Partial<AsyncConfig>);
  name: string;
  config: AsyncConfig;
  metrics: ExecutorMetrics;
  circuitBreaker: { getState(): Record<string, unknown> };
  execute<T>(operation: () => T | Promise<T>, options?: ExecuteOptions<T>): Promise<ExecutionResponse<T>>;
  executeWithTimeout<T>(operation: () => T | Promise<T>, timeoutMs: number, options?: ExecuteOptions<T>): Promise<ExecutionResponse<T>>;
  executeWithRetry<T>(operation: () => T | Promise<T>, attempts: number, options?: ExecuteOptions<T>): Promise<ExecutionResponse<T>>;
  getMetrics(): ExecutorMetrics & { circuitBreaker: Record<string, unknown>; successRate: number };
  resetMetrics(): void;
}
export declare class AsyncOperationFactory {
  static executors: Map<string, StandardAsyncExecutor>;
  static getExecutor(name: string, config?: Partial<AsyncConfig>): StandardAsyncExecutor;
  static createOperation<T>(
    operation: () => T | Promise<T>,
    options?: ExecuteOptions<T> & { name?: string; config?: Partial<AsyncConfig> }
  ): (runtimeOptions?: ExecuteOptions<T>) => Promise<ExecutionResponse<T>>;
  static createBatchOperation<T>(
    operations: Array<() => T | Promise<T>>,
    options?: ExecuteOptions<T[]> & { name?: string; concurrency?: 'parallel' | 'sequential' | 'limited'; failFast?: boolean; limit?: number }
  ): (runtimeOptions?: ExecuteOptions<T[]>) => Promise<ExecutionResponse<T[]>>;
  static executeParallel<T>(ops: Array<() => T | Promise<T>>, failFast?: true): Promise<T[]>;
  static executeParallel<T>(ops: Array<() => T | Promise<T>>, failFast: false): Promise<PromiseSettledResult<T>[]>;
  static executeSequential<T>(ops: Array<() => T | Promise<T>>): Promise<T[]>;
  static executeLimited<T>(ops: Array<() => T | Promise<T>>, limit?: number, failFast?: boolean): Promise<Array<T | unknown>>;
  static getAllMetrics(): Record<string, ReturnType<StandardAsyncExecutor['getMetrics']>>;
  static resetAllMetrics(): void;
}
export interface AsyncContractsNamespace {
  StandardAsyncExecutor: typeof StandardAsyncExecutor;
  AsyncOperationFactory: typeof AsyncOperationFactory;
  /** The count-based breaker used by StandardAsyncExecutor. */
  CircuitBreaker: new (name: string, options?: { failureThreshold?: number; timeoutMs?: number }) => {
    execute<T>(operation: () => T | Promise<T>): Promise<T>;
    getState(): Record<string, unknown>;
  };
  RetryHandler: typeof RetryHandler;
  asyncHandlerMiddleware(options?: { operationName?: string; config?: Partial<AsyncConfig> }): (req: RequestLike, res: ResponseLike, next: NextFunction) => void;
  DEFAULT_ASYNC_CONFIG: AsyncConfig;
  withRetry: typeof withRetry;
  retryOperation: typeof retryOperation;
}
export declare const asyncContracts: AsyncContractsNamespace;

// ---------------------------------------------------------------------------------------------
// AI model management

export declare const MODEL_PROVIDERS: { OPENAI: 'openai'; GOOGLE: 'google' };
export interface ModelConfig {
  maxTokens: number;
  temperature: number;
  topP: number;
}
export interface ProviderConfig {
  models: Record<string, ModelConfig>;
  defaultModel: string;
  requiredEnvVars: string[];
}
/** A LangChain chat model (ChatOpenAI or ChatGoogleGenerativeAI). */
export interface ChatModelLike {
  invoke(messages: unknown): Promise<{ content: unknown }>;
  [key: string]: unknown;
}
export declare function createLangChainModel(provider?: 'openai' | 'gemini' | 'google', modelName?: string | null): ChatModelLike;
export declare class AIModelManager {
  constructor();
  currentProvider: string;
  currentModel: string | null;
  modelInstance: ChatModelLike | null;
  initializeModel(): void;
  switchModel(provider: 'openai' | 'gemini' | 'google', modelName?: string | null): boolean;
  getCurrentModelInfo(): { provider: string; model: string; available: boolean };
  getAvailableModels(provider?: string): string[];
  analyzeError(errorOrMessage: unknown, context?: unknown): Promise<Record<string, unknown> | null>;
  createAnalysisModel(): ChatModelLike | null;
  getCacheStats(): { size: number; maxSize: number; hitRate: number; cachedKeys: string[] };
  clearCache(): void;
  initializeCacheTracking(): void;
  healthCheck(): Promise<{ healthy: true; provider: string; model: string; response: unknown } | { healthy: false; error: string; provider?: string }>;
}
export declare function getAIModelManager(): AIModelManager;
export declare function resetAIModelManager(): void;
export interface AIModelManagerNamespace {
  AIModelManager: typeof AIModelManager;
  getAIModelManager: typeof getAIModelManager;
  resetAIModelManager: typeof resetAIModelManager;
  MODEL_PROVIDERS: typeof MODEL_PROVIDERS;
  MODEL_CONFIGS: { openai: ProviderConfig; google: ProviderConfig };
  createLangChainModel: typeof createLangChainModel;
}
export declare const aiModelManager: AIModelManagerNamespace;

// ---------------------------------------------------------------------------------------------
// The errorTypes namespace

export interface ErrorTypesNamespace {
  ServiceError: typeof ServiceError;
  errorUtils: typeof errorUtils;
  safeUtils: typeof safeUtils;
  createTypedError: typeof createTypedError;
  createStandardError: typeof createStandardError;
  ErrorTypes: typeof ErrorTypes;
  ErrorSeverity: typeof ErrorSeverity;
  ERROR_STATUS_MAP: Record<ErrorType, number>;
  ERROR_SEVERITY_MAP: Record<ErrorType, Severity>;
  ErrorFactory: typeof ErrorFactory;
  handleSimpleError: typeof handleSimpleError;
  errorMiddleware: typeof errorMiddleware;
  attempt: typeof attempt;
  executeWithQerrors: typeof executeWithQerrors;
}
export declare const errorTypes: ErrorTypesNamespace;
