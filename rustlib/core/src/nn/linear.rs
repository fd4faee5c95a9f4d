//! `out = act(x @ W.T + b)`: a fused dense layer over the `gemm` crate.
//!
//! Rows of `x` are cut into fixed blocks of [`ROW_BLOCK`]; each block is one
//! single-threaded `gemm` call (bias pre-filled, product accumulated onto it)
//! followed by the activation while the block is still in cache. Blocks run on
//! the library pool; the cut does not depend on the thread count, so neither
//! do the results.

use super::{check_len, shape_len, Activation, NnFloat, RowOp};
use crate::pool;
use crate::simd::gemm::matmul;
pub use crate::simd::gemm::WeightLayout;
use crate::{Error, Result};

/// Rows of `x` per gemm call / parallel task.
pub const ROW_BLOCK: usize = 256;

/// Applies `act` to a block of rows of width `n` in place.
pub(crate) fn activate_block<T: NnFloat>(
    act: Activation,
    out: &mut [T],
    n: usize,
    scratch: &mut Vec<T>,
) {
    match act {
        Activation::Identity => {}
        Activation::Softmax => {
            scratch.resize(2 * n, T::ZERO);
            T::rows_inplace(RowOp::Softmax, out, n, scratch)
        }
        _ => T::unary_inplace(act, out),
    }
}

/// `out [+]= x · W`: gemm, or for a few rows (latency) a packing-free loop.
#[allow(clippy::too_many_arguments)]
pub(crate) fn product<T: NnFloat>(
    x: &[T],
    m: usize,
    k: usize,
    w: &[T],
    n: usize,
    layout: WeightLayout,
    out: &mut [T],
    accumulate: bool,
) {
    if m <= super::kernels::SMALL_M {
        T::small_matmul(
            x,
            m,
            k,
            w,
            n,
            layout == WeightLayout::InOut,
            out,
            accumulate,
        );
    } else {
        matmul(x, m, k, w, n, layout, out, accumulate, T::ZERO, T::ONE);
    }
}

/// One block: `out = act(x · W + b)` for `x.len() / k` rows.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dense_block<T: NnFloat>(
    x: &[T],
    k: usize,
    w: &[T],
    n: usize,
    layout: WeightLayout,
    bias: Option<&[T]>,
    act: Activation,
    out: &mut [T],
    scratch: &mut Vec<T>,
) {
    let m = out.len() / n.max(1);
    if let Some(b) = bias {
        for row in out.chunks_exact_mut(n) {
            row.copy_from_slice(b);
        }
    }
    product(x, m, k, w, n, layout, out, bias.is_some());
    activate_block(act, out, n, scratch);
}

/// `out (m×n) = act(x (m×k) · Wᵀ + bias)` with `W` stored as `layout` says.
///
/// ```
/// use ferrokit_core::nn::{linear::{linear, WeightLayout}, Activation};
/// let x = [1.0, 2.0];              // 1 × 2
/// let w = [1.0, 1.0, 1.0, -1.0];   // 2 × 2 (out, in)
/// let mut out = [0.0; 2];
/// linear(&x, 1, 2, &w, 2, WeightLayout::OutIn, Some(&[0.5, 0.5]), Activation::Relu, &mut out).unwrap();
/// assert_eq!(out, [3.5, 0.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn linear<T: NnFloat>(
    x: &[T],
    m: usize,
    k: usize,
    w: &[T],
    n: usize,
    layout: WeightLayout,
    bias: Option<&[T]>,
    act: Activation,
    out: &mut [T],
) -> Result<()> {
    let nx = shape_len("linear", "x", m, k)?;
    let nw = shape_len("linear", "weight", n, k)?;
    let no = shape_len("linear", "out", m, n)?;
    check_len("linear", "x", x.len(), nx)?;
    if w.len() != nw {
        return Err(Error::LengthMismatch(format!(
            "linear: weight has {} elements, expected {n} x {k} = {nw} (x has {k} features)",
            w.len()
        )));
    }
    if let Some(b) = bias {
        check_len("linear", "bias", b.len(), n)?;
    }
    check_len("linear", "out", out.len(), no)?;
    if no == 0 {
        return Ok(());
    }
    let work = m.saturating_mul(n).saturating_mul(k.max(1));
    let kb = ROW_BLOCK * k;
    let ob = ROW_BLOCK * n;
    let do_block = |xs: &[T], os: &mut [T]| {
        let mut scratch = Vec::new();
        dense_block(xs, k, w, n, layout, bias, act, os, &mut scratch);
    };
    let parallel_ok = m > ROW_BLOCK && work >= (1 << 21);
    pool::run(if parallel_ok { work } else { 0 }, 1, |par| {
        if k == 0 {
            // No input features: every row is act(bias) (or act(0)).
            let mut scratch = Vec::new();
            for o in out.chunks_mut(ob) {
                dense_block(&[], 0, &[], n, layout, bias, act, &mut o[..], &mut scratch);
            }
        } else if par {
            use rayon::prelude::*;
            out.par_chunks_mut(ob)
                .zip(x.par_chunks(kb))
                .for_each(|(o, xs)| do_block(xs, o));
        } else {
            for (o, xs) in out.chunks_mut(ob).zip(x.chunks(kb)) {
                do_block(xs, o);
            }
        }
    });
    Ok(())
}
