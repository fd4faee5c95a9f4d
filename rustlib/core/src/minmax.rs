//! NaN-ignoring minimum and maximum in one pass.

use crate::blocks::tree_reduce;
use crate::float::Float;
use crate::multiversion;

/// Independent accumulators per pass: enough vector registers in flight to hide
/// the latency of `min`/`max` instructions (4 zmm / 8 ymm registers).
const LANES: usize = 32;

/// `(min, max)` of the non-NaN values of a block; `(+inf, -inf)` when there are none.
///
/// Written so LLVM emits `vminp*`/`vmaxp*`: `if v < m { v } else { m }` keeps `m`
/// when `v` is NaN, which is exactly what the x86 instruction does with that
/// operand order, so the NaN test costs nothing.
#[inline(always)]
fn minmax_block<T: Float>(x: &[T]) -> (T, T) {
    let mut lo = [T::INFINITY; LANES];
    let mut hi = [T::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            let v = c[i];
            lo[i] = if v < lo[i] { v } else { lo[i] };
            hi[i] = if v > hi[i] { v } else { hi[i] };
        }
    }
    for (i, &v) in rest.iter().enumerate() {
        lo[i] = if v < lo[i] { v } else { lo[i] };
        hi[i] = if v > hi[i] { v } else { hi[i] };
    }
    let mut mn = T::INFINITY;
    let mut mx = T::NEG_INFINITY;
    for i in 0..LANES {
        mn = if lo[i] < mn { lo[i] } else { mn };
        mx = if hi[i] > mx { hi[i] } else { mx };
    }
    (mn, mx)
}

multiversion! {
    fn minmax_leaf_f64(x: &[f64]) -> (f64, f64) = minmax_block::<f64>;
}
multiversion! {
    fn minmax_leaf_f32(x: &[f32]) -> (f32, f32) = minmax_block::<f32>;
}

/// Element types with a dispatched NaN-ignoring min/max leaf.
pub trait MinMaxLeaf: Float {
    fn minmax_leaf(x: &[Self]) -> (Self, Self);
}
impl MinMaxLeaf for f64 {
    fn minmax_leaf(x: &[f64]) -> (f64, f64) {
        minmax_leaf_f64(x)
    }
}
impl MinMaxLeaf for f32 {
    fn minmax_leaf(x: &[f32]) -> (f32, f32) {
        minmax_leaf_f32(x)
    }
}

/// `(min, max)` over the non-NaN values of `x`, or `None` if there are none
/// (empty or all NaN). Infinities are returned as they are.
///
/// ```
/// use ferrokit_core::minmax::nan_minmax;
/// assert_eq!(nan_minmax(&[3.0, f64::NAN, -1.0]), Some((-1.0, 3.0)));
/// assert_eq!(nan_minmax::<f64>(&[f64::NAN]), None);
/// ```
pub fn nan_minmax<T: MinMaxLeaf>(x: &[T]) -> Option<(T, T)> {
    let (mn, mx) = tree_reduce(
        x.len(),
        &|r| T::minmax_leaf(&x[r]),
        &|a: (T, T), b: (T, T)| {
            (
                if b.0 < a.0 { b.0 } else { a.0 },
                if b.1 > a.1 { b.1 } else { a.1 },
            )
        },
    );
    // Only "no non-NaN value" leaves min above max.
    if mn > mx {
        None
    } else {
        Some((mn, mx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f64]) -> Option<(f64, f64)> {
        let v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        Some((
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ))
    }

    #[test]
    fn matches_naive_with_nans_at_every_position() {
        for n in [0usize, 1, 2, 31, 32, 33, 1000, 4099, 200_001] {
            let mut x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1009) as f64 - 500.0).collect();
            for i in (0..n).step_by(13) {
                x[i] = f64::NAN;
            }
            assert_eq!(nan_minmax(&x), naive(&x), "n = {n}");
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let got = nan_minmax(&xf).map(|(a, b)| (a as f64, b as f64));
            assert_eq!(got, naive(&x), "f32 n = {n}");
        }
    }

    #[test]
    fn all_nan_and_empty_give_none_infinities_are_kept() {
        assert_eq!(nan_minmax::<f64>(&[]), None);
        assert_eq!(nan_minmax(&[f64::NAN; 100]), None);
        assert_eq!(
            nan_minmax(&[f64::NAN, f64::INFINITY, 1.0]),
            Some((1.0, f64::INFINITY))
        );
    }
}
