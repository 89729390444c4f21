'use strict';

// Runs a peer's own test suite against our implementation:
//   node compat/run.js <peer> [options understood by compat/<peer>/run.js]
// Each peer's runner lives in compat/<peer>/run.js and exports `main(argv)`.

const path = require('node:path');
const fs = require('node:fs');

const [peer, ...rest] = process.argv.slice(2);
const runner = peer && path.join(__dirname, peer, 'run.js');
if (!runner || !/^[a-z0-9-]+$/.test(peer) || !fs.existsSync(runner)) {
  const peers = fs
    .readdirSync(__dirname, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(__dirname, d.name, 'run.js')))
    .map((d) => d.name);
  console.error(`usage: node compat/run.js <peer> ... (peers: ${peers.join(', ')})`);
  process.exit(2);
}
Promise.resolve(require(runner).main(rest)).then(
  (code) => process.exit(code || 0),
  (err) => {
    console.error(err);
    process.exit(1);
  }
);
