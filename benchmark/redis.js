'use strict';

// Redis-backed rate limiting: qerrors' redisStore().check() against rate-limiter-flexible's
// RateLimiterRedis (on ioredis), on the same redis-server started here on a free port.
//
//   node --expose-gc benchmark/redis.js [--quick]
//
// Workloads (each run by both sides, alternating, 5 rounds after a warm-up):
//   sequential  one check in flight at a time: latency (p50, p99) and checks/s
//   c64         64 checks in flight: throughput (checks/s), p99 latency
// Keys: 10k IP-like strings, uniform; limit 100 per 60 s, so nothing is denied and both
// sides must answer "allowed" every time; a hot-key phase then checks that both deny
// after exactly `limit`. Per check we report the client CPU time (the Node process:
// main thread plus native threads), Redis commands (INFO commandstats), and Redis
// read events (INFO stats total_reads_processed: how many socket reads the server needed,
// i.e. network round trips once pipelining is counted).

const { performance } = require('node:perf_hooks');
const { startRedis } = require('../__test__/redis-server');
const { redisStore } = require('../lib/native/redis');
const Redis = require('ioredis');
const { RateLimiterRedis } = require('rate-limiter-flexible');
const { median } = require('./support');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 7;
const SEQ_N = quick ? 2000 : 5000;
const CONC_N = quick ? 8000 : 20000;
const CONCURRENCY = 64;
const LIMIT = 100;
const WINDOW_MS = 60000;

const keys = Array.from({ length: 10000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
// Flat strings, as if read from a header.
for (let i = 0; i < keys.length; i++) keys[i] = Buffer.from(keys[i]).toString();

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Runs `n` checks with `concurrency` in flight. `check(key)` resolves to a boolean.
 * Returns timing, latencies and the decisions in key order.
 */
async function drive(check, n, concurrency, keyOffset) {
  const lat = new Float64Array(n);
  const decisions = new Uint8Array(n);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  async function worker() {
    while (next < n) {
      const i = next++;
      const s = performance.now();
      decisions[i] = (await check(keys[(i + keyOffset) % keys.length])) ? 1 : 0;
      lat[i] = performance.now() - s;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sorted = Array.from(lat).sort((a, b) => a - b);
  return {
    perSec: (n / ms) * 1000,
    p50: quantile(sorted, 0.5) * 1000,
    p99: quantile(sorted, 0.99) * 1000,
    cpuUs: (cpu.user + cpu.system) / n,
    decisions,
  };
}

async function serverCounters(server) {
  const stats = await server.command('INFO', 'stats');
  const reads = Number(/total_reads_processed:(\d+)/.exec(stats)?.[1] ?? NaN);
  const cmd = await server.commandStats();
  return { reads, cmd };
}

async function measureRoundTrips(server, check, n, concurrency) {
  await server.command('CONFIG', 'RESETSTAT');
  const before = await serverCounters(server);
  await drive(check, n, concurrency, 0);
  const after = await serverCounters(server);
  // Commands a client sends; everything else in commandstats ran inside a script.
  const clientCmds = ['evalsha', 'eval', 'script|load', 'multi', 'exec'];
  let client = 0;
  for (const c of clientCmds) client += (after.cmd[c] ?? 0) - (before.cmd[c] ?? 0);
  const inner = Object.entries(after.cmd)
    .filter(([c]) => !['info', 'config|resetstat', 'config'].includes(c))
    .reduce((a, [, v]) => a + v, 0);
  // The INFO / CONFIG commands of this function are one read each: remove them.
  const reads = after.reads - before.reads - 2;
  return { clientCmds: client / n, allCmds: inner / n, reads: reads / n, detail: after.cmd };
}

async function main() {
  const server = await startRedis();
  const ours = redisStore({ url: server.url, prefix: 'q:', windowMs: WINDOW_MS, limit: LIMIT, timeoutMs: 2000 });
  const io = new Redis({ host: '127.0.0.1', port: server.port, enableOfflineQueue: true, lazyConnect: false });
  await new Promise((r) => io.once('ready', r));
  const rlf = new RateLimiterRedis({ storeClient: io, keyPrefix: 'rlf', points: LIMIT, duration: WINDOW_MS / 1000 });

  const sides = {
    qerrors: (key) => ours.check(key).then((r) => r.allowed),
    'rate-limiter-flexible': (key) =>
      rlf.consume(key).then(
        () => true,
        (res) => {
          if (res instanceof Error) throw res;
          return false;
        }
      ),
  };

  // Same decisions on the hot key: exactly LIMIT allowed, then denied.
  const hot = {};
  for (const [name, check] of Object.entries(sides)) {
    const got = [];
    for (let i = 0; i < LIMIT + 5; i++) got.push(await check('hot-key'));
    hot[name] = got.filter(Boolean).length;
    if (got.slice(0, LIMIT).includes(false) || got.slice(LIMIT).includes(true)) throw new Error(`${name}: wrong hot-key sequence`);
  }

  const reset = async () => {
    await server.command('FLUSHALL');
  };

  // Warm-up: one full pass each.
  for (const check of Object.values(sides)) await drive(check, keys.length, CONCURRENCY, 0);

  const results = {};
  for (const [label, n, conc] of [
    ['sequential', SEQ_N, 1],
    [`c${CONCURRENCY}`, CONC_N, CONCURRENCY],
  ]) {
    results[label] = { qerrors: [], 'rate-limiter-flexible': [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? Object.entries(sides).reverse() : Object.entries(sides);
      const decisions = {};
      for (const [name, check] of order) {
        await reset();
        if (global.gc) global.gc();
        const r = await drive(check, n, conc, round * 997);
        decisions[name] = r.decisions;
        results[label][name].push(r);
      }
      const a = decisions.qerrors;
      const b = decisions['rate-limiter-flexible'];
      for (let i = 0; i < n; i++) {
        if (a[i] !== b[i]) throw new Error(`${label} round ${round}: decisions differ at ${i}`);
      }
    }
  }

  const trips = {};
  for (const [name, check] of Object.entries(sides)) {
    await reset();
    trips[name] = {
      sequential: await measureRoundTrips(server, check, 2000, 1),
      [`c${CONCURRENCY}`]: await measureRoundTrips(server, check, 8000, CONCURRENCY),
    };
  }

  const fmt = (x, d = 1) => x.toFixed(d);
  const range = (xs) => `${fmt(Math.min(...xs), 0)}-${fmt(Math.max(...xs), 0)}`;
  console.log(`# redis rate limiting, ${new Date().toISOString()}, node ${process.version}, ${ROUNDS} rounds`);
  console.log(`hot key: allowed qerrors=${hot.qerrors}, rate-limiter-flexible=${hot['rate-limiter-flexible']} (limit ${LIMIT})`);
  console.log('decisions: equal in every round');
  console.log('| workload | side | checks/s median (min-max) | p50 µs | p99 µs | client CPU µs/check |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [label, bySide] of Object.entries(results)) {
    for (const [name, rs] of Object.entries(bySide)) {
      const ps = rs.map((r) => r.perSec);
      console.log(
        `| ${label} | ${name} | ${fmt(median(ps), 0)} (${range(ps)}) | ${fmt(median(rs.map((r) => r.p50)))} | ${fmt(
          median(rs.map((r) => r.p99))
        )} | ${fmt(median(rs.map((r) => r.cpuUs)), 2)} |`
      );
    }
    // Ratios are paired per round (both sides ran back to back), then the median is taken:
    // load from other processes drifts between rounds far more than within one.
    const q = bySide.qerrors;
    const f = bySide['rate-limiter-flexible'];
    const paired = (fn) => median(q.map((r, i) => fn(r) / fn(f[i])));
    console.log(
      `| ${label} | ratio qerrors / rlf (paired per round) | ${fmt(paired((r) => r.perSec), 2)}x | ${fmt(paired((r) => r.p50), 2)}x | ${fmt(
        paired((r) => r.p99),
        2
      )}x | ${fmt(paired((r) => r.cpuUs), 2)}x |`
    );
  }
  console.log('\n| side | workload | client commands / check | Redis commands / check (incl. inside scripts) | server socket reads / check |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, byW] of Object.entries(trips)) {
    for (const [w, t] of Object.entries(byW)) {
      console.log(`| ${name} | ${w} | ${fmt(t.clientCmds, 3)} | ${fmt(t.allCmds, 2)} | ${fmt(t.reads, 3)} |`);
    }
  }
  console.log('\ncommandstats (c64 phase):');
  for (const [name, byW] of Object.entries(trips)) console.log(`  ${name}: ${JSON.stringify(byW[`c${CONCURRENCY}`].detail)}`);

  await ours.close();
  io.disconnect();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
