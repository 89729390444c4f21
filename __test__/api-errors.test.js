'use strict';

// Error types, entity guards, response helpers (with the fixes listed in docs/api.md),
// dependency injection and the non-HTTP parts of qerrors, on recording mocks.

const test = require('node:test');
const assert = require('node:assert/strict');

const q = require('..');

/** A recording Express-like response. */
function mockRes() {
  const res = {
    headersSent: false,
    statusCode: 200,
    body: undefined,
    headers: {},
    status(c) {
      res.statusCode = c;
      return res;
    },
    json(b) {
      res.body = JSON.parse(JSON.stringify(b));
      res.headersSent = true;
      return 'json-return';
    },
    send(b) {
      res.body = b;
      res.headersSent = true;
      return res;
    },
    set(k, v) {
      res.headers[k.toLowerCase()] = v;
      return res;
    },
    setHeader(k, v) {
      res.headers[k.toLowerCase()] = v;
    },
  };
  return res;
}

/** Runs fn with console.error/warn/log captured. */
async function quiet(fn) {
  const saved = { error: console.error, warn: console.warn, log: console.log };
  const lines = [];
  for (const k of Object.keys(saved)) console[k] = (...a) => lines.push([k, ...a]);
  try {
    await fn();
  } finally {
    Object.assign(console, saved);
  }
  return lines;
}

test.before(async () => {
  (await q.logger).silent = true;
});

test('enums and maps', () => {
  assert.deepEqual(q.ErrorTypes, {
    VALIDATION: 'validation',
    AUTHENTICATION: 'authentication',
    AUTHORIZATION: 'authorization',
    NOT_FOUND: 'not_found',
    RATE_LIMIT: 'rate_limit',
    NETWORK: 'network',
    DATABASE: 'database',
    SYSTEM: 'system',
    CONFIGURATION: 'configuration',
  });
  assert.deepEqual(Object.entries(q.ErrorSeverity), [['LOW', 'low'], ['MEDIUM', 'medium'], ['HIGH', 'high'], ['CRITICAL', 'critical']]);
  assert.deepEqual(q.errorTypes.ERROR_STATUS_MAP, {
    validation: 400, authentication: 401, authorization: 403, not_found: 404, rate_limit: 429,
    network: 502, database: 500, system: 500, configuration: 500,
  });
  assert.deepEqual(q.errorTypes.ERROR_SEVERITY_MAP, {
    validation: 'low', authentication: 'low', authorization: 'medium', not_found: 'low', rate_limit: 'medium',
    network: 'medium', database: 'high', system: 'high', configuration: 'critical',
  });
  assert.deepEqual(q.responseHelpers.HTTP_STATUS, { OK: 200, CREATED: 201, BAD_REQUEST: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, INTERNAL_SERVER_ERROR: 500 });
  assert.deepEqual(q.responseHelpers.DEFAULT_MESSAGES, {
    VALIDATION_FAILED: 'Validation failed', NOT_FOUND: 'Resource not found', UNAUTHORIZED: 'Unauthorized', FORBIDDEN: 'Forbidden', INTERNAL_ERROR: 'Internal server error',
  });
});

test('ServiceError: own keys, statuses, toJSON, subclassing', () => {
  const e = new q.ServiceError('m', 'validation', { f: 1 });
  assert.deepEqual(Object.keys(e), ['name', 'type', 'context', 'cause', 'statusCode', 'severity', 'timestamp']);
  assert.equal(e.statusCode, 400);
  assert.equal(e.severity, 'low');
  assert.ok(e instanceof Error && e instanceof q.ServiceError);
  assert.ok(e.stack.startsWith('ServiceError: m'));
  assert.equal(String(e), 'ServiceError: m');
  assert.deepEqual(Object.keys(e.toJSON()), ['name', 'message', 'type', 'context', 'statusCode', 'severity', 'timestamp', 'cause']);
  assert.equal(new q.ServiceError('x', 'unknown').statusCode, 500);
  assert.equal(new q.ServiceError('x', 'constructor').statusCode, 500, 'prototype names are not types');
  assert.equal(new q.ServiceError('x', 'unknown').severity, 'medium');
  assert.equal(new q.ServiceError('x', 'system', null).context, null);
  assert.deepEqual(new q.ServiceError('x', 'system', undefined).context, {});
  const cause = new Error('root');
  assert.deepEqual(new q.ServiceError('x', 'network', {}, cause).toJSON().cause, { message: 'root', stack: cause.stack });
  class MyError extends q.ServiceError {}
  assert.ok(new MyError('s', 'system') instanceof q.ServiceError);

  const typed = q.createTypedError('m', 'not_found', 'CODE1', { a: 1 });
  assert.deepEqual(Object.keys(typed), ['name', 'type', 'context', 'cause', 'statusCode', 'severity', 'timestamp', 'code']);
  assert.equal(typed.statusCode, 404);
  // Deliberate deviation: code appears in JSON.
  assert.equal(JSON.parse(JSON.stringify(typed)).code, 'CODE1');
  assert.equal('code' in q.createTypedError('m', 'system'), false);
  const std = q.createStandardError('C', 'msg', 'authorization', { x: 1 });
  assert.deepEqual([std.message, std.code, std.statusCode, std.severity], ['msg', 'C', 403, 'medium']);
  assert.deepEqual(q.createServiceError('m', 'database').context, {});
  assert.equal(q.createServiceError('m', 'database').severity, 'high');
});

test('ErrorFactory and errorUtils tables', () => {
  const F = q.ErrorFactory;
  const rows = [
    [F.validation('bad', 'email'), 'VALIDATION_ERROR', 400, { field: 'email' }, 'bad'],
    [F.validation('bad'), 'VALIDATION_ERROR', 400, {}, 'bad'],
    [F.authentication(), 'AUTHENTICATION_ERROR', 401, {}, 'Authentication failed'],
    [F.authorization(), 'AUTHORIZATION_ERROR', 403, {}, 'Insufficient permissions'],
    [F.notFound(), 'NOT_FOUND_ERROR', 404, { resource: 'Resource' }, 'Resource not found'],
    [F.rateLimit(), 'RATE_LIMIT_ERROR', 429, {}, 'Rate limit exceeded'],
    [F.network('down'), 'NETWORK_ERROR', 502, { service: null }, 'down'],
    [F.network('down', 'svc', { a: 1 }), 'NETWORK_ERROR', 502, { service: 'svc', a: 1 }, 'down'],
    [F.database('q'), 'DATABASE_ERROR', 500, { operation: null }, 'q'],
    [F.system('s', 'ctx'), 'SYSTEM_ERROR', 500, 'ctx', 's'],
    [F.configuration('c'), 'CONFIGURATION_ERROR', 500, { field: null }, 'c'],
  ];
  for (const [err, code, status, context, message] of rows) {
    assert.equal(err.code, code);
    assert.equal(err.statusCode, status);
    assert.deepEqual(err.context, context);
    assert.equal(err.message, message);
  }
  assert.equal(F.validation(undefined).message, '');
  assert.equal(F.configuration('c').severity, 'critical');

  const U = q.errorUtils;
  assert.equal(U.validation('age', 0).message, 'Invalid age: number 0');
  assert.equal(U.validation('age', {}).message, 'Invalid age: object [object Object]');
  assert.equal(U.validation('name', '').message, 'name is required');
  assert.deepEqual(U.validation('age', 0).context, { field: 'age', value: 0 });
  assert.equal(U.authentication('S3').message, 'S3 authentication failed');
  assert.equal(U.authorization('delete').message, 'Insufficient permissions to delete');
  const orig = new Error('timeout');
  const ext = U.externalApi('Stripe', orig);
  assert.deepEqual([ext.message, ext.type, ext.statusCode, ext.cause], ['Stripe API error: timeout', 'network', 502, orig]);
  assert.throws(() => U.externalApi('S', null), TypeError);
  assert.equal(U.internal('i').type, 'system');
  assert.equal(U.wrap(ext), ext);
  const wrapped = U.wrap(orig, 'dflt');
  assert.deepEqual([wrapped.message, wrapped.type, wrapped.cause], ['timeout', 'system', orig]);
  assert.deepEqual(U.wrap('str', 'dflt').context, { originalError: 'str' });
  assert.equal(U.wrap('str', 'dflt').message, 'dflt');
});

test('safeUtils, attempt, executeWithQerrors, asyncHandler', async () => {
  assert.deepEqual(await q.safeUtils.execute(async () => 5), { success: true, data: 5 });
  const boom = new Error('b');
  assert.deepEqual(await q.safeUtils.execute(() => Promise.reject(boom)), { success: false, error: boom });
  assert.deepEqual(q.safeUtils.validate(3, (v) => v > 1, 'n'), { success: true, data: 3 });
  const invalid = q.safeUtils.validate(0, (v) => v > 1, 'n');
  assert.equal(invalid.error.message, 'Invalid n: number 0');
  assert.equal(q.safeUtils.validate(1, () => {
    throw boom;
  }, 'n').error, boom);

  // One implementation each (utils.attempt / utils.executeWithQerrors): silent, validated,
  // failures logged through the qerrors logger, not printed to the console.
  let result;
  const lines = await quiet(async () => {
    result = await q.attempt(() => {
      throw 'raw';
    });
  });
  assert.deepEqual(result, { ok: false, error: 'raw' });
  assert.deepEqual(lines, [], 'attempt prints nothing');
  assert.deepEqual(await q.attempt(async () => 1), { ok: true, value: 1 });
  assert.equal((await q.attempt(42)).error.code, 'ERR_QERRORS_INVALID_ARG');

  const printed = await quiet(async () => {
    await assert.rejects(q.executeWithQerrors({ operation: () => Promise.reject(boom), failureMessage: 'FM' }), (e) => e === boom && e.message === 'FM: b');
  });
  assert.deepEqual(printed, [], 'executeWithQerrors logs through the logger, not the console');
  assert.equal(await q.executeWithQerrors({ operation: async () => 'v' }), 'v');
  await assert.rejects(q.executeWithQerrors({}), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  await assert.rejects(q.errorUtils.asyncHandler(() => Promise.reject(boom), 'x'), (e) => e instanceof q.ServiceError && e.cause === boom);
});

test('handleSimpleError and errorMiddleware bodies (docs/api.md)', () => {
  const a = q.handleSimpleError(new Error('plain'), { extra: 1 });
  assert.deepEqual(Object.keys(a.error), ['code', 'message', 'type', 'severity', 'context', 'timestamp']);
  assert.deepEqual([a.error.code, a.error.type, a.error.severity, a.error.context], ['INTERNAL_ERROR', 'system', 'high', { extra: 1 }]);
  assert.equal(q.handleSimpleError('oops').error.message, 'An unexpected error occurred');
  assert.deepEqual(q.handleSimpleError(null).error.context, { originalError: null });

  const req = { path: '/p', method: 'GET', ip: '1.2.3.4', get: (h) => (h === 'User-Agent' ? 'UA' : undefined) };
  let res = mockRes();
  q.errorMiddleware(q.ErrorFactory.notFound('User'), req, res, () => assert.fail('next'));
  assert.equal(res.statusCode, 404);
  assert.deepEqual(res.body.error.context, { resource: 'User', path: '/p', method: 'GET', ip: '1.2.3.4', userAgent: 'UA' });
  assert.equal(res.body.error.code, 'NOT_FOUND_ERROR');

  // docs/api.md: err.status honoured, null error and a req without get() tolerated.
  res = mockRes();
  q.errorMiddleware(Object.assign(new Error('gone'), { status: 410 }), { headers: { 'user-agent': 'X' } }, res, () => {});
  assert.equal(res.statusCode, 410);
  assert.equal(res.body.error.context.userAgent, 'X');
  res = mockRes();
  q.errorMiddleware(null, req, res, () => {});
  assert.equal(res.statusCode, 500);
  // Headers already sent: next(err), nothing written.
  res = mockRes();
  res.headersSent = true;
  const err = new Error('late');
  let forwarded;
  q.errorMiddleware(err, req, res, (e) => {
    forwarded = e;
  });
  assert.equal(forwarded, err);
  assert.equal(res.body, undefined);
});

test('entity guards, falsy semantics kept, 404 status attached', () => {
  assert.equal(q.throwIfNotFound('x', 'T'), 'x');
  assert.throws(() => q.throwIfNotFound(0, 'Count'), (e) => e.message === 'Count not found' && Object.keys(e).length === 0 && e.statusCode === 404);
  assert.deepEqual(q.throwIfNotFoundObj({ entity: 1 }), { entity: 1, found: true });
  assert.deepEqual(q.throwIfNotFoundObj(undefined), { entity: null, found: false });
  assert.deepEqual(q.throwIfNotFoundMany([{ entity: 1, entityName: 'A' }, { entity: 2, entityName: 'B' }]), [1, 2]);
  assert.throws(() => q.throwIfNotFoundMany([{ entity: 1, entityName: 'A' }, { entity: '', entityName: 'B' }]), /^Error: B not found$/);
  assert.throws(() => q.throwIfNotFoundMany('x'), { name: 'TypeError', code: 'ERR_QERRORS_INVALID_ARG' });
  assert.throws(() => q.throwIfNotFoundWithMessage(null, 'custom'), /custom/);
  assert.deepEqual([null, undefined, 0, '', false, {}].map(q.entityExists), [false, false, true, true, true, true]);
  assert.throws(
    () => q.assertEntityExists(false, 'Order'),
    (e) => e.message === 'Order not found' && JSON.stringify(Object.keys(e)) === '["type","entityName"]' && e.type === 'NOT_FOUND'
  );
  assert.throws(() => q.assertEntityExists(null, 'Order', 'GONE'), (e) => e.type === 'GONE');
});

test('send* helpers: statuses and bodies (with the fixes documented in docs/api.md)', () => {
  const call = (fn) => {
    const res = mockRes();
    fn(res);
    return [res.statusCode, res.body];
  };
  const rows = [
    [(r) => q.sendSuccessResponse(r, { id: 1 }), 200, { success: true, data: { id: 1 } }],
    [(r) => q.sendCreatedResponse(r, { id: 2 }), 201, { success: true, data: { id: 2 } }],
    [(r) => q.sendErrorResponse(r, 422, 'Unprocessable'), 422, { success: false, error: 422, message: 'Unprocessable' }],
    [
      (r) => q.sendErrorResponse(r, 400, 'Bad', [{ f: 'x' }], { requestId: 'r2', processingTime: 5 }),
      400,
      { success: false, error: 400, message: 'Bad', requestId: 'r2', processingTime: 5, errors: [{ f: 'x' }] },
    ],
    [(r) => q.sendErrorResponse(r, 409, 'Conflict', { why: 'dup' }), 409, { success: false, error: 409, message: 'Conflict', details: { why: 'dup' } }],
    [(r) => q.sendErrorResponse(r, 503, 503), 503, { success: false, error: 503, message: 'Internal server error' }],
    [(r) => q.sendErrorResponse(r, 500), 500, { success: false, error: 500, message: 'Internal server error' }],
    [
      (r) => q.sendValidationErrorResponse(r, [{ field: 'email', message: 'bad' }]),
      400,
      { success: false, error: 400, message: 'Validation failed', errors: [{ field: 'email', message: 'bad' }] },
    ],
    [(r) => q.sendNotFoundResponse(r), 404, { success: false, error: 404, message: 'Resource not found' }],
    [(r) => q.sendNotFoundResponse(r, 'User missing', { requestId: 'r3' }), 404, { success: false, error: 404, message: 'User missing', requestId: 'r3' }],
    [(r) => q.sendUnauthorizedResponse(r), 401, { success: false, error: 401, message: 'Unauthorized' }],
    [(r) => q.sendForbiddenResponse(r), 403, { success: false, error: 403, message: 'Forbidden' }],
    [(r) => q.sendServerErrorResponse(r), 500, { success: false, error: 500, message: 'Internal server error' }],
    [(r) => q.sendServerErrorResponse(r, null), 500, { success: false, error: 500, message: 'Internal server error' }],
  ];
  for (const [fn, status, body] of rows) {
    const [s, b] = call(fn);
    assert.equal(s, status);
    assert.deepEqual(b, body);
    assert.deepEqual(Object.keys(b), Object.keys(body), 'key order');
  }
  const [, timed] = call((r) => q.sendSuccessResponse(r, { id: 1 }, { includeProcessingTime: true, startTime: Date.now() - 50, requestId: 'r1' }));
  assert.deepEqual(Object.keys(timed), ['success', 'data', 'processingTime']);
  assert.ok(timed.processingTime >= 50);
  const sent = mockRes();
  sent.headersSent = true;
  assert.equal(q.sendErrorResponse(sent, 400, 'x'), sent, 'nothing written after headers were sent');
  assert.equal(sent.body, undefined);
  assert.equal(q.sendSuccessResponse(mockRes(), 1), 'json-return', 'returns what res.json returns');
});

test('createResponseHelper, createStatusResponseHelper, ResponseBuilder', () => {
  const res = mockRes();
  const h = q.createResponseHelper(res, Date.now() - 10);
  assert.deepEqual(Object.keys(h), ['success', 'created', 'error', 'validation', 'notFound', 'unauthorized', 'forbidden', 'serverError']);
  assert.deepEqual(Object.values(h).map((f) => f.length), [1, 1, 3, 1, 1, 1, 1, 1]);
  h.success({ a: 1 }, { includeProcessingTime: true });
  assert.ok(res.body.processingTime >= 10);
  const r2 = mockRes();
  q.createResponseHelper(r2).notFound();
  assert.deepEqual(r2.body, { success: false, error: 404, message: 'Resource not found' });

  const RH = q.responseHelpers;
  const teapot = RH.createStatusResponseHelper(418, 'teapot');
  const r3 = mockRes();
  teapot(r3);
  assert.deepEqual([r3.statusCode, r3.body], [418, { success: false, error: 418, message: 'teapot' }]);

  const b1 = mockRes();
  new RH.ResponseBuilder(b1).setError('E_CODE').send();
  assert.deepEqual([b1.statusCode, b1.body], [500, { success: false, error: 'E_CODE' }]);
  const b2 = mockRes();
  new RH.ResponseBuilder(b2).created({ a: 1 }, { requestId: 'r' }).addHeader('X-A', '1').send();
  assert.deepEqual([b2.statusCode, b2.body, b2.headers['x-a']], [201, { success: true, data: { a: 1 }, requestId: 'r' }, '1']);
  const b3 = mockRes();
  new RH.ResponseBuilder(b3).setData([1]).setPagination(2, 10, 95).send();
  assert.deepEqual(b3.body, { success: true, data: [1], pagination: { page: 2, limit: 10, total: 95, totalPages: 10, hasNext: true, hasPrev: true } });
  const b4 = mockRes();
  new RH.ResponseBuilder(b4).setValidationErrors([{ f: 1 }]).send();
  assert.deepEqual([b4.statusCode, b4.body], [400, { success: false, error: 400, message: 'Validation failed', errors: [{ f: 1 }] }]);
  // docs/api.md: success() is callable, badRequest() has its own text.
  const b5 = mockRes();
  new RH.ResponseBuilder(b5).success({ ok: 1 }).send();
  assert.deepEqual(b5.body, { success: true, data: { ok: 1 } });
  assert.equal(new RH.ResponseBuilder(mockRes()).badRequest().build().message, 'Bad request');

  let nextCalled = false;
  const r4 = mockRes();
  RH.responseBuilderMiddleware({}, r4, () => {
    nextCalled = true;
  });
  assert.ok(nextCalled && r4.builder() instanceof RH.ResponseBuilder);
  assert.equal(RH.responseBuilderMiddleware.length, 3);
});

test('globalErrorHandler bodies (details never leak on 5xx unless exposed)', async () => {
  const req = { path: '/x', method: 'POST' };
  const run = (err) => {
    const res = mockRes();
    q.globalErrorHandler(err, req, res, () => assert.fail('next'));
    return [res.statusCode, res.body];
  };
  await quiet(async () => {
    assert.deepEqual(run(new Error('kaboom')), [500, { error: 'Internal Server Error' }]);
    assert.deepEqual(run(Object.assign(new Error('not here'), { status: 404 })), [404, { error: 'not here', details: 'not here' }]);
    assert.deepEqual(run(Object.assign(new Error('priv'), { statusCode: 400, expose: false })), [400, { error: 'Internal Server Error' }]);
    assert.deepEqual(run(Object.assign(new Error('with details'), { statusCode: 422, details: { f: 'x' } })), [422, { error: 'with details', details: { f: 'x' } }]);
    assert.deepEqual(run(Object.assign(new Error('srv'), { details: 'd' })), [500, { error: 'Internal Server Error' }], 'no 5xx details leak');
    assert.deepEqual(run({ message: 'plain obj', status: 401 }), [401, { error: 'plain obj' }]);
    assert.deepEqual(run(null), [500, { error: 'Internal Server Error' }]);
    await new Promise((r) => setImmediate(r));
  });
  const res = mockRes();
  res.headersSent = true;
  const err = new Error('late');
  let forwarded;
  q.globalErrorHandler(err, req, res, (e) => {
    forwarded = e;
  });
  assert.equal(forwarded, err);
});

test('dependency injection', async () => {
  q.resetDefaultQerrorsCoreDeps();
  const deps = q.getDefaultQerrorsCoreDeps();
  assert.deepEqual(Object.keys(deps), ['qerrors', 'logErrorWithSeverity', 'withErrorHandling', 'ErrorSeverity']);
  assert.equal(deps.qerrors, q.qerrors);
  assert.equal(q.createDefaultErrorHandlingDeps(), deps);
  assert.equal(q.getErrorSeverity(), q.ErrorSeverity);
  assert.equal(q.withErrorHandlingDI(), q.withErrorHandling);
  q.resetDefaultQerrorsCoreDeps();
  assert.notEqual(q.getDefaultQerrorsCoreDeps(), deps);
  assert.throws(() => q.createQerrorsCoreDeps(null), TypeError);

  const calls = [];
  const mock = async (...a) => {
    calls.push(a);
    return 'ret';
  };
  const mockDeps = q.createQerrorsCoreDeps(mock);
  assert.equal(await q.qerr(new Error('e1'), 'ctxA', { m: 1 }, mockDeps), 'ret');
  assert.deepEqual(calls[0].slice(1), ['ctxA', { m: 1 }]);
  await q.qerr(new Error('e2'), 'ctxB', null, mockDeps);
  assert.deepEqual(calls[1][2], {});
  await q.logErrorWithSeverityDI({ error: new Error('e3'), functionName: 'fn', context: { a: 1 }, severity: 'high', deps: mockDeps });
  assert.deepEqual(calls[2].slice(1), ['fn', { a: 1, severity: 'high' }]);
  await assert.rejects(q.logErrorWithSeverityDI(), TypeError);
  const record = await q.qerr(new Error('real'), 'ctx');
  assert.equal(record.message, 'real');
});

test('qerrors() without HTTP: the record, null error, forms, never rejects', async () => {
  let lines = await quiet(async () => {
    assert.equal(await q.qerrors(null), undefined);
    assert.equal(await q.qerrors(undefined, 'x'), undefined);
  });
  assert.deepEqual(lines.map((l) => l.slice(0, 2)), [
    ['warn', 'qerrors called without an error object'],
    ['warn', 'qerrors called without an error object'],
  ]);
  const err = new Error('db password=hunter2 failed');
  const rec = await q.qerrors(err, 'loadUser', { userId: 7, token: 'secret-token' });
  assert.match(rec.id, /^[0-9a-f]{12}$/);
  assert.match(rec.uniqueErrorName, /^ERROR:Error_[0-9a-f-]{36}$/);
  assert.equal(err.uniqueErrorName, rec.uniqueErrorName);
  assert.equal(rec.message, 'db password=[REDACTED] failed');
  assert.deepEqual(rec.context, { location: 'loadUser', userId: 7, token: '[REDACTED]' });
  assert.equal(rec.statusCode, 500);
  assert.equal(rec.isOperational, true);
  assert.equal(rec.severity, 'medium');
  assert.ok(!Number.isNaN(Date.parse(rec.timestamp)));
  assert.ok(rec.stack.includes('db password=[REDACTED] failed'));

  const typed = await q.qerrors(q.ErrorFactory.validation('bad'), { route: '/x' });
  assert.deepEqual([typed.statusCode, typed.severity, typed.name], [400, 'low', 'ServiceError']);
  assert.deepEqual(typed.context, { route: '/x' });
  const str = await q.qerrors('a string error', 'ctx');
  assert.deepEqual([str.message, str.name], ['a string error', 'Error']);
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('trap');
      },
    }
  );
  lines = await quiet(async () => {
    const r = await q.qerrors(hostile, 'ctx');
    assert.ok(r === undefined || typeof r.id === 'string');
  });
  const frozen = Object.freeze(new Error('frozen'));
  assert.equal((await q.qerrors(frozen)).message, 'frozen');
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  assert.equal((await q.qerrors(new Error('c'), cyclic)).context.self, '[Circular]');
});

test('qerrors() feeds its call latency to getMetrics()', async () => {
  const { getMetrics } = require('../lib/ops/metrics');
  const before = getMetrics().qerrors.errorsHandled;
  await q.qerrors(new Error('counted'), 'ctx');
  await q.qerrors(new Error('counted'), 'ctx');
  const after = getMetrics().qerrors;
  assert.equal(after.errorsHandled, before + 2);
  assert.ok(after.latencyMaxMs > 0);
});

test('qerrors members: generateErrorId, extractContext, cleanup, stats, cache controls', async () => {
  assert.match(q.qerrors.generateErrorId(), /^[0-9a-f]{12}$/);
  const e = new TypeError('t');
  const ctx = q.qerrors.extractContext(e, { password: 'p', token: 't', apiKey: 'k', keep: 1 });
  assert.equal(ctx.errorType, 'TypeError');
  assert.ok(Array.isArray(ctx.stack) && ctx.stack.length <= 10);
  assert.deepEqual([ctx.password, ctx.token, ctx.apiKey, ctx.keep], [undefined, undefined, undefined, 1]);
  let failed;
  const lines = await quiet(async () => {
    failed = q.qerrors.extractContext(null);
  });
  assert.equal(failed.extractionFailed, true);
  assert.match(lines[0][1], /^Failed to extract error context/);
  const cleanupLines = await quiet(async () => q.qerrors.cleanup());
  assert.deepEqual(cleanupLines.map((l) => l.slice(0, 2)), [['log', 'qerrors cleanup completed']]);
  const stats = q.qerrors.getQueueStats();
  assert.deepEqual(Object.keys(stats), ['length', 'rejectCount']);
  assert.ok(Number.isInteger(stats.length) && Number.isInteger(stats.rejectCount));
  const cache = q.qerrors.getAnalysisCache();
  assert.deepEqual(Object.keys(cache), ['clear', 'purgeExpired', 'startCleanup', 'stopCleanup']);
  for (const f of Object.values(cache)) assert.equal(f(), undefined);
});

test('logErrorWithSeverity, handleControllerError, withErrorHandling', async () => {
  let lines = await quiet(async () => {
    assert.equal(await q.logErrorWithSeverity(new Error('c'), 'critFn', {}, 'critical'), undefined);
    await q.logErrorWithSeverity(new Error('h'), 'highFn', {}, 'high');
    await q.logErrorWithSeverity(new Error('m'), 'medFn');
  });
  assert.deepEqual(lines.map((l) => l.slice(0, 3)), [
    ['error', 'CRITICAL ERROR in:', 'critFn'],
    ['error', 'HIGH SEVERITY ERROR in:', 'highFn'],
  ]);

  const res = mockRes();
  lines = await quiet(async () => {
    await q.handleControllerError(res, q.ErrorFactory.notFound('User'), 'getUserById', { userId: 5, req: { headers: { 'x-request-id': 'rid-1' } } });
  });
  assert.equal(res.statusCode, 404);
  assert.deepEqual(Object.keys(res.body.error), ['code', 'message', 'type', 'timestamp', 'requestId', 'context']);
  assert.deepEqual([res.body.error.code, res.body.error.message, res.body.error.type, res.body.error.requestId], ['NOT_FOUND_ERROR', 'User not found', 'not_found', 'rid-1']);
  assert.deepEqual(res.body.error.context, { userId: 5 });
  const res2 = mockRes();
  await quiet(async () => q.handleControllerError(res2, new Error('x'), 'fn', {}, 'Try later'));
  assert.deepEqual([res2.statusCode, res2.body.error.code, res2.body.error.message, res2.body.error.type], [500, 'INTERNAL_ERROR', 'Try later', 'system']);
  await quiet(async () => assert.equal(await q.handleControllerError(undefined, new Error('x'), 'fn'), undefined));

  await quiet(async () => {
    assert.equal(await q.withErrorHandling(async () => 7, 'op'), 7);
    assert.equal(await q.withErrorHandling(async () => {
      throw new Error('x');
    }, 'op', {}, 'fallback'), 'fallback');
    assert.equal(await q.withErrorHandling(() => {
      throw new Error('x');
    }, 'op'), null);
  });
});
