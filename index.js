'use strict';

// `require('qerrors')`: a function that handles an error exactly as `qerrors()` does, carrying
// the 111 exports of the original package as its own enumerable keys, in its order, with
// its identities (every re-export is the namespace member itself; docs/api.md). Code written
// for the original package calls the module itself (`require('qerrors')(err, ctx, req, res,
// next)`) or `require('qerrors').middleware()`; both work. The members of the `qerrors`
// function (middleware, asyncHandler, notFound, …) are reachable on the module too, not
// enumerable, so `Object.keys` stays the spec's 111.
//
// Requiring this file does no I/O and starts nothing: winston, the log files and the AI
// pipeline are set up by their first use. The circuit-breaker exports are getters that
// load lib/native/breaker/ (and with it the native addon) on first access; a getter
// always returns the same object, so the identities hold.

const qerrors = require('./lib/handler/qerrors');
const errorTypes = require('./lib/handler/errorTypes');
const logger = require('./lib/logging/logger');
const sanitization = require('./lib/policy/redaction');
const queueManager = require('./lib/compat/queue');
const utils = require('./lib/compat/utils');
const config = require('./lib/policy/config');
const envUtils = require('./lib/compat/envUtils');
const moduleInitializer = require('./lib/compat/moduleInitializer');
const dependencyInterfaces = require('./lib/compat/dependencyInterfaces');
const entityGuards = require('./lib/compat/entityGuards');
const responseHelpers = require('./lib/handler/responseHelpers');
const asyncContracts = require('./lib/compat/asyncContracts');
const aiModelManager = require('./lib/compat/aiModelManager');

/** `new ServiceError(message, type, context)` (an inline wrapper in no namespace). */
function createServiceError(message, type, context) {
  return new errorTypes.ServiceError(message, type, context);
}

/**
 * The module itself: `require('qerrors')(error, context, req, res, next)` is `qerrors(...)`.
 * A function of its own (not `qerrors`), because `qerrors` keeps the six own keys of the spec.
 */
const api = function qerrorsModule(error, context, ...rest) {
  return qerrors(error, context, ...rest);
};
Object.defineProperty(api, 'name', { value: 'qerrors' });

const exportsInOrder = {
  qerrors,
  logErrorWithSeverity: qerrors.logErrorWithSeverity,
  handleControllerError: qerrors.handleControllerError,
  withErrorHandling: qerrors.withErrorHandling,
  createTypedError: errorTypes.createTypedError,
  createStandardError: errorTypes.createStandardError,
  createServiceError,
  ErrorTypes: errorTypes.ErrorTypes,
  ErrorSeverity: errorTypes.ErrorSeverity,
  ErrorFactory: errorTypes.ErrorFactory,
  errorMiddleware: errorTypes.errorMiddleware,
  handleSimpleError: errorTypes.handleSimpleError,
  executeWithQerrors: errorTypes.executeWithQerrors,
  attempt: errorTypes.attempt,
  ServiceError: errorTypes.ServiceError,
  errorUtils: errorTypes.errorUtils,
  safeUtils: errorTypes.safeUtils,
  logDebug: logger.logDebug,
  logInfo: logger.logInfo,
  logWarn: logger.logWarn,
  logError: logger.logError,
  logFatal: logger.logFatal,
  logAudit: logger.logAudit,
  createPerformanceTimer: logger.createPerformanceTimer,
  createEnhancedLogEntry: logger.createEnhancedLogEntry,
  LOG_LEVELS: logger.LOG_LEVELS,
  simpleLogger: undefined, // replaced below by a lazy accessor (winston loads on first use)
  createSimpleWinstonLogger: logger.createSimpleWinstonLogger,
  sanitizeMessage: sanitization.sanitizeMessage,
  sanitizeContext: sanitization.sanitizeContext,
  addCustomSanitizationPattern: sanitization.addCustomSanitizationPattern,
  clearCustomSanitizationPatterns: sanitization.clearCustomSanitizationPatterns,
  sanitizeWithCustomPatterns: sanitization.sanitizeWithCustomPatterns,
  createLimiter: queueManager.createLimiter,
  getQueueLength: queueManager.getQueueLength,
  getQueueRejectCount: queueManager.getQueueRejectCount,
  startQueueMetrics: queueManager.startQueueMetrics,
  stopQueueMetrics: queueManager.stopQueueMetrics,
  generateUniqueId: utils.generateUniqueId,
  createTimer: utils.createTimer,
  deepClone: utils.deepClone,
  safeRun: utils.safeRun,
  verboseLog: utils.verboseLog,
  getEnv: config.getEnv,
  getInt: config.getInt,
  getMissingEnvVars: envUtils.getMissingEnvVars,
  throwIfMissingEnvVars: envUtils.throwIfMissingEnvVars,
  warnIfMissingEnvVars: envUtils.warnIfMissingEnvVars,
  validateRequiredEnvVars: envUtils.validateRequiredEnvVars,
  // Wired to warnIfMissingEnvVars, not envUtils.warnMissingEnvVars.
  warnMissingEnvVars: envUtils.warnIfMissingEnvVars,
  NODE_ENV: envUtils.NODE_ENV,
  DEFAULT_ERROR_MESSAGE: envUtils.DEFAULT_ERROR_MESSAGE,
  TEST_SUCCESS_MESSAGE: envUtils.TEST_SUCCESS_MESSAGE,
  TEST_FAILURE_MESSAGE: envUtils.TEST_FAILURE_MESSAGE,
  initializeModule: moduleInitializer.initializeModule,
  initializeModuleESM: moduleInitializer.initializeModuleESM,
  shouldInitialize: moduleInitializer.shouldInitialize,
  logModuleInit: moduleInitializer.logModuleInit,
  createQerrorsCoreDeps: dependencyInterfaces.createQerrorsCoreDeps,
  getDefaultQerrorsCoreDeps: dependencyInterfaces.getDefaultQerrorsCoreDeps,
  createDefaultErrorHandlingDeps: dependencyInterfaces.createDefaultErrorHandlingDeps,
  qerr: dependencyInterfaces.qerr,
  logErrorWithSeverityDI: dependencyInterfaces.logErrorWithSeverityDI,
  withErrorHandlingDI: dependencyInterfaces.withErrorHandlingDI,
  getErrorSeverity: dependencyInterfaces.getErrorSeverity,
  resetDefaultQerrorsCoreDeps: dependencyInterfaces.resetDefaultQerrorsCoreDeps,
  throwIfNotFound: entityGuards.throwIfNotFound,
  throwIfNotFoundObj: entityGuards.throwIfNotFoundObj,
  throwIfNotFoundMany: entityGuards.throwIfNotFoundMany,
  throwIfNotFoundWithMessage: entityGuards.throwIfNotFoundWithMessage,
  entityExists: entityGuards.entityExists,
  assertEntityExists: entityGuards.assertEntityExists,
  sendJsonResponse: responseHelpers.sendJsonResponse,
  sendSuccessResponse: responseHelpers.sendSuccessResponse,
  sendCreatedResponse: responseHelpers.sendCreatedResponse,
  sendErrorResponse: responseHelpers.sendErrorResponse,
  sendValidationErrorResponse: responseHelpers.sendValidationErrorResponse,
  sendNotFoundResponse: responseHelpers.sendNotFoundResponse,
  sendUnauthorizedResponse: responseHelpers.sendUnauthorizedResponse,
  sendForbiddenResponse: responseHelpers.sendForbiddenResponse,
  sendServerErrorResponse: responseHelpers.sendServerErrorResponse,
  createResponseHelper: responseHelpers.createResponseHelper,
  globalErrorHandler: responseHelpers.globalErrorHandler,
  CircuitBreaker: undefined, // lazy, below
  CircuitState: undefined,
  createCircuitBreaker: undefined,
  RetryHandler: asyncContracts.RetryHandler,
  withRetry: asyncContracts.withRetry,
  retryOperation: asyncContracts.retryOperation,
  StandardAsyncExecutor: asyncContracts.StandardAsyncExecutor,
  AsyncOperationFactory: asyncContracts.AsyncOperationFactory,
  RetryConfigPresets: asyncContracts.RetryConfigPresets,
  getAIModelManager: aiModelManager.getAIModelManager,
  resetAIModelManager: aiModelManager.resetAIModelManager,
  MODEL_PROVIDERS: aiModelManager.MODEL_PROVIDERS,
  createLangChainModel: aiModelManager.createLangChainModel,
  logger,
  config,
  envUtils,
  utils,
  sanitization,
  queueManager,
  errorTypes,
  aiModelManager,
  moduleInitializer,
  dependencyInterfaces,
  entityGuards,
  responseHelpers,
  circuitBreaker: undefined,
  asyncContracts,
  default: qerrors,
};
for (const [key, value] of Object.entries(exportsInOrder)) {
  Object.defineProperty(api, key, { value, enumerable: true, writable: true, configurable: true });
}
// qerrors' own members (enumerable there, the spec's six, and the non-enumerable helpers), here
// as non-enumerable properties of the module: `require('qerrors').middleware()` works.
for (const key of Reflect.ownKeys(qerrors)) {
  if (typeof key !== 'string' || key === 'length' || key === 'name' || key === 'prototype' || key in exportsInOrder) continue;
  Object.defineProperty(api, key, { value: qerrors[key], enumerable: false, writable: true, configurable: true });
}

/** Replaces a placeholder key (keeping its position) with an enumerable getter. */
function lazy(key, get) {
  Object.defineProperty(api, key, { get, enumerable: true, configurable: true });
}

// The same lazily created instance as `logger.simpleLogger`.
lazy('simpleLogger', () => logger.simpleLogger);
const breaker = () => require('./lib/native/breaker');
lazy('CircuitBreaker', () => breaker().CircuitBreakerWrapper);
lazy('CircuitState', () => breaker().CircuitState);
lazy('createCircuitBreaker', () => breaker().createCircuitBreaker);
lazy('circuitBreaker', breaker);

// Not enumerable (the 111 keys stay exact): lets TypeScript's and bundlers' CommonJS interop
// resolve `import qerrors from 'qerrors'` to the qerrors function (`default`), as index.mjs does.
Object.defineProperty(api, '__esModule', { value: true });

module.exports = api;
