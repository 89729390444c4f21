//! IP addresses as rate-limit keys: one parser for both uses, so the limiter's
//! `ipv6Subnet` grouping and the middleware's `ipKeyGenerator` text always agree on which
//! address is IPv4 and which network an IPv6 address belongs to.
//!
//! An IPv4-mapped address (`::ffff:1.2.3.4`, however written) and an IPv4-compatible one
//! written with a dotted tail (`::1.2.3.4`) are the IPv4 client they carry, as
//! express-rate-limit v8 treats them. A zone id (`fe80::1%eth0`) names an interface of the
//! local host, not another client, so it is ignored.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A key that is an IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// The address a key names, or `None` for any other key.
pub fn parse(text: &str) -> Option<Addr> {
    // The longest textual IPv6 address, with an embedded IPv4 tail, has 45 characters;
    // a zone id may follow it.
    if text.is_empty() || text.len() > 45 + 1 + 64 {
        return None;
    }
    if !text.contains(':') {
        return text.parse().ok().map(Addr::V4);
    }
    let bare = text.split('%').next().unwrap_or(text);
    let v6: Ipv6Addr = bare.parse().ok()?;
    let h = v6.segments();
    let dotted = bare
        .rsplit(':')
        .next()
        .is_some_and(|tail| tail.contains('.'));
    if h[..5] == [0; 5] && (h[5] == 0xffff || (h[5] == 0 && dotted)) {
        let [.., a, b, c, d] = v6.octets();
        return Some(Addr::V4(Ipv4Addr::new(a, b, c, d)));
    }
    Some(Addr::V6(v6))
}

/// `v6` with all but its first `prefix` bits (1-128) cleared.
pub fn network(v6: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let mask = if prefix >= 128 {
        u128::MAX
    } else {
        !(u128::MAX >> prefix)
    };
    Ipv6Addr::from(u128::from(v6) & mask)
}

/// The address a key groups to when `ipv6_prefix` is set: `(family tag, masked bits)`.
pub fn ip_group(key: &[u8], prefix: u8) -> Option<(u64, u128)> {
    match parse(std::str::from_utf8(key).ok()?)? {
        Addr::V4(v4) => Some((4, u128::from(u32::from(v4)))),
        Addr::V6(v6) => Some((6, u128::from(network(v6, prefix)))),
    }
}

/// express-rate-limit v8's key text of an IP address: IPv4 (and IPv4 carried in IPv6) as
/// dotted text, other IPv6 addresses as their `/prefix` network in RFC 5952 text, or
/// unchanged when `prefix` is `None`. `None` when `ip` is not an IPv6 address (such keys
/// are used as they are).
pub fn key_text(ip: &str, prefix: Option<u8>) -> Option<String> {
    if !ip.contains(':') {
        return None;
    }
    match (parse(ip)?, prefix) {
        (Addr::V4(v4), _) => Some(v4.to_string()),
        (Addr::V6(_), None) => Some(ip.to_owned()),
        (Addr::V6(v6), Some(p)) => Some(format!("{}/{p}", rfc5952(network(v6, p)))),
    }
}

/// RFC 5952 text: lower-case hex without leading zeros, the first longest run of two or
/// more zero groups as `::`, and never a dotted IPv4 tail (std prints one for mapped
/// addresses, which a masked network is not).
fn rfc5952(v6: Ipv6Addr) -> String {
    let h = v6.segments();
    let (mut best, mut best_len) = (usize::MAX, 1);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && h[i] == 0 {
            i += 1;
        }
        if i - start > best_len {
            (best, best_len) = (start, i - start);
        }
        i = i.max(start + 1);
    }
    let mut out = String::with_capacity(40);
    let mut j = 0;
    while j < 8 {
        if j == best {
            out.push_str("::");
            j += best_len;
            continue;
        }
        if !out.is_empty() && !out.ends_with(':') {
            out.push(':');
        }
        let _ = write!(out, "{:x}", h[j]);
        j += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_matches_express_rate_limit() {
        let k = |ip: &str, p: Option<u8>| key_text(ip, p);
        assert_eq!(k("1.2.3.4", Some(56)), None, "IPv4 is used as it is");
        assert_eq!(k("not an ip", Some(56)), None);
        assert_eq!(k("::ffff:1.2.3.4", Some(56)).as_deref(), Some("1.2.3.4"));
        assert_eq!(k("::ffff:102:304", Some(56)).as_deref(), Some("1.2.3.4"));
        assert_eq!(k("::1.2.3.4", Some(56)).as_deref(), Some("1.2.3.4"));
        assert_eq!(k("::102:304", Some(128)).as_deref(), Some("::102:304/128"));
        assert_eq!(
            k("2001:db8:1:1ff:aaaa::1", Some(56)).as_deref(),
            Some("2001:db8:1:100::/56")
        );
        assert_eq!(
            k("2001:DB8:0:0:1:0:0:1", Some(128)).as_deref(),
            Some("2001:db8::1:0:0:1/128"),
            "the first of two equal zero runs"
        );
        assert_eq!(
            k("2001:db8:0:1:1:1:1:1", Some(128)).as_deref(),
            Some("2001:db8:0:1:1:1:1:1/128")
        );
        assert_eq!(k("fe80::1%eth0", Some(64)).as_deref(), Some("fe80::/64"));
        assert_eq!(k("fe80::1%eth0", None).as_deref(), Some("fe80::1%eth0"));
        assert_eq!(k("::", Some(1)).as_deref(), Some("::/1"));
        assert_eq!(k("::1", Some(128)).as_deref(), Some("::1/128"));
        assert_eq!(k("1::", Some(128)).as_deref(), Some("1::/128"));
    }

    #[test]
    fn grouping_uses_the_same_parser() {
        assert_eq!(ip_group(b"::ffff:1.2.3.4", 64), ip_group(b"1.2.3.4", 64));
        assert_eq!(ip_group(b"::1.2.3.4", 64), ip_group(b"1.2.3.4", 64));
        assert_eq!(
            ip_group(b"2001:db8::1", 32),
            ip_group(b"2001:db8:ffff::", 32)
        );
        assert_ne!(
            ip_group(b"2001:db8::1", 33),
            ip_group(b"2001:db8:ffff::", 33)
        );
        assert_eq!(ip_group(b"x", 64), None);
        assert_eq!(ip_group(&[0xff, b':'], 64), None);
    }
}
