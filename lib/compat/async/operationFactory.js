'use strict';

// AsyncOperationFactory (a bounded registry of named executors, batch runners) and the Express
// middleware that hands routes `req.asyncExecute`.

const { typeError, rangeError } = require('./common');
const { StandardAsyncExecutor } = require('./executor');

// The executor registry is process-wide; it keeps at most this many names, dropping the oldest.
const MAX_EXECUTORS = 1000;
const BATCH_MODES = ['parallel', 'sequential', 'limited'];

function checkOperations(ops, fn) {
  if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'function')) {
    throw typeError(`${fn}: operations must be an array of functions`);
  }
  return ops;
}

function checkLimit(limit) {
  if (!Number.isInteger(limit) || limit < 1) throw rangeError('executeLimited: limit must be an integer >= 1');
  return limit;
}

class AsyncOperationFactory {
  static executors = new Map();

  /**
   * The registered executor for `name`, created with `config` on first use (`config` is ignored
   * afterwards).
   */
  static getExecutor(name, config = {}) {
    const known = AsyncOperationFactory.executors.get(name);
    if (known) return known;
    const executor = new StandardAsyncExecutor(name, config === null || config === undefined ? {} : config);
    const registry = AsyncOperationFactory.executors;
    if (registry.size >= MAX_EXECUTORS) registry.delete(registry.keys().next().value);
    registry.set(name, executor);
    return executor;
  }

  /** `async (runtimeOptions = {}) => executor.execute(operation, { ...operationOptions, ...runtimeOptions })`. */
  static createOperation(operation, options = {}) {
    if (typeof operation !== 'function') throw typeError('createOperation: operation must be a function');
    const { name = 'unnamed_operation', config = {}, ...operationOptions } = options !== null && typeof options === 'object' ? options : {};
    const executor = AsyncOperationFactory.getExecutor(name, config);
    return async (runtimeOptions = {}) => executor.execute(operation, { ...operationOptions, ...runtimeOptions });
  }

  /**
   * An async function running `operations` ('parallel', 'sequential' or 'limited' with `limit`)
   * through the executor `name`; the batch result is the envelope's `data`.
   */
  static createBatchOperation(operations, options = {}) {
    checkOperations(operations, 'createBatchOperation');
    const {
      name = 'batch_operation',
      concurrency = 'parallel',
      failFast = true,
      limit = 3,
      ...rest
    } = options !== null && typeof options === 'object' ? options : {};
    if (!BATCH_MODES.includes(concurrency)) {
      throw rangeError(`createBatchOperation: concurrency must be one of ${BATCH_MODES.join(', ')}`);
    }
    if (concurrency === 'limited') checkLimit(limit);
    const ops = operations.slice();
    const runBatch = () => {
      if (concurrency === 'sequential') return AsyncOperationFactory.executeSequential(ops);
      if (concurrency === 'limited') return AsyncOperationFactory.executeLimited(ops, limit, failFast);
      return AsyncOperationFactory.executeParallel(ops, failFast);
    };
    const executor = AsyncOperationFactory.getExecutor(name);
    return async (runtimeOptions = {}) => executor.execute(runBatch, { ...rest, ...runtimeOptions });
  }

  /** `Promise.all` with `failFast`, else `Promise.allSettled`. */
  static async executeParallel(ops, failFast = true) {
    checkOperations(ops, 'executeParallel');
    const started = ops.map((op) => {
      try {
        return Promise.resolve(op());
      } catch (err) {
        return Promise.reject(err);
      }
    });
    return failFast ? Promise.all(started) : Promise.allSettled(started);
  }

  /** Runs each operation after the previous one settles; the first failure rejects. */
  static async executeSequential(ops) {
    checkOperations(ops, 'executeSequential');
    const results = [];
    for (const op of ops) results.push(await op());
    return results;
  }

  /**
   * Runs at most `limit` operations at a time, results in input order. With `failFast` the first
   * failure rejects and nothing new starts; otherwise a failed slot holds the rejection reason.
   */
  static async executeLimited(ops, limit = 3, failFast = true) {
    checkOperations(ops, 'executeLimited');
    checkLimit(limit);
    const results = new Array(ops.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < ops.length && !failed) {
        const i = next++;
        try {
          results[i] = await ops[i]();
        } catch (err) {
          if (failFast) {
            failed = true;
            throw err;
          }
          results[i] = err;
        }
      }
    };
    const workers = [];
    for (let w = 0; w < Math.min(limit, ops.length); w++) workers.push(worker());
    await Promise.all(workers);
    return results;
  }

  static getAllMetrics() {
    const out = {};
    for (const [name, executor] of AsyncOperationFactory.executors) out[name] = executor.getMetrics();
    return out;
  }

  static resetAllMetrics() {
    for (const executor of AsyncOperationFactory.executors.values()) executor.resetMetrics();
  }
}

/**
 * Express middleware adding `req.asyncExecute(operation, operationOptions)`, which runs through
 * the executor `options.operationName` (default 'express_route') with the request id and
 * `{ method, url, userAgent }` as context.
 */
function asyncHandlerMiddleware(options = {}) {
  const o = options !== null && typeof options === 'object' ? options : {};
  return function asyncHandler(req, res, next) {
    req.asyncExecute = (operation, operationOptions) => {
      const headers = req.headers || {};
      return AsyncOperationFactory.getExecutor(o.operationName || 'express_route', o.config).execute(operation, {
        requestId: req.id || headers['x-request-id'],
        context: { method: req.method, url: req.originalUrl || req.url, userAgent: headers['user-agent'] },
        ...operationOptions,
      });
    };
    next();
  };
}

module.exports = { AsyncOperationFactory, asyncHandlerMiddleware };
