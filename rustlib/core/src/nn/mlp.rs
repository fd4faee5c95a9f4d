//! A multi-layer perceptron for inference (the model of scikit-learn's
//! `MLPClassifier` / `MLPRegressor`) and its versioned binary file format
//! (specified in `docs/mlp_format.md`).
//!
//! A model is immutable once built, so any number of threads may predict with
//! one model at the same time.

// `v != v` is the NaN test of the generic `Float` (no `is_nan` there).
#![allow(clippy::eq_op)]

use super::linear::{activate_block, product, ROW_BLOCK};
use super::{check_len, shape_len, Activation, NnFloat};
use crate::pool;
use crate::simd::gemm::WeightLayout;
use crate::{Error, Result};
use std::io::Read;

/// The 8 bytes every model file starts with.
pub const MAGIC: [u8; 8] = *b"FKMLP\x1a\r\n";
/// The format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Limits a file must respect (far above any real scikit-learn model; they
/// keep a corrupted size field from asking for absurd amounts of memory).
pub const MAX_LAYERS: usize = 1024;
/// Largest width of a layer (inputs, hidden units or outputs).
pub const MAX_WIDTH: usize = 1 << 24;
/// Largest number of class labels.
pub const MAX_LABELS: usize = 1 << 24;
/// Largest byte length of one text label.
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
    hidden: Activation,
    output: Activation,
    task: Task,
    labels: Labels,
}

fn invalid(msg: String) -> Error {
    Error::InvalidArgument(msg)
}

impl<T: NnFloat> Mlp<T> {
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
        Ok(Mlp {
            sizes,
            layers,
            hidden,
            output,
            task,
            labels,
        })
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
        let nf = self.n_features();
        let widest = self.sizes[1..].iter().copied().max().unwrap_or(1);
        let block = |xs: &[T], os: &mut [T]| {
            let m = xs.len() / nf;
            let mut a = vec![T::ZERO; m * widest];
            let mut b = vec![T::ZERO; m * widest];
            let mut scratch = Vec::new();
            let last = self.layers.len() - 1;
            for (i, l) in self.layers.iter().enumerate() {
                let (k, n) = (self.sizes[i], self.sizes[i + 1]);
                let act = if i == last { self.output } else { self.hidden };
                let input: &[T] = if i == 0 { xs } else { &a[..m * k] };
                let dst: &mut [T] = if i == last { &mut *os } else { &mut b[..m * n] };
                for row in dst.chunks_exact_mut(n) {
                    row.copy_from_slice(&l.intercept);
                }
                product(input, m, k, &l.coef, n, WeightLayout::InOut, dst, true);
                activate_block(act, dst, n, &mut scratch);
                if i != last {
                    std::mem::swap(&mut a, &mut b);
                }
            }
        };
        let work = n_samples.saturating_mul(self.layers.iter().map(|l| l.coef.len()).sum());
        let parallel_ok = n_samples > ROW_BLOCK && work >= (1 << 21);
        pool::run(if parallel_ok { work } else { 0 }, 1, |par| {
            if par {
                use rayon::prelude::*;
                out.par_chunks_mut(ROW_BLOCK * n_out)
                    .zip(x.par_chunks(ROW_BLOCK * nf))
                    .for_each(|(o, xs)| block(xs, o));
            } else {
                for (o, xs) in out
                    .chunks_mut(ROW_BLOCK * n_out)
                    .zip(x.chunks(ROW_BLOCK * nf))
                {
                    block(xs, o);
                }
            }
        });
        Ok(())
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

/// A model of either element type, as read from a file.
#[derive(Debug, Clone)]
pub enum AnyMlp {
    F32(Mlp<f32>),
    F64(Mlp<f64>),
}

// ------------------------------------------------------------------ file format

/// CRC-32 (IEEE 802.3, the one of zlib and PNG).
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut j = 0;
            while j < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                j += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for &b in data {
        c = TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.buf.len() => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(Error::InvalidFormat(format!(
                "mlp file: truncated: {what} needs {n} bytes at offset {}, only {} remain",
                self.pos,
                self.buf.len() - self.pos
            ))),
        }
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

fn bad(msg: String) -> Error {
    Error::InvalidFormat(format!("mlp file: {msg}"))
}

/// Element types a model file can hold.
pub trait MlpFloat: NnFloat {
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
}

fn check_magic_version(head: &[u8]) -> Result<()> {
    if head.len() < 8 || head[..8] != MAGIC {
        return Err(bad(
            "not a ferrokit MLP model (wrong magic bytes; expected \"FKMLP\\x1a\\r\\n\")".into(),
        ));
    }
    if head.len() < 12 {
        return Err(bad("truncated: no format version".into()));
    }
    let v = u32::from_le_bytes(head[8..12].try_into().unwrap());
    if v != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion(format!(
            "mlp file: format version {v}, this library reads version {FORMAT_VERSION}"
        )));
    }
    Ok(())
}

fn read_header(r: &mut Reader<'_>) -> Result<Header> {
    let head = r.take(12, "magic and version").or_else(|_| {
        // Report wrong magic before truncation when the prefix already differs.
        check_magic_version(r.buf)?;
        Err(bad("truncated header".into()))
    })?;
    check_magic_version(head)?;
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
        3 => {
            if n_labels > r.remaining() / 4 {
                return Err(bad(format!("truncated: {n_labels} text labels do not fit")));
            }
            let mut v = Vec::with_capacity(n_labels);
            for _ in 0..n_labels {
                let len = r.u32("label length")? as usize;
                if len > MAX_LABEL_BYTES {
                    return Err(bad(format!(
                        "label of {len} bytes, at most {MAX_LABEL_BYTES}"
                    )));
                }
                let b = r.take(len, "label text")?;
                let s =
                    std::str::from_utf8(b).map_err(|_| bad("label is not valid UTF-8".into()))?;
                v.push(s.to_string());
            }
            Labels::Text(v)
        }
        k => return Err(bad(format!("label kind {k}, expected 0..=4"))),
    };
    Ok(Header {
        dtype,
        task,
        hidden,
        output,
        sizes,
        labels,
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
        .map_err(|e| bad(format!("inconsistent model: {e}")))
}

impl AnyMlp {
    /// Parses and validates a model file image. Every read is bounds-checked;
    /// errors: `InvalidFormat` (wrong magic, truncated, corrupted, checksum),
    /// `UnsupportedVersion`.
    pub fn from_bytes(buf: &[u8]) -> Result<AnyMlp> {
        let mut r = Reader { buf, pos: 0 };
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

    /// The file image of this model (format version 1).
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
    o.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
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
        Labels::Text(v) => v.iter().for_each(|s| {
            o.extend_from_slice(&(s.len() as u32).to_le_bytes());
            o.extend_from_slice(s.as_bytes());
        }),
    }
    for l in &m.layers {
        l.coef.iter().for_each(|&x| x.write_le(&mut o));
        l.intercept.iter().for_each(|&x| x.write_le(&mut o));
    }
    let c = crc32(&o);
    o.extend_from_slice(&c.to_le_bytes());
    o
}
