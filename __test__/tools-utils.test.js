'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const utils = require('../lib/compat/utils');
const config = require('../lib/policy/config');
const moduleInitializer = require('../lib/compat/moduleInitializer');
const { withEnv, captureConsole, flush, patchModule } = require('./helpers/tools-env');

const root = path.resolve(__dirname, '..');

/** Temporarily replaces members of a real qerrors module (lib/<name>.js) with doubles. */
function fakeSibling(name, members) {
  return patchModule(require(path.join(root, 'lib', `${name}.js`)), members);
}

/** A logger double recording every call. */
function recordingLogger() {
  const calls = [];
  const log = {};
  for (const m of ['logDebug', 'logInfo', 'logWarn', 'logError']) {
    log[m] = async (...args) => {
      calls.push([m, ...args]);
    };
  }
  return { log, calls };
}

const UTILS_KEYS = [
  'createEnhancedLogEntry',
  'stringifyContext',
  'safeErrorMessage',
  'verboseLog',
  'createPerformanceTimer',
  'safeLogError',
  'safeLogInfo',
  'safeLogWarn',
  'safeLogDebug',
  'safeRun',
  'deepClone',
  'createTimer',
  'attempt',
  'executeWithQerrors',
  'formatErrorMessage',
  'createSafeAsyncWrapper',
  'createSafeLogger',
  'createSafeOperation',
  'safeQerrors',
  'logError',
  'logInfo',
  'logWarn',
];

const ARITY = {
  createEnhancedLogEntry: 2,
  stringifyContext: 1,
  safeErrorMessage: 1,
  verboseLog: 1,
  createPerformanceTimer: 1,
  safeLogError: 1,
  safeLogInfo: 1,
  safeLogWarn: 1,
  safeLogDebug: 1,
  safeRun: 4,
  deepClone: 1,
  createTimer: 0,
  attempt: 1,
  executeWithQerrors: 1,
  formatErrorMessage: 2,
  createSafeAsyncWrapper: 1,
  createSafeLogger: 1,
  createSafeOperation: 3,
  safeQerrors: 2,
  logError: 3,
  logInfo: 2,
  logWarn: 2,
};

test('utils namespace: 22 members in the original order with their arities', () => {
  assert.deepEqual(Object.keys(utils), UTILS_KEYS);
  for (const k of UTILS_KEYS) assert.equal(utils[k].length, ARITY[k], k);
  for (const k of ['safeLogError', 'safeLogInfo', 'safeLogWarn', 'safeLogDebug', 'attempt', 'executeWithQerrors', 'safeQerrors']) {
    assert.equal(utils[k].constructor.name, 'AsyncFunction', k);
  }
  assert.notEqual(utils.safeRun, config.safeRun, 'two separate functions (as in the original)');
});

test('generateUniqueId: prefix + a v4 UUID', () => {
  assert.equal(utils.generateUniqueId.length, 0);
  const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(utils.generateUniqueId(), v4);
  const id = utils.generateUniqueId('err_');
  assert.ok(id.startsWith('err_'));
  assert.match(id.slice(4), v4);
  assert.notEqual(utils.generateUniqueId(), utils.generateUniqueId());
});

test('stringifyContext: strings as-is, circular-safe JSON (the original gave "[Circular *1]" for every object)', () => {
  assert.equal(utils.stringifyContext('plain'), 'plain');
  assert.equal(utils.stringifyContext(null), 'null');
  assert.equal(utils.stringifyContext(undefined), 'undefined');
  assert.equal(utils.stringifyContext(42), '42');
  assert.equal(utils.stringifyContext({ a: 1, b: [1, 'x'] }), '{"a":1,"b":[1,"x"]}');
  assert.equal(utils.stringifyContext([1, 2]), '[1,2]');
  const a = { x: 1 };
  a.self = a;
  a.list = [a, { back: a }];
  assert.equal(utils.stringifyContext(a), '{"x":1,"self":"[Circular]","list":["[Circular]",{"back":"[Circular]"}]}');
  const shared = { k: 1 };
  assert.equal(utils.stringifyContext({ p: shared, q: shared }), '{"p":{"k":1},"q":{"k":1}}', 'shared, non-cyclic refs are kept');
  assert.equal(utils.stringifyContext({ n: 10n, d: new Date(0) }), '{"n":"10","d":"1970-01-01T00:00:00.000Z"}');
  const err = new Error('boom');
  err.code = 'E1';
  err.cause = err;
  const parsed = JSON.parse(utils.stringifyContext({ err }));
  assert.equal(parsed.err.message, 'boom');
  assert.equal(parsed.err.code, 'E1');
  assert.equal(parsed.err.cause, '[Circular]');
  const throwing = {
    toJSON() {
      throw new Error('nope');
    },
  };
  assert.equal(utils.stringifyContext(throwing), 'unknown context');
});

test('safeErrorMessage and formatErrorMessage: the measured table', () => {
  assert.equal(utils.safeErrorMessage(new Error(' m ')), 'm');
  assert.equal(utils.safeErrorMessage('  s '), 's');
  assert.equal(utils.safeErrorMessage({ message: '' }), 'Unknown error');
  assert.equal(utils.safeErrorMessage(null), 'Unknown error');
  assert.equal(utils.safeErrorMessage(null, 'fb'), 'fb');
  assert.equal(utils.safeErrorMessage({ message: 5 }), 'Unknown error');
  assert.equal(utils.formatErrorMessage(new Error('E'), 'ctx'), '[ctx] E');
  assert.equal(utils.formatErrorMessage('S'), 'S');
  assert.equal(utils.formatErrorMessage(null, 'c'), '[c] Unknown error');
});

test('verboseLog reads QERRORS_VERBOSE at call time', async () => {
  await withEnv({ QERRORS_VERBOSE: undefined }, async () => {
    const r = await captureConsole(['log'], () => utils.verboseLog('hello'));
    assert.equal(r.result, undefined);
    assert.deepEqual(r.calls, [{ method: 'log', args: ['hello'] }]);
  });
  await withEnv({ QERRORS_VERBOSE: 'false' }, async () => {
    const r = await captureConsole(['log'], () => utils.verboseLog('hidden'));
    assert.equal(r.result, false);
    assert.deepEqual(r.calls, []);
  });
});

test('utils.safeRun: synchronous, fallback on throw', async () => {
  assert.equal(utils.safeRun('op', () => 'v', 'fb'), 'v');
  const r = await captureConsole(['error'], () =>
    utils.safeRun('op', () => {
      throw new Error('x');
    }, 'fb', { i: 1 })
  );
  assert.equal(r.result, 'fb');
  assert.deepEqual(r.calls, [{ method: 'error', args: ['op failed', { i: 1 }] }]);
});

test('deepClone: lodash cloneDeep semantics', () => {
  class Point {
    constructor(x) {
      this.x = x;
    }
    norm() {
      return Math.abs(this.x);
    }
  }
  const sym = Symbol('s');
  const fn = () => 1;
  const src = {
    n: 1,
    s: 'x',
    d: new Date(5),
    r: /ab+/gi,
    m: new Map([['k', { deep: 1 }]]),
    set: new Set([1, { v: 2 }]),
    t: new Float64Array([1.5, 2.5]),
    b: Buffer.from('hi'),
    p: new Point(-3),
    fn,
    arr: [1, [2, [3]]],
    [sym]: { hidden: true },
  };
  src.self = src;
  src.arr.push(src);
  const c = utils.deepClone(src);
  assert.notEqual(c, src);
  assert.equal(c.self, c, 'cycles are preserved in the clone');
  assert.equal(c.arr[2], c);
  assert.deepEqual(c.arr.slice(0, 2), [1, [2, [3]]]);
  assert.notEqual(c.arr[1], src.arr[1]);
  assert.ok(c.d instanceof Date && c.d.getTime() === 5 && c.d !== src.d);
  assert.ok(c.r instanceof RegExp && c.r.source === 'ab+' && c.r.flags === 'gi' && c.r !== src.r);
  assert.deepEqual(c.m.get('k'), { deep: 1 });
  assert.notEqual(c.m.get('k'), src.m.get('k'));
  assert.equal(c.set.size, 2);
  assert.ok(c.t instanceof Float64Array && c.t[1] === 2.5 && c.t !== src.t);
  assert.ok(Buffer.isBuffer(c.b) && c.b.toString() === 'hi' && c.b !== src.b);
  assert.ok(c.p instanceof Point && c.p.norm() === 3 && c.p !== src.p);
  assert.equal(c.fn, fn, 'functions by reference');
  assert.deepEqual(c[sym], { hidden: true });
  assert.notEqual(c[sym], src[sym]);
  const shared = { z: 1 };
  const twice = utils.deepClone({ a: shared, b: shared });
  assert.equal(twice.a, twice.b, 'shared references stay shared');
  for (const prim of [1, 'a', null, undefined, true, 10n]) assert.equal(utils.deepClone(prim), prim);
  const err = new Error('x');
  err.code = 'C';
  const ce = utils.deepClone(err);
  assert.ok(ce instanceof Error && ce !== err && ce.message === 'x' && ce.code === 'C');
});

test('deepClone handles very deep objects without overflowing the stack', () => {
  const root = {};
  let cur = root;
  for (let i = 0; i < 100000; i++) {
    cur.next = {};
    cur = cur.next;
  }
  const c = utils.deepClone(root);
  let depth = 0;
  for (let p = c; p.next; p = p.next) depth++;
  assert.equal(depth, 100000);
});

test('createTimer: elapsed, formatted units, logPerformance shape', async () => {
  const timer = utils.createTimer();
  assert.equal(typeof timer.elapsed(), 'number');
  assert.match(timer.elapsedFormatted(), /^\d+\.\d{2}ms$/);
  const ctx = await timer.logPerformance(false, { extra: 1 });
  assert.deepEqual(Object.keys(ctx), ['operation', 'duration_ms', 'success', 'extra']);
  assert.equal(ctx.operation, 'operation');
  assert.equal(ctx.success, false);
  assert.equal(ctx.duration_ms, Math.round(ctx.duration_ms * 100) / 100);
  const def = await timer.logPerformance();
  assert.equal(def.success, true);
  assert.equal(typeof timer.end(), 'number');
});

test('createTimer formats seconds and minutes', (t) => {
  let now = 0n;
  t.mock.method(process.hrtime, 'bigint', () => now);
  const timer = utils.createTimer();
  now = 1500n * 1000000n;
  assert.equal(timer.elapsedFormatted(), '1.50s');
  now = 90000n * 1000000n;
  assert.equal(timer.elapsedFormatted(), '1.50m');
  now = 290000n;
  assert.equal(timer.elapsedFormatted(), '0.29ms');
});

test('createPerformanceTimer: callable, both historical shapes, memory delta', async () => {
  const perf = utils.createPerformanceTimer('opX', 'req-1');
  assert.equal(typeof perf, 'function');
  for (const k of ['elapsed', 'elapsedFormatted', 'logPerformance', 'end']) assert.equal(typeof perf[k], 'function', k);
  const ctx = await perf(true, { extra: 1 });
  assert.deepEqual(Object.keys(ctx), ['operation', 'duration_ms', 'success', 'extra', 'memory_delta']);
  assert.deepEqual(Object.keys(ctx.memory_delta), ['heapUsed', 'external']);
  assert.equal(ctx.operation, 'opX');
  assert.equal((await perf.logPerformance(false)).success, false);
  assert.equal((await perf.end()).success, true);
});

test('safeLog* go through the logger, or fall back to the console', async () => {
  const { log, calls } = recordingLogger();
  const restore = fakeSibling('logging/logger', log);
  try {
    await utils.safeLogError(new Error(' bad '), { route: '/x' }, { extra: 1 });
    await utils.safeLogInfo('info', { a: 1 });
    await utils.safeLogWarn('warn');
    await utils.safeLogDebug('debug', { d: 1 });
    await utils.logError('legacy', 'ctx', { m: 1 });
    await utils.logInfo('li');
    await utils.logWarn('lw', { w: 1 });
  } finally {
    restore();
  }
  assert.deepEqual(calls, [
    ['logError', 'bad', { context: { route: '/x' }, extra: 1 }],
    ['logInfo', 'info', { a: 1 }],
    ['logWarn', 'warn', {}],
    ['logDebug', 'debug', { d: 1 }],
    ['logError', 'legacy', { context: 'ctx', m: 1 }],
    ['logInfo', 'li', {}],
    ['logWarn', 'lw', { w: 1 }],
  ]);
  // A throwing logger falls back to the console, and nothing rejects.
  const down = () => {
    throw new Error('logger down');
  };
  const restoreBroken = fakeSibling('logging/logger', { logError: down, logInfo: down, logWarn: down });
  try {
    const r = await captureConsole(['error', 'log', 'warn'], async () => {
      await utils.safeLogError('E', {});
      await utils.safeLogInfo('I');
      await utils.safeLogWarn('W');
    });
    assert.deepEqual(
      r.calls.map((c) => [c.method, c.args[0]]),
      [
        ['error', 'E'],
        ['log', 'I'],
        ['warn', 'W'],
      ]
    );
  } finally {
    restoreBroken();
  }
});

test('createEnhancedLogEntry, createPerformanceTimer, attempt and executeWithQerrors are the one implementation', () => {
  const logger = require('../lib/logging/logger');
  const errorTypes = require('../lib/handler/errorTypes');
  assert.equal(utils.createEnhancedLogEntry, logger.createEnhancedLogEntry);
  assert.equal(utils.createPerformanceTimer, logger.createPerformanceTimer);
  assert.equal(utils.attempt, errorTypes.attempt);
  assert.equal(utils.executeWithQerrors, errorTypes.executeWithQerrors);
  assert.equal(utils.createEnhancedLogEntry('WARN', 'm', { a: 1 }, 'r').requestId, 'r');
});

test('attempt (silent): ok/value or ok:false/error, never rejects', async () => {
  const r = await captureConsole(['error'], async () => [
    await utils.attempt(async () => 5),
    await utils.attempt(() => {
      throw new Error('sync');
    }),
    await utils.attempt(() => Promise.reject('raw')),
    await utils.attempt('not a function'),
  ]);
  const [ok, sync, raw, bad] = r.result;
  assert.deepEqual(ok, { ok: true, value: 5 });
  assert.equal(sync.ok, false);
  assert.equal(sync.error.message, 'sync');
  assert.deepEqual(raw, { ok: false, error: 'raw' });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'ERR_QERRORS_INVALID_ARG');
  assert.deepEqual(r.calls, []);
});

test('utils.executeWithQerrors: prefix only with a failureMessage, rethrow or fallback', async () => {
  const { log, calls } = recordingLogger();
  const restore = fakeSibling('logging/logger', log);
  try {
    assert.equal(await utils.executeWithQerrors({ operation: async () => 'v' }), 'v');
    await assert.rejects(
      utils.executeWithQerrors({ opName: 'op', operation: async () => Promise.reject(new Error('inner')), failureMessage: 'FM' }),
      { message: 'FM: inner' }
    );
    assert.equal(
      await utils.executeWithQerrors({ operation: () => Promise.reject(new Error('inner2')), rethrow: false, fallbackValue: 'FB' }),
      'FB'
    );
    // Without a failureMessage the message is left alone (the original wrote "undefined: …").
    await assert.rejects(utils.executeWithQerrors({ operation: () => Promise.reject(new Error('inner3')) }), { message: 'inner3' });
    const timed = [];
    await utils.executeWithQerrors({
      opName: 'timed',
      operation: () => 1,
      timer: { logPerformance: async (ok, ctx) => timed.push([ok, ctx]) },
    });
    assert.deepEqual(timed, [[true, { opName: 'timed' }]]);
    await assert.rejects(utils.executeWithQerrors({}), { code: 'ERR_QERRORS_INVALID_ARG' });
    await assert.rejects(utils.executeWithQerrors(null), { code: 'ERR_QERRORS_INVALID_ARG' });
  } finally {
    restore();
  }
  assert.equal(calls.filter((c) => c[0] === 'logError').length, 3, 'each failure is logged');
  assert.equal(calls[0][2].opName, 'op');
});

test('createSafeAsyncWrapper resolves relative paths against lib/ and falls back', async () => {
  const viaModule = utils.createSafeAsyncWrapper({ modulePath: './compat/utils', functionName: 'formatErrorMessage' });
  assert.equal(await viaModule('E', 'ctx'), '[ctx] E');
  const byName = utils.createSafeAsyncWrapper({ modulePath: 'node:path', functionName: 'basename' });
  assert.equal(await byName('/a/b.txt'), 'b.txt');
  const fallback = utils.createSafeAsyncWrapper({ modulePath: './does-not-exist', functionName: 'x', fallbackFn: (a) => `fb:${a}` });
  assert.equal(await fallback('1'), 'fb:1');
  const nothing = utils.createSafeAsyncWrapper({ modulePath: './does-not-exist' });
  assert.equal(await nothing(), undefined);
  const loud = utils.createSafeAsyncWrapper({ modulePath: './does-not-exist', silent: false, errorMessage: 'wrapper failed' });
  const r = await captureConsole(['error'], () => loud());
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0].args[0], 'wrapper failed');
  const throwingFallback = utils.createSafeAsyncWrapper({
    modulePath: './does-not-exist',
    fallbackFn: () => {
      throw new Error('x');
    },
  });
  assert.equal(await throwingFallback(), undefined);
  assert.equal(await utils.createSafeAsyncWrapper()(), undefined, 'no options at all');
  // The default './handler/qerrors' with no functionName names no function: only the fallback runs.
  const defaults = utils.createSafeAsyncWrapper({ fallbackFn: () => 'fallback' });
  assert.equal(await defaults(new Error('not handled by qerrors')), 'fallback');
});

test('createSafeLogger uses the logger function, else console[fallbackLevel]', async () => {
  const { log, calls } = recordingLogger();
  const restore = fakeSibling('logging/logger', log);
  try {
    await utils.createSafeLogger('logInfo')('msg', { d: 1 });
    assert.deepEqual(calls, [['logInfo', 'msg', { d: 1 }]]);
    const r = await captureConsole(['warn', 'error'], async () => {
      await utils.createSafeLogger('noSuchFunction', 'warn')('msg', { d: 1 });
      await utils.createSafeLogger('noSuchFunction', 'bogus')('m2');
    });
    assert.deepEqual(r.calls, [
      { method: 'warn', args: ['msg', { d: 1 }] },
      { method: 'error', args: ['m2'] },
    ]);
  } finally {
    restore();
  }
});

test('createSafeOperation and safeQerrors', async () => {
  const seen = [];
  const op = utils.createSafeOperation(
    async (x) => {
      if (x < 0) throw new Error('neg');
      return x * 2;
    },
    'fallback',
    (err, x) => seen.push([err.message, x])
  );
  assert.equal(await op(2), 4);
  assert.equal(await op(-1), 'fallback');
  assert.deepEqual(seen, [['neg', -1]]);
  const throwingHandler = utils.createSafeOperation(
    () => {
      throw new Error('a');
    },
    0,
    () => {
      throw new Error('b');
    }
  );
  assert.equal(await throwingHandler(), 0);
  const r = await captureConsole(['error'], async () => {
    await utils.safeQerrors(new Error('E'), 'ctx');
    await utils.safeQerrors('S', 'c2', { k: 1 });
  });
  assert.deepEqual(r.calls, [
    { method: 'error', args: ['[ctx] E'] },
    { method: 'error', args: ['[c2] S', { k: 1 }] },
  ]);
});

test('moduleInitializer: 4 members; resolves null; logs through the logger or the console', async () => {
  assert.deepEqual(Object.keys(moduleInitializer), ['initializeModule', 'initializeModuleESM', 'shouldInitialize', 'logModuleInit']);
  assert.equal(moduleInitializer.initializeModule.length, 0);
  assert.equal(moduleInitializer.initializeModuleESM.length, 0);
  assert.equal(moduleInitializer.shouldInitialize.length, 0);
  assert.equal(moduleInitializer.logModuleInit.length, 1);
  assert.equal(moduleInitializer.initializeModule.constructor.name, 'AsyncFunction');
  assert.equal(moduleInitializer.initializeModuleESM.constructor.name, 'AsyncFunction');
  assert.equal(moduleInitializer.shouldInitialize(), true);

  const { log, calls } = recordingLogger();
  const restore = fakeSibling('logging/logger', log);
  try {
    assert.equal(await moduleInitializer.initializeModule({ module: 'm', version: '2.0.0', environment: 'prod' }), null);
    assert.equal(await moduleInitializer.initializeModuleESM(), null);
    assert.equal(await moduleInitializer.initializeModule(null), null);
    assert.equal(moduleInitializer.logModuleInit('svc', { extra: 1 }), undefined);
    await flush();
  } finally {
    restore();
  }
  assert.deepEqual(calls[0], ['logInfo', 'qerrors initialized for npm module', { module: 'm', version: '2.0.0', environment: 'prod' }]);
  assert.equal(calls[1][2].module, 'unnamed-module');
  assert.equal(calls[1][2].version, '1.0.0');
  assert.deepEqual(calls[3], [
    'logInfo',
    'Module initialized: svc',
    { module: 'svc', environment: process.env.NODE_ENV || 'development', extra: 1 },
  ]);
});
