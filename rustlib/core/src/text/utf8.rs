//! Strings in the code-unit forms a host language keeps them (e.g. CPython's
//! Latin-1 / UCS-2 / UCS-4 `str` storage) packed into one UTF-8 buffer plus
//! offsets (Arrow layout), in parallel on the library pool.
//!
//! A Python list of `str` then crosses to Rust without any per-string
//! encoding under the GIL: the caller passes a view of each string's storage
//! and the transcoding runs here, on every pool thread.

use crate::{pool, Error, Result};
use rayon::prelude::*;

/// One string in its stored form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View<'a> {
    /// UTF-8 bytes (checked).
    Utf8(&'a [u8]),
    /// One byte per code point (U+0000..U+00FF).
    Latin1(&'a [u8]),
    /// One `u16` per code point (U+0000..U+FFFF, no surrogates).
    Ucs2(&'a [u16]),
    /// One `u32` per code point (no surrogates, at most U+10FFFF).
    Ucs4(&'a [u32]),
}

/// Documents per parallel task.
const CHUNK: usize = 1024;
/// Minimum code units before the work is split across the pool.
const MIN_PARALLEL_UNITS: usize = 1 << 16;

impl View<'_> {
    fn units(&self) -> usize {
        match self {
            View::Utf8(s) | View::Latin1(s) => s.len(),
            View::Ucs2(s) => s.len(),
            View::Ucs4(s) => s.len(),
        }
    }

    /// The UTF-8 length, or `None` if the string cannot be UTF-8 (invalid
    /// UTF-8 bytes, a surrogate, a code point above U+10FFFF).
    fn utf8_len(&self) -> Option<usize> {
        match *self {
            View::Utf8(s) => std::str::from_utf8(s).ok().map(|s| s.len()),
            View::Latin1(s) => Some(s.len() + high_bytes(s)),
            View::Ucs2(s) => {
                let (mut extra, mut bad) = (0usize, false);
                for &u in s {
                    extra += (u >= 0x80) as usize + (u >= 0x800) as usize;
                    bad |= (u & 0xF800) == 0xD800;
                }
                (!bad).then_some(s.len() + extra)
            }
            View::Ucs4(s) => {
                let (mut extra, mut bad) = (0usize, false);
                for &u in s {
                    extra += (u >= 0x80) as usize + (u >= 0x800) as usize + (u >= 0x10000) as usize;
                    bad |= (u & 0xFFFF_F800) == 0xD800 || u > 0x10_FFFF;
                }
                (!bad).then_some(s.len() + extra)
            }
        }
    }

    /// Writes the UTF-8 of a checked string into `out` (exactly its length).
    fn write(&self, out: &mut [u8]) {
        match *self {
            View::Utf8(s) => out.copy_from_slice(s),
            View::Latin1(s) => encode(s, out),
            View::Ucs2(s) => encode(s, out),
            View::Ucs4(s) => encode(s, out),
        }
    }
}

/// UTF-8 of checked code units into `out` (of exactly their UTF-8 length),
/// in blocks of 8 units: a block of ASCII is copied in one go.
#[inline]
fn encode<T: Copy + Into<u32>>(s: &[T], out: &mut [u8]) {
    let mut p = 0;
    let mut blocks = s.chunks_exact(8);
    for run in &mut blocks {
        if run.iter().fold(0u32, |m, &c| m | c.into()) < 0x80 {
            for (d, &c) in out[p..p + 8].iter_mut().zip(run) {
                *d = c.into() as u8;
            }
            p += 8;
        } else {
            for &c in run {
                p = put(c.into(), out, p);
            }
        }
    }
    for &c in blocks.remainder() {
        p = put(c.into(), out, p);
    }
    debug_assert_eq!(p, out.len());
}

/// Writes the UTF-8 of code point `c` at `out[p..]`; returns the next position.
#[inline(always)]
fn put(c: u32, out: &mut [u8], p: usize) -> usize {
    if c < 0x80 {
        out[p] = c as u8;
        p + 1
    } else if c < 0x800 {
        let o = &mut out[p..p + 2];
        o[0] = 0xC0 | (c >> 6) as u8;
        o[1] = 0x80 | (c & 0x3F) as u8;
        p + 2
    } else if c < 0x10000 {
        let o = &mut out[p..p + 3];
        o[0] = 0xE0 | (c >> 12) as u8;
        o[1] = 0x80 | ((c >> 6) & 0x3F) as u8;
        o[2] = 0x80 | (c & 0x3F) as u8;
        p + 3
    } else {
        let o = &mut out[p..p + 4];
        o[0] = 0xF0 | (c >> 18) as u8;
        o[1] = 0x80 | ((c >> 12) & 0x3F) as u8;
        o[2] = 0x80 | ((c >> 6) & 0x3F) as u8;
        o[3] = 0x80 | (c & 0x3F) as u8;
        p + 4
    }
}

/// Bytes of `s` at or above 0x80 (8 at a time).
fn high_bytes(s: &[u8]) -> usize {
    let blocks = s.chunks_exact(8);
    let tail = blocks.remainder().iter().filter(|&&b| b >= 0x80).count();
    blocks
        .map(|c| {
            (u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                & 0x8080_8080_8080_8080)
                .count_ones() as usize
        })
        .sum::<usize>()
        + tail
}

/// An upper bound of the UTF-8 size of `views` (4 bytes per code unit at
/// most; 1, 2, 3, 4 per unit for UTF-8, Latin-1, UCS-2, UCS-4).
///
/// ```
/// use ferrokit_core::text::{utf8_bound, View};
/// assert_eq!(utf8_bound(&[View::Latin1(b"ab"), View::Ucs2(&[0x3A3])]), 7);
/// ```
pub fn utf8_bound(views: &[View]) -> usize {
    views
        .iter()
        .map(|v| {
            v.units()
                * match v {
                    View::Utf8(_) => 1,
                    View::Latin1(_) => 2,
                    View::Ucs2(_) => 3,
                    View::Ucs4(_) => 4,
                }
        })
        .sum()
}

/// Packs `views` as UTF-8 into `buf` and writes their `n + 1` offsets.
/// Everything is checked before anything is written: on error (a string that
/// is not valid UTF-8 or holds a surrogate, naming the first such string;
/// `buf` too small; `offsets` not of length `n + 1`) neither output changes.
/// Returns the bytes used. The result does not depend on the thread count.
///
/// ```
/// use ferrokit_core::text::{pack_utf8, View};
/// let mut buf = [0u8; 16];
/// let mut off = [0u64; 3];
/// let used = pack_utf8(&[View::Latin1(b"caf\xe9"), View::Ucs2(&[0x3A3])], &mut buf, &mut off).unwrap();
/// assert_eq!((&buf[..used], off), ("café\u{3A3}".as_bytes(), [0, 5, 7]));
/// ```
pub fn pack_utf8(views: &[View], buf: &mut [u8], offsets: &mut [u64]) -> Result<usize> {
    let n = views.len();
    if offsets.len() != n + 1 {
        return Err(Error::LengthMismatch(format!(
            "offsets has {} elements, expected {} (strings + 1)",
            offsets.len(),
            n + 1
        )));
    }
    let units: usize = views.iter().map(View::units).sum();
    let mut lens = vec![0u64; n];
    let first_bad = pool::run(units, MIN_PARALLEL_UNITS, |par| {
        let chunk = |(c, (vs, ls)): (usize, (&[View], &mut [u64]))| -> Option<usize> {
            for (k, (v, l)) in vs.iter().zip(ls.iter_mut()).enumerate() {
                match v.utf8_len() {
                    Some(x) => *l = x as u64,
                    None => return Some(c * CHUNK + k),
                }
            }
            None
        };
        let it = views.chunks(CHUNK).zip(lens.chunks_mut(CHUNK)).enumerate();
        if par {
            it.collect::<Vec<_>>()
                .into_par_iter()
                .filter_map(chunk)
                .min()
        } else {
            it.filter_map(chunk).next()
        }
    });
    if let Some(i) = first_bad {
        return Err(Error::InvalidArgument(format!(
            "string {i} is not valid UTF-8 or holds a surrogate"
        )));
    }
    let total: u64 = lens.iter().sum();
    if total > buf.len() as u64 {
        return Err(Error::LengthMismatch(format!(
            "buf has {} bytes, the strings need {total}",
            buf.len()
        )));
    }
    offsets[0] = 0;
    let mut pos = 0u64;
    for (o, l) in offsets[1..].iter_mut().zip(&lens) {
        pos += l;
        *o = pos;
    }
    // Disjoint output slices, one per chunk of strings.
    let mut tasks: Vec<(&[View], &[u64], &mut [u8])> = Vec::with_capacity(n.div_ceil(CHUNK));
    let mut rest = &mut buf[..total as usize];
    for (c, vs) in views.chunks(CHUNK).enumerate() {
        let a = c * CHUNK;
        let size = (offsets[a + vs.len()] - offsets[a]) as usize;
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(size);
        tasks.push((vs, &offsets[a..=a + vs.len()], head));
        rest = tail;
    }
    let fill = |(vs, off, out): (&[View], &[u64], &mut [u8])| {
        let base = off[0];
        for (k, v) in vs.iter().enumerate() {
            v.write(&mut out[(off[k] - base) as usize..(off[k + 1] - base) as usize]);
        }
    };
    pool::run(units, MIN_PARALLEL_UNITS, |par| {
        if par {
            tasks.into_par_iter().for_each(fill);
        } else {
            tasks.into_iter().for_each(fill);
        }
    });
    Ok(total as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn views_of(strings: &[String]) -> (Vec<Vec<u16>>, Vec<Vec<u32>>) {
        let u2 = strings
            .iter()
            .map(|s| s.chars().map(|c| c as u32 as u16).collect())
            .collect();
        let u4 = strings
            .iter()
            .map(|s| s.chars().map(|c| c as u32).collect())
            .collect();
        (u2, u4)
    }

    fn pack(views: &[View]) -> Result<(Vec<u8>, Vec<u64>)> {
        let mut buf = vec![0xAAu8; utf8_bound(views)];
        let mut off = vec![7u64; views.len() + 1];
        let used = pack_utf8(views, &mut buf, &mut off)?;
        buf.truncate(used);
        Ok((buf, off))
    }

    #[test]
    fn every_form_matches_std_utf8() {
        let bmp: Vec<String> = (0..3000u32)
            .map(|i| {
                (0..(i % 7))
                    .filter_map(|k| char::from_u32((i * 37 + k * 1013) % 0xD000))
                    .collect()
            })
            .collect();
        let (u2, u4) = views_of(&bmp);
        let expect: Vec<u8> = bmp.concat().into_bytes();
        for threads in [1, 2] {
            crate::pool::set_num_threads(threads);
            let v2: Vec<View> = u2.iter().map(|s| View::Ucs2(s)).collect();
            let v4: Vec<View> = u4.iter().map(|s| View::Ucs4(s)).collect();
            let v8: Vec<View> = bmp.iter().map(|s| View::Utf8(s.as_bytes())).collect();
            for v in [&v2, &v4, &v8] {
                let (buf, off) = pack(v).unwrap();
                assert_eq!(buf, expect);
                assert_eq!(off.len(), bmp.len() + 1);
                for (i, s) in bmp.iter().enumerate() {
                    assert_eq!(&buf[off[i] as usize..off[i + 1] as usize], s.as_bytes());
                }
            }
        }
    }

    #[test]
    fn latin1_and_astral() {
        let l1: Vec<u8> = (0..=255u8).collect();
        let astral: Vec<u32> = vec![0x1F600, 0x41, 0x10FFFF, 0xE9];
        let (buf, off) =
            pack(&[View::Latin1(&l1), View::Ucs4(&astral), View::Latin1(b"")]).unwrap();
        let s1: String = l1.iter().map(|&b| b as char).collect();
        let s2: String = astral.iter().map(|&c| char::from_u32(c).unwrap()).collect();
        assert_eq!(buf, format!("{s1}{s2}").into_bytes());
        assert_eq!(
            off,
            vec![
                0,
                s1.len() as u64,
                (s1.len() + s2.len()) as u64,
                (s1.len() + s2.len()) as u64
            ]
        );
    }

    #[test]
    fn empty_and_errors_leave_outputs_alone() {
        let (buf, off) = pack(&[]).unwrap();
        assert_eq!((buf.len(), off), (0, vec![0]));
        for bad in [
            View::Ucs2(&[0x41, 0xD800]),
            View::Ucs4(&[0xDFFF]),
            View::Ucs4(&[0x110000]),
            View::Utf8(b"a\xff"),
        ] {
            let views = [View::Latin1(b"ok"), bad];
            let mut buf = vec![9u8; 64];
            let mut off = vec![5u64; 3];
            let e = pack_utf8(&views, &mut buf, &mut off).unwrap_err();
            assert!(e.to_string().contains("string 1"), "{e}");
            assert!(buf.iter().all(|&b| b == 9) && off == vec![5; 3]);
        }
        let mut small = [0u8; 2];
        let mut off = [0u64; 2];
        assert!(pack_utf8(&[View::Latin1(b"abc")], &mut small, &mut off).is_err());
        assert!(pack_utf8(&[View::Latin1(b"a")], &mut [0u8; 4], &mut [0u64; 3]).is_err());
    }

    #[test]
    fn first_bad_is_the_lowest_index_at_any_thread_count() {
        let good = vec![0x41u16; 100];
        let mut views: Vec<View> = (0..5000).map(|_| View::Ucs2(&good)).collect();
        views[4321] = View::Ucs2(&[0xDC00]);
        views[1500] = View::Ucs2(&[0xD800]);
        for threads in [1, 2, 3] {
            crate::pool::set_num_threads(threads);
            let e = pack(&views).unwrap_err();
            assert!(e.to_string().contains("string 1500 "), "{e}");
        }
    }
}
