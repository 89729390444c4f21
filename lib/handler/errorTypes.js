'use strict';

// Typed errors, factories, the simple error middleware, and `attempt` / `executeWithQerrors`.

const logger = require('../logging/logger');
const { codedError } = require('../policy/errors');

const ErrorTypes = {
  VALIDATION: 'validation',
  AUTHENTICATION: 'authentication',
  AUTHORIZATION: 'authorization',
  NOT_FOUND: 'not_found',
  RATE_LIMIT: 'rate_limit',
  NETWORK: 'network',
  DATABASE: 'database',
  SYSTEM: 'system',
  CONFIGURATION: 'configuration',
};

const ErrorSeverity = { LOW: 'low', MEDIUM: 'medium', HIGH: 'high', CRITICAL: 'critical' };

const ERROR_STATUS_MAP = {
  validation: 400,
  authentication: 401,
  authorization: 403,
  not_found: 404,
  rate_limit: 429,
  network: 502,
  database: 500,
  system: 500,
  configuration: 500,
};

const ERROR_SEVERITY_MAP = {
  validation: 'low',
  authentication: 'low',
  authorization: 'medium',
  not_found: 'low',
  rate_limit: 'medium',
  network: 'medium',
  database: 'high',
  system: 'high',
  configuration: 'critical',
};

const hasOwn = (o, k) => typeof k === 'string' && Object.prototype.hasOwnProperty.call(o, k);

/** HTTP status for an error type; 500 when unknown. */
function statusForType(type) {
  return (hasOwn(ERROR_STATUS_MAP, type) && ERROR_STATUS_MAP[type]) || 500;
}

/** Severity for an error type; 'medium' when unknown. */
function severityForType(type) {
  return (hasOwn(ERROR_SEVERITY_MAP, type) && ERROR_SEVERITY_MAP[type]) || 'medium';
}

/** An Error with a type, context, HTTP status and severity . */
class ServiceError extends Error {
  /**
   * @param {string} message
   * @param {string} type one of ErrorTypes (not validated)
   * @param {object|null} [context]
   * @param {unknown} [cause]
   */
  constructor(message, type, context = {}, cause = null) {
    super(message);
    this.name = 'ServiceError';
    this.type = type;
    this.context = context;
    this.cause = cause;
    this.statusCode = statusForType(type);
    this.severity = severityForType(type);
    this.timestamp = new Date().toISOString();
    Error.captureStackTrace(this, ServiceError);
  }

  /**
   * The 8 documented keys, plus `code` when one is set (a deliberate addition: the
   * original dropped it from JSON).
   */
  toJSON() {
    const c = this.cause;
    const out = {
      name: this.name,
      message: this.message,
      type: this.type,
      context: this.context,
      statusCode: this.statusCode,
      severity: this.severity,
      timestamp: this.timestamp,
      cause: c ? { message: c.message, stack: c.stack } : null,
    };
    if (this.code !== undefined && this.code !== null) out.code = this.code;
    return out;
  }
}

/**
 * @param {string} message
 * @param {string} type
 * @param {string|null} [code] added as the last own key when truthy
 * @param {object} [context]
 */
function createTypedError(message, type, code = null, context = {}) {
  const err = new ServiceError(message, type, context);
  if (code) err.code = code;
  return err;
}

/** Same as createTypedError(message, type, code, context). */
function createStandardError(code, message, type, context = {}) {
  return createTypedError(message, type, code, context);
}

const ErrorFactory = {
  validation(message, field = null) {
    return createTypedError(message, ErrorTypes.VALIDATION, 'VALIDATION_ERROR', field ? { field } : {});
  },
  authentication(message = 'Authentication failed') {
    return createTypedError(message, ErrorTypes.AUTHENTICATION, 'AUTHENTICATION_ERROR', {});
  },
  authorization(message = 'Insufficient permissions') {
    return createTypedError(message, ErrorTypes.AUTHORIZATION, 'AUTHORIZATION_ERROR', {});
  },
  notFound(resource = 'Resource') {
    return createTypedError(`${resource} not found`, ErrorTypes.NOT_FOUND, 'NOT_FOUND_ERROR', { resource });
  },
  rateLimit(message = 'Rate limit exceeded') {
    return createTypedError(message, ErrorTypes.RATE_LIMIT, 'RATE_LIMIT_ERROR', {});
  },
  network(message, service = null, context = {}) {
    return createTypedError(message, ErrorTypes.NETWORK, 'NETWORK_ERROR', { service, ...context });
  },
  database(message, operation = null) {
    return createTypedError(message, ErrorTypes.DATABASE, 'DATABASE_ERROR', { operation });
  },
  system(message, context = {}) {
    return createTypedError(message, ErrorTypes.SYSTEM, 'SYSTEM_ERROR', context);
  },
  configuration(message, field = null) {
    return createTypedError(message, ErrorTypes.CONFIGURATION, 'CONFIGURATION_ERROR', { field });
  },
};

const errorUtils = {
  validation(field, value) {
    const message =
      value === undefined || value === null || value === '' ? `${field} is required` : `Invalid ${field}: ${typeof value} ${value}`;
    return new ServiceError(message, ErrorTypes.VALIDATION, { field, value });
  },
  authentication(serviceName) {
    return new ServiceError(`${serviceName} authentication failed`, ErrorTypes.AUTHENTICATION, { serviceName });
  },
  authorization(action) {
    return new ServiceError(`Insufficient permissions to ${action}`, ErrorTypes.AUTHORIZATION, { action });
  },
  externalApi(serviceName, originalError) {
    return new ServiceError(`${serviceName} API error: ${originalError.message}`, ErrorTypes.NETWORK, { serviceName }, originalError);
  },
  internal(message, context = {}) {
    return new ServiceError(message, ErrorTypes.SYSTEM, context);
  },
  wrap(error, defaultMessage) {
    if (error instanceof ServiceError) return error;
    if (error instanceof Error) return new ServiceError(error.message, ErrorTypes.SYSTEM, {}, error);
    return new ServiceError(defaultMessage, ErrorTypes.SYSTEM, { originalError: error });
  },
  async asyncHandler(operation, errorMessage) {
    try {
      return await operation();
    } catch (err) {
      throw errorUtils.wrap(err, errorMessage);
    }
  },
};

const safeUtils = {
  async execute(operation) {
    try {
      return { success: true, data: await operation() };
    } catch (error) {
      return { success: false, error };
    }
  },
  validate(value, validator, field) {
    try {
      if (validator(value)) return { success: true, data: value };
      return { success: false, error: errorUtils.validation(field, value) };
    } catch (error) {
      return { success: false, error };
    }
  },
};

/**
 * Pure conversion of any thrown value into the `{ success: false, error }` body.
 * @param {unknown} error
 * @param {object} [context] merged over the error's own context
 */
function handleSimpleError(error, context = {}) {
  const e = errorUtils.wrap(error, 'An unexpected error occurred');
  return {
    success: false,
    error: {
      code: e.code || 'INTERNAL_ERROR',
      message: e.message,
      type: e.type,
      severity: e.severity,
      context: { ...e.context, ...context },
      timestamp: e.timestamp,
    },
  };
}

/** A status usable on a response: an integer in 400..599, else undefined. */
function httpErrorStatus(value) {
  return Number.isInteger(value) && value >= 400 && value <= 599 ? value : undefined;
}

/**
 * Express error middleware answering with handleSimpleError's body (docs/api.md):
 * status from `statusCode`, then `status`, else 500; `next(err)` when headers are
 * already sent; tolerates a null error and a `req` without `get`.
 */
function errorMiddleware(err, req, res, next) {
  try {
    if (!res || res.headersSent) {
      if (typeof next === 'function') next(err);
      return;
    }
    const r = req || {};
    const userAgent =
      typeof r.get === 'function' ? r.get('User-Agent') : r.headers ? r.headers['user-agent'] : undefined;
    const body = handleSimpleError(err, { path: r.path, method: r.method, ip: r.ip, userAgent });
    const status = (err && (httpErrorStatus(err.statusCode) || httpErrorStatus(err.status))) || 500;
    res.status(status).json(body);
  } catch (failure) {
    if (typeof next === 'function') next(err === undefined || err === null ? failure : err);
  }
}

/**
 * The trimmed message of an error-like object, else the trimmed string, else `fallback`
 * (`utils.safeErrorMessage`).
 * @param {*} error
 * @param {string} [fallback]
 */
function safeErrorMessage(error, fallback = 'Unknown error') {
  if (error !== null && typeof error === 'object') {
    const message = error.message;
    if (typeof message === 'string' && message.trim() !== '') return message.trim();
    return fallback;
  }
  if (typeof error === 'string' && error.trim() !== '') return error.trim();
  return fallback;
}

/**
 * `{ ok: true, value }` or `{ ok: false, error }`; silent, never rejects. The top-level export
 * and `utils.attempt` are this one function (docs/api.md says why it prints nothing).
 * @param {() => any} fn
 */
async function attempt(fn) {
  if (typeof fn !== 'function') return { ok: false, error: codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'attempt: fn must be a function') };
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Runs `options.operation()`. On failure it logs the error through the qerrors logger (with
 * `opName`, `errorCode`, `errorType`, `logMessage`), prefixes the message with
 * `failureMessage` when one is given, and rethrows; with `rethrow: false` it resolves
 * `fallbackValue`. The top-level export and `utils.executeWithQerrors` are this one function.
 * @param {{ operation: () => any, opName?: string, context?: object, failureMessage?: string,
 *   errorCode?: string, errorType?: string, logMessage?: string, rethrow?: boolean,
 *   fallbackValue?: any, timer?: { logPerformance?: Function } | null }} options
 */
async function executeWithQerrors(options) {
  if (options === null || typeof options !== 'object' || typeof options.operation !== 'function') {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'executeWithQerrors: options.operation must be a function');
  }
  const { opName, operation, context = {}, failureMessage, errorCode, errorType, logMessage, rethrow = true, fallbackValue, timer = null } =
    options;
  const track = async (success) => {
    if (timer && typeof timer.logPerformance === 'function') {
      try {
        await timer.logPerformance(success, { opName });
      } catch {
        // timing is best-effort
      }
    }
  };
  try {
    const result = await operation();
    await track(true);
    return result;
  } catch (error) {
    await track(false);
    await logger.logError(safeErrorMessage(error), { context, opName, errorCode, errorType, logMessage });
    if (failureMessage && error !== null && typeof error === 'object' && typeof error.message === 'string') {
      try {
        error.message = `${failureMessage}: ${error.message}`;
      } catch {
        // a frozen error keeps its message
      }
    }
    if (rethrow !== false) throw error;
    return fallbackValue;
  }
}

module.exports = {
  ServiceError,
  errorUtils,
  safeUtils,
  createTypedError,
  createStandardError,
  ErrorTypes,
  ErrorSeverity,
  ERROR_STATUS_MAP,
  ERROR_SEVERITY_MAP,
  ErrorFactory,
  handleSimpleError,
  errorMiddleware,
  attempt,
  executeWithQerrors,
};

Object.defineProperties(module.exports, {
  _safeErrorMessage: { value: safeErrorMessage },
  _statusForType: { value: statusForType },
  _severityForType: { value: severityForType },
});
