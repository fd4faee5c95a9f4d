//! Dot product: blocked, multi-accumulator, pairwise across blocks.
//!
//! Accuracy: each block of `BLOCK` elements is summed by 16 independent
//! accumulators (128 terms each), the 16 are summed pairwise, and blocks are
//! combined pairwise. That is at least as accurate as numpy's pairwise sum and
//! better than BLAS `ddot` (plain accumulators over the whole vector).
//! float32 products are formed and summed in float64: the product of two f32 is
//! exact in f64, so f32 input is never up-cast as a whole, yet loses nothing.
//!
//! On AVX2 / AVX-512 CPUs the float64 accumulators use fused multiply-adds,
//! like OpenBLAS `ddot`: one rounding per term instead of two, and fewer
//! instructions in a loop that waits on memory. Measured on a 2-core AMD EPYC
//! (Zen 1), 1e7 float64 on one thread, medians of 31 calls interleaved with
//! `np.dot`: 1.05-1.07x `ddot`'s time fused, 1.10-1.11x unfused (before
//! `dot_run` walked two blocks at once: now 0.96-0.97x). The
//! portable copy (CPUs without FMA) keeps the separate multiply and add, so
//! its last bit may differ; the bits still never depend on the thread count.

use crate::blocks::{tree_reduce_runs, BLOCK};
use crate::float::{halving_sum, Float};
use crate::multiversion_256;
use crate::nn::math::madd;
// The pair kernel keeps these lanes: one constant for both.
use crate::simd::block_pairs::{dot_pair, LANES};
use crate::{Error, Result};

/// One block: 16 independent f64 accumulators (f32 products are exact in f64).
/// `FMA` fuses each multiply-add (one instruction in the AVX2 copy).
#[inline(always)]
pub(crate) fn dot_block<T: Float, const FMA: bool>(x: &[T], y: &[T]) -> f64 {
    let term = |acc: f64, a: T, b: T| madd::<FMA, f64>(a.to_f64(), b.to_f64(), acc);
    let mut acc = [0.0f64; LANES];
    let xs = x.chunks_exact(LANES);
    let ys = y.chunks_exact(LANES);
    let (xr, yr) = (xs.remainder(), ys.remainder());
    for (a, b) in xs.zip(ys) {
        for i in 0..LANES {
            acc[i] = term(acc[i], a[i], b[i]);
        }
    }
    for i in 0..xr.len() {
        acc[i] = term(acc[i], xr[i], yr[i]);
    }
    halving_sum(acc)
}

multiversion_256! {
    fn dot_leaf_f64(x: &[f64], y: &[f64]) -> f64 = dot_block::<f64, true>, dot_block::<f64, false>;
}
// An f32 product is exact in f64, so fusing would change nothing.
multiversion_256! {
    fn dot_leaf_f32(x: &[f32], y: &[f32]) -> f64 = dot_block::<f32, false>;
}

/// Two whole blocks at once, or `None` (no vector kernel here).
type Pair<T> = fn((&[T], &[T]), (&[T], &[T])) -> Option<(f64, f64)>;

/// The results of the blocks of `x · y` ([`tree_reduce_runs`]), each
/// [`dot_block`]'s: block `i` of the first half of the run is walked beside
/// block `i` of the second when both are whole (`simd::block_pairs`, the same
/// bits). Why: one core streams faster from four arrays than from two. On a
/// 2-core AMD EPYC (Zen 1), 1e7 float64 on one thread, medians of 41 calls
/// interleaved with `np.dot`, 3 process pairs: 0.96-0.97x `ddot`'s time,
/// against 1.04-1.05x one block at a time (three or four blocks at once were
/// no faster in a Rust loop). Two threads, bound by the memory bus, gain
/// nothing.
fn dot_run<T: Float>(x: &[T], y: &[T], leaf: fn(&[T], &[T]) -> f64, pair: Pair<T>) -> Vec<f64> {
    let n = x.len();
    let blocks = n.div_ceil(BLOCK).max(1);
    let whole = n / BLOCK;
    let half = blocks.div_ceil(2);
    let at = |b: usize| {
        let r = b * BLOCK..((b + 1) * BLOCK).min(n);
        (&x[r.clone()], &y[r])
    };
    let mut out = vec![0.0; blocks];
    for a in 0..half {
        let b = half + a;
        if b < whole {
            let (pa, pb) = (at(a), at(b));
            (out[a], out[b]) = pair(pa, pb).unwrap_or_else(|| (leaf(pa.0, pa.1), leaf(pb.0, pb.1)));
        } else {
            let pa = at(a);
            out[a] = leaf(pa.0, pa.1);
            if b < blocks {
                let pb = at(b);
                out[b] = leaf(pb.0, pb.1);
            }
        }
    }
    out
}

fn check_lengths(a: usize, b: usize) -> Result<()> {
    if a != b {
        return Err(Error::LengthMismatch(
            "Vectors must be of the same length".to_string(),
        ));
    }
    Ok(())
}

/// Dot product of two float64 vectors of equal length; empty gives 0.0.
///
/// ```
/// use ferrokit_core::dot::dot_f64;
/// assert_eq!(dot_f64(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), Ok(32.0));
/// assert!(dot_f64(&[1.0], &[]).is_err());
/// ```
pub fn dot_f64(x: &[f64], y: &[f64]) -> Result<f64> {
    check_lengths(x.len(), y.len())?;
    Ok(tree_reduce_runs(
        x.len(),
        &|r| dot_run(&x[r.clone()], &y[r], dot_leaf_f64, dot_pair::<f64>),
        &|a, b| a + b,
    ))
}

/// Dot product of two float32 vectors, accumulated in float64.
///
/// ```
/// use ferrokit_core::dot::dot_f32;
/// assert_eq!(dot_f32(&[1.0, 2.0], &[3.0, 4.0]), Ok(11.0));
/// ```
pub fn dot_f32(x: &[f32], y: &[f32]) -> Result<f64> {
    check_lengths(x.len(), y.len())?;
    Ok(tree_reduce_runs(
        x.len(),
        &|r| dot_run(&x[r.clone()], &y[r], dot_leaf_f32, dot_pair::<f32>),
        &|a, b| a + b,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{at_levels, set_max_level, Level};

    use crate::test_data::uniform as data;

    #[test]
    fn matches_exact_reference_within_tight_bound() {
        for n in [0usize, 1, 7, 15, 16, 17, 1000, 2049, 100_003] {
            let x = data(n, 1);
            let y = data(n, 2);
            // Reference: Kahan-compensated sum of exact-ish products.
            let (mut s, mut c) = (0.0f64, 0.0f64);
            for i in 0..n {
                let t = x[i] * y[i] - c;
                let u = s + t;
                c = (u - s) - t;
                s = u;
            }
            let got = dot_f64(&x, &y).unwrap();
            let bound = 1e-14 * (n as f64).max(1.0).sqrt() * 10.0;
            assert!((got - s).abs() <= bound, "n={n} got={got} ref={s}");
        }
    }

    #[test]
    fn simd_levels_agree_bit_for_bit_where_the_rounding_is_the_same() {
        let _level = crate::simd::test_level_lock();
        let x = data(50_001, 3);
        let y = data(50_001, 4);
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let yf: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        set_max_level(Some(Level::Avx2));
        let fused = dot_f64(&x, &y).unwrap();
        let want_f32 = dot_f32(&xf, &yf).unwrap();
        at_levels(&[Level::Baseline, Level::Avx2, Level::Avx512], |cap| {
            // f32 products are exact in f64: every copy gives the same bits.
            assert_eq!(dot_f32(&xf, &yf).unwrap().to_bits(), want_f32.to_bits());
            // The AVX2 copy also runs on AVX-512 CPUs; the portable one may
            // round differently (unfused) but stays within the error bound.
            let got = dot_f64(&x, &y).unwrap();
            if crate::simd::level() == Level::Baseline {
                assert!((got - fused).abs() <= 1e-12, "{cap:?}");
            } else {
                assert_eq!(got.to_bits(), fused.to_bits(), "{cap:?}");
            }
        });
    }

    #[test]
    fn the_simd_copy_fuses_and_the_portable_copy_rounds_each_product() {
        let _level = crate::simd::test_level_lock();
        // Elements 0 and 16 share an accumulator: -1 + (1 - 2^-60) is -2^-60
        // when fused, 0 when the product is rounded to 1 first.
        let mut x = vec![0.0; 17];
        let mut y = vec![0.0; 17];
        (x[0], y[0]) = (1.0, -1.0);
        let e = 2f64.powi(-30);
        (x[16], y[16]) = (1.0 + e, 1.0 - e);
        set_max_level(Some(Level::Baseline));
        assert_eq!(dot_f64(&x, &y).unwrap(), 0.0);
        set_max_level(None);
        if crate::simd::level() >= Level::Avx2 {
            assert_eq!(dot_f64(&x, &y).unwrap(), -(2f64.powi(-60)));
        }
    }

    #[test]
    fn long_inputs_give_the_same_bits_for_any_thread_count_and_timing() {
        // 2930 blocks: tasks of 22 blocks (longer inputs get larger tasks).
        let n = 6_000_001;
        let mut x = data(n, 5);
        let y = data(n, 6);
        x.iter_mut().step_by(7).for_each(|v| *v *= 1e6); // order would show
        let want = dot_f64(&x, &y).unwrap().to_bits();
        for threads in [1, 2, 3] {
            for delay_us in [0, 50] {
                crate::pool::set_num_threads(threads);
                crate::sched::slow::set_helper_delay_us(delay_us);
                let got = dot_f64(&x, &y).unwrap().to_bits();
                crate::sched::slow::set_helper_delay_us(0);
                crate::pool::set_num_threads(0);
                assert_eq!(got, want, "threads {threads} delay {delay_us}");
            }
        }
    }

    #[test]
    fn walking_two_blocks_at_once_gives_each_block_its_own_bits() {
        let _level = crate::simd::test_level_lock();
        // Odd and even block counts, short last blocks, runs of many tasks.
        let b = BLOCK;
        for n in [
            0,
            1,
            b - 1,
            b,
            b + 17,
            2 * b,
            3 * b + 5,
            7 * b,
            41 * b + 1,
            100_003,
        ] {
            let (x, y) = (data(n, 7), data(n, 8));
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let yf: Vec<f32> = y.iter().map(|&v| v as f32).collect();
            at_levels(&[Level::Baseline, Level::Avx2], |cap| {
                // One block at a time through tree_reduce: the definition.
                let fused = crate::simd::level() != Level::Baseline;
                let one = |r: std::ops::Range<usize>| {
                    let (x, y) = (&x[r.clone()], &y[r]);
                    if fused {
                        dot_block::<f64, true>(x, y)
                    } else {
                        dot_block::<f64, false>(x, y)
                    }
                };
                let want = crate::blocks::tree_reduce(n, &one, &|a, b| a + b);
                let got = dot_f64(&x, &y).unwrap();
                assert_eq!(got.to_bits(), want.to_bits(), "n {n} {cap:?}");
                let one =
                    |r: std::ops::Range<usize>| dot_block::<f32, false>(&xf[r.clone()], &yf[r]);
                let want = crate::blocks::tree_reduce(n, &one, &|a, b| a + b);
                let got = dot_f32(&xf, &yf).unwrap();
                assert_eq!(got.to_bits(), want.to_bits(), "f32 n {n} {cap:?}");
            });
        }
    }

    #[test]
    fn length_mismatch_is_an_error() {
        assert_eq!(
            dot_f64(&[1.0, 2.0], &[1.0]),
            Err(Error::LengthMismatch(
                "Vectors must be of the same length".into()
            ))
        );
    }
}
