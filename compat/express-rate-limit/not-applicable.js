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
const SETUP_ERRORS =
  'asserts that an invalid option is logged and ignored; rateLimit() throws a RangeError with a code at setup instead (ERR_QERRORS_HEADERS_DRAFT, ERR_QERRORS_INVALID_IPV6_SUBNET)';

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
  ['headers-test.ts › headers test should not send headers for an incorrect draft number', SETUP_ERRORS],
  ['options-test.ts › options test should not allow an invalid standardHeaders option', SETUP_ERRORS],
  ['middleware-test.ts › middleware test with the logger set should use the logger instead of the console on validation errors', SETUP_ERRORS],
];

module.exports = { NOT_APPLICABLE, DIFFERENCES };
