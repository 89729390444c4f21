'use strict';

// Express response helpers with the fixes listed in docs/api.md, pinned by the
// golden tests: the body's `error` field carries the real HTTP status, array details of
// a 400 go under `errors` (other details under `details`), `ResponseBuilder#success()`
// is callable, `badRequest()` defaults to 'Bad request', `send()` respects headersSent,
// and globalErrorHandler shows `details` on a 5xx only when `expose === true`.

const { sanitizeMessage } = require('../policy/redaction');

const HTTP_STATUS = {
  OK: 200,
  CREATED: 201,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INTERNAL_SERVER_ERROR: 500,
};

const DEFAULT_MESSAGES = {
  VALIDATION_FAILED: 'Validation failed',
  NOT_FOUND: 'Resource not found',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  INTERNAL_ERROR: 'Internal server error',
};

/**
 * Writes `res.status(status).json(data)` unless headers were already sent.
 * @returns {unknown} what `res.json` returns, or `res` when nothing was written
 */
function sendJsonResponse(res, status, data) {
  if (res.headersSent) return res;
  return res.status(status).json(data);
}

/**
 * First stage of a body.
 * @param {boolean} success
 * @param {unknown} dataOrMessage data for a success; a message (or a status number) for an error
 * @param {{ includeProcessingTime?: boolean, startTime?: number }} [options]
 */
function createResponseData(success, dataOrMessage, options = {}) {
  const o = options || {};
  const body = success
    ? { success: true, data: dataOrMessage }
    : {
        success: false,
        error: typeof dataOrMessage === 'number' ? dataOrMessage : 500,
        message: typeof dataOrMessage === 'string' ? dataOrMessage : DEFAULT_MESSAGES.INTERNAL_ERROR,
      };
  if (o.includeProcessingTime === true && o.startTime) body.processingTime = Date.now() - o.startTime;
  return body;
}

/**
 * Second stage: requestId, processingTime, and details (`errors` for an array on a 400).
 * Mutates and returns `body`.
 */
function addResponseMetadata(body, { requestId, processingTime, details } = {}) {
  if (requestId) body.requestId = requestId;
  if (processingTime !== undefined && processingTime !== null) body.processingTime = processingTime;
  if (details) {
    if (body.error === 400 && Array.isArray(details)) body.errors = details;
    else body.details = details;
  }
  return body;
}

function isStatus(s) {
  return Number.isInteger(s) && s >= 100 && s <= 599;
}

function sendSuccessResponse(res, data, options = {}) {
  return sendJsonResponse(res, HTTP_STATUS.OK, createResponseData(true, data, options));
}

function sendCreatedResponse(res, data) {
  return sendJsonResponse(res, HTTP_STATUS.CREATED, createResponseData(true, data));
}

function sendErrorResponse(res, status, message, details = null, options = {}) {
  const o = options || {};
  const body = createResponseData(false, message, o);
  if (isStatus(status)) body.error = status;
  addResponseMetadata(body, { requestId: o.requestId, processingTime: o.processingTime, details });
  return sendJsonResponse(res, status, body);
}

function sendValidationErrorResponse(res, errors, options = {}) {
  return sendErrorResponse(res, HTTP_STATUS.BAD_REQUEST, DEFAULT_MESSAGES.VALIDATION_FAILED, errors, options);
}

function sendNotFoundResponse(res, message = DEFAULT_MESSAGES.NOT_FOUND, options = {}) {
  return sendErrorResponse(res, HTTP_STATUS.NOT_FOUND, message, null, options);
}

function sendUnauthorizedResponse(res, message = DEFAULT_MESSAGES.UNAUTHORIZED, options = {}) {
  return sendErrorResponse(res, HTTP_STATUS.UNAUTHORIZED, message, null, options);
}

function sendForbiddenResponse(res, message = DEFAULT_MESSAGES.FORBIDDEN, options = {}) {
  return sendErrorResponse(res, HTTP_STATUS.FORBIDDEN, message, null, options);
}

function sendServerErrorResponse(res, message = DEFAULT_MESSAGES.INTERNAL_ERROR, options = {}) {
  return sendErrorResponse(res, HTTP_STATUS.INTERNAL_SERVER_ERROR, message, null, options);
}

/** Helpers bound to one response, with `startTime` for processing times. */
function createResponseHelper(res, startTime = null) {
  return {
    success: (data, options = {}) => sendSuccessResponse(res, data, { ...options, startTime }),
    created: (data) => sendCreatedResponse(res, data),
    error: (status, message, details, options = {}) => sendErrorResponse(res, status, message, details, { ...options, startTime }),
    validation: (errors, options = {}) => sendValidationErrorResponse(res, errors, { ...options, startTime }),
    notFound: (message) => sendNotFoundResponse(res, message),
    unauthorized: (message) => sendUnauthorizedResponse(res, message),
    forbidden: (message) => sendForbiddenResponse(res, message),
    serverError: (message) => sendServerErrorResponse(res, message),
  };
}

/** `(res, message = defaultMessage, options = {})` answering with `status`. */
function createStatusResponseHelper(status, defaultMessage) {
  return (res, message = defaultMessage, options = {}) => sendErrorResponse(res, status, message, null, options);
}

/** A fluent response builder. */
class ResponseBuilder {
  constructor(res) {
    this.res = res;
    this.status = 200;
    this.data = null;
    this.error = null;
    this.message = '';
    // The original stored this flag as `success`, shadowing the success() method.
    this.isSuccess = true;
    this.metadata = {};
    this.headers = {};
  }

  setStatus(s) {
    this.status = s;
    if (s >= 400) this.isSuccess = false;
    return this;
  }
  setSuccess(b) {
    this.isSuccess = Boolean(b);
    return this;
  }
  setData(d) {
    this.data = d;
    return this;
  }
  setError(error, message = null) {
    this.isSuccess = false;
    this.error = error;
    if (message !== null && message !== undefined) this.message = message;
    if (this.status === 200) this.status = 500;
    return this;
  }
  setMessage(m) {
    this.message = m;
    return this;
  }
  addMetadata(keyOrObject, value) {
    if (keyOrObject !== null && typeof keyOrObject === 'object') Object.assign(this.metadata, keyOrObject);
    else this.metadata[keyOrObject] = value;
    return this;
  }
  addHeader(k, v) {
    this.headers[k] = v;
    return this;
  }
  addHeaders(obj) {
    Object.assign(this.headers, obj);
    return this;
  }
  setRequestId(id) {
    return this.addMetadata('requestId', id);
  }
  setProcessingTime(startMs) {
    return this.addMetadata('processingTime', Date.now() - startMs);
  }
  setPagination(page, limit, total) {
    return this.addMetadata('pagination', {
      page,
      limit,
      total,
      totalPages: Math.ceil(total / limit),
      hasNext: page * limit < total,
      hasPrev: page > 1,
    });
  }
  setValidationErrors(errors) {
    this.error = 400;
    this.message = DEFAULT_MESSAGES.VALIDATION_FAILED;
    this.isSuccess = false;
    this.status = 400;
    return this.addMetadata('errors', errors);
  }
  fail(status, message) {
    this.status = status;
    this.error = status;
    this.message = message;
    this.isSuccess = false;
    return this;
  }
  success(data, metaObj = {}) {
    this.status = 200;
    this.isSuccess = true;
    this.data = data;
    return this.addMetadata(metaObj);
  }
  created(data, metaObj = {}) {
    this.status = 201;
    this.isSuccess = true;
    this.data = data;
    return this.addMetadata(metaObj);
  }
  notFound(msg = DEFAULT_MESSAGES.NOT_FOUND) {
    return this.fail(404, msg);
  }
  unauthorized(msg = DEFAULT_MESSAGES.UNAUTHORIZED) {
    return this.fail(401, msg);
  }
  forbidden(msg = DEFAULT_MESSAGES.FORBIDDEN) {
    return this.fail(403, msg);
  }
  validation(errors) {
    return this.setValidationErrors(errors);
  }
  serverError(msg = DEFAULT_MESSAGES.INTERNAL_ERROR) {
    return this.fail(500, msg);
  }
  badRequest(msg = 'Bad request') {
    return this.fail(400, msg);
  }

  build() {
    const body = this.isSuccess ? { success: true, data: this.data } : { success: false };
    if (!this.isSuccess) {
      if (this.error !== null && this.error !== undefined) body.error = this.error;
      if (this.message) body.message = this.message;
    }
    return Object.assign(body, this.metadata);
  }

  send() {
    if (this.res.headersSent) return this.res;
    if (typeof this.res.set === 'function') {
      for (const [k, v] of Object.entries(this.headers)) this.res.set(k, v);
    }
    return this.res.status(this.status).json(this.build());
  }
}

function createResponseBuilder(res) {
  return new ResponseBuilder(res);
}

/** Adds `res.builder()` and continues. */
function responseBuilderMiddleware(req, res, next) {
  res.builder = () => createResponseBuilder(res);
  next();
}

function httpStatus(v) {
  return Number.isInteger(v) && v >= 400 && v <= 599 ? v : undefined;
}

/** Express error middleware; exactly 4 parameters. */
function globalErrorHandler(err, req, res, next) {
  if (res.headersSent) return next(err);
  const e = err !== null && typeof err === 'object' ? err : { message: err === undefined || err === null ? '' : String(err) };
  const status = httpStatus(e.status) || httpStatus(e.statusCode) || 500;
  const expose = e.expose !== false && status < 500;
  const message = expose ? e.message : 'Internal Server Error';
  const logged = { status, path: req && req.path, method: req && req.method };
  setImmediate(() => console.error(`[globalErrorHandler] ${sanitizeMessage(e.message)}`, logged));
  const detailsAllowed = status < 500 || e.expose === true;
  res.status(status).json({
    error: message,
    details: detailsAllowed ? e.details || (expose && err instanceof Error ? e.message : undefined) : undefined,
  });
  return undefined;
}

/**
 * Answers a controller error through handleControllerError; never throws.
 * @returns {Promise<void>}
 */
async function handleError(error, context, res, next) {
  try {
    await require('./qerrors').handleControllerError(res, error, context, {});
  } catch (err) {
    if (typeof next === 'function') next(err);
  }
}

module.exports = {
  ResponseBuilder,
  createResponseBuilder,
  responseBuilderMiddleware,
  sendJsonResponse,
  createResponseData,
  addResponseMetadata,
  sendSuccessResponse,
  sendCreatedResponse,
  sendErrorResponse,
  sendValidationErrorResponse,
  sendNotFoundResponse,
  sendUnauthorizedResponse,
  sendForbiddenResponse,
  sendServerErrorResponse,
  createResponseHelper,
  createStatusResponseHelper,
  globalErrorHandler,
  handleError,
  HTTP_STATUS,
  DEFAULT_MESSAGES,
};
