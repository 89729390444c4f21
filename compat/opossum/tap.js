'use strict';

// Reads tape's TAP output into per-test results. tape prints `# <name>` before each
// test's assertions and `ok N` / `not ok N` for each assertion; a test passes when it
// printed at least one line and none of its assertions failed. The trailer comments
// (`# tests`, `# pass`, `# fail`, `# ok`) are not tests.

const TRAILER = /^# ((tests|pass|fail)\s+\d+|ok)\s*$/;

/**
 * @param {string} text TAP output of one test file
 * @returns {{ name: string, ok: boolean, failures: string[] }[]} in order of appearance
 */
function parseTap(text) {
  const tests = [];
  let current = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('# ') && !TRAILER.test(line)) {
      current = { name: line.slice(2).trim(), ok: true, failures: [] };
      tests.push(current);
    } else if (current !== null && line.startsWith('not ok ')) {
      current.ok = false;
      current.failures.push(line.replace(/^not ok \d+ /, ''));
    }
  }
  return tests;
}

module.exports = { parseTap };
