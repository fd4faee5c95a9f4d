//! int8 codes of rows with a rigorous bound on what the rounding lost — the
//! data of the pre-scan that lets one-query index searches skip most rows
//! (see `prefilter`).
//!
//! Rows are coded relative to a centre `μ` (the column means of the first rows
//! added): `x' = x − μ` is stored as `scale · c` with `c_j = round(x'_j /
//! scale)` in [-127, 127] and `scale = max|x'_j| / 127`, together with
//! `err ≥ ‖x' − scale·c‖` and `norm ≥ ‖x'‖ + err` (rounded up). With a query
//! coded the same way, `|q'·x' − s_q s_x (g·c)| ≤ ‖q'‖·err_x + err_q·norm_x`,
//! and the integer dot product `g·c` is exact (an i32, see [`MAX_DIM`]).
//! Centring matters for data away from the origin (all-positive features, a
//! common offset): the code step, and with it the bound, follows the spread of
//! the rows instead of their distance from 0.

use super::Metric;
use crate::float::{halving_sum, Float};
use crate::multiversion;
use crate::simd::int8_dots::{BLOCK_ROWS, GROUP_BYTES};
use crate::simd::nibble_dots::UNIT_BYTES;
use crate::simd::row_code::{self, RowElement, RowStats};

/// Rows longer than this get no codes (the integer dot products, up to
/// `dim · 255 · 127`, and the offset `128 · Σ g` must fit an i32).
pub(crate) const MAX_DIM: usize = 65_536;

/// Rows longer than this get no 4-bit codes: `16 · Σ h g − 120 · Σ g` must
/// fit an i32, and the 4-bit error (at most `err + 8 · scale · √dim`) must stay
/// within a few times `‖x − μ‖ ≥ 127 · scale`, which the rounding allowance of
/// the bounds assumes (`prefilter_nibble`).
pub(crate) const MAX_NIBBLE_DIM: usize = 16_384;

/// An upper bound of the error of a row's 4-bit code — the high nibble
/// `h = (c + 128) >> 4` of each code byte, standing for the int8 code
/// `16 h − 120` — from its int8 code `c`, step `scale` and error `err`:
/// `‖x' − s(16h − 120)‖ ≤ ‖x' − s c‖ + s ‖c − (16h − 120)‖` (triangle
/// inequality), the last norm an exact integer sum (each term at most 8²).
fn nibble_err(c: &[i8], scale: f32, err: f32) -> f32 {
    if !err.is_finite() {
        return f32::INFINITY;
    }
    let sq: i64 = c
        .iter()
        .map(|&v| {
            let b = i32::from(v) + 128;
            let r = b - 16 * (b >> 4) - 8;
            i64::from(r * r)
        })
        .sum();
    let slack = 1.0 + 1.0 / (1u64 << 20) as f64;
    up_f32((err as f64 + scale as f64 * (sq as f64).sqrt()) * slack)
}

/// What one row's (or query's) code needs besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowCode {
    /// The step of the code (`x − μ ≈ scale · c`); 0 for a row equal to `μ`.
    pub scale: f32,
    /// An upper bound of `‖x − μ − scale·c‖`; `+inf` if the row has no usable
    /// code (a NaN or infinity in it, or magnitudes outside the float32 range).
    pub err: f32,
    /// An upper bound of `‖x − μ‖ + err`.
    pub norm: f32,
    /// An upper bound of `‖x‖ + ‖μ‖` (the magnitude rounding errors scale with).
    pub mag: f32,
    /// `‖x − μ‖²`.
    pub centred_sq: f64,
    /// `μ · x`.
    pub mu_dot: f64,
}

impl RowCode {
    /// A row the code cannot bound: every bound built on it is infinite, so a
    /// search always looks at the row itself.
    pub const UNBOUNDED: RowCode = RowCode {
        scale: 0.0,
        err: f32::INFINITY,
        norm: f32::INFINITY,
        mag: f32::INFINITY,
        centred_sq: 0.0,
        mu_dot: 0.0,
    };
}

/// Rounds a float64 bound to a float32 that is not smaller.
#[inline]
pub(super) fn up_f32(v: f64) -> f32 {
    let r = v as f32;
    if (r as f64) < v {
        r.next_up()
    } else {
        r
    }
}

/// Lanes of the portable row loops.
const LANES: usize = 8;

/// The portable loop of [`row_code::row_stats`] (8 float64 lanes).
#[inline(always)]
fn stats_portable<T: Float>(x: &[T], mu: &[f32]) -> RowStats {
    let mut mx = [0.0f64; LANES];
    let (mut sq, mut csq, mut md) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
    for (i, (v, &m)) in x.iter().zip(mu).enumerate() {
        let l = i % LANES;
        let (f, m) = (v.to_f64(), m as f64);
        let c = f - m;
        mx[l] = mx[l].max(c.abs());
        sq[l] += f * f;
        csq[l] += c * c;
        md[l] += f * m;
    }
    RowStats {
        max: mx.iter().fold(0.0f64, |a, &b| a.max(b)),
        sq: halving_sum(sq),
        centred_sq: halving_sum(csq),
        mu_dot: halving_sum(md),
    }
}

/// The portable loop of [`row_code::codes`].
#[inline(always)]
fn codes_portable<T: Float>(x: &[T], mu: &[f32], inv: f64, step: f64, out: &mut [i8]) -> f64 {
    let mut e2 = [0.0f64; LANES];
    for (i, ((v, &m), o)) in x.iter().zip(mu).zip(out.iter_mut()).enumerate() {
        let c = v.to_f64() - m as f64;
        // Nearest code (one instruction with SSE4.1, which every vector copy
        // has). Any code is correct: the error is measured.
        let k = (c * inv).round_ties_even().clamp(-127.0, 127.0);
        let r = c - step * k;
        e2[i % LANES] += r * r;
        *o = k as i32 as i8;
    }
    halving_sum(e2)
}

/// Codes `x − mu` into `out` (same length as `x`) and returns its [`RowCode`];
/// `mu_norm` is `‖mu‖`.
#[inline(always)]
fn code_row_body<T: Float + RowElement>(
    x: &[T],
    mu: &[f32],
    mu_norm: f64,
    out: &mut [i8],
) -> RowCode {
    let d = x.len();
    let (x, mu, out) = (&x[..d], &mu[..d], &mut out[..d]);
    let RowStats {
        max,
        sq,
        centred_sq: csq,
        mu_dot,
    } = row_code::row_stats(x, mu).unwrap_or_else(|| stats_portable(x, mu));
    out.fill(0);
    // `max` ignores NaN, so check the sums (NaN or inf if any entry is).
    let limit = (f32::MAX / 256.0) as f64;
    if !(sq.is_finite() && csq.is_finite() && mu_dot.is_finite())
        || max > limit
        || sq.sqrt() > limit
    {
        return RowCode::UNBOUNDED;
    }
    // float64 sums of float64 products of float32-range values: relative
    // rounding of at most dim · 2⁻⁵³ (and `x − μ` of float64 data up to 2⁻⁵³
    // per entry), far below the slack added to every bound here.
    let slack = 1.0 + 1.0 / (1u64 << 20) as f64;
    let tiny = (sq.sqrt() + mu_norm) * f64::EPSILON * 8.0;
    let mag = up_f32((sq.sqrt() + mu_norm) * slack);
    let (scale, err2) = if max == 0.0 {
        (0.0f32, 0.0f64)
    } else {
        let scale = (max / 127.0) as f32;
        if !scale.is_normal() {
            return RowCode::UNBOUNDED;
        }
        let (s, inv) = (scale as f64, 1.0 / scale as f64);
        let err2 = row_code::codes(x, mu, inv, s, out)
            .unwrap_or_else(|| codes_portable(x, mu, inv, s, out));
        (scale, err2)
    };
    let err = err2.sqrt() * slack + tiny;
    let norm = (csq.sqrt() + err) * slack;
    if norm > f32::MAX as f64 {
        return RowCode::UNBOUNDED;
    }
    RowCode {
        scale,
        err: up_f32(err),
        norm: up_f32(norm),
        mag,
        centred_sq: csq,
        mu_dot,
    }
}

multiversion! {
    fn code_row_f32(x: &[f32], mu: &[f32], mu_norm: f64, out: &mut [i8]) -> RowCode = code_row_body::<f32>;
}
multiversion! {
    fn code_row_f64(x: &[f64], mu: &[f32], mu_norm: f64, out: &mut [i8]) -> RowCode = code_row_body::<f64>;
}

/// The float types rows can be coded from (a sealed trait: `quant` is private).
pub trait Codable: Float + RowElement {
    /// Codes `x − mu` into `out` and returns its [`RowCode`] (`mu_norm = ‖mu‖`).
    fn code_row(x: &[Self], mu: &[f32], mu_norm: f64, out: &mut [i8]) -> RowCode;
}

impl Codable for f32 {
    fn code_row(x: &[f32], mu: &[f32], mu_norm: f64, out: &mut [i8]) -> RowCode {
        code_row_f32(x, mu, mu_norm, out)
    }
}

impl Codable for f64 {
    fn code_row(x: &[f64], mu: &[f32], mu_norm: f64, out: &mut [i8]) -> RowCode {
        code_row_f64(x, mu, mu_norm, out)
    }
}

/// [`Codable::code_row`] for any codable type.
pub(crate) fn code_row<T: Codable>(x: &[T], mu: &[f32], mu_norm: f64, out: &mut [i8]) -> RowCode {
    T::code_row(x, mu, mu_norm, out)
}

/// Column means of the finite entries of `x` (0 for a column with none),
/// rounded to float32: the centre of the codes.
pub(crate) fn column_means<T: Float>(x: &[T], dim: usize) -> Vec<f32> {
    let mut sum = vec![0.0f64; dim];
    let mut count = vec![0usize; dim];
    for row in x.chunks_exact(dim) {
        for ((s, c), v) in sum.iter_mut().zip(count.iter_mut()).zip(row) {
            let f = v.to_f64();
            if f.is_finite() {
                *s += f;
                *c += 1;
            }
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(&s, &c)| {
            let m = if c > 0 { (s / c as f64) as f32 } else { 0.0 };
            if m.is_finite() {
                m
            } else {
                0.0
            }
        })
        .collect()
}

/// The codes of the rows of an index, grown by every `add`: the bytes in the
/// blocked layout of [`crate::simd::int8_dots`] (16 rows per block, each
/// element stored as `code + 128`), the fields of [`RowCode`] as separate
/// arrays (the pre-scan reads them as vectors).
#[derive(Debug, Clone)]
pub(crate) struct Codes {
    pub dim: usize,
    pub metric: Metric,
    /// The centre (set by the first `append`; empty before).
    pub mu: Vec<f32>,
    /// `‖μ‖` and `‖μ‖²`.
    pub mu_norm: f64,
    pub mu_sq: f64,
    pub bytes: Vec<u8>,
    /// The 4-bit codes in the layout of [`crate::simd::nibble_dots`] (empty
    /// unless `nibbles`).
    pub nibble_bytes: Vec<u8>,
    /// Whether the 4-bit codes are kept (one-query searches of an index).
    pub nibbles: bool,
    pub scale: Vec<f32>,
    pub err: Vec<f32>,
    /// [`nibble_err`] of each row (empty unless `nibbles`).
    pub err4: Vec<f32>,
    pub norm: Vec<f32>,
    pub mag: Vec<f32>,
    /// What the metric adds to the centred dot product: `‖x − μ‖²` (L2) or
    /// `μ·x − ‖μ‖²` (inner product, cosine), in float32.
    pub shift: Vec<f32>,
    /// The rows' score term (`‖x‖²` or `1/‖x‖`, see `row_aux`) in float32.
    pub aux: Vec<f32>,
}

impl Codes {
    /// No rows of `dim` elements, for searches by `metric`, with 4-bit codes
    /// too (when `dim` allows them).
    pub fn new(dim: usize, metric: Metric) -> Codes {
        Codes {
            dim,
            metric,
            mu: Vec::new(),
            mu_norm: 0.0,
            mu_sq: 0.0,
            bytes: Vec::new(),
            nibble_bytes: Vec::new(),
            nibbles: dim <= MAX_NIBBLE_DIM,
            scale: Vec::new(),
            err: Vec::new(),
            err4: Vec::new(),
            norm: Vec::new(),
            mag: Vec::new(),
            shift: Vec::new(),
            aux: Vec::new(),
        }
    }

    /// No rows, without 4-bit codes (codes made for one batch search, which
    /// reads only the int8 codes).
    pub fn without_nibbles(dim: usize, metric: Metric) -> Codes {
        Codes {
            nibbles: false,
            ..Codes::new(dim, metric)
        }
    }

    /// The code of a query (or any row) relative to this centre.
    pub fn code(&self, x: &[impl Codable], out: &mut [i8]) -> RowCode {
        code_row(x, &self.mu, self.mu_norm, out)
    }

    /// The metric's shift term of a coded row (see [`Codes::shift`]).
    pub fn shift_of(&self, r: &RowCode) -> f32 {
        match self.metric {
            Metric::SqEuclidean | Metric::Euclidean => r.centred_sq as f32,
            Metric::InnerProduct | Metric::Cosine => (r.mu_dot - self.mu_sq) as f32,
        }
    }

    /// Groups of 4 elements per row (the last one zero-padded).
    pub fn d4(&self) -> usize {
        self.dim.div_ceil(4)
    }

    /// Bytes per block of 16 rows.
    pub fn block_bytes(&self) -> usize {
        self.d4() * GROUP_BYTES
    }

    /// Units of two groups per row of the 4-bit codes.
    pub fn d8(&self) -> usize {
        self.d4().div_ceil(2)
    }

    /// Bytes per block of 16 rows of the 4-bit codes.
    pub fn nibble_block_bytes(&self) -> usize {
        self.d8() * UNIT_BYTES
    }

    /// Rows coded.
    pub fn len(&self) -> usize {
        self.scale.len()
    }

    /// Appends the codes of `x` (rows of `dim`) and their score terms `aux`;
    /// parallel for large inputs.
    pub fn append<T: Codable>(&mut self, x: &[T], aux: &[T]) {
        let dim = self.dim;
        let old = self.len();
        let added = x.len() / dim;
        if self.mu.is_empty() && added > 0 {
            self.mu = column_means(x, dim);
            self.mu_sq = self.mu.iter().map(|&m| m as f64 * m as f64).sum();
            self.mu_norm = self.mu_sq.sqrt();
        }
        let (mu, mu_norm) = (&self.mu, self.mu_norm);
        let bb = self.block_bytes();
        let nbb = if self.nibbles {
            self.nibble_block_bytes()
        } else {
            0
        };
        let blocks_after = (old + added).div_ceil(BLOCK_ROWS);
        // Huge pages, as for the float rows: the pre-scan streams the codes
        // once per query (with 4 KiB pages one query of 100 000 x 128 rows
        // took 2.7 ms of CPU instead of 1.9 ms on an AVX2 machine).
        for (v, len, fill) in [
            (&mut self.bytes, blocks_after * bb, 128u8),
            // 0x88: both nibbles of a zero code (the padding of a block).
            (&mut self.nibble_bytes, blocks_after * nbb, 0x88),
        ] {
            crate::simd::mem::reserve_huge(v, len.saturating_sub(v.len()));
            v.resize(len, fill);
        }
        let mut rows = vec![(RowCode::UNBOUNDED, f32::INFINITY); added];
        // Codes row `xr` straight into slot `r` of its blocks (no row-major
        // copy of the codes: adding a large batch needs no more than the
        // codes).
        let code_into = |xr: &[T], r: usize, blk: &mut [u8], nblk: &mut [u8], buf: &mut [i8]| {
            let rc = code_row(xr, mu, mu_norm, buf);
            for (e, &c) in buf.iter().enumerate() {
                blk[(e / 4) * GROUP_BYTES + 4 * r + e % 4] = (i16::from(c) + 128) as u8;
            }
            if nbb == 0 {
                return (rc, f32::INFINITY);
            }
            for (e, &c) in buf.iter().enumerate() {
                let (grp, h) = (e / 4, ((i16::from(c) + 128) >> 4) as u8);
                let byte = &mut nblk[(grp / 2) * UNIT_BYTES + 4 * r + e % 4];
                *byte = if grp % 2 == 0 {
                    (*byte & 0xf0) | h
                } else {
                    (*byte & 0x0f) | (h << 4)
                };
            }
            (rc, nibble_err(buf, rc.scale, rc.err))
        };
        // First the rows that complete the last partial block, then whole
        // blocks, in parallel for large inputs.
        let head = ((BLOCK_ROWS - old % BLOCK_ROWS) % BLOCK_ROWS).min(added);
        let mut buf = vec![0i8; dim];
        for (i, (xr, rc)) in x.chunks_exact(dim).zip(&mut rows).take(head).enumerate() {
            let j = old + i;
            let b = j / BLOCK_ROWS;
            *rc = code_into(
                xr,
                j % BLOCK_ROWS,
                &mut self.bytes[b * bb..(b + 1) * bb],
                &mut self.nibble_bytes[b * nbb..(b + 1) * nbb],
                &mut buf,
            );
        }
        const BLOCKS: usize = 128;
        let first = (old + head) / BLOCK_ROWS;
        let blocks = &mut self.bytes[first * bb..];
        let nblocks = &mut self.nibble_bytes[first * nbb..];
        let (xs, rs) = (&x[head * dim..], &mut rows[head..]);
        let task = |bl: &mut [u8], nbl: &mut [u8], xx: &[T], rr: &mut [(RowCode, f32)]| {
            let mut buf = vec![0i8; dim];
            for (r, (xr, rc)) in xx.chunks_exact(dim).zip(rr).enumerate() {
                let b = r / BLOCK_ROWS;
                *rc = code_into(
                    xr,
                    r % BLOCK_ROWS,
                    &mut bl[b * bb..(b + 1) * bb],
                    &mut nbl[b * nbb..(b + 1) * nbb],
                    &mut buf,
                );
            }
        };
        crate::pool::run(xs.len(), crate::blocks::MIN_PARALLEL_ELEMENTS, |par| {
            if par {
                use rayon::prelude::*;
                // Without 4-bit codes, `nbb` is 0: empty pieces of the same count.
                let nchunks = blocks.len().div_ceil(BLOCKS * bb);
                let mut npieces: Vec<&mut [u8]> = if nbb == 0 {
                    (0..nchunks).map(|_| <&mut [u8]>::default()).collect()
                } else {
                    nblocks.chunks_mut(BLOCKS * nbb).collect()
                };
                blocks
                    .par_chunks_mut(BLOCKS * bb)
                    .zip(npieces.par_iter_mut())
                    .zip(xs.par_chunks(BLOCKS * BLOCK_ROWS * dim))
                    .zip(rs.par_chunks_mut(BLOCKS * BLOCK_ROWS))
                    .for_each(|(((bl, nbl), xx), rr)| task(bl, nbl, xx, rr));
            } else {
                task(blocks, nblocks, xs, rs);
            }
        });
        self.scale.extend(rows.iter().map(|r| r.0.scale));
        self.err.extend(rows.iter().map(|r| r.0.err));
        if nbb > 0 {
            self.err4.extend(rows.iter().map(|r| r.1));
        }
        self.norm.extend(rows.iter().map(|r| r.0.norm));
        self.mag.extend(rows.iter().map(|r| r.0.mag));
        let shift: Vec<f32> = rows.iter().map(|r| self.shift_of(&r.0)).collect();
        self.shift.extend(shift);
        self.aux.extend(aux.iter().map(|v| v.to_f64() as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: impl Iterator<Item = f64>) -> f64 {
        v.map(|a| a * a).sum::<f64>().sqrt()
    }

    fn check_bound(x: &[f64], mu: &[f32]) {
        let mut c = vec![0i8; x.len()];
        let mu_norm = norm(mu.iter().map(|&m| m as f64));
        let r = code_row(x, mu, mu_norm, &mut c);
        let s = r.scale as f64;
        let centred = || x.iter().zip(mu).map(|(&v, &m)| v - m as f64);
        let err = norm(centred().zip(&c).map(|(v, &ci)| v - s * ci as f64));
        assert!(err <= r.err as f64, "{err} > {}", r.err);
        assert!(norm(centred()) + err <= r.norm as f64);
        // The 4-bit code `16 h − 120` (h the high nibble of `c + 128`).
        let err4 = norm(centred().zip(&c).map(|(v, &ci)| {
            let h = (i32::from(ci) + 128) >> 4;
            v - s * f64::from(16 * h - 120)
        }));
        let bound4 = nibble_err(&c, r.scale, r.err);
        assert!(err4 <= bound4 as f64, "{err4} > {bound4}");
        assert!(
            bound4 as f64 <= (r.err as f64 + 8.0 * s * (x.len() as f64).sqrt()) * 1.001 + 1e-300,
            "{bound4} {} {s}",
            r.err
        );
        assert!(norm(x.iter().copied()) + mu_norm <= r.mag as f64);
        // Tight enough to be useful: at most half a step per entry (plus the
        // allowance for rounding `x − μ`).
        let allowance = (norm(x.iter().copied()) + mu_norm) * 1e-14;
        assert!(r.err as f64 <= 0.5 * s * (x.len() as f64).sqrt() * 1.001 + allowance + 1e-300);
    }

    #[test]
    fn error_bounds_hold() {
        let mut s = 5u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for d in [1usize, 2, 7, 128, 300] {
            for mag in [1e-30, 1e-3, 1.0, 1e6, 1e30] {
                let x: Vec<f64> = (0..d).map(|_| next() * mag).collect();
                check_bound(&x, &vec![0.0; d]);
                let mu: Vec<f32> = (0..d).map(|_| (next() * mag) as f32).collect();
                check_bound(&x, &mu);
                let offset: Vec<f64> = x.iter().map(|v| v + 3.0 * mag).collect();
                check_bound(&offset, &vec![(3.0 * mag) as f32; d]);
            }
        }
        check_bound(&[0.0, 0.0], &[0.0, 0.0]);
        check_bound(
            &[f64::MAX / 1e300, 1.0, -1.0, 0.5, 0.25, 3.0, 7.0, 9.0, -2.0],
            &[0.0; 9],
        );
        check_bound(&[3.0], &[3.0]);
        check_bound(&[-127.0, 127.0, 0.5], &[1.0, -2.0, 0.25]);
    }

    #[test]
    fn vector_and_portable_coders_agree() {
        // The AVX-512 loops (simd::row_code) and the portable ones give the
        // same codes (same rounding) and sums equal up to their order.
        let _level = crate::simd::test_level_lock();
        let mut s = 9u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for d in [1usize, 5, 8, 9, 16, 33, 128] {
            let x: Vec<f64> = (0..d).map(|_| 2.0 + next()).collect();
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mu: Vec<f32> = (0..d).map(|_| (2.0 + next()) as f32).collect();
            let mu_norm = norm(mu.iter().map(|&m| m as f64));
            let run = |level| {
                crate::simd::set_max_level(Some(level));
                let (mut c1, mut c2) = (vec![0i8; d], vec![0i8; d]);
                let r1 = code_row(&x, &mu, mu_norm, &mut c1);
                let r2 = code_row(&xf, &mu, mu_norm, &mut c2);
                (r1, c1, r2, c2)
            };
            let a = run(crate::simd::Level::Baseline);
            let b = run(crate::simd::Level::Avx512);
            crate::simd::set_max_level(None);
            assert_eq!((&a.1, &a.3), (&b.1, &b.3), "d={d}");
            for (p, v) in [(a.0, b.0), (a.2, b.2)] {
                assert_eq!(p.scale, v.scale);
                let close = |u: f64, w: f64| (u - w).abs() <= 1e-12 * u.abs().max(w.abs()) + 1e-300;
                assert!(
                    close(p.err as f64, v.err as f64)
                        || p.err.next_up() == v.err
                        || v.err.next_up() == p.err
                );
                assert!(close(p.centred_sq, v.centred_sq) && close(p.mu_dot, v.mu_dot));
            }
        }
    }

    #[test]
    fn unusable_rows_are_unbounded() {
        let mut c = [0i8; 3];
        for x in [
            [1.0, f64::NAN, 0.0],
            [f64::INFINITY, 0.0, 0.0],
            [1e300, 0.0, 0.0],
            [1e-320, 1e-321, 0.0], // the step would be subnormal
        ] {
            let r = code_row(&x, &[0.0; 3], 0.0, &mut c);
            assert_eq!(r.err, f32::INFINITY, "{x:?}");
            assert_eq!(c, [0; 3]);
        }
    }

    #[test]
    fn centre_is_the_mean_of_finite_entries() {
        let x = [1.0f64, f64::NAN, 3.0, 5.0, f64::INFINITY, 7.0];
        assert_eq!(column_means(&x, 2), vec![2.0, 6.0]);
        assert_eq!(column_means(&[f64::NAN, 1.0], 2), vec![0.0, 1.0]);
    }
}
