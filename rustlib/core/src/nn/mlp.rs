//! A multi-layer perceptron for inference (the model of scikit-learn's
//! `MLPClassifier` / `MLPRegressor`) and its versioned binary file format
//! (specified in `docs/mlp_format.md`).
//!
//! A model is immutable once built, so any number of threads may predict with
//! one model at the same time.

// `v != v` is the NaN test of the generic `Float` (no `is_nan` there).
#![allow(clippy::eq_op)]

use super::linear::bias_act;
use super::math::{madd, MulAdd};
use super::{check_len, shape_len, Activation, NnFloat, RowOp};
use crate::float::Float;
use crate::multiversion_fma;
use crate::simd::gemm::{matmul, WeightLayout};
use crate::{Error, Result};
use std::io::Read;

/// The 8 bytes every model file starts with.
pub const MAGIC: [u8; 8] = *b"FKMLP\x1a\r\n";
/// The newest format version this library reads and writes (version 2 adds
/// the feature names; a model without them is still written as version 1).
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this library reads.
pub const MIN_FORMAT_VERSION: u32 = 1;

/// Limits a file must respect (far above any real scikit-learn model; they
/// keep a corrupted size field from asking for absurd amounts of memory).
pub const MAX_LAYERS: usize = 1024;
/// Largest width of a layer (inputs, hidden units or outputs).
pub const MAX_WIDTH: usize = 1 << 24;
/// Largest number of class labels.
pub const MAX_LABELS: usize = 1 << 24;
/// Largest byte length of one text label (and of one feature name).
pub const MAX_LABEL_BYTES: usize = 1 << 16;

/// What the network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Real-valued outputs (`MLPRegressor`), output activation identity.
    Regressor = 0,
    /// One label per sample: binary (1 logistic output) or multiclass (softmax).
    Classifier = 1,
    /// Several independent binary labels per sample (logistic outputs).
    Multilabel = 2,
}

/// Class labels kept with a classifier (to print or return them).
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// Regressors have none.
    None,
    /// Integer labels.
    Int(Vec<i64>),
    /// Floating-point labels.
    Float(Vec<f64>),
    /// Text labels (UTF-8).
    Text(Vec<String>),
    /// Boolean labels.
    Bool(Vec<bool>),
}

impl Labels {
    /// Number of labels.
    pub fn len(&self) -> usize {
        match self {
            Labels::None => 0,
            Labels::Int(v) => v.len(),
            Labels::Float(v) => v.len(),
            Labels::Text(v) => v.len(),
            Labels::Bool(v) => v.len(),
        }
    }
    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The format's kind code (0 none, 1 int64, 2 float64, 3 utf-8, 4 bool).
    pub fn kind(&self) -> u8 {
        match self {
            Labels::None => 0,
            Labels::Int(_) => 1,
            Labels::Float(_) => 2,
            Labels::Text(_) => 3,
            Labels::Bool(_) => 4,
        }
    }
    /// Label `i` as text (integers in decimal, floats in Rust's shortest form,
    /// booleans as `True`/`False` like Python).
    pub fn text(&self, i: usize) -> Option<String> {
        Some(match self {
            Labels::None => return None,
            Labels::Int(v) => v.get(i)?.to_string(),
            Labels::Float(v) => format!("{:?}", v.get(i)?),
            Labels::Text(v) => v.get(i)?.clone(),
            Labels::Bool(v) => if *v.get(i)? { "True" } else { "False" }.to_string(),
        })
    }
}

/// One dense layer: `coef` is `(fan_in, fan_out)` row-major (scikit-learn's `coefs_[i]`).
#[derive(Debug, Clone)]
pub struct Dense<T> {
    pub coef: Vec<T>,
    pub intercept: Vec<T>,
}

/// A multi-layer perceptron with one element type.
#[derive(Debug, Clone)]
pub struct Mlp<T> {
    sizes: Vec<usize>,
    layers: Vec<Dense<T>>,
    /// The weights again, laid out for the few-samples path ([`Panels`]).
    panels: Vec<Panels<T>>,
    hidden: Activation,
    output: Activation,
    task: Task,
    labels: Labels,
    /// Names of the input features (scikit-learn's `feature_names_in_`), or empty.
    feature_names: Vec<String>,
}

/// Samples per row block of the gemm path (one parallel task: the block goes
/// through every layer on one thread; the cut never depends on the thread count).
pub const ROW_BLOCK: usize = 256;

/// Models with more weights than this keep no [`Panels`] copy (it doubles
/// the weights' memory; at this size one sample streams them from DRAM
/// anyway) and run few samples through gemm too.
pub const MAX_PANEL_WEIGHTS: usize = 1 << 23;

/// Up to this many samples `forward` runs sample by sample over [`Panels`]
/// (latency path); more go through gemm in row blocks.
pub const FEW_SAMPLES: usize = 4;

/// One layer's `(k, n)` weights re-laid for the latency path: the columns are
/// cut into tiles of `TW` (full tiles) then 8 (the rest, zero-padded), and each
/// tile is stored as `k` consecutive rows of its width, so the kernel streams
/// through memory once, in order, with the tile's sums in registers. The data
/// starts on a 64-byte boundary (whole cache lines per vector load).
#[derive(Debug)]
struct Panels<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
    /// All weights finite: a zero input contributes exactly nothing.
    finite: bool,
}

impl<T: PanelFloat> Panels<T> {
    fn new(coef: &[T], k: usize, n: usize) -> Self {
        let tw = T::panel_width();
        let full = n / tw * tw;
        let len = k * (full + (n - full).div_ceil(8) * 8);
        let (mut buf, start) = aligned_buffer(len, T::ZERO);
        let data = &mut buf[start..start + len];
        let mut off = 0;
        let mut j = 0;
        while j < n {
            let width = if j < full { tw } else { 8 };
            let cols = width.min(n - j);
            for p in 0..k {
                data[off + p * width..off + p * width + cols]
                    .copy_from_slice(&coef[p * n + j..p * n + j + cols]);
            }
            off += k * width;
            j += cols;
        }
        let finite = coef.iter().all(|v| (*v - *v) == T::ZERO);
        Panels {
            buf,
            start,
            len,
            finite,
        }
    }

    fn data(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }
}

/// `len` copies of `fill` starting on a 64-byte boundary: `(buffer, offset
/// of the start)`.
fn aligned_buffer<T: Clone>(len: usize, fill: T) -> (Vec<T>, usize) {
    let align = 64 / std::mem::size_of::<T>().max(1);
    let buf = vec![fill; len + align];
    let start = buf.as_ptr().align_offset(64).min(align);
    (buf, start)
}

impl<T: Clone> Clone for Panels<T> {
    /// A copy aligned in its own buffer (a plain Vec clone could move the
    /// data off the 64-byte boundary).
    fn clone(&self) -> Self {
        let (mut buf, start) = aligned_buffer(self.len, self.buf[0].clone());
        buf[start..start + self.len].clone_from_slice(&self.buf[self.start..self.start + self.len]);
        Panels {
            buf,
            start,
            len: self.len,
            finite: self.finite,
        }
    }
}

fn invalid(msg: String) -> Error {
    Error::InvalidArgument(msg)
}

impl<T: PanelFloat> Mlp<T> {
    /// Builds and validates a model. `sizes` = `[n_features, hidden..., n_outputs]`.
    pub fn new(
        sizes: Vec<usize>,
        layers: Vec<Dense<T>>,
        hidden: Activation,
        output: Activation,
        task: Task,
        labels: Labels,
    ) -> Result<Self> {
        if sizes.len() < 2 || sizes.len() > MAX_LAYERS + 1 {
            return Err(invalid(format!(
                "mlp: {} layer sizes, expected 2..={} (inputs, hidden..., outputs)",
                sizes.len(),
                MAX_LAYERS + 1
            )));
        }
        if let Some(&s) = sizes.iter().find(|&&s| s == 0 || s > MAX_WIDTH) {
            return Err(invalid(format!(
                "mlp: layer width {s} out of range 1..={MAX_WIDTH}"
            )));
        }
        if layers.len() != sizes.len() - 1 {
            return Err(invalid(format!(
                "mlp: {} weight layers for {} sizes",
                layers.len(),
                sizes.len()
            )));
        }
        for (i, l) in layers.iter().enumerate() {
            let want = shape_len("mlp", "coef", sizes[i], sizes[i + 1])?;
            if l.coef.len() != want || l.intercept.len() != sizes[i + 1] {
                return Err(Error::LengthMismatch(format!(
                    "mlp: layer {i} has {} weights and {} intercepts, expected {} x {} and {}",
                    l.coef.len(),
                    l.intercept.len(),
                    sizes[i],
                    sizes[i + 1],
                    sizes[i + 1]
                )));
            }
        }
        if matches!(hidden, Activation::Softmax) {
            return Err(invalid("mlp: softmax is not a hidden activation".into()));
        }
        let n_out = *sizes.last().unwrap();
        let ok = match task {
            Task::Regressor => output == Activation::Identity && labels.is_empty(),
            Task::Classifier => {
                (output == Activation::Sigmoid && n_out == 1 && labels.len() == 2)
                    || (output == Activation::Softmax && n_out >= 2 && labels.len() == n_out)
            }
            Task::Multilabel => output == Activation::Sigmoid && labels.len() == n_out,
        };
        if !ok {
            return Err(invalid(format!(
                "mlp: inconsistent model: task {task:?}, output activation {}, {n_out} outputs, {} labels",
                output.name(),
                labels.len()
            )));
        }
        let params: usize = layers.iter().map(|l| l.coef.len()).sum();
        let panels = if params <= MAX_PANEL_WEIGHTS {
            layers
                .iter()
                .enumerate()
                .map(|(i, l)| Panels::new(&l.coef, sizes[i], sizes[i + 1]))
                .collect()
        } else {
            Vec::new() // few samples go through gemm too
        };
        Ok(Mlp {
            sizes,
            layers,
            panels,
            hidden,
            output,
            task,
            labels,
            feature_names: Vec::new(),
        })
    }

    /// The same model with names for its input features (scikit-learn's
    /// `feature_names_in_`): exactly `n_features()` names of at most
    /// [`MAX_LABEL_BYTES`] bytes each, or none.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self> {
        if !names.is_empty() && names.len() != self.n_features() {
            return Err(invalid(format!(
                "mlp: {} feature names for {} features",
                names.len(),
                self.n_features()
            )));
        }
        if let Some(n) = names.iter().find(|n| n.len() > MAX_LABEL_BYTES) {
            return Err(invalid(format!(
                "mlp: a feature name of {} bytes, at most {MAX_LABEL_BYTES}",
                n.len()
            )));
        }
        self.feature_names = names;
        Ok(self)
    }

    /// Names of the input features, empty when the model has none.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.sizes[0]
    }
    /// Width of the output layer.
    pub fn n_outputs(&self) -> usize {
        *self.sizes.last().unwrap()
    }
    /// `[n_features, hidden..., n_outputs]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// The dense layers.
    pub fn layers(&self) -> &[Dense<T>] {
        &self.layers
    }
    /// Hidden-layer activation.
    pub fn hidden(&self) -> Activation {
        self.hidden
    }
    /// Output activation.
    pub fn output(&self) -> Activation {
        self.output
    }
    /// The task.
    pub fn task(&self) -> Task {
        self.task
    }
    /// The class labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }
    /// Columns of `predict_proba` (0 for a regressor; 2 for a binary classifier).
    pub fn n_proba_columns(&self) -> usize {
        match self.task {
            Task::Regressor => 0,
            Task::Classifier if self.n_outputs() == 1 => 2,
            _ => self.n_outputs(),
        }
    }

    fn check_x(&self, name: &str, x: &[T], n_samples: usize, n_features: usize) -> Result<()> {
        if n_features != self.n_features() {
            return Err(Error::LengthMismatch(format!(
                "{name}: x has {n_features} features, the model expects {}",
                self.n_features()
            )));
        }
        let n = shape_len(name, "x", n_samples, n_features)?;
        check_len(name, "x", x.len(), n)
    }

    /// The network's output after the output activation, `n_samples × n_outputs`.
    pub fn forward(
        &self,
        x: &[T],
        n_samples: usize,
        n_features: usize,
        out: &mut [T],
    ) -> Result<()> {
        self.check_x("mlp_predict", x, n_samples, n_features)?;
        let n_out = self.n_outputs();
        check_len("mlp_predict", "out", out.len(), n_samples * n_out)?;
        if n_samples == 0 {
            return Ok(());
        }
        if n_samples <= FEW_SAMPLES && !self.panels.is_empty() {
            self.forward_few(x, out);
            return Ok(());
        }
        let nf = self.n_features();
        let widest = self.sizes[1..].iter().copied().max().unwrap_or(1);
        let work = n_samples.saturating_mul(self.layers.iter().map(|l| l.coef.len()).sum());
        let rb = ROW_BLOCK;
        let parallel_ok = n_samples > rb && work >= (1 << 21);
        let scratch = || Scratch::<T>::new(n_samples.min(rb) * widest);
        let team = crate::sched::team(if parallel_ok { work } else { 0 }, 1);
        if team.is_parallel() {
            // One scratch per task: a task is a whole row block, so the
            // allocation is small next to the block's gemm calls.
            team.for_each_chunk_mut(out, rb * n_out, |b, o| {
                let xs = &x[b * rb * nf..(b * rb * nf + o.len() / n_out * nf)];
                self.block(xs, o, &mut scratch());
            });
        } else {
            let mut s = scratch();
            for (o, xs) in out.chunks_mut(rb * n_out).zip(x.chunks(rb * nf)) {
                self.block(xs, o, &mut s);
            }
        }
        Ok(())
    }

    /// One row block through the whole network on the calling thread: per
    /// layer one gemm call, then bias + activation while the block is in cache.
    fn block(&self, xs: &[T], os: &mut [T], s: &mut Scratch<T>) {
        let m = xs.len() / self.n_features();
        let last = self.layers.len() - 1;
        let (a, b) = s.buf.0[..2 * s.len].split_at_mut(s.len);
        let (mut a, mut b) = (a, b);
        for (i, l) in self.layers.iter().enumerate() {
            let (k, n) = (self.sizes[i], self.sizes[i + 1]);
            let act = if i == last { self.output } else { self.hidden };
            let input: &[T] = if i == 0 { xs } else { &a[..m * k] };
            let dst: &mut [T] = if i == last { &mut *os } else { &mut b[..m * n] };
            matmul(
                input,
                m,
                k,
                &l.coef,
                n,
                WeightLayout::InOut,
                dst,
                false,
                T::ZERO,
                T::ONE,
            );
            bias_act(dst, n, Some(&l.intercept), act, &mut s.row);
            if i != last {
                std::mem::swap(&mut a, &mut b);
            }
        }
    }

    /// The latency path: each sample through the network over [`Panels`],
    /// reading only the rows of W whose input is nonzero when that saves work.
    fn forward_few(&self, x: &[T], out: &mut [T]) {
        let nf = self.n_features();
        let n_out = self.n_outputs();
        let widest = self.sizes.iter().copied().max().unwrap_or(1);
        let last = self.layers.len() - 1;
        // a, b, the nonzero inputs, and 2 x n_out for the softmax kernel.
        let mut buf = Cached::<T>::new(3 * widest + 2 * n_out);
        let mut idx = CachedIdx::new(widest);
        let idx = &mut idx.0[..];
        {
            let (a, rest) = buf.0.split_at_mut(widest);
            let (b, rest) = rest.split_at_mut(widest);
            let (nz, row) = rest.split_at_mut(widest);
            let (mut a, mut b) = (a, b);
            for (xr, orow) in x.chunks_exact(nf).zip(out.chunks_exact_mut(n_out)) {
                for (i, (l, p)) in self.layers.iter().zip(&self.panels).enumerate() {
                    let (k, n) = (self.sizes[i], self.sizes[i + 1]);
                    let act = if i == last { self.output } else { self.hidden };
                    let input: &[T] = if i == 0 { xr } else { &a[..k] };
                    let dst: &mut [T] = if i == last { &mut *orow } else { &mut b[..n] };
                    let mut cnt = 0;
                    if p.finite {
                        for (j, &v) in input.iter().enumerate() {
                            nz[cnt] = v;
                            idx[cnt] = j as u32;
                            cnt += (v != T::ZERO) as usize;
                        }
                    }
                    if p.finite && cnt * 8 <= k * 7 {
                        T::panel_matvec(
                            &nz[..cnt],
                            Some(&idx[..cnt]),
                            k,
                            p.data(),
                            &l.intercept,
                            dst,
                        );
                    } else {
                        T::panel_matvec(input, None, k, p.data(), &l.intercept, dst);
                    }
                    match act {
                        Activation::Identity => {}
                        Activation::Softmax => T::rows_inplace(RowOp::Softmax, dst, n, row),
                        _ => T::unary_inplace(act, dst),
                    }
                    if i != last {
                        std::mem::swap(&mut a, &mut b);
                    }
                }
            }
        }
    }

    /// Class probabilities like scikit-learn's `predict_proba`:
    /// `n_samples × n_proba_columns()` (binary: `[1 - p, p]`).
    pub fn predict_proba(
        &self,
        x: &[T],
        n_samples: usize,
        n_features: usize,
        out: &mut [T],
    ) -> Result<()> {
        if self.task == Task::Regressor {
            return Err(Error::InvalidState(
                "mlp_predict_proba: the model is a regressor; it has no class probabilities".into(),
            ));
        }
        self.check_x("mlp_predict_proba", x, n_samples, n_features)?;
        let cols = self.n_proba_columns();
        check_len("mlp_predict_proba", "out", out.len(), n_samples * cols)?;
        if self.n_outputs() == 1 {
            let mut p = vec![T::ZERO; n_samples];
            self.forward(x, n_samples, n_features, &mut p)?;
            for (o, &v) in out.chunks_exact_mut(2).zip(&p) {
                o[0] = T::ONE - v;
                o[1] = v;
            }
            Ok(())
        } else {
            self.forward(x, n_samples, n_features, out)
        }
    }

    /// Predicted classes as indices into the labels (`n_samples` values), or
    /// for a multilabel model the 0/1 indicator matrix (`n_samples × n_outputs`).
    /// Same rules as scikit-learn: binary `p > 0.5`, multiclass first argmax.
    pub fn predict_class(
        &self,
        x: &[T],
        n_samples: usize,
        n_features: usize,
        out: &mut [i64],
    ) -> Result<()> {
        if self.task == Task::Regressor {
            return Err(Error::InvalidState(
                "mlp_predict_class: the model is a regressor; use predict".into(),
            ));
        }
        self.check_x("mlp_predict_class", x, n_samples, n_features)?;
        let n_out = self.n_outputs();
        let want = if self.task == Task::Multilabel {
            n_samples * n_out
        } else {
            n_samples
        };
        check_len("mlp_predict_class", "out", out.len(), want)?;
        let mut p = vec![T::ZERO; n_samples * n_out];
        self.forward(x, n_samples, n_features, &mut p)?;
        let half = T::from_f64(0.5);
        if self.task == Task::Multilabel || n_out == 1 {
            for (o, &v) in out.iter_mut().zip(&p) {
                *o = (v > half) as i64;
            }
        } else {
            for (o, row) in out.iter_mut().zip(p.chunks_exact(n_out)) {
                // numpy.argmax: the first NaN if any, else the first maximum.
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v != v {
                        best = j;
                        break;
                    }
                    if v > row[best] {
                        best = j;
                    }
                }
                *o = best as i64;
            }
        }
        Ok(())
    }
}

/// `out = bias + Σ_p x[p] · W[p, :]` for one sample, `W` as [`Panels`] of
/// tile width `TW`. With `rows`, only those rows of W take part and `x` holds
/// their inputs (the nonzero inputs of a layer after relu: a zero input adds
/// nothing when the weights are finite, so its row of W is never read). The
/// terms of each column are summed in order, alternately into two sets of
/// sums (independent chains) added at the end; the AVX2 / AVX-512 copies fuse
/// the multiply-adds. The result never depends on the thread count (this path
/// runs on the calling thread).
#[inline(always)]
fn panel_body<T: Float + MulAdd, const TW: usize, const FMA: bool>(
    x: &[T],
    rows: Option<&[u32]>,
    k: usize,
    panels: &[T],
    bias: &[T],
    out: &mut [T],
) {
    let n = out.len();
    if k == 0 {
        out.copy_from_slice(bias);
        return;
    }
    let full = n / TW * TW;
    let (main, rest) = panels.split_at(k * full);
    for ((o, b), p) in out[..full]
        .chunks_exact_mut(TW)
        .zip(bias.chunks_exact(TW))
        .zip(main.chunks_exact(k * TW))
    {
        let acc = panel_tile::<T, TW, FMA>(x, rows, p);
        for ((o, &a), &b) in o.iter_mut().zip(&acc).zip(b) {
            *o = b + a;
        }
    }
    for ((o, b), p) in out[full..]
        .chunks_mut(8)
        .zip(bias[full..].chunks(8))
        .zip(rest.chunks_exact(k * 8))
    {
        let acc = panel_tile::<T, 8, FMA>(x, rows, p);
        for ((o, &a), &b) in o.iter_mut().zip(&acc).zip(b) {
            *o = b + a;
        }
    }
}

/// `Σ x[i] · tile[row i]` over the rows of one panel tile (all of them in
/// order, or those listed in `rows`).
#[inline(always)]
fn panel_tile<T: Float + MulAdd, const W: usize, const FMA: bool>(
    x: &[T],
    rows: Option<&[u32]>,
    tile: &[T],
) -> [T; W] {
    let (tr, _) = tile.as_chunks::<W>();
    let mut s0 = [T::ZERO; W];
    let mut s1 = [T::ZERO; W];
    match rows {
        None => {
            let (xp, xt) = x.as_chunks::<2>();
            let (rp, rt) = tr.as_chunks::<2>();
            for (xv, r) in xp.iter().zip(rp) {
                for c in 0..W {
                    s0[c] = madd::<FMA, T>(xv[0], r[0][c], s0[c]);
                    s1[c] = madd::<FMA, T>(xv[1], r[1][c], s1[c]);
                }
            }
            for (&xv, r) in xt.iter().zip(rt) {
                for c in 0..W {
                    s0[c] = madd::<FMA, T>(xv, r[c], s0[c]);
                }
            }
        }
        Some(idx) => {
            let (xp, xt) = x.as_chunks::<2>();
            let (ip, it) = idx.as_chunks::<2>();
            for (xv, i) in xp.iter().zip(ip) {
                let (r0, r1) = (&tr[i[0] as usize], &tr[i[1] as usize]);
                for c in 0..W {
                    s0[c] = madd::<FMA, T>(xv[0], r0[c], s0[c]);
                    s1[c] = madd::<FMA, T>(xv[1], r1[c], s1[c]);
                }
            }
            for (&xv, &i) in xt.iter().zip(it) {
                let r = &tr[i as usize];
                for c in 0..W {
                    s0[c] = madd::<FMA, T>(xv, r[c], s0[c]);
                }
            }
        }
    }
    for c in 0..W {
        s0[c] = s0[c] + s1[c];
    }
    s0
}

#[inline(always)]
fn panel_f64<const FMA: bool>(
    x: &[f64],
    rows: Option<&[u32]>,
    k: usize,
    panels: &[f64],
    bias: &[f64],
    out: &mut [f64],
) {
    panel_body::<f64, 32, FMA>(x, rows, k, panels, bias, out)
}
#[inline(always)]
fn panel_f32<const FMA: bool>(
    x: &[f32],
    rows: Option<&[u32]>,
    k: usize,
    panels: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    panel_body::<f32, 64, FMA>(x, rows, k, panels, bias, out)
}
multiversion_fma! {
    fn panel_matvec_f64(x: &[f64], rows: Option<&[u32]>, k: usize, panels: &[f64], bias: &[f64], out: &mut [f64]) -> () = panel_f64::<>;
}
multiversion_fma! {
    fn panel_matvec_f32(x: &[f32], rows: Option<&[u32]>, k: usize, panels: &[f32], bias: &[f32], out: &mut [f32]) -> () = panel_f32::<>;
}

/// Element types of [`Mlp`] (f32, f64) with the latency kernel over [`Panels`]
/// (256-byte tiles: four AVX-512 / eight AVX2 registers of sums).
pub trait PanelFloat: NnFloat {
    #[doc(hidden)]
    fn panel_width() -> usize;
    #[doc(hidden)]
    fn panel_matvec(
        x: &[Self],
        rows: Option<&[u32]>,
        k: usize,
        panels: &[Self],
        bias: &[Self],
        out: &mut [Self],
    );
    /// The calling thread's cached scratch buffer (empty if none).
    #[doc(hidden)]
    fn cache_take() -> Vec<Self>;
    /// Keeps `v` as the calling thread's scratch buffer if it is not too large.
    #[doc(hidden)]
    fn cache_give(v: Vec<Self>);
}

/// Largest scratch buffer a thread keeps between calls, in bytes: enough for
/// a row block of a network 1024 units wide. Kept buffers make repeated calls
/// allocate (and page-fault) nothing, on the caller and on pool workers alike.
const KEEP_SCRATCH_BYTES: usize = 4 << 20;

thread_local! {
    static CACHE_IDX: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A scratch buffer of at least `len` elements (contents unspecified) from the
/// calling thread's cache, handed back to it when dropped.
struct Cached<T: PanelFloat>(Vec<T>);

impl<T: PanelFloat> Cached<T> {
    fn new(len: usize) -> Self {
        let mut v = T::cache_take();
        if v.len() < len {
            v.resize(len, T::ZERO);
        }
        Cached(v)
    }
}

impl<T: PanelFloat> Drop for Cached<T> {
    fn drop(&mut self) {
        T::cache_give(std::mem::take(&mut self.0));
    }
}

/// Index twin of [`Cached`] (the rows of nonzero inputs).
struct CachedIdx(Vec<u32>);

impl CachedIdx {
    fn new(len: usize) -> Self {
        let mut v = CACHE_IDX.take();
        if v.len() < len {
            v.resize(len, 0);
        }
        CachedIdx(v)
    }
}

impl Drop for CachedIdx {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() * 4 <= KEEP_SCRATCH_BYTES {
            CACHE_IDX.set(v);
        }
    }
}

macro_rules! panel_float {
    ($t:ty, $tw:literal, $kernel:ident, $key:ident) => {
        impl PanelFloat for $t {
            fn panel_width() -> usize {
                $tw
            }
            fn panel_matvec(
                x: &[$t],
                rows: Option<&[u32]>,
                k: usize,
                panels: &[$t],
                bias: &[$t],
                out: &mut [$t],
            ) {
                $kernel(x, rows, k, panels, bias, out)
            }
            fn cache_take() -> Vec<$t> {
                $key.take()
            }
            fn cache_give(v: Vec<$t>) {
                if v.capacity() * std::mem::size_of::<$t>() <= KEEP_SCRATCH_BYTES {
                    $key.set(v);
                }
            }
        }
        thread_local! {
            static $key: std::cell::Cell<Vec<$t>> = const { std::cell::Cell::new(Vec::new()) };
        }
    };
}
panel_float!(f64, 32, panel_matvec_f64, SCRATCH_F64);
panel_float!(f32, 64, panel_matvec_f32, SCRATCH_F32);

/// Per-task buffers of the gemm path: two activation blocks (ping-pong, from
/// the thread's cache) and a row for softmax.
struct Scratch<T: PanelFloat> {
    buf: Cached<T>,
    len: usize,
    row: Vec<T>,
}

impl<T: PanelFloat> Scratch<T> {
    fn new(len: usize) -> Self {
        Scratch {
            buf: Cached::new(2 * len),
            len,
            row: Vec::new(),
        }
    }
}

/// A model of either element type, as read from a file.
#[derive(Debug, Clone)]
pub enum AnyMlp {
    F32(Mlp<f32>),
    F64(Mlp<f64>),
}

// ------------------------------------------------------------------ file format

pub use crate::checksum::crc32;

use crate::byte_reader::ByteReader as Reader;

fn bad(msg: String) -> Error {
    Error::InvalidFormat(format!("mlp file: {msg}"))
}

/// Element types a model file can hold.
pub trait MlpFloat: PanelFloat {
    #[doc(hidden)]
    const TAG: u8;
    #[doc(hidden)]
    const SIZE: usize;
    #[doc(hidden)]
    fn read_le(b: &[u8]) -> Self;
    #[doc(hidden)]
    fn write_le(self, out: &mut Vec<u8>);
}
impl MlpFloat for f32 {
    const TAG: u8 = 1;
    const SIZE: usize = 4;
    fn read_le(b: &[u8]) -> f32 {
        f32::from_le_bytes(b.try_into().unwrap())
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes())
    }
}
impl MlpFloat for f64 {
    const TAG: u8 = 2;
    const SIZE: usize = 8;
    fn read_le(b: &[u8]) -> f64 {
        f64::from_le_bytes(b.try_into().unwrap())
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes())
    }
}

fn read_floats<T: MlpFloat>(r: &mut Reader<'_>, n: usize, what: &str) -> Result<Vec<T>> {
    let bytes = n
        .checked_mul(T::SIZE)
        .ok_or_else(|| bad(format!("{what}: size overflows")))?;
    let b = r.take(bytes, what)?;
    Ok(b.chunks_exact(T::SIZE).map(T::read_le).collect())
}

struct Header {
    dtype: u8,
    task: Task,
    hidden: Activation,
    output: Activation,
    sizes: Vec<usize>,
    labels: Labels,
    feature_names: Vec<String>,
}

/// `n` strings, each a u32 byte length then that many UTF-8 bytes.
fn read_strings(r: &mut Reader<'_>, n: usize, what: &str) -> Result<Vec<String>> {
    if n > r.remaining() / 4 {
        return Err(bad(format!("truncated: {n} {what}s do not fit")));
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32(what)? as usize;
        if len > MAX_LABEL_BYTES {
            return Err(bad(format!(
                "{what} of {len} bytes, at most {MAX_LABEL_BYTES}"
            )));
        }
        let b = r.take(len, what)?;
        let s = std::str::from_utf8(b).map_err(|_| bad(format!("{what} is not valid UTF-8")))?;
        v.push(s.to_string());
    }
    Ok(v)
}

fn write_strings(o: &mut Vec<u8>, v: &[String]) {
    for s in v {
        o.extend_from_slice(&(s.len() as u32).to_le_bytes());
        o.extend_from_slice(s.as_bytes());
    }
}

/// Checks the magic bytes and returns the format version.
fn check_magic_version(head: &[u8]) -> Result<u32> {
    if head.len() < 8 || head[..8] != MAGIC {
        return Err(bad(
            "not a ferrokit MLP model (wrong magic bytes; expected \"FKMLP\\x1a\\r\\n\")".into(),
        ));
    }
    if head.len() < 12 {
        return Err(bad("truncated: no format version".into()));
    }
    let v = u32::from_le_bytes(head[8..12].try_into().unwrap());
    if !(MIN_FORMAT_VERSION..=FORMAT_VERSION).contains(&v) {
        return Err(Error::UnsupportedVersion(format!(
            "mlp file: format version {v}, this library reads versions \
             {MIN_FORMAT_VERSION} to {FORMAT_VERSION}"
        )));
    }
    Ok(v)
}

fn read_header(r: &mut Reader<'_>) -> Result<Header> {
    let head = r.take(12, "magic and version").or_else(|_| {
        // Report wrong magic before truncation when the prefix already differs.
        check_magic_version(r.buf)?;
        Err(bad("truncated header".into()))
    })?;
    let version = check_magic_version(head)?;
    let dtype = r.u8("dtype")?;
    if dtype != 1 && dtype != 2 {
        return Err(bad(format!(
            "dtype code {dtype}, expected 1 (float32) or 2 (float64)"
        )));
    }
    let task = match r.u8("task")? {
        0 => Task::Regressor,
        1 => Task::Classifier,
        2 => Task::Multilabel,
        t => return Err(bad(format!("task code {t}, expected 0, 1 or 2"))),
    };
    let hidden = r.u8("hidden activation")?;
    let hidden = Activation::from_code(hidden as i32)
        .filter(|a| *a != Activation::Softmax)
        .ok_or_else(|| bad(format!("hidden activation code {hidden} unknown")))?;
    let output = r.u8("output activation")?;
    let output = Activation::from_code(output as i32)
        .filter(|a| {
            matches!(
                a,
                Activation::Identity | Activation::Sigmoid | Activation::Softmax
            )
        })
        .ok_or_else(|| bad(format!("output activation code {output} unknown")))?;
    let n_layers = r.u32("layer count")? as usize;
    if n_layers == 0 || n_layers > MAX_LAYERS {
        return Err(bad(format!("{n_layers} layers, expected 1..={MAX_LAYERS}")));
    }
    let reserved = r.u32("reserved")?;
    if reserved != 0 {
        return Err(bad(format!("reserved field is {reserved}, expected 0")));
    }
    let mut sizes = Vec::with_capacity(n_layers + 1);
    for i in 0..=n_layers {
        let s = r.u64("layer size")?;
        if s == 0 || s > MAX_WIDTH as u64 {
            return Err(bad(format!(
                "layer size {i} is {s}, expected 1..={MAX_WIDTH}"
            )));
        }
        sizes.push(s as usize);
    }
    let kind = r.u8("label kind")?;
    let pad = r.take(7, "label padding")?;
    if pad.iter().any(|&b| b != 0) {
        return Err(bad("label padding is not zero".into()));
    }
    let n_labels = r.u64("label count")?;
    if n_labels > MAX_LABELS as u64 {
        return Err(bad(format!(
            "{n_labels} labels, at most {MAX_LABELS} allowed"
        )));
    }
    let n_labels = n_labels as usize;
    let fixed = |r: &mut Reader<'_>| -> Result<Vec<[u8; 8]>> {
        let b = r.take(n_labels * 8, "labels")?;
        Ok(b.chunks_exact(8).map(|c| c.try_into().unwrap()).collect())
    };
    let labels = match kind {
        0 if n_labels == 0 => Labels::None,
        0 => return Err(bad(format!("label kind 0 (none) with {n_labels} labels"))),
        1 => Labels::Int(fixed(r)?.into_iter().map(i64::from_le_bytes).collect()),
        2 => Labels::Float(fixed(r)?.into_iter().map(f64::from_le_bytes).collect()),
        4 => {
            let v = fixed(r)?
                .into_iter()
                .map(|b| match i64::from_le_bytes(b) {
                    0 => Ok(false),
                    1 => Ok(true),
                    o => Err(bad(format!("boolean label {o}, expected 0 or 1"))),
                })
                .collect::<Result<Vec<bool>>>()?;
            Labels::Bool(v)
        }
        3 => Labels::Text(read_strings(r, n_labels, "label")?),
        k => return Err(bad(format!("label kind {k}, expected 0..=4"))),
    };
    let mut feature_names = Vec::new();
    if version >= 2 {
        let n = r.u64("feature name count")?;
        if n != 0 && n != sizes[0] as u64 {
            return Err(bad(format!(
                "{n} feature names for {} features (expected 0 or {})",
                sizes[0], sizes[0]
            )));
        }
        feature_names = read_strings(r, n as usize, "feature name")?;
    }
    Ok(Header {
        dtype,
        task,
        hidden,
        output,
        sizes,
        labels,
        feature_names,
    })
}

fn read_body<T: MlpFloat>(r: &mut Reader<'_>, h: Header) -> Result<Mlp<T>> {
    // Check the total size against what is left before allocating anything.
    let mut total: usize = 0;
    for w in h.sizes.windows(2) {
        total = w[0]
            .checked_mul(w[1])
            .and_then(|c| c.checked_add(w[1]))
            .and_then(|c| total.checked_add(c))
            .ok_or_else(|| bad("parameter count overflows".into()))?;
    }
    let need = total
        .checked_mul(T::SIZE)
        .and_then(|b| b.checked_add(4))
        .ok_or_else(|| bad("parameter bytes overflow".into()))?;
    if need != r.remaining() {
        return Err(bad(format!(
            "{} the weights: layer sizes {:?} need {need} bytes (with checksum), {} remain",
            if need > r.remaining() {
                "truncated in"
            } else {
                "trailing bytes after"
            },
            h.sizes,
            r.remaining()
        )));
    }
    let mut layers = Vec::with_capacity(h.sizes.len() - 1);
    for w in h.sizes.windows(2) {
        let coef = read_floats::<T>(r, w[0] * w[1], "weights")?;
        let intercept = read_floats::<T>(r, w[1], "intercepts")?;
        layers.push(Dense { coef, intercept });
    }
    Mlp::new(h.sizes, layers, h.hidden, h.output, h.task, h.labels)
        .and_then(|m| m.with_feature_names(h.feature_names))
        .map_err(|e| bad(format!("inconsistent model: {e}")))
}

impl AnyMlp {
    /// Parses and validates a model file image. Every read is bounds-checked;
    /// errors: `InvalidFormat` (wrong magic, truncated, corrupted, checksum),
    /// `UnsupportedVersion`.
    pub fn from_bytes(buf: &[u8]) -> Result<AnyMlp> {
        let mut r = Reader::new(buf, 0, "mlp file");
        let h = read_header(&mut r)?;
        let body_end = buf.len().saturating_sub(4);
        let model = if h.dtype == 1 {
            AnyMlp::F32(read_body::<f32>(&mut r, h)?)
        } else {
            AnyMlp::F64(read_body::<f64>(&mut r, h)?)
        };
        let stored = u32::from_le_bytes(buf[body_end..].try_into().unwrap());
        let actual = crc32(&buf[..body_end]);
        if stored != actual {
            return Err(bad(format!(
                "checksum mismatch (stored {stored:#010x}, computed {actual:#010x}): the file is corrupted"
            )));
        }
        Ok(model)
    }

    /// Names of the input features, empty when the model has none.
    pub fn feature_names(&self) -> &[String] {
        match self {
            AnyMlp::F32(m) => m.feature_names(),
            AnyMlp::F64(m) => m.feature_names(),
        }
    }

    /// Reads a model file.
    pub fn load(path: &std::path::Path) -> Result<AnyMlp> {
        let io = |e: std::io::Error| Error::Io(format!("mlp file {}: {e}", path.display()));
        let mut f = std::fs::File::open(path).map_err(io)?;
        let mut head = [0u8; 12];
        let mut got = 0;
        while got < head.len() {
            match f.read(&mut head[got..]).map_err(io)? {
                0 => break,
                n => got += n,
            }
        }
        if got < 12 {
            check_magic_version(&head[..got])?;
            return Err(bad(format!("{}: truncated ({got} bytes)", path.display())));
        }
        check_magic_version(&head)?;
        let mut buf = head.to_vec();
        f.read_to_end(&mut buf).map_err(io)?;
        AnyMlp::from_bytes(&buf)
    }

    /// The file image of this model (format version 1, or 2 when it has feature names).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            AnyMlp::F32(m) => write_model(m),
            AnyMlp::F64(m) => write_model(m),
        }
    }

    /// Writes the model to `path` (atomically enough: a temp file renamed over it).
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        let io = |e: std::io::Error| Error::Io(format!("mlp file {}: {e}", path.display()));
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

fn write_model<T: MlpFloat>(m: &Mlp<T>) -> Vec<u8> {
    let mut o = Vec::new();
    o.extend_from_slice(&MAGIC);
    // Version 1 unless there are feature names: older readers keep loading
    // every file that does not need version 2.
    let version: u32 = if m.feature_names.is_empty() { 1 } else { 2 };
    o.extend_from_slice(&version.to_le_bytes());
    o.push(T::TAG);
    o.push(m.task as u8);
    o.push(m.hidden as i32 as u8);
    o.push(m.output as i32 as u8);
    o.extend_from_slice(&(m.layers.len() as u32).to_le_bytes());
    o.extend_from_slice(&0u32.to_le_bytes());
    for &s in &m.sizes {
        o.extend_from_slice(&(s as u64).to_le_bytes());
    }
    o.push(m.labels.kind());
    o.extend_from_slice(&[0u8; 7]);
    o.extend_from_slice(&(m.labels.len() as u64).to_le_bytes());
    match &m.labels {
        Labels::None => {}
        Labels::Int(v) => v.iter().for_each(|x| o.extend_from_slice(&x.to_le_bytes())),
        Labels::Float(v) => v.iter().for_each(|x| o.extend_from_slice(&x.to_le_bytes())),
        Labels::Bool(v) => v
            .iter()
            .for_each(|&x| o.extend_from_slice(&(x as i64).to_le_bytes())),
        Labels::Text(v) => write_strings(&mut o, v),
    }
    if version >= 2 {
        o.extend_from_slice(&(m.feature_names.len() as u64).to_le_bytes());
        write_strings(&mut o, &m.feature_names);
    }
    for l in &m.layers {
        l.coef.iter().for_each(|&x| x.write_le(&mut o));
        l.intercept.iter().for_each(|&x| x.write_le(&mut o));
    }
    let c = crc32(&o);
    o.extend_from_slice(&c.to_le_bytes());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64, scale: f64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    /// A relu classifier whose widths are not multiples of the panel tiles
    /// (32 / 64) nor of 8, with an odd input width.
    fn model<T: MlpFloat>(sizes: &[usize], hidden: Activation) -> Mlp<T> {
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| Dense {
                coef: data(w[0] * w[1], 10 + i as u64, 0.3)
                    .into_iter()
                    .map(T::from_f64)
                    .collect(),
                intercept: data(w[1], 20 + i as u64, 0.2)
                    .into_iter()
                    .map(T::from_f64)
                    .collect(),
            })
            .collect();
        let n_out = *sizes.last().unwrap();
        Mlp::new(
            sizes.to_vec(),
            layers,
            hidden,
            Activation::Softmax,
            Task::Classifier,
            Labels::Int((0..n_out as i64).collect()),
        )
        .unwrap()
    }

    fn naive(m: &Mlp<f64>, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        let last = m.layers().len() - 1;
        for (li, l) in m.layers().iter().enumerate() {
            let (k, n) = (m.sizes()[li], m.sizes()[li + 1]);
            let mut o: Vec<f64> = (0..n)
                .map(|j| (0..k).map(|p| h[p] * l.coef[p * n + j]).sum::<f64>() + l.intercept[j])
                .collect();
            if li < last {
                match m.hidden() {
                    Activation::Relu => o.iter_mut().for_each(|v| *v = v.max(0.0)),
                    Activation::Tanh => o.iter_mut().for_each(|v| *v = v.tanh()),
                    _ => {}
                }
            }
            h = o;
        }
        let mx = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = h.iter().map(|v| (v - mx).exp()).sum();
        h.iter().map(|v| (v - mx).exp() / z).collect()
    }

    /// The latency path (panels, zero inputs skipped) and the gemm path agree
    /// with a naive forward pass, sample for sample.
    #[test]
    fn few_and_batch_paths_match_naive() {
        for hidden in [Activation::Relu, Activation::Tanh, Activation::Identity] {
            let sizes = [13, 70, 37, 9, 5];
            let m = model::<f64>(&sizes, hidden);
            let rows = ROW_BLOCK + 11;
            let mut x = data(rows * 13, 7, 2.0);
            x[3] = 0.0; // zero inputs in the first layer too
            x[4] = 0.0;
            let mut batch = vec![0.0; rows * 5];
            m.predict_proba(&x, rows, 13, &mut batch).unwrap();
            for n_few in 1..=FEW_SAMPLES {
                let mut few = vec![0.0; n_few * 5];
                m.predict_proba(&x[..n_few * 13], n_few, 13, &mut few)
                    .unwrap();
                for s in 0..n_few {
                    let want = naive(&m, &x[s * 13..(s + 1) * 13]);
                    for j in 0..5 {
                        assert!(
                            (few[s * 5 + j] - want[j]).abs() < 1e-14,
                            "{hidden:?} few {s} {j}"
                        );
                        assert!(
                            (batch[s * 5 + j] - want[j]).abs() < 1e-14,
                            "{hidden:?} batch {s} {j}"
                        );
                    }
                }
            }
        }
    }

    /// A model too large for panels predicts few samples through gemm.
    #[test]
    fn huge_model_has_no_panels_and_still_predicts() {
        let sizes = [1usize << 12, (MAX_PANEL_WEIGHTS >> 12) + 1, 2];
        let m = model::<f32>(&sizes, Activation::Relu);
        assert!(m.panels.is_empty());
        let x: Vec<f32> = data(sizes[0], 3, 1.0)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let mut p = [0.0f32; 2];
        m.predict_proba(&x, 1, sizes[0], &mut p).unwrap();
        assert!((p[0] + p[1] - 1.0).abs() < 1e-5 && p.iter().all(|v| v.is_finite()));
    }

    /// A cloned model keeps its panels on a 64-byte boundary and predicts the
    /// same bits.
    #[test]
    fn clone_keeps_aligned_panels() {
        let m = model::<f64>(&[9, 45, 3], Activation::Relu);
        let c = m.clone();
        drop(m.clone());
        for p in &c.panels {
            assert_eq!(p.data().as_ptr() as usize % 64, 0);
        }
        let x = data(9 * 3, 5, 1.0);
        let (mut a, mut b) = (vec![0.0; 9], vec![0.0; 9]);
        m.predict_proba(&x, 3, 9, &mut a).unwrap();
        c.predict_proba(&x, 3, 9, &mut b).unwrap();
        assert!(a == b);
    }

    /// float32 models on both paths stay within float32 rounding of float64.
    #[test]
    fn f32_paths_match_f64() {
        let sizes = [10, 130, 66, 3];
        let m64 = model::<f64>(&sizes, Activation::Relu);
        let m32 = model::<f32>(&sizes, Activation::Relu);
        let rows = 300;
        let x = data(rows * 10, 8, 1.5);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let (mut p64, mut p32) = (vec![0.0; rows * 3], vec![0.0f32; rows * 3]);
        m64.predict_proba(&x, rows, 10, &mut p64).unwrap();
        m32.predict_proba(&x32, rows, 10, &mut p32).unwrap();
        let mut one = [0.0f32; 3];
        for s in 0..rows {
            if s < 3 {
                m32.predict_proba(&x32[s * 10..s * 10 + 10], 1, 10, &mut one)
                    .unwrap();
            } else {
                one.copy_from_slice(&p32[s * 3..s * 3 + 3]);
            }
            for j in 0..3 {
                assert!((one[j] as f64 - p64[s * 3 + j]).abs() < 1e-5);
            }
        }
    }

    /// Feature names: written as format version 2 and read back; a model
    /// without them stays version 1 (readable by older versions); bad counts,
    /// lengths and truncation are format errors; version 1 files still load.
    #[test]
    fn feature_names_roundtrip_in_version_2() {
        let m = model::<f64>(&[3, 4, 2], Activation::Tanh);
        let plain = AnyMlp::F64(m.clone()).to_bytes();
        assert_eq!(plain[8..12], 1u32.to_le_bytes());
        let names: Vec<String> = ["a", "bé", ""].iter().map(|s| s.to_string()).collect();
        let named = m.clone().with_feature_names(names.clone()).unwrap();
        let bytes = AnyMlp::F64(named).to_bytes();
        assert_eq!(bytes[8..12], 2u32.to_le_bytes());
        let back = AnyMlp::from_bytes(&bytes).unwrap();
        assert_eq!(back.feature_names(), &names[..]);
        assert_eq!(back.to_bytes(), bytes);
        assert!(AnyMlp::from_bytes(&plain)
            .unwrap()
            .feature_names()
            .is_empty());
        // A version 2 file without names is valid too.
        let mut v2 = plain[..plain.len() - 4].to_vec();
        v2[8..12].copy_from_slice(&2u32.to_le_bytes());
        let at = v2.len() - (3 * 4 + 4 + 4 * 2 + 2) * 8; // before the weights
        v2.splice(at..at, 0u64.to_le_bytes());
        let c = crc32(&v2);
        v2.extend_from_slice(&c.to_le_bytes());
        assert!(AnyMlp::from_bytes(&v2).unwrap().feature_names().is_empty());
        // Wrong count, truncation, bad UTF-8 and version 3 are refused.
        let fix = |mut b: Vec<u8>| {
            let n = b.len() - 4;
            let c = crc32(&b[..n]);
            b[n..].copy_from_slice(&c.to_le_bytes());
            b
        };
        let count_at = at;
        let mut wrong = bytes.clone();
        wrong[count_at..count_at + 8].copy_from_slice(&2u64.to_le_bytes());
        assert!(
            matches!(AnyMlp::from_bytes(&fix(wrong)), Err(Error::InvalidFormat(e)) if e.contains("feature names"))
        );
        let mut utf = bytes.clone();
        utf[count_at + 8 + 4] = 0xff; // first byte of "a"
        assert!(
            matches!(AnyMlp::from_bytes(&fix(utf)), Err(Error::InvalidFormat(e)) if e.contains("UTF-8"))
        );
        assert!(AnyMlp::from_bytes(&bytes[..count_at + 10]).is_err());
        let mut v3 = bytes.clone();
        v3[8..12].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(
            AnyMlp::from_bytes(&v3),
            Err(Error::UnsupportedVersion(_))
        ));
        assert!(m.clone().with_feature_names(vec!["x".into()]).is_err());
        assert!(m
            .with_feature_names(vec![
                "x".repeat(MAX_LABEL_BYTES + 1),
                "y".into(),
                "z".into()
            ])
            .is_err());
    }

    /// NaN and infinity propagate on the latency path as on the gemm path (a
    /// zero input is skipped only when the weights are finite: 0 · inf is NaN).
    #[test]
    fn non_finite_inputs_and_weights() {
        let sizes = [6, 40, 4];
        let m = model::<f64>(&sizes, Activation::Relu);
        let mut x = data(6 * 12, 9, 1.0);
        x[2] = f64::NAN;
        x[6 + 1] = f64::INFINITY;
        for (s, nan_row) in [(0, true), (1, true)] {
            let mut p = vec![0.0; 4];
            m.predict_proba(&x[s * 6..s * 6 + 6], 1, 6, &mut p).unwrap();
            let mut b = vec![0.0; 12 * 4];
            m.predict_proba(&x, 12, 6, &mut b).unwrap();
            assert_eq!(p.iter().all(|v| v.is_nan()), nan_row);
            assert_eq!(b[s * 4..s * 4 + 4].iter().all(|v| v.is_nan()), nan_row);
        }
        // An infinite weight under a zero input gives NaN, like numpy.
        let mut layers = m.layers().to_vec();
        layers[1].coef[0] = f64::INFINITY; // row 0 of layer 1: hidden unit 0
        let mut x0 = vec![0.0; 6];
        let bad = Mlp::new(
            sizes.to_vec(),
            layers.clone(),
            Activation::Relu,
            Activation::Softmax,
            Task::Classifier,
            Labels::Int(vec![0, 1, 2, 3]),
        )
        .unwrap();
        // Find an input whose hidden unit 0 is exactly zero after relu.
        let l0 = &layers[0];
        let h0 = |x: &[f64]| (0..6).map(|p| x[p] * l0.coef[p * 40]).sum::<f64>() + l0.intercept[0];
        if h0(&x0) > 0.0 {
            x0[0] = -(l0.intercept[0] + 1.0) / l0.coef[0];
        }
        assert!(h0(&x0) <= 0.0);
        let (mut p, mut b) = (vec![0.0; 4], vec![0.0; 5 * 4]);
        bad.predict_proba(&x0, 1, 6, &mut p).unwrap();
        let x5: Vec<f64> = x0.iter().cycle().take(30).copied().collect();
        bad.predict_proba(&x5, 5, 6, &mut b).unwrap();
        assert!(p[0].is_nan() && b[0].is_nan());
    }

    /// The gemm path splits rows into fixed blocks: same bits for any thread
    /// count, and the few-samples path is unaffected by it.
    #[test]
    fn batch_is_bit_identical_for_any_thread_count() {
        let _level = crate::simd::test_level_lock();
        let sizes = [20, 300, 200, 3];
        let m = model::<f64>(&sizes, Activation::Relu);
        let rows = 4 * ROW_BLOCK + 17;
        let x = data(rows * 20, 11, 1.0);
        let run = |threads: usize| {
            crate::pool::set_num_threads(threads);
            let mut p = vec![0.0; rows * 3];
            m.predict_proba(&x, rows, 20, &mut p).unwrap();
            p
        };
        let one = run(1);
        let two = run(2);
        let three = run(3);
        crate::pool::set_num_threads(0);
        assert!(one == two && one == three);
    }
}
