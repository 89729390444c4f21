'use strict';

// A full garbage collection for tests that check what is freed. `node --expose-gc` (as
// `npm test` runs) provides `global.gc`; a test file run on its own enables the same
// function at run time, so these tests never depend on how they were started.

const v8 = require('node:v8');
const vm = require('node:vm');

function fullGc() {
  if (typeof globalThis.gc !== 'function') {
    v8.setFlagsFromString('--expose-gc');
    globalThis.gc = vm.runInNewContext('gc');
  }
  return globalThis.gc();
}

module.exports = { fullGc };
