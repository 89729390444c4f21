'use strict';

// The ids of a handled error's record: a random v4 UUID and the two strings qerrors()
// derives from it (`id`, its first 12 hex digits; `uniqueErrorName`, `ERROR:<name>_<uuid>`).
// This package's randomUUID (lib/handler/randomId.js: the addon's random bytes, formatted in
// JavaScript) against node:crypto's randomUUID, in one process, rounds alternating. Both
// must give well-formed v4 UUIDs (checked first). Reported: CPU ns per id, median of rounds.
//
//   node benchmark/record-ids.js [--ids 1000000] [--rounds 7]

const crypto = require('node:crypto');
const { randomUUID } = require('../lib/handler/randomId');
const { median, numberArg } = require('./support');

const IDS = numberArg('ids', 1_000_000);
const ROUNDS = numberArg('rounds', 7);

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const peers = {
  'randomUUID of this package': randomUUID,
  "node:crypto's randomUUID": () => crypto.randomUUID(),
};

for (const [name, make] of Object.entries(peers)) {
  for (let i = 0; i < 10000; i++) {
    const u = make();
    if (!V4.test(u)) throw new Error(`${name} made ${u}, not a v4 UUID`);
  }
}

/** Makes `n` ids and what qerrors() derives from each; returns CPU ns per id. */
function round(make, n) {
  let sink = 0;
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const uuid = make();
    const id = uuid.slice(0, 8) + uuid.slice(9, 13);
    const unique = `ERROR:Error_${uuid}`;
    sink += id.length + unique.length;
  }
  const used = process.cpuUsage(t);
  if (sink !== n * 60) throw new Error('unexpected id lengths');
  return ((used.user + used.system) * 1000) / n;
}

const times = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
for (const make of Object.values(peers)) round(make, IDS / 10); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of Object.entries(peers)) times[name].push(round(make, IDS));
}

console.log(`Record ids: ${IDS} per round, ${ROUNDS} rounds alternating, node ${process.version}`);
console.log('| peer | CPU ns per id, median (min-max) | vs node:crypto |');
console.log('| --- | --- | --- |');
const base = median(times["node:crypto's randomUUID"]);
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(`| ${name} | ${m.toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}) | ${(m / base).toFixed(2)}x |`);
}
