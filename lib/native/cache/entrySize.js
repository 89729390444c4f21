'use strict';

// The size of an entry, as lru-cache decides it: a positive `size` option, else
// `sizeCalculation(value, key)` (the set's, else the cache's); a `TypeError` when neither
// gives a positive integer. Only caches with `maxSize` or `maxEntrySize` size entries.

const { codedError } = require('../../policy/errors');

const E_SIZE = 'ERR_QERRORS_CACHE_INVALID_SIZE';

/**
 * @param {{ sizeCalculation?: Function }} o the cache's options
 * @param {boolean} sized whether the cache has `maxSize` or `maxEntrySize`
 * @param {unknown} key
 * @param {unknown} value
 * @param {any} options the set's options
 * @returns {number} 0 for a cache that does not size entries
 */
function entrySize(o, sized, key, value, options) {
  const calc = options?.sizeCalculation ?? o.sizeCalculation;
  if (!sized) {
    if (options?.size || options?.sizeCalculation) {
      throw codedError(TypeError, E_SIZE, 'an entry size needs a cache with maxSize or maxEntrySize');
    }
    return 0;
  }
  let size = options?.size || 0;
  if (!(Number.isSafeInteger(size) && size > 0)) {
    if (calc === undefined) {
      throw codedError(TypeError, E_SIZE, 'with maxSize or maxEntrySize, set needs a positive size or a sizeCalculation');
    }
    if (typeof calc !== 'function') throw codedError(TypeError, E_SIZE, 'sizeCalculation must be a function');
    size = calc(value, key);
    if (!(Number.isSafeInteger(size) && size > 0)) {
      throw codedError(TypeError, E_SIZE, `sizeCalculation must return a positive integer, got ${String(size)}`);
    }
  }
  return size;
}

module.exports = { entrySize };
