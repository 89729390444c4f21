'use strict';

// Tests of opossum v9.0.0's suite that do not apply to our CircuitBreaker, with the
// reason. Keyed by test file; `*` covers every test of the file.

module.exports = {
  'semaphore-test.js': {
    '*': "tests opossum's private semaphore helper (lib/semaphore.js: take/release/test with timeouts), not the CircuitBreaker API; our breaker's capacity is tested through test.js ('semaphore rate limiting', 'timeout with semaphore released')",
  },
};
