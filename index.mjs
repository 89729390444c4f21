// ESM entry: `import qerrors, { sanitizeMessage } from 'qerrors'`. The CommonJS module is the
// single implementation; these are its exports (the same objects). The default export is the
// callable CommonJS module: `qerrors(err, ctx, req, res, next)`, `qerrors.middleware()` and
// `qerrors.logInfo(...)` all work on it, as they do on `require('qerrors')`.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const api = require('./index.js');

export default api;

// The circuit-breaker exports load the native addon: index.js reads them through getters,
// so where the addon cannot load `require('qerrors')` still works and only reading one of
// them throws. An ES module binds its exports at import, so here each becomes a stand-in
// that throws that same error when it is used, and the import itself succeeds.
function needsAddon(name) {
  try {
    return api[name];
  } catch (err) {
    if (!err || err.code !== 'ERR_QERRORS_NATIVE_LOAD_FAILED') throw err;
    const fail = () => {
      throw err;
    };
    return new Proxy(function unavailable() {}, { apply: fail, construct: fail, get: fail, has: fail });
  }
}
export const CircuitBreaker = needsAddon('CircuitBreaker');
export const CircuitState = needsAddon('CircuitState');
export const createCircuitBreaker = needsAddon('createCircuitBreaker');
export const circuitBreaker = needsAddon('circuitBreaker');
export const {
  qerrors,
  logErrorWithSeverity,
  handleControllerError,
  withErrorHandling,
  createTypedError,
  createStandardError,
  createServiceError,
  ErrorTypes,
  ErrorSeverity,
  ErrorFactory,
  errorMiddleware,
  handleSimpleError,
  executeWithQerrors,
  attempt,
  ServiceError,
  errorUtils,
  safeUtils,
  logDebug,
  logInfo,
  logWarn,
  logError,
  logFatal,
  logAudit,
  createPerformanceTimer,
  createEnhancedLogEntry,
  LOG_LEVELS,
  simpleLogger,
  createSimpleWinstonLogger,
  sanitizeMessage,
  sanitizeContext,
  addCustomSanitizationPattern,
  clearCustomSanitizationPatterns,
  sanitizeWithCustomPatterns,
  createLimiter,
  getQueueLength,
  getQueueRejectCount,
  startQueueMetrics,
  stopQueueMetrics,
  generateUniqueId,
  createTimer,
  deepClone,
  safeRun,
  verboseLog,
  getEnv,
  getInt,
  getMissingEnvVars,
  throwIfMissingEnvVars,
  warnIfMissingEnvVars,
  validateRequiredEnvVars,
  warnMissingEnvVars,
  NODE_ENV,
  DEFAULT_ERROR_MESSAGE,
  TEST_SUCCESS_MESSAGE,
  TEST_FAILURE_MESSAGE,
  initializeModule,
  initializeModuleESM,
  shouldInitialize,
  logModuleInit,
  createQerrorsCoreDeps,
  getDefaultQerrorsCoreDeps,
  createDefaultErrorHandlingDeps,
  qerr,
  logErrorWithSeverityDI,
  withErrorHandlingDI,
  getErrorSeverity,
  resetDefaultQerrorsCoreDeps,
  throwIfNotFound,
  throwIfNotFoundObj,
  throwIfNotFoundMany,
  throwIfNotFoundWithMessage,
  entityExists,
  assertEntityExists,
  sendJsonResponse,
  sendSuccessResponse,
  sendCreatedResponse,
  sendErrorResponse,
  sendValidationErrorResponse,
  sendNotFoundResponse,
  sendUnauthorizedResponse,
  sendForbiddenResponse,
  sendServerErrorResponse,
  createResponseHelper,
  globalErrorHandler,
  RetryHandler,
  withRetry,
  retryOperation,
  StandardAsyncExecutor,
  AsyncOperationFactory,
  RetryConfigPresets,
  getAIModelManager,
  resetAIModelManager,
  MODEL_PROVIDERS,
  createLangChainModel,
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
  asyncContracts,
  // Members of the callable module, not among the 111 keys.
  middleware,
  asyncHandler,
  notFound,
  logUnhandledRejection,
  logUncaughtException,
} = api;
