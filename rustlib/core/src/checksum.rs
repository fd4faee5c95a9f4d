//! CRC-32 (IEEE 802.3, the one of zlib and PNG) for the file formats.
//!
//! Computed by the `crc32fast` crate: carry-less multiply (PCLMULQDQ) when
//! the CPU has it (detected at run time, several GB/s), else a table
//! version, so checking a large model file costs little next to reading it.

/// CRC-32 of `data` (the value of zlib's `crc32(0, data)`).
///
/// ```
/// assert_eq!(ferrokit_core::checksum::crc32(b"123456789"), 0xCBF4_3926);
/// assert_eq!(ferrokit_core::checksum::crc32(b""), 0);
/// ```
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[cfg(test)]
mod tests {
    use super::crc32;

    fn bytewise(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn matches_bitwise_reference_for_every_length() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for n in 0..data.len() {
            assert_eq!(crc32(&data[..n]), bytewise(&data[..n]), "length {n}");
        }
        // Long inputs take the vectorized path.
        let long: Vec<u8> = (0..100_003u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        assert_eq!(crc32(&long), bytewise(&long));
    }
}
