'use strict';

// The one way qerrors builds the errors it throws at its callers: a real Error, TypeError or
// RangeError (so `instanceof` checks keep working) carrying a stable `code` that starts with
// `ERR_QERRORS_`. Every code is listed, with its meaning, in docs/errors.md.

/**
 * @template {ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor} C
 * @param {C} Ctor the class to throw: Error, TypeError (wrong type) or RangeError (bad value)
 * @param {string} code `ERR_QERRORS_*`
 * @param {string} message what went wrong and how to fix it
 * @param {Record<string, unknown>} [props] extra own properties, e.g. `cause` or `option`
 * @returns {InstanceType<C> & { code: string }}
 */
function codedError(Ctor, code, message, props) {
  const err = props && 'cause' in props ? new Ctor(message, { cause: props.cause }) : new Ctor(message);
  err.code = code;
  if (props) {
    for (const key of Object.keys(props)) if (key !== 'cause') err[key] = props[key];
  }
  return err;
}

/**
 * A value as error messages show it ("got …"), without throwing: a Symbol or an object
 * without a usable toString (`Object.create(null)`) would make a template literal throw
 * a TypeError of its own, losing the coded error.
 * @param {unknown} value
 */
function shown(value) {
  if (typeof value === 'symbol') return value.toString();
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

module.exports = { codedError, shown };
