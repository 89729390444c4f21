#!/usr/bin/env node
'use strict';

// Runs a peer library's own test suite against qerrors: `node compat/run.js <peer> [options]`.
// Each peer's runner lives in compat/<peer>/run.js and documents its options; see
// docs/compatibility.md for the results and how to get each suite.

const fs = require('node:fs');
const path = require('node:path');

const peers = fs
  .readdirSync(__dirname, { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(__dirname, d.name, 'run.js')))
  .map((d) => d.name);
const [peer, ...args] = process.argv.slice(2);
if (!peers.includes(peer)) {
  console.error(`usage: node compat/run.js <${peers.join('|')}> [options]`);
  process.exit(2);
}
Promise.resolve(require(`./${peer}/run.js`).main(args)).then(
  (code) => process.exit(code ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  }
);
