//! The default token pattern `(?u)\b\w\w+\b` in one pass over a document's
//! bytes: UTF-8 validation, lowercasing and tokenizing fused.
//!
//! A first pass classifies 64 bytes at a time into a bit mask of word
//! characters (ASCII with SIMD compares, see [`crate::simd::bytes`]; multi-byte characters
//! decoded, validated and looked up one by one) and lowercases into a copy;
//! tokens are then the runs of set bits, found a word of the mask at a time
//! instead of a branch per byte.
//!
//! Lowercasing a token character by character equals lowercasing the whole
//! document first (what scikit-learn does) as long as every character's
//! lowercase is one character of the same word/space classes. Where that is
//! not so (U+0130 becomes two characters, U+03A3 depends on its context, see
//! [`CP_COMPLEX`]) [`split_words`] reports it and the caller lowercases the
//! whole document exactly first.

use super::tables::{CharTables, BYTE_WORD, CP_COMPLEX, CP_LOWER, CP_WORD};

/// A document that is not valid UTF-8 (the caller reports which and why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Decodes the multi-byte character starting at `b[i]` (a byte >= 0x80):
/// its code point and byte length, or `None` if the bytes there are not
/// valid UTF-8 (stray continuation byte, overlong form, surrogate, beyond
/// U+10FFFF, truncated).
#[inline(always)]
pub(crate) fn decode(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let c0 = b[i] as u32;
    let cont = |k: usize| -> Option<u32> {
        let c = *b.get(i + k)? as u32;
        (c & 0xC0 == 0x80).then_some(c & 0x3F)
    };
    match c0 {
        0xC2..=0xDF => Some((((c0 & 0x1F) << 6) | cont(1)?, 2)),
        0xE0..=0xEF => {
            let cp = ((c0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?;
            if cp < 0x800 || (0xD800..=0xDFFF).contains(&cp) {
                return None;
            }
            Some((cp, 3))
        }
        0xF0..=0xF4 => {
            let cp = ((c0 & 0x07) << 18) | (cont(1)? << 12) | (cont(2)? << 6) | cont(3)?;
            if !(0x1_0000..=0x10_FFFF).contains(&cp) {
                return None;
            }
            Some((cp, 4))
        }
        _ => None,
    }
}

/// Writes the UTF-8 of `cp` at `out[w..]`; returns its length.
#[inline(always)]
fn put(out: &mut [u8], w: usize, cp: u32) -> usize {
    if cp < 0x80 {
        out[w] = cp as u8;
        1
    } else if cp < 0x800 {
        out[w] = 0xC0 | (cp >> 6) as u8;
        out[w + 1] = 0x80 | (cp & 0x3F) as u8;
        2
    } else if cp < 0x1_0000 {
        out[w] = 0xE0 | (cp >> 12) as u8;
        out[w + 1] = 0x80 | ((cp >> 6) & 0x3F) as u8;
        out[w + 2] = 0x80 | (cp & 0x3F) as u8;
        3
    } else {
        out[w] = 0xF0 | (cp >> 18) as u8;
        out[w + 1] = 0x80 | ((cp >> 12) & 0x3F) as u8;
        out[w + 2] = 0x80 | ((cp >> 6) & 0x3F) as u8;
        out[w + 3] = 0x80 | (cp & 0x3F) as u8;
        4
    }
}

/// Byte length of the UTF-8 character whose first byte is `b`.
#[inline(always)]
fn char_len(b: u8) -> usize {
    match b {
        0..=0x7F => 1,
        0x80..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Bit `j` of `.0` set where byte `j` of the block is an ASCII word
/// character, of `.1` where it is >= 0x80.
#[inline(always)]
fn classify(blk: &[u8; 64], t: &CharTables) -> (u64, u64) {
    let (w, h) = crate::simd::bytes::word_and_high_bits(blk);
    if t.std_ascii_word {
        return (w, h);
    }
    let mut w = 0u64;
    for (j, &b) in blk.iter().enumerate() {
        w |= ((t.byte_class[b as usize] == BYTE_WORD) as u64) << j;
    }
    (w, h)
}

/// Splits `doc` into the tokens of `(?u)\b\w\w+\b` (maximal runs of two or
/// more word characters) and validates it as UTF-8.
///
/// With `LOWER`, `low[..doc.len()]` receives the lowercased document (byte
/// for byte: only length-preserving lowercase maps are taken here) and the
/// token ranges in `toks` index it; without, they index `doc`. `mask` is
/// scratch (one bit per byte: word character).
///
/// Returns `Ok(false)` (with `LOWER` only) when the document contains a
/// character whose lowercase is not one character of the same classes and
/// length: then lowercase the whole document and split that without `LOWER`.
pub(crate) fn split_words<const LOWER: bool>(
    t: &CharTables,
    doc: &[u8],
    low: &mut Vec<u8>,
    mask: &mut Vec<u64>,
    toks: &mut Vec<(u32, u32)>,
) -> Result<bool, InvalidUtf8> {
    toks.clear();
    let n = doc.len();
    let nw = n.div_ceil(64);
    mask.clear();
    mask.resize(nw + 1, 0);
    if LOWER {
        if low.len() < n {
            low.resize(n, 0);
        }
        // ASCII lowercase of every byte (bytes >= 0x80 are copied).
        for (o, &b) in low[..n].iter_mut().zip(doc) {
            *o = b | (((b.wrapping_sub(b'A') < 26) as u8) << 5);
        }
    }
    // Bits of the current block that continue a character of the previous one.
    let mut carry = 0u64;
    for k in 0..nw {
        let base = 64 * k;
        let blk: [u8; 64] = match doc.get(base..base + 64) {
            Some(b) => b.try_into().unwrap_or([0; 64]),
            None => {
                let mut b = [0u8; 64]; // zeros: neither word nor high bytes
                b[..n - base].copy_from_slice(&doc[base..]);
                b
            }
        };
        let (w, h) = classify(&blk, t);
        mask[k] |= w;
        let mut h = h & !carry;
        carry = 0;
        // The multi-byte characters starting in this block, one at a time.
        while h != 0 {
            let j = h.trailing_zeros() as usize;
            let p = base + j;
            let (cp, len) = decode(doc, p).ok_or(InvalidUtf8)?;
            let e = t.cp_info(cp);
            if LOWER && e & CP_COMPLEX != 0 {
                return Ok(false);
            }
            let bits = ((1u128 << len) - 1) << j;
            h &= !(bits as u64);
            carry = (bits >> 64) as u64;
            if e & CP_WORD != 0 {
                mask[k] |= bits as u64;
                mask[k + 1] |= carry;
            }
            if LOWER && e & CP_LOWER != cp {
                put(low, p, e & CP_LOWER);
            }
        }
    }
    // Tokens: the runs of set bits, of more than one character.
    let text: &[u8] = if LOWER { &low[..n] } else { doc };
    if nw == 0 {
        return Ok(true);
    }
    let mut wi = 0usize;
    let mut m = mask[0];
    loop {
        while m == 0 {
            wi += 1;
            if wi >= nw {
                return Ok(true);
            }
            m = mask[wi];
        }
        let s = wi * 64 + m.trailing_zeros() as usize;
        let mut z = !m & (u64::MAX << (s & 63));
        while z == 0 {
            wi += 1; // mask[nw] is 0: stops there at the latest
            z = !mask[wi];
        }
        let e = wi * 64 + z.trailing_zeros() as usize;
        m = mask[wi] & (u64::MAX << (e & 63));
        if e - s > char_len(text[s]) {
            toks.push((s as u32, e as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_accepts_exactly_valid_utf8() {
        // Every 1..4-byte sequence from a set of interesting bytes: `decode`
        // agrees with std on validity, code point and length.
        let bytes: Vec<u8> = vec![
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
            0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ];
        let mut seq = Vec::new();
        for &a in &bytes {
            if a < 0x80 {
                continue;
            }
            for &b in &bytes {
                for &c in &bytes {
                    for &d in &bytes {
                        seq.clear();
                        seq.extend_from_slice(&[a, b, c, d]);
                        for len in 1..=4 {
                            let s = &seq[..len];
                            // The first character of the longest valid prefix.
                            let valid = match std::str::from_utf8(s) {
                                Ok(v) => v,
                                Err(e) => std::str::from_utf8(&s[..e.valid_up_to()]).unwrap(),
                            };
                            let want = valid.chars().next().map(|ch| (ch as u32, ch.len_utf8()));
                            assert_eq!(decode(s, 0), want, "{s:x?}");
                        }
                    }
                }
            }
        }
    }

    fn split(t: &CharTables, doc: &[u8], lower: bool) -> Result<Option<Vec<String>>, InvalidUtf8> {
        let (mut low, mut mask, mut toks) = (Vec::new(), Vec::new(), Vec::new());
        let simple = if lower {
            split_words::<true>(t, doc, &mut low, &mut mask, &mut toks)?
        } else {
            split_words::<false>(t, doc, &mut low, &mut mask, &mut toks)?
        };
        let text = if lower { &low[..] } else { doc };
        Ok(simple.then(|| {
            toks.iter()
                .map(|&(a, b)| String::from_utf8(text[a as usize..b as usize].to_vec()).unwrap())
                .collect()
        }))
    }

    fn words(doc: &str) -> Vec<String> {
        split(&CharTables::ascii_std(), doc.as_bytes(), true)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn tokens_lowercase_and_boundaries() {
        assert_eq!(
            words("The CAT, x Übel-été"),
            vec!["the", "cat", "übel", "été"]
        );
        assert_eq!(words("aé éa é a ab\u{1c}cd"), vec!["aé", "éa", "ab", "cd"]);
        assert!(words("").is_empty());
        // Tokens across the 64-byte blocks, multi-byte characters straddling them.
        for pad in 0..70 {
            let doc = format!(
                "{}ÉtÉ{}日本 Ab",
                "x ".repeat(pad / 2),
                "é".repeat(pad % 7 * 11)
            );
            let want: Vec<String> = doc
                .to_lowercase()
                .split(' ')
                .filter(|w| w.chars().count() > 1)
                .map(String::from)
                .collect();
            assert_eq!(words(&doc), want, "{doc}");
        }
        let t = CharTables::ascii_std();
        // Complex lowercase: U+0130, U+03A3 and U+212A need the whole-document path.
        for doc in ["xİx", "ΟΔΟΣ", "\u{212a}x"] {
            assert_eq!(split(&t, doc.as_bytes(), true), Ok(None), "{doc}");
            assert!(split(&t, doc.as_bytes(), false).unwrap().is_some());
        }
        let long = "ab ".repeat(40);
        for bad in [
            &b"ab\xffcd"[..],
            b"ab\xc3",
            b"\xed\xa0\x80xx",
            b"\x80",
            &[long.as_bytes(), b"\xe6\x97"].concat(),
        ] {
            assert_eq!(split(&t, bad, true), Err(InvalidUtf8), "{bad:?}");
            assert_eq!(split(&t, bad, false), Err(InvalidUtf8), "{bad:?}");
        }
    }
}
