'use strict';

// Entity guards (docs/api.md). `throwIf*`/`assert*` treat any falsy value as missing,
// `entityExists` only null and undefined, as in the original.
//
// The not-found errors keep the measured own enumerable keys, and additionally carry a
// non-enumerable `statusCode` 404 so the error handlers answer 404 instead of 500.

const { codedError } = require('../policy/errors');

function notFound(message, props) {
  const err = new Error(message);
  if (props) Object.assign(err, props);
  Object.defineProperty(err, 'statusCode', { value: 404, writable: true, configurable: true, enumerable: false });
  return err;
}

/** Returns `entity` when truthy; otherwise throws `Error('<entityName> not found')`. */
function throwIfNotFound(entity, entityName) {
  if (!entity) throw notFound(`${entityName} not found`);
  return entity;
}

/** `{ entity, found: true }` when `input.entity` is truthy, else `{ entity: null, found: false }`. */
function throwIfNotFoundObj(input) {
  const entity = input !== null && input !== undefined ? input.entity : undefined;
  return entity ? { entity, found: true } : { entity: null, found: false };
}

/**
 * Maps `[{ entity, entityName }]` to the entities, throwing at the first missing one.
 * @param {Array<{ entity: unknown, entityName: string }>} entities
 */
function throwIfNotFoundMany(entities) {
  if (!Array.isArray(entities)) {
    throw codedError(TypeError, 'ERR_QERRORS_INVALID_ARG', 'throwIfNotFoundMany expects an array of { entity, entityName }');
  }
  return entities.map((item) => throwIfNotFound(item && item.entity, item && item.entityName));
}

/** Returns `entity` when truthy; otherwise throws `Error(errorMessage)`. */
function throwIfNotFoundWithMessage(entity, errorMessage) {
  if (!entity) throw notFound(errorMessage);
  return entity;
}

/** `entity !== null && entity !== undefined`. */
function entityExists(entity) {
  return entity !== null && entity !== undefined;
}

/** Returns `entity` when truthy; otherwise throws an Error with `type` and `entityName`. */
function assertEntityExists(entity, entityName, errorType = 'NOT_FOUND') {
  if (!entity) throw notFound(`${entityName} not found`, { type: errorType, entityName });
  return entity;
}

module.exports = {
  throwIfNotFound,
  throwIfNotFoundObj,
  throwIfNotFoundMany,
  throwIfNotFoundWithMessage,
  entityExists,
  assertEntityExists,
};
