'use strict';

// Helpers shared by the benchmarks: a seeded PRNG so every run replays the same
// workload, the median used to summarise rounds, and `--name value` options.

/**
 * A deterministic PRNG (mulberry32) returning floats in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The median of a list of numbers (the mean of the middle two for even lengths).
 * @param {number[]} xs
 */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The value after `--<name>` on the command line, or `def` when it is not given.
 * @param {string} name
 * @param {string | null} def
 */
function argOf(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

/**
 * `--<name>` as a number, or `def` when it is not given.
 * @param {string} name
 * @param {number} def
 */
function numberArg(name, def) {
  const v = argOf(name, null);
  return v === null ? def : Number(v);
}

module.exports = { rng, median, argOf, numberArg };
