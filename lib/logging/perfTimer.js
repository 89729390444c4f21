'use strict';

// Performance timers (`logger.createPerformanceTimer`) and the duration format they
// share with utils.createTimer.

function formatMs(ms) {
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)}s`;
  return `${(ms / 60000).toFixed(2)}m`;
}

/**
 * The logger's `createPerformanceTimer`, logging through its `logInfo` (success) and
 * `logWarn` (failure).
 * @param {(message: string, context: object, requestId: string | null) => Promise<void>} logInfo
 * @param {(message: string, context: object, requestId: string | null) => Promise<void>} logWarn
 */
function performanceTimers(logInfo, logWarn) {
  /**
   * Starts a timer for `operation`: returns `logPerformance`, a
   * callable that also carries `elapsed`, `elapsedFormatted`, `logPerformance` and `end`.
   * @param {string} operation
   * @param {string|null} [requestId]
   */
  function createPerformanceTimer(operation, requestId = null) {
    const start = process.hrtime.bigint();
    const mem0 = process.memoryUsage();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
    const elapsedFormatted = () => formatMs(elapsed());
    async function logPerformance(success = true, additionalContext = {}) {
      const mem1 = process.memoryUsage();
      const context = {
        operation,
        duration_ms: Math.round(elapsed() * 100) / 100,
        success,
        ...additionalContext,
        memory_delta: {
          heapUsed: Math.round((mem1.heapUsed - mem0.heapUsed) / 1024),
          external: Math.round((mem1.external - mem0.external) / 1024),
        },
      };
      const line = `${operation} completed in ${context.duration_ms}ms (${success ? 'success' : 'failure'})`;
      await (success ? logInfo : logWarn)(line, context, requestId);
      return context;
    }
    logPerformance.elapsed = elapsed;
    logPerformance.elapsedFormatted = elapsedFormatted;
    logPerformance.logPerformance = logPerformance;
    logPerformance.end = () => logPerformance(true);
    return logPerformance;
  }
  return createPerformanceTimer;
}

module.exports = { formatMs, performanceTimers };
