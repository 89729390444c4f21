'use strict';

// The platforms qerrors publishes a prebuilt addon for: one npm package each,
// `qerrors-<key>`, in npm/<key>/ (the napi-rs naming). The loader, the cross build
// (scripts/build-platforms.js) and the tests all read this one table.
//
// `zigTarget` is what `cargo zigbuild --target` gets: the glibc targets carry the
// glibc version to link against (2.17), so the binary runs on old distributions too.

/**
 * @typedef {object} Platform
 * @property {string} key        napi-rs platform key, e.g. `linux-x64-gnu`
 * @property {string} rustTarget Rust target triple
 * @property {string} zigTarget  target given to cargo zigbuild
 * @property {string} os         `process.platform` value
 * @property {string} cpu        `process.arch` value
 * @property {string} [libc]     `glibc` or `musl` (Linux only)
 */

/** @type {Platform[]} */
const PLATFORMS = [
  { key: 'linux-x64-gnu', rustTarget: 'x86_64-unknown-linux-gnu', zigTarget: 'x86_64-unknown-linux-gnu.2.17', os: 'linux', cpu: 'x64', libc: 'glibc' },
  { key: 'linux-x64-musl', rustTarget: 'x86_64-unknown-linux-musl', zigTarget: 'x86_64-unknown-linux-musl', os: 'linux', cpu: 'x64', libc: 'musl' },
  { key: 'linux-arm64-gnu', rustTarget: 'aarch64-unknown-linux-gnu', zigTarget: 'aarch64-unknown-linux-gnu.2.17', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  { key: 'linux-arm64-musl', rustTarget: 'aarch64-unknown-linux-musl', zigTarget: 'aarch64-unknown-linux-musl', os: 'linux', cpu: 'arm64', libc: 'musl' },
  { key: 'darwin-x64', rustTarget: 'x86_64-apple-darwin', zigTarget: 'x86_64-apple-darwin', os: 'darwin', cpu: 'x64' },
  { key: 'darwin-arm64', rustTarget: 'aarch64-apple-darwin', zigTarget: 'aarch64-apple-darwin', os: 'darwin', cpu: 'arm64' },
];

/** The npm package that carries the addon of `key`. */
function packageName(key) {
  return `qerrors-${key}`;
}

/** The addon's file name inside its package (and in a checkout's root). */
function binaryName(key) {
  return `qerrors.${key}.node`;
}

const PT_INTERP = 3;

/**
 * The program interpreter named in an ELF executable's PT_INTERP header (e.g.
 * `/lib64/ld-linux-x86-64.so.2` or `/lib/ld-musl-aarch64.so.1`), or undefined when the
 * file cannot be read or has none (a static build).
 * @param {string} file
 * @returns {string | undefined}
 */
function elfInterpreter(file) {
  const fs = require('node:fs');
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(64);
    if (fs.readSync(fd, head, 0, 64, 0) < 64 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const wide = head[4] === 2; // ELFCLASS64
    const le = head[5] === 1; // ELFDATA2LSB
    const u16 = (b, o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const addr = (b, o) => (wide ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
    const phoff = addr(head, wide ? 32 : 28);
    const phentsize = u16(head, wide ? 54 : 42);
    const phnum = u16(head, wide ? 56 : 44);
    if (phentsize === 0 || phnum === 0 || phnum > 256) return undefined;
    const table = Buffer.alloc(phentsize * phnum);
    if (fs.readSync(fd, table, 0, table.length, phoff) < table.length) return undefined;
    for (let i = 0; i < phnum; i++) {
      const ph = i * phentsize;
      if (u32(table, ph) !== PT_INTERP) continue;
      const offset = addr(table, ph + (wide ? 8 : 4));
      const size = addr(table, ph + (wide ? 32 : 16));
      if (size === 0 || size > 4096) return undefined;
      const text = Buffer.alloc(size);
      if (fs.readSync(fd, text, 0, size, offset) < size) return undefined;
      return text.toString('latin1').replace(/\0+$/, '');
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Whether this Linux process runs on musl rather than glibc: the libc the addon must
 * match. Read from the program interpreter of Node's own executable (a few small reads);
 * when that names neither libc, from Node's diagnostic report, which names the glibc Node
 * was linked with but costs 4-9 ms.
 * @returns {boolean}
 */
function isMusl() {
  const interpreter = elfInterpreter(process.execPath);
  if (interpreter !== undefined) {
    if (interpreter.includes('ld-musl-')) return true;
    if (interpreter.includes('ld-linux')) return false;
  }
  return reportSaysMusl();
}

/** isMusl() from Node's diagnostic report. */
function reportSaysMusl() {
  const report = process.report;
  if (!report || typeof report.getReport !== 'function') return false;
  // Skip the network-interface part of the report (slow where DNS is slow); restore
  // the caller's setting afterwards.
  const hasFlag = typeof report.excludeNetwork === 'boolean';
  const previous = hasFlag ? report.excludeNetwork : undefined;
  if (hasFlag) report.excludeNetwork = true;
  try {
    const header = report.getReport().header;
    return !(header && header.glibcVersionRuntime);
  } finally {
    if (hasFlag) report.excludeNetwork = previous;
  }
}

/**
 * The platform key of this process (or of the given platform and arch), e.g.
 * `linux-arm64-musl`, `darwin-x64`, `win32-x64-msvc`, `freebsd-x64`.
 * @param {string} [platform]
 * @param {string} [arch]
 * @param {boolean} [musl] only read on Linux; detected when omitted
 */
function platformKey(platform = process.platform, arch = process.arch, musl) {
  if (platform === 'linux') {
    const onMusl = musl === undefined ? isMusl() : musl;
    return `linux-${arch}-${onMusl ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

module.exports = { PLATFORMS, packageName, binaryName, platformKey, _elfInterpreter: elfInterpreter, _reportSaysMusl: reportSaysMusl };
