//! Final estimators of a pipeline: linear models, the MLP (from `nn`) and the
//! k-nearest-neighbour models (searching with `neighbors::knn_search`).
//! Each computes from the float64 work buffer exactly what the scikit-learn
//! (or ferrokit) estimator computes, in the same order of operations where it
//! matters for the result.

use super::steps::Work;
use crate::neighbors::{knn_search, Metric};
use crate::nn::mlp::Mlp;
use crate::pool;
use crate::{Error, Result};

/// How a linear classifier turns decision values into probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbaRule {
    /// No `predict_proba` (LinearSVC, RidgeClassifier, SGD with hinge loss...).
    None = 0,
    /// scikit-learn's `_predict_proba_lr`: expit; binary `[1-p, p]`, else rows
    /// normalized (an all-zero row becomes uniform). LogisticRegression
    /// (binary), SGDClassifier(loss="log_loss").
    Logistic = 1,
    /// Softmax of the decision values (multinomial LogisticRegression).
    Softmax = 2,
    /// SGDClassifier(loss="modified_huber"): `(clip(d, -1, 1) + 1) / 2`.
    ModifiedHuber = 3,
    /// OneVsRestClassifier: expit of each class, rows divided by their sum.
    OvrNormalize = 4,
}

impl ProbaRule {
    pub(crate) fn from_code(c: i64) -> Option<ProbaRule> {
        Some(match c {
            0 => ProbaRule::None,
            1 => ProbaRule::Logistic,
            2 => ProbaRule::Softmax,
            3 => ProbaRule::ModifiedHuber,
            4 => ProbaRule::OvrNormalize,
            _ => return None,
        })
    }
}

/// Vote weights of a k-NN model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnnWeights {
    Uniform = 0,
    Distance = 1,
}

/// The stored training rows of a k-NN model, in their own dtype.
#[derive(Debug, Clone)]
pub(crate) enum KnnData {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// What a k-NN model predicts from its neighbours.
#[derive(Debug, Clone)]
pub(crate) enum KnnTarget {
    /// Class index of every training row.
    Classes { y: Vec<usize>, n_classes: usize },
    /// Targets, `n_samples × n_targets`.
    Values { y: Vec<f64>, n_targets: usize },
    /// NearestNeighbors: search only.
    None,
}

#[derive(Debug, Clone)]
pub(crate) struct Knn {
    pub data: KnnData,
    pub n_samples: usize,
    pub dim: usize,
    pub k: usize,
    pub metric: Metric,
    pub weights: KnnWeights,
    pub target: KnnTarget,
}

#[derive(Debug, Clone)]
pub(crate) struct Linear {
    pub n_in: usize,
    pub n_dec: usize,
    /// `n_dec × n_in`, row-major (scikit-learn's `coef_`).
    pub coef: Vec<f64>,
    pub intercept: Vec<f64>,
    /// Some for classifiers.
    pub proba: Option<ProbaRule>,
    /// Ties of the multiclass argmax go to the LAST maximum (OneVsRestClassifier).
    pub last_argmax: bool,
    /// `coef` was stored as float32 (fitted on float32 data): on sparse
    /// rows the decision is computed in float32, as scipy does for a
    /// float32 matrix times float32 weights.
    pub f32_weights: bool,
}

/// The final estimator.
#[derive(Debug, Clone)]
pub(crate) enum Head {
    /// A pipeline of transformers only.
    Transform,
    Linear(Linear),
    /// The network in float64 and, when it was stored in float32 (fitted on
    /// float32 by scikit-learn), also in float32: float32 rows compute in
    /// float32 like scikit-learn's float32 weights do.
    Mlp(Mlp<f64>, Option<Box<Mlp<f32>>>),
    Knn(Knn),
}

#[inline]
fn expit(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// numpy.argmax of a row (the first NaN wins, else the first maximum), or the
/// last maximum with `last`.
pub(crate) fn argmax(row: &[f64], last: bool) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v.is_nan() {
            return j;
        }
        if v > row[best] || (last && v == row[best]) {
            best = j;
        }
    }
    best
}

impl Linear {
    /// `x · coefᵀ + intercept`, `rows × n_dec`.
    pub fn decision(&self, x: &[f64], rows: usize, out: &mut [f64]) {
        let (n_in, n_dec) = (self.n_in, self.n_dec);
        let one = |xr: &[f64], o: &mut [f64]| {
            for (j, oj) in o.iter_mut().enumerate() {
                let w = &self.coef[j * n_in..(j + 1) * n_in];
                let mut acc = [0.0f64; 4];
                let mut xc = xr.chunks_exact(4);
                let mut wc = w.chunks_exact(4);
                for (a, b) in (&mut xc).zip(&mut wc) {
                    acc[0] += a[0] * b[0];
                    acc[1] += a[1] * b[1];
                    acc[2] += a[2] * b[2];
                    acc[3] += a[3] * b[3];
                }
                let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
                for (a, b) in xc.remainder().iter().zip(wc.remainder()) {
                    s += a * b;
                }
                *oj = s + self.intercept[j];
            }
        };
        const ROWS: usize = 512;
        let work = rows.saturating_mul(n_in).saturating_mul(n_dec);
        pool::run(work, 1 << 21, |par| {
            if par {
                use rayon::prelude::*;
                out.par_chunks_mut(ROWS * n_dec)
                    .zip(x.par_chunks(ROWS * n_in))
                    .for_each(|(o, xs)| {
                        for (xr, or) in xs.chunks_exact(n_in).zip(o.chunks_exact_mut(n_dec)) {
                            one(xr, or)
                        }
                    });
            } else {
                for (xr, or) in x.chunks_exact(n_in).zip(out.chunks_exact_mut(n_dec)) {
                    one(xr, or)
                }
            }
        });
    }

    /// Columns of `predict_proba` (0 when there is none).
    pub fn n_proba(&self) -> usize {
        match self.proba {
            None | Some(ProbaRule::None) => 0,
            _ if self.n_dec == 1 => 2,
            _ => self.n_dec,
        }
    }

    /// Probabilities from the decision values `d` (`rows × n_dec`) into `out`.
    /// `predict_proba` of dense rows: decision values and probabilities in
    /// blocks of rows, so each block's decision values stay in cache (each
    /// row's result does not depend on the blocks). `out` is `rows × cols`.
    /// One thread: on a shared 2-core machine handing 10 000 rows to the
    /// pool measured slower than the calling thread alone.
    pub fn proba_dense(&self, x: &[f64], cols: usize, out: &mut [f64]) {
        const ROWS: usize = 256;
        let (n_in, n_dec) = (self.n_in, self.n_dec);
        let mut d = vec![0.0f64; ROWS * n_dec];
        for (o, xs) in out.chunks_mut(ROWS * cols).zip(x.chunks(ROWS * n_in)) {
            let n = xs.len() / n_in;
            self.decision(xs, n, &mut d[..n * n_dec]);
            self.proba_from(&d[..n * n_dec], o);
        }
    }

    pub fn proba_from(&self, d: &[f64], out: &mut [f64]) {
        let rule = self.proba.unwrap_or(ProbaRule::None);
        if self.n_dec == 1 {
            for (o, &v) in out.chunks_exact_mut(2).zip(d) {
                let p = match rule {
                    ProbaRule::ModifiedHuber => (v.clamp(-1.0, 1.0) + 1.0) / 2.0,
                    _ => expit(v),
                };
                let p = if v.is_nan() { f64::NAN } else { p };
                o[0] = 1.0 - p;
                o[1] = p;
            }
            return;
        }
        let k = self.n_dec;
        for (o, dr) in out.chunks_exact_mut(k).zip(d.chunks_exact(k)) {
            match rule {
                ProbaRule::Softmax => {
                    let m = dr.iter().fold(f64::NEG_INFINITY, |m, &v| {
                        if v.is_nan() || m.is_nan() {
                            f64::NAN
                        } else {
                            m.max(v)
                        }
                    });
                    for (oj, &v) in o.iter_mut().zip(dr) {
                        *oj = (v - m).exp();
                    }
                    let s = pairwise_sum(o);
                    o.iter_mut().for_each(|v| *v /= s);
                }
                ProbaRule::Logistic | ProbaRule::ModifiedHuber | ProbaRule::OvrNormalize => {
                    for (oj, &v) in o.iter_mut().zip(dr) {
                        *oj = if rule == ProbaRule::ModifiedHuber {
                            if v.is_nan() {
                                f64::NAN
                            } else {
                                (v.clamp(-1.0, 1.0) + 1.0) / 2.0
                            }
                        } else {
                            expit(v)
                        };
                    }
                    let mut s = pairwise_sum(o);
                    if s == 0.0 && rule != ProbaRule::OvrNormalize {
                        o.iter_mut().for_each(|v| *v = 1.0);
                        s = k as f64;
                    }
                    o.iter_mut().for_each(|v| *v /= s);
                }
                ProbaRule::None => {}
            }
        }
    }
}

/// numpy's sum of a short contiguous row: sequential below 8 elements, else
/// 8 interleaved partial sums combined pairwise (numpy's `pairwise_sum` for
/// blocks up to 128), so normalized rows match numpy's to the last bit.
pub(crate) fn pairwise_sum(v: &[f64]) -> f64 {
    let n = v.len();
    if n < 8 {
        let mut s = -0.0f64;
        for &x in v {
            s += x;
        }
        return s;
    }
    if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&v[..8]);
        let mut i = 8;
        while i + 8 <= n {
            for j in 0..8 {
                r[j] += v[i + j];
            }
            i += 8;
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            s += v[i];
            i += 1;
        }
        return s;
    }
    let half = (n / 2) / 8 * 8;
    pairwise_sum(&v[..half]) + pairwise_sum(&v[half..])
}

impl Knn {
    /// Searches the `k` nearest training rows of each work row: distances
    /// (float64, rounded to float32 when searched in float32) and indices.
    /// Searched in float32 only when the input was float32 and the training
    /// rows are float32 (ferrokit's estimators compute mixed dtypes in float64).
    pub fn search(&self, w: &Work, rows: usize, k: usize) -> Result<(Vec<f64>, Vec<i64>)> {
        if k == 0 || k > self.n_samples {
            return Err(Error::InvalidArgument(format!(
                "kneighbors: k is {k}, expected 1..={} (the training rows)",
                self.n_samples
            )));
        }
        let mut idx = vec![0i64; rows * k];
        let mut dist = vec![0.0f64; rows * k];
        if rows == 0 {
            return Ok((dist, idx));
        }
        match &self.data {
            KnnData::F32(db) if w.f32 => {
                let q: Vec<f32> = w.data.iter().map(|&v| v as f32).collect();
                let mut d = vec![0.0f32; rows * k];
                knn_search(&q, db, self.dim, k, self.metric, &mut d, &mut idx)?;
                let dim = self.dim;
                for ((o, &v), (r, &i)) in dist
                    .iter_mut()
                    .zip(&d)
                    .zip(idx.iter().enumerate().map(|(j, i)| (j / k, i)))
                {
                    *o = match self.metric {
                        // Euclidean distances of float32 rows come in float64,
                        // summed from the differences (as scikit-learn).
                        Metric::Euclidean | Metric::SqEuclidean => {
                            let (qr, xr) =
                                (&q[r * dim..(r + 1) * dim], &db[i as usize * dim..][..dim]);
                            let s: f64 = qr
                                .iter()
                                .zip(xr)
                                .map(|(&a, &b)| {
                                    let t = a as f64 - b as f64;
                                    t * t
                                })
                                .sum();
                            if self.metric == Metric::Euclidean {
                                s.sqrt()
                            } else {
                                s
                            }
                        }
                        _ => v as f64,
                    };
                }
            }
            KnnData::F32(db) => {
                let db: Vec<f64> = db.iter().map(|&v| v as f64).collect();
                knn_search(&w.data, &db, self.dim, k, self.metric, &mut dist, &mut idx)?;
            }
            KnnData::F64(db) => {
                knn_search(&w.data, db, self.dim, k, self.metric, &mut dist, &mut idx)?;
            }
        }
        Ok((dist, idx))
    }

    /// Vote weights of one row's neighbours (ferrokit's `_neighbor_weights`).
    fn weights_row(&self, d: &[f64], out: &mut [f64]) {
        match self.weights {
            KnnWeights::Uniform => out.iter_mut().for_each(|v| *v = 1.0),
            KnnWeights::Distance => {
                let exact = d.contains(&0.0);
                for (o, &v) in out.iter_mut().zip(d) {
                    *o = if exact {
                        (v == 0.0) as u8 as f64
                    } else {
                        1.0 / v
                    };
                }
            }
        }
    }

    /// Class probabilities (`rows × n_classes`) like ferrokit's
    /// `KNeighborsClassifier.predict_proba`.
    pub fn proba(&self, w: &Work, rows: usize, out: &mut [f64]) -> Result<()> {
        let KnnTarget::Classes { y, n_classes } = &self.target else {
            unreachable!("checked by the caller")
        };
        let (dist, idx) = self.search(w, rows, self.k)?;
        let k = self.k;
        let mut wr = vec![0.0; k];
        for ((o, d), ix) in out
            .chunks_exact_mut(*n_classes)
            .zip(dist.chunks_exact(k))
            .zip(idx.chunks_exact(k))
        {
            self.weights_row(d, &mut wr);
            o.iter_mut().for_each(|v| *v = 0.0);
            for (&i, &wv) in ix.iter().zip(&wr) {
                o[y[i as usize]] += wv;
            }
            let mut s = pairwise_sum(o);
            if s == 0.0 {
                s = 1.0;
            }
            o.iter_mut().for_each(|v| *v /= s);
        }
        Ok(())
    }

    /// Regression values (`rows × n_targets`) like ferrokit's `KNeighborsRegressor.predict`.
    pub fn values(&self, w: &Work, rows: usize, out: &mut [f64]) -> Result<()> {
        let KnnTarget::Values { y, n_targets } = &self.target else {
            unreachable!("checked by the caller")
        };
        let (dist, idx) = self.search(w, rows, self.k)?;
        let (k, t) = (self.k, *n_targets);
        let mut wr = vec![0.0; k];
        for ((o, d), ix) in out
            .chunks_exact_mut(t)
            .zip(dist.chunks_exact(k))
            .zip(idx.chunks_exact(k))
        {
            self.weights_row(d, &mut wr);
            let ws = pairwise_sum(&wr);
            for (j, oj) in o.iter_mut().enumerate() {
                let mut s = 0.0;
                for (&i, &wv) in ix.iter().zip(&wr) {
                    s += wv * y[i as usize * t + j];
                }
                *oj = s / ws;
            }
        }
        Ok(())
    }
}

impl Head {
    pub fn n_in(&self) -> Option<usize> {
        match self {
            Head::Transform => None,
            Head::Linear(l) => Some(l.n_in),
            Head::Mlp(m, _) => Some(m.n_features()),
            Head::Knn(k) => Some(k.dim),
        }
    }
}
