//! Byte classification into bit masks, 64 bytes at a time (the text
//! tokenizer's first pass): one bit per byte instead of a branch per byte.

/// Bit `j` of `.0` is set where `blk[j]` is one of `[0-9A-Za-z_]`, bit `j`
/// of `.1` where `blk[j] >= 0x80`.
///
/// ```
/// let mut b = [b' '; 64];
/// b[..4].copy_from_slice(b"a_9-");
/// b[63] = 0xC3;
/// assert_eq!(ferrokit_core::simd::bytes::word_and_high_bits(&b), (0b111, 1 << 63));
/// ```
#[inline]
pub fn word_and_high_bits(blk: &[u8; 64]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        sse2(blk)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar(blk)
    }
}

/// The portable definition (and reference for the tests).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scalar(blk: &[u8; 64]) -> (u64, u64) {
    let (mut w, mut h) = (0u64, 0u64);
    for (j, &b) in blk.iter().enumerate() {
        w |= ((b.is_ascii_alphanumeric() || b == b'_') as u64) << j;
        h |= ((b >> 7) as u64) << j;
    }
    (w, h)
}

/// SSE2 (part of every x86_64 CPU): range compares and `pmovmskb`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2(blk: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut w, mut h) = (0u64, 0u64);
    for q in 0..4 {
        // SAFETY: `blk` has 64 bytes, so the 16 bytes at 16 * q (q < 4) are in
        // bounds; `loadu` needs no alignment; SSE2 is enabled on every x86_64
        // target, so the intrinsics are available.
        let (word, high) = unsafe {
            let v = _mm_loadu_si128(blk.as_ptr().add(16 * q) as *const __m128i);
            // Signed compares: bytes >= 0x80 are negative, outside every range.
            let lo = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let alpha = _mm_and_si128(
                _mm_cmpgt_epi8(lo, _mm_set1_epi8(b'a' as i8 - 1)),
                _mm_cmplt_epi8(lo, _mm_set1_epi8(b'z' as i8 + 1)),
            );
            let digit = _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(b'0' as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(b'9' as i8 + 1)),
            );
            let under = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
            let word = _mm_or_si128(_mm_or_si128(alpha, digit), under);
            (_mm_movemask_epi8(word), _mm_movemask_epi8(v))
        };
        w |= (word as u32 as u64 & 0xFFFF) << (16 * q);
        h |= (high as u32 as u64 & 0xFFFF) << (16 * q);
    }
    (w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_in_every_lane_matches_the_scalar_definition() {
        for b in 0..=255u8 {
            for j in [0usize, 15, 16, 31, 47, 63] {
                let mut blk = [0u8; 64];
                blk[j] = b;
                blk[(j + 1) % 64] = 0xFF;
                assert_eq!(word_and_high_bits(&blk), scalar(&blk), "byte {b} at {j}");
            }
        }
    }
}
