'use strict';

// LruCache (native, values off the V8 heap) vs lru-cache 11 (with ttl) vs a JS Map LRU, and
// the floor: what a design with keys in a JS Map that makes one N-API call per operation
// pays at least (one Map lookup plus one empty raw N-API call taking the slot). LruCache's
// hits on memoised strings make no call (docs/lru-cache.md), so its get can go below it.
//
//   node --expose-gc benchmark/lru-cache.js            all workloads (~3 min)
//   node --expose-gc benchmark/lru-cache.js --quick    fewer rounds and children
//   node --expose-gc benchmark/lru-cache.js --memory   the memory and GC tables only
//
// Per-op times are CPU time (user + system), not wall time: the machine is shared and
// CPU time leaves out waiting for a core. Timing workloads run the peers side by side in
// this process, alternating rounds, a fresh cache per round; every round checks that all
// peers saw the same hit count (all are exact LRUs; TTLs are long enough not to fire). Memory and GC figures come from
// one child process per peer, so one peer's garbage cannot inflate another's RSS.

const { spawnSync } = require('node:child_process');
const { LRUCache } = require('lru-cache');
const { LruCache } = require('../lib/native/cache');
const native = require('../lib/native/loader');
const { median, rng } = require('./support');

if (typeof global.gc !== 'function') {
  console.error('run with: node --expose-gc benchmark/lru-cache.js');
  process.exit(1);
}

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 7;
/** Child processes per peer in the memory and GC tables. */
const REPS = QUICK ? 2 : 5;
const TTL = 300_000;

// ---------- data ----------

/** `n` distinct flat 16-hex keys (fingerprints). */
function makeKeys(n) {
  const keys = new Array(n);
  for (let i = 0; i < n; i++) {
    // Read back from a Buffer: a flat sequential string, like a header value.
    keys[i] = Buffer.from((0x1000000000000000n + BigInt(i) * 0x9e3779b97f4an).toString(16).slice(-16)).toString('latin1');
  }
  return keys;
}

/** A distinct flat ASCII string of `bytes` bytes for key `i`. */
function makeValue(i, bytes) {
  const buf = Buffer.alloc(bytes, 0x61 + (i % 26));
  buf.write(`{"advice":"entry ${i}"`, 0, 'latin1');
  return buf.toString('latin1');
}

/** Zipf(s) sample of `count` indices in [0, n). */
function zipfSequence(n, s, count, seed) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  const rnd = rng(seed);
  const out = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const r = rnd();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    out[j] = lo;
  }
  return out;
}

// ---------- peers ----------

/** The LRU a user would write with a Map: delete + re-insert on hit, evict the oldest. */
class MapLru {
  constructor(max) {
    this.max = max;
    this.map = new Map();
  }
  get(k) {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k, v) {
    if (this.map.has(k)) this.map.delete(k);
    else if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value);
    this.map.set(k, v);
    return this;
  }
  get size() {
    return this.map.size;
  }
}

/**
 * The floor: a Map from key to slot and one raw N-API call taking the slot that does
 * nothing (`probe`). Stores no values: its get answers the slot, so hit counts agree.
 */
class Floor {
  constructor(max) {
    this.max = max;
    this.map = new Map();
    this.h = native.createLruCache({ max });
  }
  get(k) {
    const s = this.map.get(k);
    this.h.probe(s);
    return s;
  }
  set(k) {
    const s = this.map.get(k);
    this.h.probe(s);
    if (s === undefined && this.map.size < this.max) this.map.set(k, this.map.size);
    return this;
  }
  get size() {
    return this.map.size;
  }
}

const PEERS = {
  native: (max) => new LruCache({ max, ttl: TTL }),
  'lru-cache': (max) => new LRUCache({ max, ttl: TTL }),
  'Map LRU': (max) => new MapLru(max),
};

// ---------- timing ----------

/**
 * CPU time (user + system) of this process since `c0`, in ns. The machine is shared:
 * CPU time leaves out the time the process waits for a core, which wall time does not.
 */
function cpuNs(c0) {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) * 1000;
}

function fmt(x) {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/**
 * Runs `work(cache)` for each peer in alternating rounds; `work` returns
 * `{ ops, check }`, `check` being compared across peers.
 */
/**
 * A private copy of `work` (compiled from its source) so each peer gets its own call
 * sites: one shared loop would see three cache classes and go megamorphic, which slows
 * every peer and is not how a service calls its one cache. `work` may use only its
 * parameters `(c, d)`.
 */
function ownCopy(work) {
  return new Function(`return (${work.toString()})`)();
}

/**
 * @param {string} title
 * @param {number} max
 * @param {(c: any, d: any) => { ops: number, check: object }} work
 * @param {object} d data for `work`
 * @param {string[]} [peers]
 * @param {(peer: string, max: number) => any} [make] cache factory
 */
function compare(title, max, work, d, peers = Object.keys(PEERS), make = (p, m) => PEERS[p](m)) {
  const times = Object.fromEntries(peers.map((p) => [p, []]));
  if (peers.includes('floor')) make = (p, m) => (p === 'floor' ? new Floor(m) : PEERS[p](m));
  const copies = Object.fromEntries(peers.map((p) => [p, ownCopy(work)]));
  let checks = null;
  for (let round = 0; round <= ROUNDS; round++) {
    const roundChecks = {};
    for (const p of peers) {
      const cache = make(p, max);
      const c0 = process.cpuUsage();
      const { ops, check } = copies[p](cache, d);
      const ns = cpuNs(c0) / ops;
      roundChecks[p] = check;
      if (round > 0) times[p].push(ns); // round 0 is the warm-up
    }
    // The floor stores nothing: it takes no part in the agreement check.
    const vals = Object.entries(roundChecks)
      .filter(([p]) => p !== 'floor')
      .map(([, c]) => JSON.stringify(c));
    if (new Set(vals).size !== 1) {
      throw new Error(`${title}: peers disagree: ${JSON.stringify(roundChecks)}`);
    }
    checks = roundChecks[peers[0]];
  }
  const base = median(times['lru-cache']);
  const floor = times.floor === undefined ? undefined : median(times.floor);
  console.log(`\n${title}   (check: ${JSON.stringify(checks)})`);
  console.log(`| peer | CPU ns/op median | min-max | vs lru-cache |${floor === undefined ? '' : ' above floor ns |'}`);
  console.log(`| --- | ---: | ---: | ---: |${floor === undefined ? '' : ' ---: |'}`);
  for (const p of peers) {
    const m = median(times[p]);
    const lo = Math.min(...times[p]);
    const hi = Math.max(...times[p]);
    const above = floor === undefined ? '' : ` ${fmt(m - floor)} |`;
    console.log(`| ${p} | ${fmt(m)} | ${fmt(lo)}-${fmt(hi)} | ${(m / base).toFixed(2)}x |${above}`);
  }
}

function timing() {
  console.log(`lru-cache ${require('../node_modules/lru-cache/package.json').version}, node ${process.version}, ${ROUNDS} rounds after a warm-up round`);

  // 1k capacity, 10k keys, Zipf, 1 KB values, cache-aside (get, set on miss).
  const keys = makeKeys(10_000);
  const vals1k = keys.map((_, i) => makeValue(i, 1024));
  const vals32 = keys.map((_, i) => makeValue(i, 32));
  // Zipf 1.2 gives the ~90% hit rate of the workload; 0.8 a colder cache.
  for (const [s, vals, label] of [
    [1.2, vals1k, '1 KB'],
    [1.2, vals32, '32 B'],
    [0.8, vals1k, '1 KB'],
  ]) {
    const seq = zipfSequence(10_000, s, 300_000, 7);
    compare(
      `cache-aside: 1k capacity, 10k keys, Zipf ${s}, ${label} values`,
      1000,
      (c, d) => {
        let hits = 0;
        for (let j = 0; j < d.seq.length; j++) {
          const i = d.seq[j];
          const k = d.keys[i];
          if (c.get(k) !== undefined) hits++;
          else c.set(k, d.vals[i]);
        }
        return { ops: d.seq.length, check: { hits, hitRate: +(hits / d.seq.length).toFixed(3), size: c.size } };
      },
      { seq, keys, vals }
    );
  }

  // Pure gets at 100% hits and pure evicting sets: the boundary with nothing else.
  const seqU = zipfSequence(1000, 0, 300_000, 11);
  compare(
    'get hit: 1k entries, uniform, 1 KB values',
    1000,
    (c, d) => {
      for (let i = 0; i < 1000; i++) c.set(d.keys[i], d.vals[i]);
      let hits = 0;
      for (let j = 0; j < d.seq.length; j++) if (c.get(d.keys[d.seq[j]]) !== undefined) hits++;
      return { ops: d.seq.length, check: { hits } };
    },
    { seq: seqU, keys, vals: vals1k },
    [...Object.keys(PEERS), 'floor']
  );
  compare(
    'set, 100% evicting: 1k capacity, 10k keys in turn, 1 KB values',
    1000,
    (c, d) => {
      const n = 200_000;
      for (let j = 0; j < n; j++) {
        const i = j % 10_000;
        c.set(d.keys[i], d.vals[i]);
      }
      return { ops: n, check: { size: c.size } };
    },
    { keys, vals: vals1k },
    [...Object.keys(PEERS), 'floor']
  );

  // The same in a cache of 10k entries: each value now lives 10k sets, longer than
  // LruCache's young strings (2048 sets, lib/native/cache/young.js), so every value is
  // copied off the heap once, as in any cache of more than ~1000 entries.
  const keys20k = makeKeys(20_000);
  const vals20k = keys20k.map((_, i) => makeValue(i, 1024));
  compare(
    'set, 100% evicting: 10k capacity, 20k keys in turn, 1 KB values',
    10_000,
    (c, d) => {
      const n = 200_000;
      for (let j = 0; j < n; j++) {
        const i = j % 20_000;
        c.set(d.keys[i], d.vals[i]);
      }
      return { ops: n, check: { size: c.size } };
    },
    { keys: keys20k, vals: vals20k }
  );

  // 10k inserts in the same millisecond into a 10-entry cache: never above max.
  compare(
    'burst: 10k inserts at once into max 10',
    10,
    (c, d) => {
      let over = 0;
      for (let i = 0; i < 10_000; i++) {
        c.set(d.keys[i], d.vals[i]);
        if (c.size > 10) over++;
      }
      return { ops: 10_000, check: { over, size: c.size } };
    },
    { keys, vals: vals32 }
  );

  // TTL churn: a 1 s TTL under a fake clock that moves 3 ms every 100 operations (9 s in
  // all), with and without updateAgeOnGet. The cache holds every key (max = key count),
  // so only expiry decides hits, and the two caches must agree exactly (both expire an
  // entry when its age is greater than its TTL). lru-cache reads the same fake time
  // through its `perf` option.
  for (const updateAgeOnGet of [false, true]) {
    const seq = zipfSequence(10_000, 1.2, 300_000, 13);
    compare(
      `TTL churn: 1 s TTL, fake clock +3 ms per 100 ops, Zipf 1.2 over 10k keys, 1 KB values, updateAgeOnGet ${updateAgeOnGet}`,
      10_000,
      (c, d) => {
        let hits = 0;
        for (let j = 0; j < d.seq.length; j++) {
          if (j % 100 === 0) c.tick();
          const i = d.seq[j];
          const k = d.keys[i];
          if (c.get(k) !== undefined) hits++;
          else c.set(k, d.vals[i]);
        }
        return { ops: d.seq.length, check: { hits, hitRate: +(hits / d.seq.length).toFixed(3) } };
      },
      { seq, keys, vals: vals1k },
      ['native', 'lru-cache'],
      (peer, max) => {
        if (peer === 'native') {
          const c = new LruCache({ max, ttl: 1000, updateAgeOnGet, fakeClock: true });
          c.advanceClock(3);
          c.tick = () => c.advanceClock(3);
          return c;
        }
        const clock = { t: 3 };
        const c = new LRUCache({ max, ttl: 1000, updateAgeOnGet, ttlResolution: 0, perf: { now: () => clock.t } });
        c.tick = () => {
          clock.t += 3;
        };
        return c;
      }
    );
  }
}

// ---------- memory (child process per peer) ----------

/**
 * Extra peers for memory only: `none` stores nothing (the baseline every delta is taken
 * from); `native index + JS values` is the other layout, keys in a native cache and the
 * values in a JS array at a slot (here the key's number stands in for the native slot).
 */
const MEMORY_PEERS = {
  none: () => ({ set() {}, get: () => undefined, size: 0, hits: 0 }),
  ...PEERS,
};

function memoryChild(peer, n, bytes) {
  global.gc();
  global.gc();
  const m0 = process.memoryUsage();
  const cache = MEMORY_PEERS[peer](n);
  {
    // Keys are dropped after populating (as a service's request strings would be), so
    // the heap and the GC see only what the cache itself keeps.
    const keys = makeKeys(n);
    for (let i = 0; i < n; i++) {
      cache.set(keys[i], makeValue(i, bytes));
    }
  }
  for (let i = 0; i < 4; i++) global.gc();
  const m1 = process.memoryUsage();
  const pauses = [];
  const gcCpu = [];
  for (let i = 0; i < 15; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    global.gc();
    pauses.push(Number(process.hrtime.bigint() - t0) / 1e6);
    gcCpu.push(cpuNs(c0) / 1e6);
  }
  // Uniform gets over the whole populated cache: median of 5 passes after a warm-up.
  const keys = makeKeys(n);
  const order = zipfSequence(n, 0, 200_000, 5);
  let hits = 0;
  const getTimes = [];
  for (let pass = 0; pass < 6; pass++) {
    hits = 0;
    const c0 = process.cpuUsage();
    for (let j = 0; j < order.length; j++) if (cache.get(keys[order[j]]) !== undefined) hits++;
    if (pass > 0) getTimes.push(cpuNs(c0) / order.length);
  }
  const getNs = median(getTimes);
  const out = {
    peer,
    hits,
    size: cache.size,
    heapMB: (m1.heapUsed - m0.heapUsed) / 2 ** 20,
    externalMB: (m1.external + m1.arrayBuffers - m0.external - m0.arrayBuffers) / 2 ** 20,
    rssMB: (m1.rss - m0.rss) / 2 ** 20,
    gcMs: Math.min(...pauses),
    gcCpuMs: median(gcCpu),
    getNs,
  };
  process.stdout.write(JSON.stringify(out));
}

/**
 * Memory and GC of each peer, each measured in `REPS` fresh children (peers alternating,
 * so a burst of load from the neighbours falls on all of them): the medians, and for the
 * GC pause and its CPU time the spread across children and of the paired ratios.
 */
function memory(n, bytes) {
  console.log(`\n${n} entries of ${bytes} B values, 16-hex keys: ${REPS} child processes per peer, alternating; memory = growth after populating and 4 GCs, minus the same for \`none\` (no cache); full GC = pause of a forced GC with only the cache alive, wall time, best of 15 in a child (the least disturbed by other load), and its CPU time, median of 15 (V8 marks on helper threads too); added by the cache = that pause less the pause of the same rep's process with no cache (the part of the pause the cache is the cause of); get = CPU ns per uniform get over all entries, median of 5 passes. Each figure is the median over the children (min-max); a ratio is the median of the children's paired ratios (min-max)`);
  console.log('| peer | V8 heap MB | external MB | RSS MB | full GC pause ms | full GC CPU ms | get CPU ns/op | heap vs lru-cache | GC pause vs lru-cache | GC pause added by the cache vs lru-cache | GC CPU vs lru-cache | get vs lru-cache |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  /** @type {Record<string, any[]>} */
  const runs = Object.fromEntries(Object.keys(MEMORY_PEERS).map((p) => [p, []]));
  for (let rep = 0; rep < REPS; rep++) {
    for (const peer of Object.keys(MEMORY_PEERS)) {
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--memory-child', peer, String(n), String(bytes)], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`memory child ${peer} failed: ${r.stderr}`);
      runs[peer].push(JSON.parse(r.stdout));
    }
  }
  const none = runs.none;
  delete runs.none;
  const hits = new Set(Object.values(runs).flatMap((rs) => rs.map((r) => `${r.hits}/${r.size}`)));
  if (hits.size !== 1) throw new Error(`memory: peers disagree on hits/size: ${[...hits]}`);
  for (const rs of Object.values(runs)) {
    rs.forEach((r, i) => {
      r.gcAddedMs = r.gcMs - none[i].gcMs;
      r.heapMB -= none[i].heapMB;
      r.externalMB -= none[i].externalMB;
      r.rssMB -= none[i].rssMB;
    });
  }
  const med = (rs, f) => median(rs.map(f));
  const spread = (xs, digits, unit = '') =>
    `${median(xs).toFixed(digits)}${unit} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
  const base = runs['lru-cache'];
  const ratio = (rs, f) => spread(rs.map((r, i) => f(r) / f(base[i])), 2, 'x');
  for (const [peer, rs] of Object.entries(runs)) {
    console.log(
      `| ${peer} | ${med(rs, (r) => r.heapMB).toFixed(1)} | ${med(rs, (r) => r.externalMB).toFixed(1)} | ${med(rs, (r) => r.rssMB).toFixed(1)} | ${spread(rs.map((r) => r.gcMs), 2)} | ${spread(rs.map((r) => r.gcCpuMs), 2)} | ${med(rs, (r) => r.getNs).toFixed(0)} | ${(med(rs, (r) => r.heapMB) / med(base, (r) => r.heapMB)).toFixed(3)}x | ${ratio(rs, (r) => r.gcMs)} | ${ratio(rs, (r) => r.gcAddedMs)} | ${ratio(rs, (r) => r.gcCpuMs)} | ${(med(rs, (r) => r.getNs) / med(base, (r) => r.getNs)).toFixed(2)}x |`
    );
  }
  console.log(`(no cache at all: full GC pause ${spread(none.map((r) => r.gcMs), 2)} ms, CPU ${spread(none.map((r) => r.gcCpuMs), 2)} ms)`);
}

/**
 * The JS side of LruCache is its key map (key -> slot, slot -> key): its V8 heap is the
 * heap of a native cache whose values are tiny, minus the same without a cache.
 * @param {number[]} sizes entry counts
 */
function keyMap(sizes) {
  console.log('\nJS key map of LruCache (16-hex keys, 1-byte values): V8 heap growth after populating and 4 GCs');
  console.log('| entries | key map MB | bytes per entry |');
  console.log('| ---: | ---: | ---: |');
  for (const n of sizes) {
    const run = (peer) => {
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--memory-child', peer, String(n), '1'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`memory child ${peer} failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    const mb = run('native').heapMB - run('none').heapMB;
    console.log(`| ${n} | ${mb.toFixed(1)} | ${((mb * 2 ** 20) / n).toFixed(0)} |`);
  }
}

if (process.argv[2] === '--memory-child') {
  memoryChild(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
} else {
  if (!process.argv.includes('--memory')) timing();
  memory(100_000, 1024);
  memory(100_000, 32);
  keyMap([100_000, 1_000_000]);
}
