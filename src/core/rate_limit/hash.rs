//! The seeded 64-bit key hash.

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
const P3: u64 = 0x5899_65cc_7537_4cc3;

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Seeded 64-bit hash of a byte string (folded multiplies, 8 bytes per step). The seed
/// is random per limiter, so keys chosen by clients cannot be aimed at one bucket.
///
/// The tail is read with (possibly overlapping) fixed-size loads rather than copied into
/// a zeroed word: a variable-length copy followed by a wide load stalls on store
/// forwarding, which profiled as a fifth of a whole check. The length is mixed in first,
/// so overlapping reads cannot make two keys of different lengths alike.
#[inline]
pub(super) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let mut h = seed ^ (len as u64).wrapping_mul(P0);
    let tail = if len <= 8 {
        if len >= 4 {
            (u64::from(read_u32(&bytes[..4])) << 32) | u64::from(read_u32(&bytes[len - 4..]))
        } else if len > 0 {
            (u64::from(bytes[0]) << 16)
                | (u64::from(bytes[len / 2]) << 8)
                | u64::from(bytes[len - 1])
        } else {
            0
        }
    } else {
        let mut chunks = bytes[..len - 1].chunks_exact(8);
        for c in &mut chunks {
            h = fold_mul(h ^ read_u64(c), P1);
        }
        // The last 1-8 bytes, read as the final 8 bytes of the key.
        read_u64(&bytes[len - 8..])
    };
    h = fold_mul(h ^ tail ^ P2, P1);
    fold_mul(h ^ seed.rotate_left(29), P3)
}

#[inline]
fn read_u64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

#[inline]
fn read_u32(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u32::from_le_bytes(w)
}

/// A random seed per limiter, so keys chosen by clients cannot be aimed at one bucket.
pub(super) fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_separates_lengths_and_every_byte() {
        let mut seen = std::collections::HashSet::new();
        let base: Vec<u8> = (0u8..40).collect();
        for len in 0..=40 {
            assert!(seen.insert(hash_bytes(7, &base[..len])), "length {len}");
            for i in 0..len {
                let mut k = base[..len].to_vec();
                k[i] ^= 0x80;
                assert!(seen.insert(hash_bytes(7, &k)), "length {len}, byte {i}");
            }
        }
        assert_ne!(hash_bytes(1, b"key"), hash_bytes(2, b"key"), "seeded");
    }
}
