'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PLATFORMS, packageName, binaryName, platformKey, _elfInterpreter: elfInterpreter, _reportSaysMusl: reportSaysMusl } = require('../lib/native/platforms');
const { manifest } = require('../scripts/build-platforms');

const root = path.resolve(__dirname, '..');
const pkg = require('../package.json');

/**
 * Runs `code` in a fresh node, with process.platform/arch replaced first when given,
 * and returns what it printed as JSON.
 */
function probe(code, { platform, arch, env, cwd = root, esm = false } = {}) {
  const fake = [];
  if (platform) fake.push(`Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });`);
  if (arch) fake.push(`Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} });`);
  const args = fake.length > 0 ? ['--import', `data:text/javascript,${encodeURIComponent(fake.join(''))}`] : [];
  if (esm) args.push('--input-type=module');
  const r = spawnSync(process.execPath, [...args, '-e', code], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, QERRORS_NATIVE_LIBRARY_PATH: '', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const CATCH_LOADER = `
try { require(${JSON.stringify(path.join(root, 'lib/native/loader'))}); console.log('null') }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, stack: e.stack, tried: e.tried })) }`;

test('the addon loads and reports the package version', () => {
  const native = require('../native');
  assert.equal(native.nativeVersion(), pkg.version);
});

/** A minimal ELF executable header with one PT_INTERP program header naming `interp`. */
function elfWithInterpreter(interp, { wide = true, le = true } = {}) {
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const text = Buffer.from(`${interp}\0`, 'latin1');
  const buf = Buffer.alloc(ehsize + phentsize + text.length);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = wide ? 2 : 1;
  buf[5] = le ? 1 : 2;
  const u16 = (v, o) => (le ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o));
  const u32 = (v, o) => (le ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const addr = (v, o) => (wide ? (le ? buf.writeBigUInt64LE(BigInt(v), o) : buf.writeBigUInt64BE(BigInt(v), o)) : u32(v, o));
  addr(ehsize, wide ? 32 : 28); // e_phoff
  u16(phentsize, wide ? 54 : 42);
  u16(1, wide ? 56 : 44); // e_phnum
  u32(3, ehsize); // PT_INTERP
  addr(ehsize + phentsize, ehsize + (wide ? 8 : 4)); // p_offset
  addr(text.length, ehsize + (wide ? 32 : 16)); // p_filesz
  text.copy(buf, ehsize + phentsize);
  return buf;
}

test('the libc is read from the ELF interpreter of the executable, in agreement with the diagnostic report', (t) => {
  if (process.platform !== 'linux') return t.skip('ELF executables are a Linux matter');
  const interp = elfInterpreter(process.execPath);
  assert.equal(typeof interp, 'string');
  assert.equal(interp.includes('ld-musl-'), reportSaysMusl(), interp);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-elf-'));
  try {
    const cases = [
      ['/lib/ld-musl-x86_64.so.1', { wide: true, le: true }],
      ['/lib/ld-linux-aarch64.so.1', { wide: true, le: true }],
      ['/lib/ld-linux.so.2', { wide: false, le: true }],
      ['/lib/ld-musl-powerpc.so.1', { wide: false, le: false }],
    ];
    for (const [name, shape] of cases) {
      const file = path.join(dir, 'exe');
      fs.writeFileSync(file, elfWithInterpreter(name, shape));
      assert.equal(elfInterpreter(file), name);
    }
    // Not an ELF file, a truncated one, a missing one: no answer (the report decides).
    fs.writeFileSync(path.join(dir, 'text'), '#!/bin/sh\necho hi\n');
    assert.equal(elfInterpreter(path.join(dir, 'text')), undefined);
    fs.writeFileSync(path.join(dir, 'short'), elfWithInterpreter('/lib/ld-musl-x86_64.so.1').subarray(0, 80));
    assert.equal(elfInterpreter(path.join(dir, 'short')), undefined);
    assert.equal(elfInterpreter(path.join(dir, 'missing')), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('platform keys follow the napi-rs naming', () => {
  assert.equal(platformKey('linux', 'x64', false), 'linux-x64-gnu');
  assert.equal(platformKey('linux', 'arm64', true), 'linux-arm64-musl');
  assert.equal(platformKey('darwin', 'arm64'), 'darwin-arm64');
  assert.equal(platformKey('win32', 'x64'), 'win32-x64-msvc');
  assert.equal(platformKey('freebsd', 'x64'), 'freebsd-x64');
  // This machine's key is one of the published ones (CI builds on linux x64 glibc).
  assert.ok(PLATFORMS.some((p) => p.key === platformKey()), platformKey());
});

test('a missing QERRORS_NATIVE_LIBRARY_PATH file gives one clear ERR_QERRORS_NATIVE_LOAD_FAILED error', () => {
  const missing = path.join(root, 'no-such-dir', 'qerrors.node');
  const e = probe(CATCH_LOADER, { env: { QERRORS_NATIVE_LIBRARY_PATH: missing } });
  assert.equal(e.code, 'ERR_QERRORS_NATIVE_LOAD_FAILED');
  assert.deepEqual(e.tried, [missing]);
  assert.match(e.message, /cannot load its native addon/);
  assert.match(e.message, /QERRORS_NATIVE_LIBRARY_PATH/);
  assert.ok(e.message.includes(missing), 'names the path it tried');
  // One message, no chain of loader stack frames.
  assert.doesNotMatch(e.stack, /\n\s+at /);
});

test('a platform without a prebuilt package names the supported ones and how to build', () => {
  const e = probe(CATCH_LOADER, { platform: 'freebsd', arch: 'x64' });
  assert.equal(e.code, 'ERR_QERRORS_NATIVE_LOAD_FAILED');
  assert.match(e.message, /no prebuilt addon for freebsd-x64/);
  for (const p of PLATFORMS) assert.ok(e.message.includes(p.key), `names ${p.key}`);
  assert.match(e.message, /node scripts\/install\.js --force/);
  assert.doesNotMatch(e.stack, /\n\s+at /);
});

test('a supported platform whose package was not installed says so', () => {
  // linux-arm64-gnu: supported, but neither its package nor a local build is here.
  const e = probe(CATCH_LOADER, { platform: 'linux', arch: 'arm64' });
  assert.equal(e.code, 'ERR_QERRORS_NATIVE_LOAD_FAILED');
  assert.match(e.message, /qerrors-linux-arm64-gnu is not installed/);
  assert.match(e.message, /optional/);
  assert.deepEqual(e.tried, []);
});

test('an installed package finds its addon in the qerrors-<platform> package', (t) => {
  const key = platformKey();
  const local = path.join(root, binaryName(key));
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'qerrors-loader-'));
  t.after(() => fs.rmSync(project, { recursive: true, force: true }));
  // The main package as npm lays it out: its JS, without any local build ...
  const main = path.join(project, 'node_modules', 'qerrors');
  fs.mkdirSync(main, { recursive: true });
  for (const f of ['package.json', 'index.js', 'index.mjs', 'native.js', 'native.mjs']) {
    fs.copyFileSync(path.join(root, f), path.join(main, f));
  }
  fs.cpSync(path.join(root, 'lib'), path.join(main, 'lib'), { recursive: true });
  // ... and the platform package beside it, as its optionalDependencies install it.
  const platformDir = path.join(project, 'node_modules', packageName(key));
  fs.mkdirSync(platformDir, { recursive: true });
  const p = PLATFORMS.find((x) => x.key === key);
  fs.writeFileSync(path.join(platformDir, 'package.json'), JSON.stringify(manifest(p, pkg.version)));
  fs.copyFileSync(local, path.join(platformDir, binaryName(key)));
  // node_modules of the checkout must not be reachable from there.
  const r = probe(
    `const n = require('qerrors/native');
     const q = require('qerrors');
     console.log(JSON.stringify({ version: n.nativeVersion(), keys: Object.keys(q).length,
       from: Object.keys(require.cache).find((f) => f.endsWith('.node')) }))`,
    { cwd: project, env: { NODE_PATH: '' } }
  );
  assert.equal(r.version, pkg.version);
  assert.equal(r.keys, 111);
  assert.equal(r.from, fs.realpathSync(path.join(platformDir, binaryName(key))));
});

test('without the addon, ESM imports work where require works; native exports throw on use', () => {
  const env = { QERRORS_NATIVE_LIBRARY_PATH: path.join(root, 'no-such.node') };
  const cjs = probe(
    `const q = require('./index.js');
     let code; try { q.CircuitBreaker } catch (e) { code = e.code }
     console.log(JSON.stringify({ keys: Object.keys(q).length, redacted: q.sanitizeMessage('password=hunter2'), code }))`,
    { env }
  );
  const esm = probe(
    `import qerrors, { sanitizeMessage, CircuitBreaker, CircuitState, createCircuitBreaker, circuitBreaker } from './index.mjs';
     const codes = [];
     for (const use of [() => new CircuitBreaker(), () => CircuitState.OPEN, () => createCircuitBreaker({}), () => circuitBreaker.CircuitBreakerWrapper]) {
       try { use(); codes.push('none') } catch (e) { codes.push(e.code) }
     }
     console.log(JSON.stringify({ qerrors: typeof qerrors, redacted: sanitizeMessage('password=hunter2'), codes }))`,
    { env, esm: true }
  );
  assert.equal(cjs.keys, 111);
  assert.equal(cjs.code, 'ERR_QERRORS_NATIVE_LOAD_FAILED');
  assert.equal(esm.qerrors, 'function');
  assert.equal(esm.redacted, cjs.redacted);
  assert.doesNotMatch(esm.redacted, /hunter2/);
  assert.deepEqual(esm.codes, Array(4).fill('ERR_QERRORS_NATIVE_LOAD_FAILED'));
});

test('the platform packages in npm/ match the platform table and the main version', () => {
  const dirs = fs.readdirSync(path.join(root, 'npm')).sort();
  assert.deepEqual(dirs, PLATFORMS.map((p) => p.key).sort());
  for (const p of PLATFORMS) {
    const committed = JSON.parse(fs.readFileSync(path.join(root, 'npm', p.key, 'package.json'), 'utf8'));
    assert.deepEqual(committed, manifest(p, pkg.version), `npm/${p.key}/package.json (regenerate: npm run build:platforms)`);
    assert.deepEqual(committed.os, [p.os]);
    assert.deepEqual(committed.cpu, [p.cpu]);
    if (p.os === 'linux') assert.deepEqual(committed.libc, [p.libc]);
  }
  assert.deepEqual(pkg.optionalDependencies, Object.fromEntries(PLATFORMS.map((p) => [packageName(p.key), pkg.version])));
});

test('the published package runs no install script and ships its license and docs', () => {
  for (const hook of ['preinstall', 'install', 'postinstall']) {
    assert.equal(pkg.scripts[hook], undefined, `no ${hook} script`);
  }
  assert.ok(pkg.files.includes('LICENSE') && fs.existsSync(path.join(root, 'LICENSE')));
  assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^ISC License/);
  assert.equal(pkg.license, 'ISC');
  assert.ok(pkg.files.includes('docs/'));
  assert.ok(!pkg.files.some((f) => f.endsWith('.node')), 'no local build in the tarball');
});
