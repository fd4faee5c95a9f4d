//! Per-column affine transforms and row-wise normalization, one read+write pass.
//!
//! `affine`: `y = (x - sub[j]) * s[j] + add[j]` (or `/ s[j]` with `divide`),
//! then optionally clipped to `[lo, hi]` (NaN stays NaN). This one formula is
//! every scaler's transform and inverse with exactly scikit-learn's IEEE
//! operations (standardize: `(x - mean) / scale`; min-max: `x * scale + min`;
//! their inverses), so results match it bit for bit (up to the sign of zero).
//!
//! `normalize_rows`: each row divided by its l1, l2 or max norm; norms below
//! 10 * epsilon of the dtype are replaced by 1 (scikit-learn's rule).

// Loops index several same-length slices on purpose (the vectorizable form).
#![allow(clippy::needless_range_loop)]

use super::StatsElement;
use crate::float::{halving_sum, Float};
use crate::matrix::Layout;
use crate::multiversion;
use crate::sched;
use crate::{Error, Result};

/// Elements per parallel task.
const TASK_ELEMS: usize = 1 << 15;

/// Parameters of a per-column affine transform (all slices have `cols` values).
#[derive(Clone, Copy, Debug)]
pub struct Affine<'a, T> {
    pub sub: &'a [T],
    pub scale: &'a [T],
    pub add: &'a [T],
    /// Divide by `scale` instead of multiplying.
    pub divide: bool,
    /// Clip the result to `[lo, hi]`.
    pub clip: Option<(T, T)>,
    /// Also report whether the input holds ±inf (costs nothing measurable:
    /// a running max of |x| per column in the same pass).
    pub check_inf: bool,
}

#[inline(always)]
fn absmax<T: Float>(m: T, v: T) -> T {
    let a = if v < T::ZERO { T::ZERO - v } else { v };
    if a > m {
        a
    } else {
        m
    }
}

#[inline(always)]
fn op<T: Float, const DIV: bool, const CLIP: bool>(v: T, s: T, m: T, a: T, lo: T, hi: T) -> T {
    let d = v - s;
    let y = if DIV { d / m } else { d * m } + a;
    if CLIP {
        if y < lo {
            lo
        } else if y > hi {
            hi
        } else {
            y
        }
    } else {
        y
    }
}

/// Rows of `d = sub.len()` values; `out` like `x` (or `None`: in place in `x`).
/// Returns whether an input value was ±inf (only computed with `CHK`).
#[inline(always)]
fn rows_kernel<T: Float, const DIV: bool, const CLIP: bool, const CHK: bool>(
    x: &mut [T],
    src: Option<&[T]>,
    p: &Affine<'_, T>,
) -> bool {
    let d = p.sub.len();
    let (sub, sc, add) = (&p.sub[..d], &p.scale[..d], &p.add[..d]);
    let (lo, hi) = p.clip.unwrap_or((T::ZERO, T::ZERO));
    let mut am = vec![T::ZERO; if CHK { d } else { 0 }];
    match src {
        Some(src) => {
            for (o, i) in x.chunks_exact_mut(d).zip(src.chunks_exact(d)) {
                let (o, i) = (&mut o[..d], &i[..d]);
                if CHK {
                    let am = &mut am[..d];
                    for j in 0..d {
                        am[j] = absmax(am[j], i[j]);
                        o[j] = op::<T, DIV, CLIP>(i[j], sub[j], sc[j], add[j], lo, hi);
                    }
                } else {
                    for j in 0..d {
                        o[j] = op::<T, DIV, CLIP>(i[j], sub[j], sc[j], add[j], lo, hi);
                    }
                }
            }
        }
        None => {
            for o in x.chunks_exact_mut(d) {
                let o = &mut o[..d];
                if CHK {
                    let am = &mut am[..d];
                    for j in 0..d {
                        am[j] = absmax(am[j], o[j]);
                        o[j] = op::<T, DIV, CLIP>(o[j], sub[j], sc[j], add[j], lo, hi);
                    }
                } else {
                    for j in 0..d {
                        o[j] = op::<T, DIV, CLIP>(o[j], sub[j], sc[j], add[j], lo, hi);
                    }
                }
            }
        }
    }
    am.contains(&T::INFINITY)
}

/// One column (contiguous) with scalar parameters; returns whether it held ±inf
/// (only computed with `CHK`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn col_kernel<T: Float, const DIV: bool, const CLIP: bool, const CHK: bool>(
    x: &mut [T],
    src: Option<&[T]>,
    s: T,
    m: T,
    a: T,
    lo: T,
    hi: T,
) -> bool {
    const L: usize = 8;
    let mut am = [T::ZERO; L];
    match src {
        Some(src) => {
            let mut oc = x.chunks_exact_mut(L);
            let mut ic = src.chunks_exact(L);
            for (o, i) in (&mut oc).zip(&mut ic) {
                for k in 0..L {
                    if CHK {
                        am[k] = absmax(am[k], i[k]);
                    }
                    o[k] = op::<T, DIV, CLIP>(i[k], s, m, a, lo, hi);
                }
            }
            for (o, &i) in oc.into_remainder().iter_mut().zip(ic.remainder()) {
                if CHK {
                    am[0] = absmax(am[0], i);
                }
                *o = op::<T, DIV, CLIP>(i, s, m, a, lo, hi);
            }
        }
        None => {
            let mut oc = x.chunks_exact_mut(L);
            for o in &mut oc {
                for k in 0..L {
                    if CHK {
                        am[k] = absmax(am[k], o[k]);
                    }
                    o[k] = op::<T, DIV, CLIP>(o[k], s, m, a, lo, hi);
                }
            }
            for o in oc.into_remainder().iter_mut() {
                if CHK {
                    am[0] = absmax(am[0], *o);
                }
                *o = op::<T, DIV, CLIP>(*o, s, m, a, lo, hi);
            }
        }
    }
    am.contains(&T::INFINITY)
}

macro_rules! dispatch {
    ($p:expr, $f:ident, $($arg:expr),*) => {
        match ($p.divide, $p.clip.is_some(), $p.check_inf) {
            (false, false, false) => $f::<T, false, false, false>($($arg),*),
            (false, true, false) => $f::<T, false, true, false>($($arg),*),
            (true, false, false) => $f::<T, true, false, false>($($arg),*),
            (true, true, false) => $f::<T, true, true, false>($($arg),*),
            (false, false, true) => $f::<T, false, false, true>($($arg),*),
            (false, true, true) => $f::<T, false, true, true>($($arg),*),
            (true, false, true) => $f::<T, true, false, true>($($arg),*),
            (true, true, true) => $f::<T, true, true, true>($($arg),*),
        }
    };
}

#[inline(always)]
fn rows_dispatch<T: Float>(x: &mut [T], src: Option<&[T]>, p: &Affine<'_, T>) -> bool {
    dispatch!(p, rows_kernel, x, src, p)
}

#[inline(always)]
fn col_dispatch<T: Float>(x: &mut [T], src: Option<&[T]>, p: &Affine<'_, T>, j: usize) -> bool {
    let (s, m, a) = (p.sub[j], p.scale[j], p.add[j]);
    let (lo, hi) = p.clip.unwrap_or((T::ZERO, T::ZERO));
    dispatch!(p, col_kernel, x, src, s, m, a, lo, hi)
}

multiversion! {
    fn rows_f64(x: &mut [f64], src: Option<&[f64]>, p: &Affine<'_, f64>) -> bool = rows_dispatch::<f64>;
}
multiversion! {
    fn rows_f32(x: &mut [f32], src: Option<&[f32]>, p: &Affine<'_, f32>) -> bool = rows_dispatch::<f32>;
}
multiversion! {
    fn col_f64(x: &mut [f64], src: Option<&[f64]>, p: &Affine<'_, f64>, j: usize) -> bool = col_dispatch::<f64>;
}
multiversion! {
    fn col_f32(x: &mut [f32], src: Option<&[f32]>, p: &Affine<'_, f32>, j: usize) -> bool = col_dispatch::<f32>;
}

/// Row norm kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    L1,
    L2,
    Max,
}

const NL: usize = 8;

#[inline(always)]
fn row_norm<T: Float>(row: &[T], norm: Norm) -> f64 {
    let mut acc = [0.0f64; NL];
    let ch = row.chunks_exact(NL);
    let rem = ch.remainder();
    match norm {
        Norm::L1 => {
            for c in ch {
                for k in 0..NL {
                    acc[k] += c[k].to_f64().abs();
                }
            }
            for (k, v) in rem.iter().enumerate() {
                acc[k] += v.to_f64().abs();
            }
        }
        Norm::L2 => {
            for c in ch {
                for k in 0..NL {
                    let v = c[k].to_f64();
                    acc[k] += v * v;
                }
            }
            for (k, v) in rem.iter().enumerate() {
                let v = v.to_f64();
                acc[k] += v * v;
            }
        }
        Norm::Max => {
            // `nz` sums x * 0: NaN if the row holds NaN or inf (so the norm is
            // non-finite like numpy's max(|x|), which propagates NaN).
            let mut nz = [0.0f64; NL];
            for c in ch {
                for k in 0..NL {
                    let x = c[k].to_f64();
                    let v = x.abs();
                    acc[k] = if v > acc[k] { v } else { acc[k] };
                    nz[k] += x * 0.0;
                }
            }
            for (k, x) in rem.iter().enumerate() {
                let x = x.to_f64();
                let v = x.abs();
                acc[k] = if v > acc[k] { v } else { acc[k] };
                nz[k] += x * 0.0;
            }
            let mut m = 0.0f64;
            for (a, z) in acc.iter().zip(nz) {
                m = if *a > m { *a } else { m };
                m += z;
            }
            return m;
        }
    }
    let sum = halving_sum(acc);
    if norm == Norm::L2 {
        sum.sqrt()
    } else {
        sum
    }
}

#[inline(always)]
fn finish_norm<T: StatsElement>(n: f64) -> T {
    let t = T::from_f64(n);
    if t.to_f64() < 10.0 * T::EPSILON.to_f64() {
        T::from_f64(1.0)
    } else {
        t
    }
}

/// Returns the number of rows whose norm is not finite (NaN/inf in the row,
/// or an overflowing sum of squares).
#[inline(always)]
fn normrows_body<T: StatsElement>(x: &mut [T], src: Option<&[T]>, d: usize, norm: Norm) -> usize {
    let mut bad = 0usize;
    match src {
        Some(src) => {
            for (o, i) in x.chunks_exact_mut(d).zip(src.chunks_exact(d)) {
                let nf = row_norm(i, norm);
                bad += usize::from(!nf.is_finite());
                let n: T = finish_norm(nf);
                for (o, &v) in o.iter_mut().zip(i) {
                    *o = v / n;
                }
            }
        }
        None => {
            for o in x.chunks_exact_mut(d) {
                let nf = row_norm(o, norm);
                bad += usize::from(!nf.is_finite());
                let n: T = finish_norm(nf);
                for v in o.iter_mut() {
                    *v = *v / n;
                }
            }
        }
    }
    bad
}

multiversion! {
    fn normrows_f64(x: &mut [f64], src: Option<&[f64]>, d: usize, norm: Norm) -> usize = normrows_body::<f64>;
}
multiversion! {
    fn normrows_f32(x: &mut [f32], src: Option<&[f32]>, d: usize, norm: Norm) -> usize = normrows_body::<f32>;
}

/// Element types with dispatched transform kernels.
pub trait TransformElement: StatsElement {
    #[doc(hidden)]
    fn rows(x: &mut [Self], src: Option<&[Self]>, p: &Affine<'_, Self>) -> bool;
    #[doc(hidden)]
    fn col(x: &mut [Self], src: Option<&[Self]>, p: &Affine<'_, Self>, j: usize) -> bool;
    #[doc(hidden)]
    fn normrows(x: &mut [Self], src: Option<&[Self]>, d: usize, norm: Norm) -> usize;
}

macro_rules! impl_te {
    ($t:ty, $rows:ident, $col:ident, $nr:ident) => {
        impl TransformElement for $t {
            fn rows(x: &mut [$t], src: Option<&[$t]>, p: &Affine<'_, $t>) -> bool {
                $rows(x, src, p)
            }
            fn col(x: &mut [$t], src: Option<&[$t]>, p: &Affine<'_, $t>, j: usize) -> bool {
                $col(x, src, p, j)
            }
            fn normrows(x: &mut [$t], src: Option<&[$t]>, d: usize, norm: Norm) -> usize {
                $nr(x, src, d, norm)
            }
        }
    };
}
impl_te!(f64, rows_f64, col_f64, normrows_f64);
impl_te!(f32, rows_f32, col_f32, normrows_f32);

fn check_shape(len: usize, rows: usize, cols: usize, what: &str) -> Result<()> {
    if rows.checked_mul(cols) != Some(len) {
        return Err(Error::LengthMismatch(format!(
            "{what}: buffer of {len} elements does not match shape ({rows}, {cols})"
        )));
    }
    Ok(())
}

/// Applies the affine transform to a `rows x cols` matrix in `layout`:
/// from `src` into `x` when `src` is given (same length), else in place in `x`.
/// Returns whether the input held ±inf (always `false` unless `p.check_inf`).
pub fn affine<T: TransformElement>(
    x: &mut [T],
    src: Option<&[T]>,
    rows: usize,
    cols: usize,
    layout: Layout,
    p: &Affine<'_, T>,
) -> Result<bool> {
    check_shape(x.len(), rows, cols, "affine")?;
    if let Some(s) = src {
        check_shape(s.len(), rows, cols, "affine")?;
    }
    if p.sub.len() != cols || p.scale.len() != cols || p.add.len() != cols {
        return Err(Error::LengthMismatch(format!(
            "affine: parameters have {}/{}/{} values, expected {cols} (one per column)",
            p.sub.len(),
            p.scale.len(),
            p.add.len()
        )));
    }
    if let Some((lo, hi)) = p.clip {
        if lo
            .partial_cmp(&hi)
            .is_none_or(|o| o == std::cmp::Ordering::Greater)
        {
            return Err(Error::InvalidArgument(format!(
                "affine: clip range [{lo:?}, {hi:?}] is empty or NaN"
            )));
        }
    }
    if x.is_empty() {
        return Ok(false);
    }
    let n = x.len();
    let team = sched::team(n, crate::blocks::MIN_PARALLEL_ELEMENTS);
    let par = team.is_parallel();
    let inf = match layout {
        Layout::RowMajor => {
            let chunk = (TASK_ELEMS / cols).max(1) * cols;
            match (par, src) {
                (true, Some(s)) => team
                    .map_chunks_mut(x, chunk, |i, o| {
                        T::rows(o, Some(&s[i * chunk..i * chunk + o.len()]), p)
                    })
                    .contains(&true),
                (true, None) => team
                    .map_chunks_mut(x, chunk, |_, o| T::rows(o, None, p))
                    .contains(&true),
                (false, s) => T::rows(x, s, p),
            }
        }
        Layout::ColMajor => {
            // Tasks of whole columns (`per` of them), column j at x[j * rows..].
            let per = (TASK_ELEMS / rows).max(1);
            let cols_of = |i: usize, o: &mut [T]| {
                let mut inf = false;
                for (c, oc) in o.chunks_mut(rows).enumerate() {
                    let j = i * per + c;
                    inf |= T::col(oc, src.map(|s| &s[j * rows..(j + 1) * rows]), p, j);
                }
                inf
            };
            if par {
                team.map_chunks_mut(x, per * rows, cols_of).contains(&true)
            } else {
                cols_of(0, &mut x[..])
            }
        }
    };
    Ok(inf)
}

/// Divides each row of a `rows x cols` matrix by its norm (from `src` into
/// `x`, or in place). Zero (and below 10 * epsilon) norms count as 1.
/// Returns the number of rows whose norm is not finite (NaN or inf in the
/// row, or a sum of squares that overflows).
pub fn normalize_rows<T: TransformElement>(
    x: &mut [T],
    src: Option<&[T]>,
    rows: usize,
    cols: usize,
    layout: Layout,
    norm: Norm,
) -> Result<usize> {
    check_shape(x.len(), rows, cols, "normalize_rows")?;
    if let Some(s) = src {
        check_shape(s.len(), rows, cols, "normalize_rows")?;
    }
    if x.is_empty() {
        return Ok(0);
    }
    let team = sched::team(x.len(), crate::blocks::MIN_PARALLEL_ELEMENTS);
    let par = team.is_parallel();
    let bad = {
        match layout {
            Layout::RowMajor => {
                let chunk = (TASK_ELEMS / cols).max(1) * cols;
                match (par, src) {
                    (true, Some(s)) => team
                        .map_chunks_mut(x, chunk, |i, o| {
                            T::normrows(o, Some(&s[i * chunk..i * chunk + o.len()]), cols, norm)
                        })
                        .into_iter()
                        .sum(),
                    (true, None) => team
                        .map_chunks_mut(x, chunk, |_, o| T::normrows(o, None, cols, norm))
                        .into_iter()
                        .sum(),
                    (false, s) => T::normrows(x, s, cols, norm),
                }
            }
            Layout::ColMajor => {
                // Norms first (one value per row; not the size of the input),
                // then one read+write pass per column.
                let data: &[T] = match src {
                    Some(s) => s,
                    None => x,
                };
                let mut acc = vec![0.0f64; rows];
                let fill = |r0: usize, a: &mut [f64]| {
                    for j in 0..cols {
                        let c = &data[j * rows + r0..][..a.len()];
                        for (a, &v) in a.iter_mut().zip(c) {
                            let v = v.to_f64();
                            match norm {
                                Norm::L1 => *a += v.abs(),
                                Norm::L2 => *a += v * v,
                                Norm::Max => {
                                    *a = if v.is_nan() || a.is_nan() {
                                        f64::NAN
                                    } else if v.abs() > *a {
                                        v.abs()
                                    } else {
                                        *a
                                    }
                                }
                            }
                        }
                    }
                };
                if par {
                    team.for_each_chunk_mut(&mut acc, 4096, |b, a| fill(b * 4096, a));
                } else {
                    fill(0, &mut acc);
                }
                let bad = acc.iter().filter(|a| !a.is_finite()).count();
                let nrm: Vec<T> = acc
                    .iter()
                    .map(|&a| finish_norm(if norm == Norm::L2 { a.sqrt() } else { a }))
                    .collect();
                let apply = |o: &mut [T], i: Option<&[T]>| match i {
                    Some(i) => {
                        for ((o, &v), &n) in o.iter_mut().zip(i).zip(&nrm) {
                            *o = v / n;
                        }
                    }
                    None => {
                        for (o, &n) in o.iter_mut().zip(&nrm) {
                            *o = *o / n;
                        }
                    }
                };
                match (par, src) {
                    (true, Some(s)) => team.for_each_chunk_mut(x, rows, |j, o| {
                        apply(o, Some(&s[j * rows..(j + 1) * rows]))
                    }),
                    (true, None) => team.for_each_chunk_mut(x, rows, |_, o| apply(o, None)),
                    (false, Some(s)) => {
                        for (o, i) in x.chunks_mut(rows).zip(s.chunks(rows)) {
                            apply(o, Some(i))
                        }
                    }
                    (false, None) => {
                        for o in x.chunks_mut(rows) {
                            apply(o, None)
                        }
                    }
                }
                bad
            }
        }
    };
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_c_f_inplace_match_formula() {
        let (rows, cols) = (1001, 7);
        let x: Vec<f64> = (0..rows * cols)
            .map(|i| (i as f64 * 0.37).sin() * 9.0)
            .collect();
        let sub: Vec<f64> = (0..cols).map(|j| j as f64 * 0.5).collect();
        let sc: Vec<f64> = (0..cols).map(|j| 1.0 + j as f64).collect();
        let add = vec![0.25; cols];
        for divide in [false, true] {
            for clip in [None, Some((-1.0, 2.0))] {
                let p = Affine {
                    sub: &sub,
                    scale: &sc,
                    add: &add,
                    divide,
                    clip,
                    check_inf: clip.is_some(),
                };
                let want: Vec<f64> = (0..rows * cols)
                    .map(|i| {
                        let j = i % cols;
                        let d = x[i] - sub[j];
                        let y = if divide { d / sc[j] } else { d * sc[j] } + add[j];
                        clip.map_or(y, |(lo, hi)| y.clamp(lo, hi))
                    })
                    .collect();
                let mut out = vec![0.0; rows * cols];
                affine(&mut out, Some(&x), rows, cols, Layout::RowMajor, &p).unwrap();
                assert_eq!(out, want);
                let mut inp = x.clone();
                affine(&mut inp, None, rows, cols, Layout::RowMajor, &p).unwrap();
                assert_eq!(inp, want);
                // F order: transpose in, transpose out.
                let mut f = vec![0.0; rows * cols];
                for i in 0..rows {
                    for j in 0..cols {
                        f[j * rows + i] = x[i * cols + j];
                    }
                }
                let mut fo = vec![0.0; rows * cols];
                affine(&mut fo, Some(&f), rows, cols, Layout::ColMajor, &p).unwrap();
                affine(&mut f, None, rows, cols, Layout::ColMajor, &p).unwrap();
                assert_eq!(f, fo);
                for i in 0..rows {
                    for j in 0..cols {
                        assert_eq!(fo[j * rows + i], want[i * cols + j]);
                    }
                }
            }
        }
        let nan = [f64::NAN];
        let mut o = [0.0];
        let p = Affine {
            sub: &[0.0],
            scale: &[1.0],
            add: &[0.0],
            divide: false,
            clip: Some((0.0, 1.0)),
            check_inf: true,
        };
        assert!(!affine(&mut o, Some(&nan), 1, 1, Layout::RowMajor, &p).unwrap());
        assert!(o[0].is_nan());
        let inf = [f64::NEG_INFINITY];
        assert!(affine(&mut o, Some(&inf), 1, 1, Layout::ColMajor, &p).unwrap());
        assert!(affine(&mut o, Some(&inf), 1, 1, Layout::RowMajor, &p).unwrap());
    }

    #[test]
    fn normalize_rows_all_norms_c_and_f() {
        let (rows, cols) = (513, 13);
        let mut x: Vec<f64> = (0..rows * cols).map(|i| (i as f64 * 0.71).cos()).collect();
        for j in 0..cols {
            x[5 * cols + j] = 0.0; // a zero row stays zero
        }
        for norm in [Norm::L1, Norm::L2, Norm::Max] {
            let mut out = vec![0.0; rows * cols];
            normalize_rows(&mut out, Some(&x), rows, cols, Layout::RowMajor, norm).unwrap();
            let mut f = vec![0.0; rows * cols];
            for i in 0..rows {
                for j in 0..cols {
                    f[j * rows + i] = x[i * cols + j];
                }
            }
            normalize_rows(&mut f, None, rows, cols, Layout::ColMajor, norm).unwrap();
            for i in 0..rows {
                let r = &x[i * cols..(i + 1) * cols];
                let n = match norm {
                    Norm::L1 => r.iter().map(|v| v.abs()).sum::<f64>(),
                    Norm::L2 => r.iter().map(|v| v * v).sum::<f64>().sqrt(),
                    Norm::Max => r.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                };
                let n = if n < 10.0 * f64::EPSILON { 1.0 } else { n };
                for j in 0..cols {
                    let want = r[j] / n;
                    assert!((out[i * cols + j] - want).abs() <= 1e-15 * want.abs().max(1e-300));
                    assert!((f[j * rows + i] - want).abs() <= 1e-15 * want.abs().max(1e-300));
                }
            }
        }
    }
}
