'use strict';

// Reading a breaker's constructor arguments: which of the two forms was used, the
// identity of an opossum-form breaker, and what its `state` option restores.

const { randomUUID } = require('node:crypto');
const { normalize, normalizeOpossum } = require('./options');

/**
 * The normalized configuration: the qerrors form `(operation, serviceName, options)` when
 * a service name is a string or a third argument is given, else opossum's `(action, options)`.
 * @param {unknown} operation
 * @param {unknown} serviceName the service name, or opossum's options
 * @param {unknown} options
 * @param {number} argc how many arguments the constructor got
 */
function configure(operation, serviceName, options, argc) {
  const qerrorsForm = typeof serviceName === 'string' || argc > 2;
  return qerrorsForm ? normalize(operation, options) : normalizeOpossum(operation, serviceName);
}

/**
 * An opossum-form breaker's name, group, capacity and action.
 * @param {Record<string, any>} o normalized opossum options
 * @param {unknown} operation the action, or a value every call resolves to (opossum)
 */
function opossumIdentity(o, operation) {
  const name = String(o.name || (typeof operation === 'function' && operation.name) || randomUUID());
  return {
    name,
    group: String(o.group || name),
    capacity: o.capacity,
    /** cache, coalescing or a finite capacity: calls leave the plain fast path */
    special: Boolean(o.cache || o.coalesce) || o.capacity !== Number.MAX_SAFE_INTEGER,
    operation: typeof operation === 'function' ? operation : () => Promise.resolve(operation),
  };
}

/**
 * What opossum's `state` option restores: whether the breaker is enabled and the state
 * to enter ('shutdown', 'halfOpen', 'open', or null to stay closed); null without a state.
 * An open state whose reset timeout has passed since `lastTimerAt` comes back half-open.
 * @param {unknown} st
 * @param {number} resetTimeout ms
 * @returns {{ enabled: boolean, enter: 'shutdown' | 'halfOpen' | 'open' | null } | null}
 */
function restoredState(st, resetTimeout) {
  if (!st || typeof st !== 'object') return null;
  const s = /** @type {Record<string, any>} */ (st);
  const enabled = s.enabled !== false;
  const closed = s.closed !== false;
  if (s.shutdown) return { enabled, enter: 'shutdown' };
  if (closed) return { enabled, enter: null };
  if (s.halfOpen) return { enabled, enter: 'halfOpen' };
  const due = s.lastTimerAt !== undefined && Date.now() - Number(s.lastTimerAt) > resetTimeout;
  return { enabled, enter: due ? 'halfOpen' : 'open' };
}

module.exports = { configure, opossumIdentity, restoredState };
