//! MurmurHash3 x86_32, the hash of scikit-learn's `FeatureHasher`
//! (`sklearn.utils.murmurhash3_32(key, seed=0)` on the UTF-8 bytes).

/// MurmurHash3 x86_32 of `data` with `seed`, as a signed 32-bit value (what
/// scikit-learn reads).
///
/// ```
/// use ferrokit_core::text::murmurhash3_32;
/// assert_eq!(murmurhash3_32(b"foo", 0), -156908512);
/// ```
#[inline]
pub fn murmurhash3_32(data: &[u8], seed: u32) -> i32 {
    let n = data.len();
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        h ^= mix(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    // The 0..3 tail bytes as a little-endian integer, without a branch per
    // byte: the last 4 bytes shifted down, or (short keys) the bytes one by
    // one. An empty tail gives k = 0, and mix(0) = 0 leaves `h` unchanged.
    let r = n & 3;
    let k = if n >= 4 {
        let last = u32::from_le_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]]);
        ((last as u64) >> (8 * (4 - r))) as u32
    } else {
        let byte = |i: usize| data.get(i).map_or(0, |&b| b as u32);
        byte(0) | (byte(1) << 8) | (byte(2) << 16)
    };
    h ^= mix(k);
    h ^= n as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// MurmurHash3's scrambling of one 4-byte block.
#[inline(always)]
fn mix(k: u32) -> u32 {
    k.wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593)
}

/// The column and sign scikit-learn's `FeatureHasher` gives a hash value:
/// `abs(h) % n_features` (with `h = -2^31` mapped as scikit-learn does) and
/// `+1` for `h >= 0`, else `-1`.
#[inline(always)]
pub fn column_and_sign(h: i32, n_features: u32) -> (u32, i8) {
    let col = (h.unsigned_abs()) % n_features;
    (col, if h >= 0 { 1 } else { -1 })
}

/// `abs(h) % n_features` with the division replaced by a mask when
/// `n_features` is a power of two (the default 2**20): same columns as
/// [`column_and_sign`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns {
    n: u32,
    mask: Option<u32>,
}

impl Columns {
    pub(crate) fn new(n_features: u32) -> Self {
        Columns {
            n: n_features,
            mask: n_features.is_power_of_two().then(|| n_features - 1),
        }
    }

    #[inline(always)]
    pub(crate) fn column(&self, h: i32) -> u32 {
        match self.mask {
            Some(m) => h.unsigned_abs() & m,
            None => h.unsigned_abs() % self.n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Values of sklearn.utils.murmurhash3_32(..., seed=0).
        assert_eq!(murmurhash3_32(b"", 0), 0);
        assert_eq!(murmurhash3_32(b"foo", 0), -156908512);
        assert_eq!(murmurhash3_32(b"foo", 42), -1322301282);
        assert_eq!(murmurhash3_32(b"hello world", 0), 1586663183);
        assert_eq!(column_and_sign(i32::MIN, 10), ((1u32 << 31) % 10, -1));
        assert_eq!(column_and_sign(-7, 5), (2, -1));
    }

    #[test]
    fn masked_columns_equal_remainders() {
        for n in [1u32, 2, 3, 16, 1 << 20, (1 << 31) - 1, 1 << 30] {
            let c = Columns::new(n);
            for h in [
                0,
                1,
                -1,
                7,
                -7,
                i32::MAX,
                i32::MIN,
                123_456_789,
                -987_654_321,
            ] {
                assert_eq!(c.column(h), column_and_sign(h, n).0, "n = {n}, h = {h}");
            }
        }
    }

    /// The reference algorithm as published (block loop, then the tail with
    /// a `switch` over its length).
    fn reference(data: &[u8], seed: u32) -> i32 {
        let mut h = seed;
        let nblocks = data.len() / 4;
        for i in 0..nblocks {
            let c = &data[4 * i..4 * i + 4];
            h ^= mix(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
        }
        let tail = &data[4 * nblocks..];
        let mut k = 0u32;
        if tail.len() >= 3 {
            k ^= (tail[2] as u32) << 16;
        }
        if tail.len() >= 2 {
            k ^= (tail[1] as u32) << 8;
        }
        if !tail.is_empty() {
            k ^= tail[0] as u32;
            h ^= mix(k);
        }
        h ^= data.len() as u32;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^= h >> 16;
        h as i32
    }

    #[test]
    fn equals_the_reference_for_every_length() {
        let mut x: u64 = 99;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect();
        for start in 0..64 {
            for len in 0..70 {
                let d = &bytes[start * 13..start * 13 + len];
                for seed in [0, 42] {
                    assert_eq!(murmurhash3_32(d, seed), reference(d, seed), "{d:?}");
                }
            }
        }
    }
}
