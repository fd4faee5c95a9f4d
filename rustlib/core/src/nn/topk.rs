//! The k largest (or smallest) values of each row, with their column indices.
//!
//! Order: NaN counts as larger than +inf (like `torch.topk` and numpy's sort
//! order), ties go to the lower index. With `sorted` the k values come in
//! rank order (largest first, or smallest first); without, in column order.

// `v != v` is the NaN test of the generic `Float` (no `is_nan` there).
#![allow(clippy::eq_op)]

use super::{check_len, shape_len, NnFloat};
use crate::blocks::MIN_PARALLEL_ELEMENTS;
use crate::float::Float;
use crate::{Error, Result};
use std::cmp::Ordering;

#[inline]
fn cmp_nan_last<T: Float>(a: T, b: T) -> Ordering {
    match (a != a, b != b) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn topk_row<T: Float>(
    x: &[T],
    k: usize,
    largest: bool,
    sorted: bool,
    idx: &mut Vec<usize>,
    vals: &mut [T],
    inds: &mut [i64],
) {
    if k == 0 {
        return;
    }
    idx.clear();
    idx.extend(0..x.len());
    let rank = |a: &usize, b: &usize| {
        let o = if largest {
            cmp_nan_last(x[*b], x[*a])
        } else {
            cmp_nan_last(x[*a], x[*b])
        };
        o.then(a.cmp(b))
    };
    if k < x.len() {
        idx.select_nth_unstable_by(k - 1, rank);
    }
    let top = &mut idx[..k];
    if sorted {
        top.sort_unstable_by(rank);
    } else {
        top.sort_unstable();
    }
    for ((v, i), &j) in vals.iter_mut().zip(inds.iter_mut()).zip(top.iter()) {
        *v = x[j];
        *i = j as i64;
    }
}

/// Top-k along the last axis of `x` (`rows × cols`): `values` and `indices`
/// receive `rows × k` elements. `k > cols` is an error.
///
/// ```
/// use ferrokit_core::nn::topk::topk;
/// let (mut v, mut i) = ([0.0; 2], [0i64; 2]);
/// topk(&[3.0, 1.0, 4.0, 1.0], 1, 4, 2, true, true, &mut v, &mut i).unwrap();
/// assert_eq!((v, i), ([4.0, 3.0], [2, 0]));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn topk<T: NnFloat>(
    x: &[T],
    rows: usize,
    cols: usize,
    k: usize,
    largest: bool,
    sorted: bool,
    values: &mut [T],
    indices: &mut [i64],
) -> Result<()> {
    let n = shape_len("topk", "x", rows, cols)?;
    check_len("topk", "x", x.len(), n)?;
    if k > cols {
        return Err(Error::InvalidArgument(format!(
            "topk: k is {k}, larger than the last axis ({cols})"
        )));
    }
    let nk = rows * k; // <= n
    check_len("topk", "values", values.len(), nk)?;
    check_len("topk", "indices", indices.len(), nk)?;
    if nk == 0 {
        return Ok(());
    }
    let per_task = (super::ROW_TASK_ELEMS / cols.max(1)).max(1);
    let run_rows = |xs: &[T], vs: &mut [T], is: &mut [i64]| {
        let mut idx = Vec::with_capacity(cols);
        for ((xr, vr), ir) in xs
            .chunks_exact(cols)
            .zip(vs.chunks_exact_mut(k))
            .zip(is.chunks_exact_mut(k))
        {
            topk_row(xr, k, largest, sorted, &mut idx, vr, ir);
        }
    };
    let team = crate::sched::team(n, MIN_PARALLEL_ELEMENTS);
    if team.is_parallel() {
        let rows_x = per_task * cols;
        team.for_each_chunk_mut2(values, per_task * k, indices, per_task * k, |t, v, i| {
            run_rows(&x[t * rows_x..(t * rows_x + v.len() / k * cols)], v, i)
        });
    } else {
        run_rows(x, values, indices)
    }
    Ok(())
}
