//! `out = act(x @ W.T + b)`: a fused dense layer over the `gemm` crate.
//!
//! The output is cut into tiles fixed by the shape ([`ROW_BLOCK`] to
//! [`MAX_ROW_BLOCK`] rows × up to [`COL_BLOCK`] columns, see [`tile_shape`]);
//! each tile is one single-threaded `gemm` call followed by bias + activation
//! while the tile is still in cache. Tiles run on the library pool; the cut does not depend on
//! the thread count, so neither do the results. A few rows (latency) skip gemm.

use super::{check_len, shape_len, Activation, NnFloat, RowOp};
pub use crate::simd::gemm::WeightLayout;
use crate::simd::gemm::{matmul, matmul_tiles};
use crate::{Error, Result};

/// Fewest rows per gemm tile (see [`tile_shape`]).
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

/// One block: `out = act(x · W + b)` for `x.len() / k` rows (few-rows path:
/// bias pre-filled, product accumulated onto it).
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

/// `seg[r][j] = act(seg[r][j] + bias[j])` for the rows of `width` elements
/// in `seg` (`bias` already cut to the same columns): the epilogue of a gemm
/// tile, run while the tile is in cache. Bias + relu (or identity) take one
/// pass; softmax needs whole rows.
pub(crate) fn bias_act<T: NnFloat>(
    seg: &mut [T],
    width: usize,
    bias: Option<&[T]>,
    act: Activation,
    scratch: &mut Vec<T>,
) {
    if width == 0 {
        return;
    }
    match (bias, act) {
        (Some(b), Activation::Identity | Activation::Relu) => {
            // One dispatched pass (AVX-512 / AVX2 / baseline copies): relu as
            // the activation kernel computes it (`!(s <= 0)` keeps NaN, -0
            // becomes +0).
            T::bias_relu(seg, &b[..width], act == Activation::Relu)
        }
        _ => {
            if let Some(b) = bias {
                for row in seg.chunks_exact_mut(width) {
                    for (o, &v) in row.iter_mut().zip(b) {
                        *o = *o + v;
                    }
                }
            }
            activate_block(act, seg, width, scratch);
        }
    }
}

/// Tile shape `(rows, cols)` of the gemm path for an `m × k` by `k × n`
/// product. It depends on the shape only, never on the thread count, so
/// neither do the results (each element is one gemm dot product in the same
/// k order whatever tile it falls in).
///
/// Every tile packs its columns of W once, so taller tiles pack W fewer times:
/// 512-row tiles measured 5% faster at 1 thread and about 20% faster at 2
/// threads (a loaded machine) than 256-row ones on (4096, 1024) x (1024, 1024)
/// f32. Rows are cut into
/// about 8 tiles (between [`ROW_BLOCK`] and [`MAX_ROW_BLOCK`] rows) so two or
/// more threads still get even shares, and outputs wider than [`COL_BLOCK`]
/// into equal column tiles (W's packed panel stays cache-sized, and short
/// wide problems still split); softmax keeps whole rows.
pub(crate) fn tile_shape(m: usize, n: usize, k: usize, act: Activation) -> (usize, usize) {
    let _ = k;
    let rb = m
        .div_ceil(8)
        .next_multiple_of(64)
        .clamp(ROW_BLOCK, MAX_ROW_BLOCK);
    let cb = if act == Activation::Softmax || n <= COL_BLOCK {
        n.max(1)
    } else {
        n.div_ceil(n.div_ceil(COL_BLOCK)).next_multiple_of(16)
    };
    (rb, cb)
}

/// Most rows per gemm tile (see [`tile_shape`]).
pub const MAX_ROW_BLOCK: usize = 512;
/// Most columns per gemm tile, unless the activation is softmax.
pub const COL_BLOCK: usize = 1024;

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
    if m <= super::kernels::SMALL_M && k > 0 {
        let mut scratch = Vec::new();
        dense_block(x, k, w, n, layout, bias, act, out, &mut scratch);
        return Ok(());
    }
    let (rb, cb) = tile_shape(m, n, k, act);
    let work = m.saturating_mul(n).saturating_mul(k.max(1));
    let tiles = m.div_ceil(rb) * n.div_ceil(cb);
    let epilogue = |seg: &mut [T], c0: usize, width: usize| {
        let mut scratch = Vec::new();
        bias_act(
            seg,
            width,
            bias.map(|b| &b[c0..c0 + width]),
            act,
            &mut scratch,
        );
    };
    let team = if tiles > 1 && work >= (1 << 21) {
        crate::sched::team(work, 1)
    } else {
        crate::sched::Team::sequential()
    };
    matmul_tiles(
        x,
        m,
        k,
        w,
        n,
        layout,
        out,
        rb,
        cb,
        &team,
        T::ZERO,
        T::ONE,
        &epilogue,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    fn naive(x: &[f64], m: usize, k: usize, w: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
        let mut o = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                o[i * n + j] = (0..k).map(|p| x[i * k + p] * w[j * k + p]).sum::<f64>() + b[j];
            }
        }
        o
    }

    /// Wide outputs take the 2-D tile path (column tiles of COL_BLOCK, ragged
    /// last tiles in both directions); softmax keeps whole rows. Every tile
    /// shape gives the reference result and the same bits for any thread count.
    #[test]
    fn tiled_path_matches_naive_and_ignores_thread_count() {
        let _level = crate::simd::test_level_lock();
        let (m, k, n) = (ROW_BLOCK + 45, 37, 2 * COL_BLOCK + 77);
        assert!(
            tile_shape(m, n, k, Activation::Relu).1 < n,
            "exercises column tiles"
        );
        let x = data(m * k, 1);
        let w = data(n * k, 2);
        let b = data(n, 3);
        let wt: Vec<f64> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect();
        let want = naive(&x, m, k, &w, n, &b);
        for act in [
            Activation::Identity,
            Activation::Relu,
            Activation::Tanh,
            Activation::Softmax,
        ] {
            for (layout, wl) in [(WeightLayout::OutIn, &w), (WeightLayout::InOut, &wt)] {
                let run = |threads: usize| {
                    crate::pool::set_num_threads(threads);
                    let mut o = vec![f64::NAN; m * n];
                    linear(&x, m, k, wl, n, layout, Some(&b), act, &mut o).unwrap();
                    o
                };
                let one = run(1);
                let two = run(2);
                let three = run(3);
                crate::pool::set_num_threads(0);
                assert!(one == two && one == three, "{act:?} {layout:?}");
                for (r, (got, want)) in one.chunks(n).zip(want.chunks(n)).enumerate() {
                    let mut want = want.to_vec();
                    match act {
                        Activation::Relu => want.iter_mut().for_each(|v| *v = v.max(0.0)),
                        Activation::Tanh => want.iter_mut().for_each(|v| *v = v.tanh()),
                        Activation::Softmax => {
                            let mx = want.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                            let z: f64 = want.iter().map(|v| (v - mx).exp()).sum();
                            want.iter_mut().for_each(|v| *v = (*v - mx).exp() / z);
                        }
                        _ => {}
                    }
                    for (j, (g, e)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            (g - e).abs() <= 1e-12 * (1.0 + e.abs()),
                            "{act:?} {layout:?} [{r},{j}]: {g} vs {e}"
                        );
                    }
                }
            }
        }
    }

    /// No input features: every row is act(bias), on the tile path too.
    #[test]
    fn zero_features_give_activated_bias() {
        let (m, n) = (20, 2 * COL_BLOCK + 3);
        let b = data(n, 4);
        let mut o = vec![f64::NAN; m * n];
        linear(
            &[],
            m,
            0,
            &[],
            n,
            WeightLayout::OutIn,
            Some(&b),
            Activation::Relu,
            &mut o,
        )
        .unwrap();
        for row in o.chunks(n) {
            for (g, e) in row.iter().zip(&b) {
                assert_eq!(*g, e.max(0.0));
            }
        }
    }
}
