//! Per-column NaN-ignoring minimum and maximum only: the lean pass of
//! MinMaxScaler / MaxAbsScaler fits (2 operations per value instead of the
//! full fused statistics). Same panels, leaves and fixed tree as `col_stats`.

use super::fixed_tree;
use crate::float::Float;
use crate::matrix::{Layout, MatRef};

const LEAF_ELEMS: usize = 16384;
const LANES: usize = 16;

#[inline(always)]
fn lo<T: Float>(a: T, v: T) -> T {
    if v < a {
        v
    } else {
        a
    }
}
#[inline(always)]
fn hi<T: Float>(a: T, v: T) -> T {
    if v > a {
        v
    } else {
        a
    }
}

/// Min/max of rows `r0..r1`, columns `col..col + N`, into `mn[at..]`/`mx[at..]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn panel<T: Float, const N: usize>(
    x: &[T],
    stride: usize,
    col: usize,
    r0: usize,
    r1: usize,
    mn: &mut [T],
    mx: &mut [T],
    at: usize,
) {
    let mut a = [T::INFINITY; N];
    let mut b = [T::NEG_INFINITY; N];
    for r in r0..r1 {
        let base = r * stride + col;
        let row = &x[base..base + N];
        for j in 0..N {
            a[j] = lo(a[j], row[j]);
            b[j] = hi(b[j], row[j]);
        }
    }
    mn[at..at + N].copy_from_slice(&a);
    mx[at..at + N].copy_from_slice(&b);
}

#[inline(always)]
fn leaf<T: Float>(
    x: &[T],
    stride: usize,
    c0: usize,
    width: usize,
    r0: usize,
    r1: usize,
) -> (Vec<T>, Vec<T>) {
    let mut mn = vec![T::INFINITY; width];
    let mut mx = vec![T::NEG_INFINITY; width];
    let mut c = 0;
    // Two accumulators per column: 32-wide panels fit the registers, so a
    // 32-column row is read in one sequential sweep.
    while width - c >= 32 {
        panel::<T, 32>(x, stride, c0 + c, r0, r1, &mut mn, &mut mx, c);
        c += 32;
    }
    while width - c >= 16 {
        panel::<T, 16>(x, stride, c0 + c, r0, r1, &mut mn, &mut mx, c);
        c += 16;
    }
    if width - c >= 8 {
        panel::<T, 8>(x, stride, c0 + c, r0, r1, &mut mn, &mut mx, c);
        c += 8;
    }
    while c < width {
        panel::<T, 1>(x, stride, c0 + c, r0, r1, &mut mn, &mut mx, c);
        c += 1;
    }
    (mn, mx)
}

crate::multiversion! {
    fn leaf_f64(x: &[f64], stride: usize, c0: usize, width: usize, r0: usize, r1: usize) -> (Vec<f64>, Vec<f64>) = leaf::<f64>;
}
crate::multiversion! {
    fn leaf_f32(x: &[f32], stride: usize, c0: usize, width: usize, r0: usize, r1: usize) -> (Vec<f32>, Vec<f32>) = leaf::<f32>;
}

/// Element types with a dispatched min/max leaf.
pub trait MinMaxElement: Float {
    #[doc(hidden)]
    fn leaf(
        x: &[Self],
        stride: usize,
        c0: usize,
        width: usize,
        r0: usize,
        r1: usize,
    ) -> (Vec<Self>, Vec<Self>);
}
impl MinMaxElement for f64 {
    fn leaf(
        x: &[f64],
        stride: usize,
        c0: usize,
        width: usize,
        r0: usize,
        r1: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        leaf_f64(x, stride, c0, width, r0, r1)
    }
}
impl MinMaxElement for f32 {
    fn leaf(
        x: &[f32],
        stride: usize,
        c0: usize,
        width: usize,
        r0: usize,
        r1: usize,
    ) -> (Vec<f32>, Vec<f32>) {
        leaf_f32(x, stride, c0, width, r0, r1)
    }
}

fn merge<T: Float>(mut a: (Vec<T>, Vec<T>), b: (Vec<T>, Vec<T>)) -> (Vec<T>, Vec<T>) {
    for (x, y) in a.0.iter_mut().zip(b.0) {
        *x = lo(*x, y);
    }
    for (x, y) in a.1.iter_mut().zip(b.1) {
        *x = hi(*x, y);
    }
    a
}

fn rows_minmax<T: MinMaxElement>(
    x: &[T],
    rows: usize,
    stride: usize,
    c0: usize,
    width: usize,
) -> (Vec<T>, Vec<T>) {
    if rows == 0 || width == 0 {
        return (vec![T::INFINITY; width], vec![T::NEG_INFINITY; width]);
    }
    let rpb = (LEAF_ELEMS / width).max(1);
    fixed_tree(
        rows.div_ceil(rpb),
        rows * width,
        &|b| T::leaf(x, stride, c0, width, b * rpb, ((b + 1) * rpb).min(rows)),
        &merge,
    )
}

/// Per-column `(min, max)` ignoring NaN (`+inf`/`-inf` for a column without
/// values), C or F order. Exact (no arithmetic), so any order gives the same result.
///
/// ```
/// use ferrokit_core::matrix::{Layout, MatRef};
/// use ferrokit_core::stats::minmax::col_minmax;
/// let x = [1.0, f64::NAN, -2.0, 5.0];
/// let (mn, mx) = col_minmax(MatRef::new(&x, 2, 2, Layout::RowMajor).unwrap());
/// assert_eq!((mn, mx), (vec![-2.0, 5.0], vec![1.0, 5.0]));
/// ```
pub fn col_minmax<T: MinMaxElement>(x: MatRef<'_, T>) -> (Vec<T>, Vec<T>) {
    match x.layout {
        Layout::RowMajor => {
            let mut mn = Vec::with_capacity(x.cols);
            let mut mx = Vec::with_capacity(x.cols);
            let mut c0 = 0;
            while c0 < x.cols {
                let width = 256.min(x.cols - c0);
                let (a, b) = rows_minmax(x.data, x.rows, x.cols, c0, width);
                mn.extend(a);
                mx.extend(b);
                c0 += width;
            }
            (mn, mx)
        }
        Layout::ColMajor => {
            let mut mn = Vec::with_capacity(x.cols);
            let mut mx = Vec::with_capacity(x.cols);
            for j in 0..x.cols {
                let col = x.col(j);
                let full = col.len() / LANES * LANES;
                let (a, b) = rows_minmax(&col[..full], full / LANES, LANES, 0, LANES);
                let mut m = (T::INFINITY, T::NEG_INFINITY);
                for (&p, &q) in a.iter().zip(&b).chain(col[full..].iter().zip(&col[full..])) {
                    m = (lo(m.0, p), hi(m.1, q));
                }
                mn.push(m.0);
                mx.push(m.1);
            }
            (mn, mx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::col_stats;

    #[test]
    fn matches_col_stats() {
        for &(rows, cols) in &[(0usize, 3usize), (1, 1), (37, 3), (3001, 33), (100, 300)] {
            let mut x: Vec<f64> = (0..rows * cols)
                .map(|i| ((i * 7919) % 1013) as f64 - 500.0)
                .collect();
            for i in (0..x.len()).step_by(7) {
                x[i] = f64::NAN;
            }
            for layout in [Layout::RowMajor, Layout::ColMajor] {
                let m = MatRef::new(&x, rows, cols, layout).unwrap();
                let s = col_stats(m, None).unwrap();
                let (mn, mx) = col_minmax(m);
                assert_eq!(mn, s.min, "{rows}x{cols} {layout:?}");
                assert_eq!(mx, s.max);
                let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let (a, b) = col_minmax(MatRef::new(&xf, rows, cols, layout).unwrap());
                assert_eq!(a.iter().map(|&v| v as f64).collect::<Vec<_>>(), s.min);
                assert_eq!(b.iter().map(|&v| v as f64).collect::<Vec<_>>(), s.max);
            }
        }
    }
}
