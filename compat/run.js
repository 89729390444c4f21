'use strict';

// Runs a peer library's own test suite against our implementation of its API:
//   node compat/run.js <peer> --suite <dir of the peer's checkout> [--write]
// Each peer has its runner in compat/<peer>/run.js (see docs/compatibility.md for the
// tags and how to obtain each suite). Nothing is fetched at run time.

const path = require('node:path');
const fs = require('node:fs');

function usage(message) {
  if (message) console.error(message);
  console.error('usage: node compat/run.js <peer> --suite <dir> [--write]');
  const peers = fs.readdirSync(__dirname).filter((d) => fs.existsSync(path.join(__dirname, d, 'run.js')));
  console.error(`peers: ${peers.join(', ')}`);
  process.exit(2);
}

async function main(argv) {
  const [peer, ...rest] = argv;
  if (!peer || !/^[a-z0-9-]+$/.test(peer)) usage();
  const runner = path.join(__dirname, peer, 'run.js');
  if (!fs.existsSync(runner)) usage(`no runner for "${peer}"`);
  const args = { suite: undefined, write: false };
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--suite') args.suite = rest[++i];
    else if (rest[i] === '--write') args.write = true;
    else usage(`unknown argument ${rest[i]}`);
  }
  if (!args.suite) usage('--suite is required');
  args.suite = path.resolve(args.suite);
  const code = await require(runner).run(args);
  process.exitCode = code;
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
