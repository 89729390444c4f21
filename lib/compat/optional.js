'use strict';

// Lazy access to sibling modules owned by other areas (logger, aiPipeline), so that the tools
// modules load and work on their own and no require cycle forms at load time.

const path = require('node:path');

/**
 * The exports of `lib/<name>.js`, or null when it does not exist or fails to load.
 * @param {string} name
 */
function optionalSibling(name) {
  const file = path.join(__dirname, '..', `${name}.js`);
  // Already loaded (the common case): skip require()'s path resolution.
  const cached = require.cache[file];
  if (cached && cached.loaded) return cached.exports;
  try {
    return require(file);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

/**
 * The exports of `lib/<name>.js` if something already loaded it, else null (never loads).
 * @param {string} name
 */
function loadedSibling(name) {
  const mod = require.cache[path.join(__dirname, '..', `${name}.js`)];
  return mod && mod.loaded ? mod.exports : null;
}

module.exports = { optionalSibling, loadedSibling };
