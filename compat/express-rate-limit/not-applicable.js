'use strict';

// NOT_APPLICABLE: tests of express-rate-limit that do not measure what a service relies on
// when it swaps the library for qerrors: they import the peer's private modules or read its
// private fields. DIFFERENCES: applicable tests that fail on ours because we chose a behaviour
// differently on purpose (docs/rate-limiter.md); they count as applicable and failing.
// Each entry: an id prefix ("<file> › <full test name>") or a RegExp, and the reason shown
// in docs/compatibility.md.

const PRIVATE_VALIDATIONS =
  "imports express-rate-limit's private validations module (source/validations.ts) and calls it directly, not through rateLimit(); our middleware's own checks are tested in __test__/rate-limiter-express.test.js";
const PRIVATE_LOGGER = "imports express-rate-limit's private ConsoleLogger module (source/console-logger.ts)";
const PRIVATE_TYPES = "reads the peer's built type declarations (dist/); skipped on the peer too";
const PRIVATE_FIELDS = "reads MemoryStore's private fields (interval, current, previous) or replaces its timer functions";
const OUR_CODES =
  "expects the logged error's code to be express-rate-limit's ERR_ERL_IPV6_SUBNET; ours logs the same error, through the same logger, at the same moment, with our code ERR_QERRORS_INVALID_IPV6_SUBNET (every code this package reports is ERR_QERRORS_*)";

const NOT_APPLICABLE = [
  ['validation-test.ts › ', PRIVATE_VALIDATIONS],
  ['logger-test.ts › ', PRIVATE_LOGGER],
  ['types-test.ts › ', PRIVATE_TYPES],
  ['memory-store-test.ts › memory store test clears the timer when `shutdown` is called', PRIVATE_FIELDS],
  ['memory-store-test.ts › memory store test can run in electron', PRIVATE_FIELDS],
  ['memory-store-test.ts › memory store test should automatically clear previously set intervals', PRIVATE_FIELDS],
  ['memory-store-test.ts › memory store test should move clients from previous to current', PRIVATE_FIELDS],
];

const DIFFERENCES = [
  ['middleware-test.ts › middleware test with the logger set should use the logger instead of the console on validation errors', OUR_CODES],
];

module.exports = { NOT_APPLICABLE, DIFFERENCES };
