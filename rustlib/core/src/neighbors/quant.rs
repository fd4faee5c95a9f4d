//! int8 codes of rows with a rigorous bound on what the rounding lost — the
//! data of the pre-scan that lets one-query index searches skip most rows
//! (see `prefilter`).
//!
//! A row `x` is stored as `scale · c` with `c_j = round(x_j / scale)` in
//! [-127, 127] and `scale = max|x_j| / 127`, together with `err ≥ ‖x − scale·c‖`
//! and `norm ≥ ‖x‖ + err` (both rounded up). With a query coded the same way,
//! `|q·x − s_q s_x (g·c)| ≤ ‖q‖·err_x + err_q·(‖x‖ + err_x)`, and the integer
//! dot product `g·c` is exact (an i32, see [`MAX_DIM`]).

use crate::float::Float;
use crate::simd::int8_dots::{BLOCK_ROWS, GROUP_BYTES};

/// Rows longer than this get no codes (the integer dot products, up to
/// `dim · 255 · 127`, and the offset `128 · Σ g` must fit an i32).
pub(crate) const MAX_DIM: usize = 65_536;

/// What one row's code needs besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RowCode {
    /// The step of the code (`x ≈ scale · c`); 0 for a zero row.
    pub scale: f32,
    /// An upper bound of `‖x − scale·c‖`; `+inf` if the row has no usable code
    /// (a NaN or infinity in it, or magnitudes outside the float32 range).
    pub err: f32,
    /// An upper bound of `‖x‖ + err`.
    pub norm: f32,
}

impl RowCode {
    /// A row the code cannot bound: every bound built on it is infinite, so a
    /// search always looks at the row itself.
    pub const UNBOUNDED: RowCode = RowCode {
        scale: 0.0,
        err: f32::INFINITY,
        norm: f32::INFINITY,
    };
}

/// Rounds a non-negative float64 bound to a float32 that is not smaller.
#[inline]
fn up_f32(v: f64) -> f32 {
    let r = v as f32;
    if (r as f64) < v {
        r.next_up()
    } else {
        r
    }
}

/// Codes one row into `out` (same length) and returns its [`RowCode`].
pub(crate) fn code_row<T: Float>(x: &[T], out: &mut [i8]) -> RowCode {
    let mut max = 0.0f64;
    let mut sq = 0.0f64;
    for v in x {
        let f = v.to_f64();
        max = max.max(f.abs());
        sq += f * f;
    }
    out.fill(0);
    // `max` ignores NaN, so check the sum (NaN or inf if any entry is).
    if !sq.is_finite() || max > (f32::MAX / 256.0) as f64 {
        return RowCode::UNBOUNDED;
    }
    if max == 0.0 {
        return RowCode {
            scale: 0.0,
            err: 0.0,
            norm: 0.0,
        };
    }
    let scale = (max / 127.0) as f32;
    if !scale.is_normal() {
        return RowCode::UNBOUNDED;
    }
    let s = scale as f64;
    let mut err2 = 0.0f64;
    for (v, o) in x.iter().zip(out.iter_mut()) {
        let f = v.to_f64();
        let c = (f / s).round().clamp(-127.0, 127.0);
        *o = c as i8;
        let r = f - s * c;
        err2 += r * r;
    }
    // float64 sums of float64 squares of float32-range values: a relative
    // rounding error of at most dim · 2⁻⁵³, far below the 2⁻²⁰ added here.
    let slack = 1.0 + 1.0 / (1u64 << 20) as f64;
    let err = err2.sqrt() * slack;
    let norm = (sq.sqrt() + err) * slack;
    if !norm.is_finite() || norm > f32::MAX as f64 {
        return RowCode::UNBOUNDED;
    }
    RowCode {
        scale,
        err: up_f32(err),
        norm: up_f32(norm),
    }
}

/// The codes of the rows of an index, grown by every `add`: the bytes in the
/// blocked layout of [`crate::simd::int8_dots`] (16 rows per block, each
/// element stored as `code + 128`), the fields of [`RowCode`] as separate
/// arrays (the pre-scan reads them as vectors).
#[derive(Debug, Clone, Default)]
pub(crate) struct Codes {
    pub dim: usize,
    pub bytes: Vec<u8>,
    pub scale: Vec<f32>,
    pub err: Vec<f32>,
    pub norm: Vec<f32>,
    /// The rows' score term (`‖x‖²` or `1/‖x‖`, see `row_aux`) in float32.
    pub aux: Vec<f32>,
}

impl Codes {
    /// No rows of `dim` elements.
    pub fn new(dim: usize) -> Codes {
        Codes {
            dim,
            ..Codes::default()
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

    /// Rows coded.
    pub fn len(&self) -> usize {
        self.scale.len()
    }

    /// Appends the codes of `x` (rows of `dim`) and their score terms `aux`;
    /// parallel for large inputs.
    pub fn append<T: Float>(&mut self, x: &[T], aux: &[T]) {
        let dim = self.dim;
        let old = self.len();
        let added = x.len() / dim;
        // Row-major codes first (in parallel by rows), then the scatter into
        // blocks (in parallel by blocks).
        let mut codes = vec![0i8; added * dim];
        let mut rows = vec![RowCode::UNBOUNDED; added];
        const ROWS: usize = 2048;
        let code = |xs: &[T], cs: &mut [i8], rs: &mut [RowCode]| {
            for ((xr, cr), r) in xs.chunks_exact(dim).zip(cs.chunks_exact_mut(dim)).zip(rs) {
                *r = code_row(xr, cr);
            }
        };
        let bb = self.block_bytes();
        let first = old / BLOCK_ROWS;
        self.bytes
            .resize((old + added).div_ceil(BLOCK_ROWS) * bb, 128);
        let blocks = &mut self.bytes[first * bb..];
        crate::pool::run(x.len(), crate::blocks::MIN_PARALLEL_ELEMENTS, |par| {
            use rayon::prelude::*;
            if par {
                x.par_chunks(ROWS * dim)
                    .zip(codes.par_chunks_mut(ROWS * dim))
                    .zip(rows.par_chunks_mut(ROWS))
                    .for_each(|((xs, cs), rs)| code(xs, cs, rs));
            } else {
                code(x, &mut codes, &mut rows);
            }
            let scatter = |b: usize, blk: &mut [u8]| {
                for r in 0..BLOCK_ROWS {
                    let j = b * BLOCK_ROWS + r;
                    if j < old || j >= old + added {
                        continue;
                    }
                    let row = &codes[(j - old) * dim..(j - old + 1) * dim];
                    for (e, &c) in row.iter().enumerate() {
                        blk[(e / 4) * GROUP_BYTES + 4 * r + e % 4] = (i16::from(c) + 128) as u8;
                    }
                }
            };
            if par {
                blocks
                    .par_chunks_mut(bb)
                    .enumerate()
                    .for_each(|(i, blk)| scatter(first + i, blk));
            } else {
                for (i, blk) in blocks.chunks_mut(bb).enumerate() {
                    scatter(first + i, blk);
                }
            }
        });
        self.scale.extend(rows.iter().map(|r| r.scale));
        self.err.extend(rows.iter().map(|r| r.err));
        self.norm.extend(rows.iter().map(|r| r.norm));
        self.aux.extend(aux.iter().map(|v| v.to_f64() as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_bound(x: &[f64]) {
        let mut c = vec![0i8; x.len()];
        let r = code_row(x, &mut c);
        let s = r.scale as f64;
        let err: f64 = x
            .iter()
            .zip(&c)
            .map(|(&v, &ci)| (v - s * ci as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(err <= r.err as f64, "{err} > {}", r.err);
        assert!(norm + err <= r.norm as f64);
        // The bound is tight enough to be useful: at most half a step per entry.
        assert!(r.err as f64 <= 0.5 * s * (x.len() as f64).sqrt() * 1.001 + 1e-300);
    }

    #[test]
    fn error_bounds_hold() {
        let mut s = 5u64;
        for d in [1usize, 2, 7, 128, 300] {
            for mag in [1e-30, 1e-3, 1.0, 1e6, 1e30] {
                let x: Vec<f64> = (0..d)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                        ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * mag
                    })
                    .collect();
                check_bound(&x);
            }
        }
        check_bound(&[0.0, 0.0]);
        check_bound(&[3.0]);
        check_bound(&[-127.0, 127.0, 0.5]);
    }

    #[test]
    fn unusable_rows_are_unbounded() {
        let mut c = [0i8; 3];
        for x in [
            [1.0, f64::NAN, 0.0],
            [f64::INFINITY, 0.0, 0.0],
            [1e300, 0.0, 0.0],
            [1e-320, 0.0, 0.0], // the step would be subnormal
        ] {
            let r = code_row(&x, &mut c);
            assert_eq!(r.err, f32::INFINITY, "{x:?}");
            assert_eq!(c, [0; 3]);
        }
    }
}
