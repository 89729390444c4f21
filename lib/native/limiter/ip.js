'use strict';

// express-rate-limit v8's key of an IP address, computed by the same Rust parser that
// groups the limiter's `ipv6Subnet` keys (src/core/rate_limit/ip.rs).

const native = require('../loader');
const { codedError, shown } = require('../../policy/errors');

/**
 * The rate-limit key of an IP address (express-rate-limit v8's `ipKeyGenerator`): IPv4
 * addresses as they are; IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, however written)
 * and IPv4-compatible ones written with a dotted tail (`::1.2.3.4`) as their IPv4
 * address; other IPv6 addresses as their `/ipv6Subnet` network (default 56), so one
 * client cannot rotate through its own subnet, or unchanged with `ipv6Subnet: false`.
 * @param {string} ip @param {number | false} [ipv6Subnet]
 * @returns {string}
 */
function ipKeyGenerator(ip, ipv6Subnet = 56) {
  // Only IPv6 text has a colon: IPv4 addresses and other keys are used as they are.
  if (typeof ip !== 'string' || !ip.includes(':')) return ip;
  const valid = ipv6Subnet === false || (Number.isInteger(ipv6Subnet) && ipv6Subnet >= 1 && ipv6Subnet <= 128);
  const key = native.ipKey(ip, valid && ipv6Subnet !== false ? ipv6Subnet : 0);
  if (key === null) return ip;
  // An address left whole is a plain IPv6 one (IPv4 carried in IPv6 comes back dotted):
  // only then does the subnet matter, and a bad one is refused.
  if (!valid && key === ip) {
    throw codedError(RangeError, 'ERR_QERRORS_INVALID_IPV6_SUBNET', `ipKeyGenerator: ipv6Subnet must be false or an integer from 1 to 128, got ${shown(ipv6Subnet)}`);
  }
  return key;
}

module.exports = { ipKeyGenerator };
