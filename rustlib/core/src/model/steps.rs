//! Preprocessing steps of a pipeline, applied in place to a float64 work
//! buffer (row-major). When the caller's input was float32, every operation's
//! result is rounded to float32, as scikit-learn's in-place numpy operations on
//! a float32 array do.

use crate::{Error, Result};

/// Which non-finite inputs a step accepts (scikit-learn's `ensure_all_finite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// Neither NaN nor infinity (`ensure_all_finite=True`).
    Finite,
    /// NaN but not infinity (`"allow-nan"`).
    AllowNan,
}

/// The row norm of a normalizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    L1 = 1,
    L2 = 2,
    Max = 3,
}

/// One preprocessing step.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// `((x - sub) / div) * mul + add`, then clipped; absent parts are skipped.
    Affine {
        n: usize,
        sub: Option<Vec<f64>>,
        div: Option<Vec<f64>>,
        mul: Option<Vec<f64>>,
        add: Option<Vec<f64>>,
        clip: Option<(f64, f64)>,
        /// With float32 input, round the parameters to float32 first
        /// (scikit-learn's StandardScaler casts `mean_` / `scale_` to X's dtype).
        cast: bool,
    },
    /// Each row divided by its norm (norms below `10 eps` count as 1).
    Normalize { n: usize, norm: Norm },
    /// Missing values replaced by per-column statistics, then only `keep`
    /// columns kept (scikit-learn drops columns whose statistic is NaN).
    Impute {
        stats: Vec<f64>,
        missing: f64,
        keep: Vec<usize>,
    },
}

/// The work buffer a pipeline runs on.
pub(crate) struct Work {
    pub data: Vec<f64>,
    pub cols: usize,
    /// The caller's input was float32: round after every operation.
    pub f32: bool,
}

impl Work {
    #[inline(always)]
    fn r(&self, v: f64) -> f64 {
        if self.f32 {
            v as f32 as f64
        } else {
            v
        }
    }
}

/// Checks `data` against `accept`; the error names the step like scikit-learn's message.
pub(crate) fn check_input(data: &[f64], accept: Accept, who: &str) -> Result<()> {
    // Fast path: a sum of v*0 is NaN iff some v is NaN or infinite. Eight
    // independent sums so the loop runs at load speed instead of waiting on
    // one chain of additions (it runs twice per call on every input value).
    let mut acc = [0.0f64; 8];
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v * 0.0;
        }
    }
    let mut sum = acc.iter().sum::<f64>();
    for &v in chunks.remainder() {
        sum += v * 0.0;
    }
    if sum == 0.0 {
        return Ok(());
    }
    let has_inf = data.iter().any(|v| v.is_infinite());
    let has_nan = data.iter().any(|v| v.is_nan());
    if has_inf {
        return Err(Error::NonFinite(format!(
            "{who}: input contains infinity or a value too large for dtype('float64')"
        )));
    }
    if has_nan && accept == Accept::Finite {
        return Err(Error::NonFinite(format!(
            "{who}: input X contains NaN; it does not accept missing values encoded as NaN \
             (add a SimpleImputer before it)"
        )));
    }
    Ok(())
}

impl Step {
    /// Number of input columns.
    pub fn n_in(&self) -> usize {
        match self {
            Step::Affine { n, .. } | Step::Normalize { n, .. } => *n,
            Step::Impute { stats, .. } => stats.len(),
        }
    }
    /// Number of output columns.
    pub fn n_out(&self) -> usize {
        match self {
            Step::Impute { keep, .. } => keep.len(),
            _ => self.n_in(),
        }
    }
    pub fn accept(&self) -> Accept {
        match self {
            Step::Affine { .. } => Accept::AllowNan,
            Step::Normalize { .. } => Accept::Finite,
            Step::Impute { missing, .. } => {
                if missing.is_nan() {
                    Accept::AllowNan
                } else {
                    Accept::Finite
                }
            }
        }
    }

    /// Applies the step to `w` (`w.cols == self.n_in()`, checked by the caller).
    pub fn apply(&self, w: &mut Work) {
        let cols = w.cols;
        match self {
            Step::Affine {
                sub,
                div,
                mul,
                add,
                clip,
                cast,
                ..
            } => {
                let f32 = w.f32;
                if let (false, Some(s), Some(d), None, None, None) = (f32, sub, div, mul, add, clip)
                {
                    // float64 StandardScaler: the same two operations as
                    // below, without per-element branches or bounds checks
                    // (the loop vectorizes).
                    for row in w.data.chunks_exact_mut(cols) {
                        for ((x, &m), &sc) in row.iter_mut().zip(s).zip(d) {
                            *x = (*x - m) / sc;
                        }
                    }
                    return;
                }
                let r = |v: f64| if f32 { v as f32 as f64 } else { v };
                let p = |v: f64| if f32 && *cast { v as f32 as f64 } else { v };
                for row in w.data.chunks_exact_mut(cols) {
                    for (j, x) in row.iter_mut().enumerate() {
                        let mut v = *x;
                        if let Some(s) = sub {
                            v = r(v - p(s[j]));
                        }
                        if let Some(d) = div {
                            v = r(v / p(d[j]));
                        }
                        if let Some(m) = mul {
                            v = r(v * p(m[j]));
                        }
                        if let Some(a) = add {
                            v = r(v + p(a[j]));
                        }
                        if let Some((lo, hi)) = clip {
                            // np.clip: NaN stays NaN.
                            if v < *lo {
                                v = r(*lo);
                            } else if v > *hi {
                                v = r(*hi);
                            }
                        }
                        *x = v;
                    }
                }
            }
            Step::Normalize { norm, .. } => {
                let tiny = if w.f32 {
                    10.0 * f32::EPSILON as f64
                } else {
                    10.0 * f64::EPSILON
                };
                let f32 = w.f32;
                for row in w.data.chunks_exact_mut(cols) {
                    let mut s = match norm {
                        Norm::L1 => row.iter().map(|v| v.abs()).sum::<f64>(),
                        Norm::L2 => row.iter().map(|v| v * v).sum::<f64>().sqrt(),
                        Norm::Max => row.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                    };
                    if f32 {
                        s = s as f32 as f64;
                    }
                    if s < tiny {
                        s = 1.0;
                    }
                    for x in row.iter_mut() {
                        let v = *x / s;
                        *x = if f32 { v as f32 as f64 } else { v };
                    }
                }
            }
            Step::Impute {
                stats,
                missing,
                keep,
            } => {
                let nan = missing.is_nan();
                let stats_r: Vec<f64> = stats.iter().map(|&s| w.r(s)).collect();
                let out_cols = keep.len();
                let identity = out_cols == cols;
                if identity {
                    for row in w.data.chunks_exact_mut(cols) {
                        for (x, &s) in row.iter_mut().zip(&stats_r) {
                            if (nan && x.is_nan()) || (!nan && *x == *missing) {
                                *x = s;
                            }
                        }
                    }
                } else {
                    let rows = w.data.len() / cols.max(1);
                    let mut out = vec![0.0; rows * out_cols];
                    for (src, dst) in w
                        .data
                        .chunks_exact(cols)
                        .zip(out.chunks_exact_mut(out_cols))
                    {
                        for (d, &j) in dst.iter_mut().zip(keep) {
                            let x = src[j];
                            *d = if (nan && x.is_nan()) || (!nan && x == *missing) {
                                stats_r[j]
                            } else {
                                x
                            };
                        }
                    }
                    w.data = out;
                    w.cols = out_cols;
                }
            }
        }
    }
}

#[cfg(test)]
mod check_tests {
    use super::{check_input, Accept};

    #[test]
    fn a_bad_value_is_found_at_every_position() {
        for n in [0usize, 1, 7, 8, 9, 17, 100] {
            let ok = vec![-1.5f64; n];
            check_input(&ok, Accept::Finite, "s").unwrap();
            for at in 0..n {
                for (bad, inf) in [
                    (f64::NAN, false),
                    (f64::INFINITY, true),
                    (f64::NEG_INFINITY, true),
                ] {
                    let mut d = ok.clone();
                    d[at] = bad;
                    let e = check_input(&d, Accept::Finite, "s")
                        .unwrap_err()
                        .to_string();
                    assert_eq!(e.contains("infinity"), inf, "n {n} at {at}: {e}");
                    assert_eq!(check_input(&d, Accept::AllowNan, "s").is_ok(), !inf);
                }
            }
        }
    }
}
