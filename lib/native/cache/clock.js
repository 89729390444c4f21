'use strict';

// The clock TTLs follow. Time is read in JS and passed to the native side, so whatever
// drives `performance.now()` (fake timers in tests included) drives expiry too. It is
// read only once an entry may have a TTL. Reads that only check freshness (`cached`)
// reuse a reading for up to 1 ms, as lru-cache does (its `ttlResolution`): a
// `performance.now()` call costs about as much as a whole lru-cache get.

const { codedError } = require('../../policy/errors');

/**
 * @param {{ perf?: { now(): number }, fakeClock: boolean }} o
 * @returns {{ now: () => number, cached: () => number, advance: (ms: number) => number }}
 */
function makeClock(o) {
  if (o.fakeClock) {
    let t = 0;
    return {
      now: () => t,
      cached: () => t,
      advance(ms) {
        if (!(typeof ms === 'number' && ms >= 0 && Number.isFinite(ms))) {
          throw codedError(RangeError, 'ERR_QERRORS_CACHE_INVALID_TTL', 'advanceClock(ms) needs a finite ms >= 0');
        }
        t += ms;
        return t;
      },
    };
  }
  const perf = o.perf;
  // The global is looked up on every read: fake timers may replace it.
  const now = perf !== undefined ? () => perf.now() : () => performance.now();
  let last = 0;
  const forget = () => {
    last = 0;
  };
  const read = () => {
    last = now();
    setTimeout(forget, 1).unref?.();
    return last;
  };
  return {
    now,
    cached: () => last || read(),
    advance() {
      throw codedError(Error, 'ERR_QERRORS_CACHE_NO_FAKE_CLOCK', 'advanceClock needs a cache created with { fakeClock: true }');
    },
  };
}

module.exports = { makeClock };
