'use strict';

// Test helper: a real redis-server on a free 127.0.0.1 port, plus a one-shot RESP
// client for admin commands (no client library, nothing left connected).

const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');

/** Whether the redis-server binary is installed. */
function redisAvailable() {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * The `skip` option for a test that needs redis-server: a reason to skip on a developer's
 * machine without it, but `false` when `CI` is set, so that the test runs and fails at
 * starting the server: a skipped test must not count as passed in CI.
 */
function redisSkip() {
  if (redisAvailable() || process.env.CI) return false;
  return 'redis-server is not installed (apt-get install redis-server); Redis tests skipped';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Encodes a command as a RESP array of bulk strings. */
function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/**
 * Parses one RESP reply from `buf` at `pos`. Returns [value, nextPos] or null if incomplete.
 * @param {Buffer} buf
 * @param {number} pos
 */
function parse(buf, pos) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return null;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`unexpected RESP type ${type}`);
  }
}

/**
 * Sends one command on a fresh connection and resolves with its reply.
 * @param {number} port
 * @param {...(string|number)} args
 */
function command(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.setTimeout(2000, () => sock.destroy(new Error(`redis ${args[0]} timed out`)));
    sock.on('error', reject);
    sock.on('connect', () => sock.write(encode(args)));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parse(buf, 0);
      if (!r) return;
      sock.end();
      if (r[0] instanceof Error) reject(r[0]);
      else resolve(r[0]);
    });
  });
}

async function waitForPing(port, deadlineMs = 5000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await command(port, 'PING')) === 'PONG') return;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts redis-server on a free port. `kill()` stops it hard (SIGKILL), `restart()`
 * starts it again on the same port, `stop()` ends it for good.
 */
async function startRedis() {
  const port = await freePort();
  let child = null;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitForPing(port);
  };
  const kill = () =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => command(port, ...args),
    kill,
    restart: launch,
    stop: kill,
    /** Calls of each command since the last `CONFIG RESETSTAT`, from INFO commandstats. */
    async commandStats() {
      const text = await command(port, 'INFO', 'commandstats');
      const out = {};
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
      return out;
    },
  };
}

/**
 * Starts a 3-master Redis Cluster on free ports (redis-cli --cluster create) and waits until
 * every node reports `cluster_state:ok`. `stop()` ends all nodes and removes their files.
 */
async function startCluster() {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-cluster-'));
  const ports = [];
  for (let i = 0; i < 3; i++) ports.push(await freePort());
  const children = ports.map((port) =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' }
    )
  );
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          })
      )
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitForPing(port);
    const r = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 20000,
    });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
    const until = Date.now() + 10000;
    for (const port of ports) {
      while (!/cluster_state:ok/.test(await command(port, 'CLUSTER', 'INFO'))) {
        if (Date.now() > until) throw new Error('the cluster did not become ready');
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, url: `redis://127.0.0.1:${ports[0]}`, command: (port, ...args) => command(port, ...args), stop };
}

/** Whether redis-cli (for creating a cluster) is installed too. */
/** As redisSkip(), for a test that also needs redis-cli. */
function redisCliSkip() {
  const skip = redisSkip();
  if (skip) return skip;
  if (spawnSync('redis-cli', ['--version'], { encoding: 'utf8' }).status === 0 || process.env.CI) return false;
  return 'redis-cli is not installed';
}

module.exports = { startRedis, startCluster, redisSkip, redisCliSkip, freePort };
