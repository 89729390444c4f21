'use strict';

// Every live rateLimit() middleware's stats, for lib/ops/metrics.js.

const { registerSourceList } = require('../../ops/metrics');

// Held weakly: a dropped middleware and its store can still be collected.
/** @type {Map<string, WeakRef<{ stats: () => object }>>} */
const tracked = new Map();
const untrackOnCollect = new FinalizationRegistry((name) => {
  const ref = tracked.get(name);
  if (ref !== undefined && ref.deref() === undefined) tracked.delete(name);
});
let trackedSeq = 0;

/**
 * The stats of every live rateLimit() middleware, by name (`rateLimit.<n>`, or
 * `rateLimit.<identifier>` when `identifier` is a string).
 * @returns {Array<[string, object]>}
 */
function trackedLimiterStats() {
  const out = [];
  for (const [name, ref] of tracked) {
    const source = ref.deref();
    if (source === undefined) tracked.delete(name);
    else out.push([name, source.stats()]);
  }
  return out;
}


/**
 * Reports `middleware.stats()` under `rateLimit.<identifier>` (a string identifier) or
 * `rateLimit.<n>`, for as long as the middleware lives.
 * @param {{ stats: () => object }} middleware @param {unknown} identifier
 */
function track(middleware, identifier) {
  let name = `rateLimit.${typeof identifier === 'string' ? identifier : ++trackedSeq}`;
  // Two live middlewares with one identifier are reported apart.
  if (tracked.has(name) && tracked.get(name).deref() !== undefined) name = `${name}#${++trackedSeq}`;
  tracked.set(name, new WeakRef(middleware));
  untrackOnCollect.register(middleware, name);
}

registerSourceList(trackedLimiterStats);

module.exports = { trackedLimiterStats, track };
