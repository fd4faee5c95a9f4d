//! Inference kernels: activations, row-wise softmax / normalization, top-k,
//! a fused `linear` layer and a multi-layer perceptron.
//!
//! Arrays are row-major `(rows, cols)`; row kernels work along the last axis.
//! Work is cut into fixed row blocks (never sized by the thread count) that run
//! on the library pool, so results are bit-identical for any number of threads.
//! NaN propagates like numpy: a row with a NaN gives NaN in softmax / norms.

pub mod kernels;
pub mod linear;
pub mod math;
pub mod mlp;
pub mod topk;

pub use kernels::{Activation, NnFloat, RowOp};

use crate::blocks::MIN_PARALLEL_ELEMENTS;
use crate::sched;
use crate::simd::stream::STREAM_MIN_BYTES;
use crate::{Error, Result};

/// Elements per parallel task of the row kernels (whole rows, at least one).
const ROW_TASK_ELEMS: usize = 1 << 14;
/// Elements per parallel task of element-wise activations.
const MAP_TASK_ELEMS: usize = 1 << 15;

pub(crate) fn shape_len(name: &str, what: &str, rows: usize, cols: usize) -> Result<usize> {
    rows.checked_mul(cols).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{name}: {what} shape ({rows}, {cols}) overflows the address space"
        ))
    })
}

pub(crate) fn check_len(name: &str, what: &str, len: usize, want: usize) -> Result<()> {
    if len != want {
        return Err(Error::LengthMismatch(format!(
            "{name}: {what} has {len} elements, expected {want}"
        )));
    }
    Ok(())
}

fn elementwise_act(name: &str, act: Activation) -> Result<()> {
    if act == Activation::Softmax {
        return Err(Error::InvalidArgument(format!(
            "{name}: softmax is not element-wise; use the softmax kernel"
        )));
    }
    Ok(())
}

/// `out[i] = act(x[i])` for an element-wise activation.
///
/// ```
/// use ferrokit_core::nn::{activation_into, Activation};
/// let mut out = [0.0; 3];
/// activation_into(Activation::Relu, &[-1.0, 0.5, f64::NAN], &mut out).unwrap();
/// assert_eq!(&out[..2], &[0.0, 0.5]);
/// assert!(out[2].is_nan());
/// ```
pub fn activation_into<T: NnFloat>(act: Activation, x: &[T], out: &mut [T]) -> Result<()> {
    elementwise_act("activation", act)?;
    check_len("activation", "out", out.len(), x.len())?;
    let team = sched::team(x.len(), MIN_PARALLEL_ELEMENTS);
    if team.is_parallel() {
        team.for_each_chunk_mut(out, MAP_TASK_ELEMS, |c, o| {
            T::unary(act, &x[c * MAP_TASK_ELEMS..c * MAP_TASK_ELEMS + o.len()], o)
        });
    } else {
        T::unary(act, x, out)
    }
    Ok(())
}

/// `x[i] = act(x[i])` in place.
pub fn activation_inplace<T: NnFloat>(act: Activation, x: &mut [T]) -> Result<()> {
    elementwise_act("activation", act)?;
    let team = sched::team(x.len(), MIN_PARALLEL_ELEMENTS);
    if team.is_parallel() {
        team.for_each_chunk_mut(x, MAP_TASK_ELEMS, |_, c| T::unary_inplace(act, c));
    } else {
        T::unary_inplace(act, x)
    }
    Ok(())
}

fn op_name<T>(op: &RowOp<'_, T>) -> &'static str {
    match op {
        RowOp::Softmax => "softmax",
        RowOp::LogSoftmax => "log_softmax",
        RowOp::LayerNorm { .. } => "layer_norm",
        RowOp::RmsNorm { .. } => "rms_norm",
    }
}

fn check_row_op<T>(op: &RowOp<'_, T>, cols: usize) -> Result<()> {
    let name = op_name(op);
    let (w, b, eps) = match *op {
        RowOp::Softmax | RowOp::LogSoftmax => return Ok(()),
        RowOp::LayerNorm { w, b, eps } => (w, b, eps),
        RowOp::RmsNorm { w, eps } => (w, None, eps),
    };
    if let Some(w) = w {
        check_len(name, "weight", w.len(), cols)?;
    }
    if let Some(b) = b {
        check_len(name, "bias", b.len(), cols)?;
    }
    if !(eps >= 0.0 && eps.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "{name}: eps is {eps}, expected a finite number >= 0"
        )));
    }
    Ok(())
}

fn rows_per_task(cols: usize) -> usize {
    (ROW_TASK_ELEMS / cols.max(1)).max(1)
}

/// Runs a row kernel over `x` (`rows × cols`, row-major) into `out`.
pub fn rows_into<T: NnFloat>(
    op: RowOp<'_, T>,
    x: &[T],
    rows: usize,
    cols: usize,
    out: &mut [T],
) -> Result<()> {
    let name = op_name(&op);
    let n = shape_len(name, "x", rows, cols)?;
    check_len(name, "x", x.len(), n)?;
    check_len(name, "out", out.len(), n)?;
    check_row_op(&op, cols)?;
    if n == 0 {
        return Ok(());
    }
    let task = rows_per_task(cols) * cols;
    let stream = std::mem::size_of_val(out) >= STREAM_MIN_BYTES;
    let team = sched::team(n, MIN_PARALLEL_ELEMENTS);
    if team.is_parallel() {
        team.for_each_chunk_mut(out, task, |c, o| {
            T::rows(op, &x[c * task..c * task + o.len()], o, cols, stream)
        });
    } else {
        T::rows(op, x, out, cols, stream)
    }
    Ok(())
}

/// Runs a row kernel over `x` in place.
pub fn rows_inplace<T: NnFloat>(
    op: RowOp<'_, T>,
    x: &mut [T],
    rows: usize,
    cols: usize,
) -> Result<()> {
    let name = op_name(&op);
    let n = shape_len(name, "x", rows, cols)?;
    check_len(name, "x", x.len(), n)?;
    check_row_op(&op, cols)?;
    if n == 0 {
        return Ok(());
    }
    let task = rows_per_task(cols) * cols;
    let team = sched::team(n, MIN_PARALLEL_ELEMENTS);
    if team.is_parallel() {
        team.for_each_chunk_mut(x, task, |_, c| {
            let mut scratch = vec![T::ZERO; 2 * cols];
            T::rows_inplace(op, c, cols, &mut scratch)
        });
    } else {
        let mut scratch = vec![T::ZERO; 2 * cols];
        T::rows_inplace(op, x, cols, &mut scratch)
    }
    Ok(())
}

#[cfg(test)]
mod tests;
