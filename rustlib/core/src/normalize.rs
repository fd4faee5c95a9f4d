//! Min-max normalization of all values to [0, 1].
//!
//! Rules (the PyO3 tutorial's, made total): NaNs are ignored when finding the
//! range and stay NaN; ±inf is an error; if `max - min` is below the type's
//! machine epsilon every finite value maps to 0; all-NaN stays all-NaN.
//! Two passes over memory: one fused NaN-ignoring min/max read, one read+write.

use crate::blocks::{map_inplace, map_into};
use crate::float::Float;
use crate::minmax::{nan_minmax, MinMaxLeaf};
use crate::multiversion;
use crate::simd::stream::{affine_div_stream_f32, affine_div_stream_f64, STREAM_MIN_BYTES};
use crate::{Error, Result};

/// `out = (x * pre - lo) / d`, the whole transform as one affine-then-divide.
/// `pre` is 1 except when `max - min` overflows (then both sides are halved
/// first); `d = inf` maps every finite value to 0 and keeps NaN.
#[derive(Clone, Copy)]
struct Affine<T> {
    pre: T,
    lo: T,
    d: T,
}

#[inline(always)]
fn apply_into<T: Float>(x: &[T], out: &mut [T], a: Affine<T>) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v * a.pre - a.lo) / a.d;
    }
}

#[inline(always)]
fn apply_inplace<T: Float>(x: &mut [T], a: Affine<T>) {
    for v in x.iter_mut() {
        *v = (*v * a.pre - a.lo) / a.d;
    }
}

multiversion! {
    fn apply_into_f64(x: &[f64], out: &mut [f64], a: Affine<f64>) -> () = apply_into::<f64>;
}
multiversion! {
    fn apply_into_f32(x: &[f32], out: &mut [f32], a: Affine<f32>) -> () = apply_into::<f32>;
}
multiversion! {
    fn apply_inplace_f64(x: &mut [f64], a: Affine<f64>) -> () = apply_inplace::<f64>;
}
multiversion! {
    fn apply_inplace_f32(x: &mut [f32], a: Affine<f32>) -> () = apply_inplace::<f32>;
}

/// Element types `normalize` supports (f32, f64).
pub trait NormalizeElement: MinMaxLeaf {
    #[doc(hidden)]
    fn apply_into(x: &[Self], out: &mut [Self], a: (Self, Self, Self));
    #[doc(hidden)]
    fn apply_into_stream(x: &[Self], out: &mut [Self], a: (Self, Self, Self));
    #[doc(hidden)]
    fn apply_inplace(x: &mut [Self], a: (Self, Self, Self));
    #[doc(hidden)]
    const HALF: Self;
    #[doc(hidden)]
    const ONE: Self;
}

macro_rules! impl_normalize_element {
    ($t:ty, $into:ident, $stream:ident, $inplace:ident) => {
        impl NormalizeElement for $t {
            fn apply_into(x: &[$t], out: &mut [$t], (pre, lo, d): ($t, $t, $t)) {
                $into(x, out, Affine { pre, lo, d })
            }
            fn apply_into_stream(x: &[$t], out: &mut [$t], (pre, lo, d): ($t, $t, $t)) {
                $stream(x, out, pre, lo, d)
            }
            fn apply_inplace(x: &mut [$t], (pre, lo, d): ($t, $t, $t)) {
                $inplace(x, Affine { pre, lo, d })
            }
            const HALF: $t = 0.5;
            const ONE: $t = 1.0;
        }
    };
}
impl_normalize_element!(
    f64,
    apply_into_f64,
    affine_div_stream_f64,
    apply_inplace_f64
);
impl_normalize_element!(
    f32,
    apply_into_f32,
    affine_div_stream_f32,
    apply_inplace_f32
);

/// Finds the affine map for `x`, or the error that forbids normalizing it.
fn plan<T: NormalizeElement>(x: &[T]) -> Result<(T, T, T)> {
    let Some((mn, mx)) = nan_minmax(x) else {
        // Empty or all NaN: x * 1 - 0 / 1 keeps every NaN as it is.
        return Ok((T::ONE, T::ZERO, T::ONE));
    };
    if mn == T::NEG_INFINITY || mx == T::INFINITY {
        return Err(Error::NonFinite(
            "normalize: data contains infinity; min-max scaling needs finite values (NaN is ignored)"
                .to_string(),
        ));
    }
    let range = mx - mn;
    if range == T::INFINITY {
        // max - min overflows: halve both sides first (exact for normal numbers).
        return Ok((T::HALF, mn * T::HALF, mx * T::HALF - mn * T::HALF));
    }
    if range < T::EPSILON {
        return Ok((T::ONE, mn, T::INFINITY));
    }
    Ok((T::ONE, mn, range))
}

/// Writes the min-max normalization of `x` into `out` (same length).
/// On error `out` is untouched.
///
/// ```
/// use ferrokit_core::normalize::normalize_into;
/// let mut out = [0.0; 3];
/// normalize_into(&[1.0, 3.0, 2.0], &mut out).unwrap();
/// assert_eq!(out, [0.0, 1.0, 0.5]);
/// ```
pub fn normalize_into<T: NormalizeElement>(x: &[T], out: &mut [T]) -> Result<()> {
    if x.len() != out.len() {
        return Err(Error::LengthMismatch(format!(
            "normalize: out has {} elements, expected {} like data",
            out.len(),
            x.len()
        )));
    }
    let a = plan(x)?;
    if std::mem::size_of_val(out) >= STREAM_MIN_BYTES {
        map_into(x, out, &|i, o| T::apply_into_stream(i, o, a));
    } else {
        map_into(x, out, &|i, o| T::apply_into(i, o, a));
    }
    Ok(())
}

/// Normalizes `x` in place. On error `x` is untouched.
///
/// ```
/// use ferrokit_core::normalize::normalize_inplace;
/// let mut x = [2.0f32, 4.0, f32::NAN];
/// normalize_inplace(&mut x).unwrap();
/// assert_eq!(&x[..2], &[0.0, 1.0]);
/// assert!(x[2].is_nan());
/// ```
pub fn normalize_inplace<T: NormalizeElement>(x: &mut [T]) -> Result<()> {
    let a = plan(x)?;
    map_inplace(x, &|c| T::apply_inplace(c, a));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_constant_empty_nan_inf() {
        let mut out = vec![0.0; 4];
        normalize_into(&[1.0, 5.0, f64::NAN, 3.0], &mut out).unwrap();
        assert_eq!(out[0], 0.0);
        assert_eq!(out[1], 1.0);
        assert!(out[2].is_nan());
        assert_eq!(out[3], 0.5);

        let mut c = [7.0f32; 5];
        normalize_inplace(&mut c).unwrap();
        assert_eq!(c, [0.0; 5]);

        let mut e: [f64; 0] = [];
        normalize_inplace(&mut e).unwrap();

        let mut all_nan = [f64::NAN; 3];
        normalize_inplace(&mut all_nan).unwrap();
        assert!(all_nan.iter().all(|v| v.is_nan()));

        let mut inf = [1.0, f64::INFINITY];
        assert!(matches!(
            normalize_inplace(&mut inf),
            Err(Error::NonFinite(_))
        ));
        assert_eq!(inf[0], 1.0, "input untouched on error");
    }

    #[test]
    fn huge_range_does_not_overflow() {
        let mut x = [-f64::MAX, 0.0, f64::MAX];
        normalize_inplace(&mut x).unwrap();
        assert_eq!(x, [0.0, 0.5, 1.0]);
    }

    #[test]
    fn large_input_matches_formula_exactly() {
        let n = 300_007;
        let x: Vec<f64> = (0..n)
            .map(|i| ((i * 31) % 977) as f64 * 0.37 - 50.0)
            .collect();
        let mn = x.iter().copied().fold(f64::INFINITY, f64::min);
        let mx = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut out = vec![0.0; n];
        normalize_into(&x, &mut out).unwrap();
        for i in 0..n {
            assert_eq!(out[i], (x[i] - mn) / (mx - mn));
        }
        let mut y = x.clone();
        normalize_inplace(&mut y).unwrap();
        assert_eq!(y, out);
    }
}
