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

/**
 * Whether this Linux process runs on musl rather than glibc. Node's diagnostic report
 * names the glibc it was linked with, which is the libc the addon must match.
 * @returns {boolean}
 */
function isMusl() {
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

module.exports = { PLATFORMS, packageName, binaryName, platformKey };
