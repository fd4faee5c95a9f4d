//! Per-column argmin / argmax with numpy's rules: the first occurrence wins,
//! and a column holding NaN reports the index of its first NaN.

use super::fixed_tree;
use crate::float::Float;
use crate::matrix::{Layout, MatRef};
use crate::{Error, Result};

const NONE: usize = usize::MAX;
const LEAF_ROWS: usize = 4096;

#[derive(Clone)]
struct Ext {
    minv: Vec<f64>,
    mini: Vec<usize>,
    maxv: Vec<f64>,
    maxi: Vec<usize>,
    nan: Vec<usize>,
}

impl Ext {
    fn new(c: usize) -> Self {
        Ext {
            minv: vec![f64::INFINITY; c],
            mini: vec![NONE; c],
            maxv: vec![f64::NEG_INFINITY; c],
            maxi: vec![NONE; c],
            nan: vec![NONE; c],
        }
    }
    /// `self` covers earlier rows than `b`: ties keep `self`.
    fn merge(mut self, b: Ext) -> Ext {
        for j in 0..self.minv.len() {
            if b.mini[j] != NONE && (self.mini[j] == NONE || b.minv[j] < self.minv[j]) {
                self.minv[j] = b.minv[j];
                self.mini[j] = b.mini[j];
            }
            if b.maxi[j] != NONE && (self.maxi[j] == NONE || b.maxv[j] > self.maxv[j]) {
                self.maxv[j] = b.maxv[j];
                self.maxi[j] = b.maxi[j];
            }
            self.nan[j] = self.nan[j].min(b.nan[j]);
        }
        self
    }
}

#[allow(clippy::needless_range_loop)]
fn leaf<T: Float>(x: &[T], stride: usize, cols: usize, r0: usize, r1: usize) -> Ext {
    let mut e = Ext::new(cols);
    for r in r0..r1 {
        let row = &x[r * stride..][..cols];
        for j in 0..cols {
            let v = row[j].to_f64();
            if v.is_nan() {
                if e.nan[j] == NONE {
                    e.nan[j] = r;
                }
                continue;
            }
            if e.mini[j] == NONE || v < e.minv[j] {
                e.minv[j] = v;
                e.mini[j] = r;
            }
            if e.maxi[j] == NONE || v > e.maxv[j] {
                e.maxv[j] = v;
                e.maxi[j] = r;
            }
        }
    }
    e
}

fn rows_ext<T: Float>(x: &[T], rows: usize, stride: usize, cols: usize) -> Ext {
    let n_leaves = rows.div_ceil(LEAF_ROWS).max(1);
    fixed_tree(
        n_leaves,
        rows * cols,
        &|b| {
            leaf(
                x,
                stride,
                cols,
                b * LEAF_ROWS,
                ((b + 1) * LEAF_ROWS).min(rows),
            )
        },
        &Ext::merge,
    )
}

/// Per-column `(argmin, argmax)` row indices. A column with a NaN gives the
/// index of its first NaN for both (numpy's `argmin`/`argmax`). Zero rows is
/// an error (there is no index to return).
///
/// ```
/// use ferrokit_core::matrix::{Layout, MatRef};
/// use ferrokit_core::stats::argext::col_argminmax;
/// let x = [3.0, 1.0, 2.0, 5.0, 1.0, 0.0];
/// let (mn, mx) = col_argminmax(MatRef::new(&x, 3, 2, Layout::RowMajor).unwrap()).unwrap();
/// assert_eq!(mn, vec![2, 2]);
/// assert_eq!(mx, vec![0, 1]);
/// ```
pub fn col_argminmax<T: Float>(x: MatRef<'_, T>) -> Result<(Vec<usize>, Vec<usize>)> {
    if x.rows == 0 && x.cols > 0 {
        return Err(Error::InvalidArgument(
            "argmin/argmax: attempt to get the index of an empty sequence".into(),
        ));
    }
    let e = match x.layout {
        Layout::RowMajor => rows_ext(x.data, x.rows, x.cols, x.cols),
        Layout::ColMajor => {
            let mut e = Ext::new(x.cols);
            for j in 0..x.cols {
                let c = rows_ext(x.col(j), x.rows, 1, 1);
                e.minv[j] = c.minv[0];
                e.mini[j] = c.mini[0];
                e.maxv[j] = c.maxv[0];
                e.maxi[j] = c.maxi[0];
                e.nan[j] = c.nan[0];
            }
            e
        }
    };
    let pick = |i: Vec<usize>| -> Vec<usize> {
        i.iter()
            .zip(&e.nan)
            .map(|(&i, &n)| if n != NONE { n } else { i })
            .collect()
    };
    Ok((pick(e.mini.clone()), pick(e.maxi.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_and_nan_rules() {
        let n = 10_000;
        let mut x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64).collect();
        let (mn, mx) = col_argminmax(MatRef::new(&x, n, 1, Layout::ColMajor).unwrap()).unwrap();
        assert_eq!(x[mn[0]], 0.0);
        assert_eq!(mn[0], x.iter().position(|&v| v == 0.0).unwrap());
        assert_eq!(mx[0], x.iter().position(|&v| v == 100.0).unwrap());
        x[7777] = f64::NAN;
        x[9000] = f64::NAN;
        let (mn, mx) = col_argminmax(MatRef::new(&x, n, 1, Layout::RowMajor).unwrap()).unwrap();
        assert_eq!((mn[0], mx[0]), (7777, 7777));
        let inf = [f64::INFINITY, f64::INFINITY];
        let (mn, mx) = col_argminmax(MatRef::new(&inf, 2, 1, Layout::RowMajor).unwrap()).unwrap();
        assert_eq!((mn[0], mx[0]), (0, 0));
        let e: [f64; 0] = [];
        assert!(col_argminmax(MatRef::new(&e, 0, 1, Layout::RowMajor).unwrap()).is_err());
    }
}
