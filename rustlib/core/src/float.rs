//! The float types kernels are generic over (f32 and f64).

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Sub};

/// A floating-point element type supported by the kernels.
pub trait Float:
    Copy
    + Debug
    + PartialOrd
    + Send
    + Sync
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + 'static
{
    const ZERO: Self;
    const INFINITY: Self;
    const NEG_INFINITY: Self;
    const NAN: Self;
    const EPSILON: Self;
    /// Widens to f64 (exact for both types).
    fn to_f64(self) -> f64;
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f64::INFINITY;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    const NAN: Self = f64::NAN;
    const EPSILON: Self = f64::EPSILON;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f32::INFINITY;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    const NAN: Self = f32::NAN;
    const EPSILON: Self = f32::EPSILON;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// `a[0] + a[1] + ... + a[N - 1]` in a fixed pairwise order: each step adds the
/// upper half of the remaining lanes onto the lower half (`N` a power of two).
/// Kernels accumulate in `N` independent lanes and finish with this, so the
/// result depends only on the data, never on how the work was split.
#[inline(always)]
pub fn halving_sum<T: Copy + Add<Output = T>, const N: usize>(mut a: [T; N]) -> T {
    debug_assert!(N.is_power_of_two());
    let mut w = N;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            a[i] = a[i] + a[i + w];
        }
    }
    a[0]
}
