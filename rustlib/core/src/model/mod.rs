//! A fitted pipeline (preprocessing steps + a final estimator) loaded from a
//! model file (`docs/model_format.md`), for inference.
//!
//! A [`Model`] is immutable after loading and `Send + Sync`: any number of
//! threads may predict with one model at the same time. Loading never runs
//! code from the file and never trusts it (see [`format`]). Old MLP files
//! (`docs/mlp_format.md`) load too, as a one-step model.
//!
//! Input is row-major `n_rows × n_features`, `f32` or `f64`. Every step
//! computes what the scikit-learn estimator computes; with `f32` input each
//! preprocessing operation's result is rounded to `f32` (as numpy's in-place
//! operations on a float32 array do) and the final estimator computes in
//! `f64`, like scikit-learn with float64 weights.
//!
//! ```
//! use ferrokit_core::model::format::{write, Block, Value};
//! use ferrokit_core::model::{kind, Model, ModelTask};
//! // StandardScaler + LinearRegression on 2 features, written by hand.
//! let bytes = write(&[
//!     Block::new(kind::META)
//!         .with("input", Value::I64(vec![0]))
//!         .with("n_features", Value::I64(vec![2])),
//!     Block::new(kind::STANDARD_SCALER)
//!         .with("n_features", Value::I64(vec![2]))
//!         .with("mean", Value::F64(vec![1.0, 2.0]))
//!         .with("scale", Value::F64(vec![2.0, 4.0])),
//!     Block::new(kind::LINEAR_REGRESSOR)
//!         .with("n_features", Value::I64(vec![2]))
//!         .with("n_outputs", Value::I64(vec![1]))
//!         .with("coef", Value::F64(vec![1.0, 1.0]))
//!         .with("intercept", Value::F64(vec![0.5])),
//! ]);
//! let m = Model::from_bytes(&bytes).unwrap();
//! assert_eq!(m.info().task, ModelTask::Regressor);
//! let mut out = [0.0f64; 1];
//! m.predict(&[3.0f64, 6.0], 1, &mut out).unwrap();
//! assert_eq!(out[0], 1.0 + 1.0 + 0.5);
//! ```

mod build;
pub mod format;
mod heads;
mod save;
#[cfg(test)]
mod save_tests;
mod steps;
mod stream;
#[cfg(test)]
mod tests;
mod text;
mod text_build;
#[cfg(test)]
mod text_tests;

pub use build::{kind, kind_name};
pub use heads::{KnnWeights, ProbaRule};
pub use steps::Norm;

pub use crate::nn::mlp::Labels;
use crate::nn::mlp::{AnyMlp, Dense, Mlp, Task, MAGIC as MLP_MAGIC};
use crate::{Error, Result};
use heads::{argmax, Head, KnnTarget};
use steps::{check_input, Accept, Step, Work};
use text::{SparseWork, TextPipe};

pub use crate::text::{Csr, Strings};

/// The input of one call: rows of numbers or documents.
#[derive(Clone, Copy)]
enum In<'a, T> {
    Num(&'a [T], usize),
    Text(&'a Strings<'a>),
}

impl<T> In<'_, T> {
    fn n_rows(&self) -> usize {
        match self {
            In::Num(_, n) => *n,
            In::Text(d) => d.len(),
        }
    }
    fn name(&self, base: &'static str) -> &'static str {
        match (self, base) {
            (In::Num(..), b) => b,
            (In::Text(_), "model_predict") => "model_predict_text",
            (In::Text(_), "model_predict_classes") => "model_predict_classes_text",
            (In::Text(_), "model_predict_proba") => "model_predict_proba_text",
            (In::Text(_), "model_decision_function") => "model_decision_function_text",
            (In::Text(_), _) => "model_transform_text",
        }
    }
}

/// Rows after the preprocessing steps.
enum Rows {
    Dense(Work),
    Sparse(SparseWork),
}

type MlpIn<'a> = (&'a Mlp<f64>, std::borrow::Cow<'a, [f64]>, usize);

/// Element types a model accepts as input (and writes as output).
pub trait ModelFloat: crate::neighbors::KnnFloat {
    #[doc(hidden)]
    const IS_F32: bool;
}
impl ModelFloat for f32 {
    const IS_F32: bool = true;
}
impl ModelFloat for f64 {
    const IS_F32: bool = false;
}

/// What a model takes as input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Rows of numbers.
    Numeric = 0,
    /// Documents (UTF-8 strings): one document per row; use the `*_text`
    /// methods ([`Model::predict_text`], …).
    Text = 1,
}

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelTask {
    /// Real values ([`Model::predict`]).
    Regressor = 0,
    /// One class per row ([`Model::predict_classes`]).
    Classifier = 1,
    /// A 0/1 indicator per label ([`Model::predict_classes`]).
    Multilabel = 2,
    /// A pipeline of transformers only ([`Model::transform`]).
    Transformer = 3,
    /// NearestNeighbors: only [`Model::kneighbors`].
    Neighbors = 4,
}

/// The outputs a model can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Predict,
    PredictProba,
    DecisionFunction,
    Transform,
    KNeighbors,
}

/// A model's description: input, task, widths of every output, labels.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub input: InputKind,
    pub task: ModelTask,
    /// Columns of the input.
    pub n_features: usize,
    /// Columns of `predict`: 1 for a classifier (one class index per row), the
    /// number of targets of a regressor, labels of a multilabel model, columns
    /// of `transform` for a transformer, `n_neighbors` for NearestNeighbors.
    pub n_outputs: usize,
    /// scikit-learn returns `predict` as a 1-D array (one-target regressors
    /// fitted on 1-D `y`; classifiers always).
    pub predict_1d: bool,
    /// Columns of `predict_proba` (0: not available).
    pub n_proba: usize,
    /// Columns of `decision_function` (0: not available; 1: binary, returned 1-D).
    pub n_decision: usize,
    /// Columns of `transform` (0: not available).
    pub n_transform: usize,
    /// Default `k` of `kneighbors` (0: not available).
    pub n_neighbors: usize,
    /// Class labels (empty for regressors and transformers).
    pub labels: Labels,
    /// `feature_names_in_` (empty when fitted without names).
    pub feature_names: Vec<String>,
    /// Every step and the final estimator, as `block i (kind "name")`.
    pub steps: Vec<String>,
    /// Free-form text the writer stored (ferrokit's exporter: JSON with the
    /// producer's versions and the numpy dtype of the class labels); never
    /// interpreted by the loader.
    pub metadata: String,
}

impl ModelInfo {
    /// True when the model computes `o`.
    pub fn has(&self, o: Output) -> bool {
        match o {
            Output::Predict => !matches!(self.task, ModelTask::Transformer | ModelTask::Neighbors),
            Output::PredictProba => self.n_proba > 0,
            Output::DecisionFunction => self.n_decision > 0,
            Output::Transform => self.n_transform > 0,
            Output::KNeighbors => self.n_neighbors > 0,
        }
    }
}

/// A loaded pipeline. Immutable; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Model {
    info: ModelInfo,
    steps: Vec<(String, Step)>,
    head_name: String,
    head: Head,
    /// Text models: vectorizer, sparse steps and the sparse form of an MLP.
    text: Option<Box<TextPipe>>,
    /// What it was loaded from, to write it back ([`Model::to_bytes`]).
    source: save::Source,
}

/// The same network with its weights converted to `B` (float32 -> float64 is
/// exact; float64 -> float32 only for weights that were float32).
fn mlp_cast<A, B>(m: &Mlp<A>, cast: impl Fn(A) -> B) -> Result<Mlp<B>>
where
    A: crate::nn::mlp::PanelFloat,
    B: crate::nn::mlp::PanelFloat,
{
    let layers = m
        .layers()
        .iter()
        .map(|l| Dense {
            coef: l.coef.iter().map(|&v| cast(v)).collect(),
            intercept: l.intercept.iter().map(|&v| cast(v)).collect(),
        })
        .collect();
    Mlp::new(
        m.sizes().to_vec(),
        layers,
        m.hidden(),
        m.output(),
        m.task(),
        m.labels().clone(),
    )
}

fn mlp_f64(m: &Mlp<f32>) -> Result<Mlp<f64>> {
    mlp_cast(m, |v| v as f64)
}

/// The float32 copy of a network whose weights were stored in float32.
pub(crate) fn mlp_f32(m: &Mlp<f64>) -> Result<Mlp<f32>> {
    mlp_cast(m, |v| v as f32)
}

/// `dst[i] = src[i]` (exact).
fn widen(src: &[f32], dst: &mut [f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as f64;
    }
}

impl Model {
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        input: InputKind,
        n_features: usize,
        feature_names: Vec<String>,
        steps: Vec<(String, Step)>,
        head_name: String,
        head: Head,
        labels: Labels,
        ravel: bool,
        width: usize,
    ) -> Model {
        let mut names: Vec<String> = steps.iter().map(|(n, _)| n.clone()).collect();
        if !matches!(head, Head::Transform) {
            names.push(head_name.clone());
        }
        let info = build::info_of(
            input,
            n_features,
            feature_names,
            &head,
            labels,
            ravel,
            width,
            names,
        );
        Model {
            info,
            steps,
            head_name,
            head,
            text: None,
            source: save::Source::MlpFile(Vec::new()),
        }
    }

    /// Parses and validates a model file image (this format or the MLP
    /// format). Errors: `InvalidFormat` (wrong magic, truncated, corrupted,
    /// checksum, inconsistent), `UnsupportedVersion` (naming both versions).
    pub fn from_bytes(buf: &[u8]) -> Result<Model> {
        if buf.len() >= 5 && buf[..5] == MLP_MAGIC[..5] {
            return Model::from_mlp_file(buf.to_vec());
        }
        Model::from_reader(buf, buf.len() as u64)
    }

    fn from_mlp_file(buf: Vec<u8>) -> Result<Model> {
        let mut m = match AnyMlp::from_bytes(&buf)? {
            AnyMlp::F64(m) => build::from_mlp(m, None),
            AnyMlp::F32(m) => build::from_mlp(mlp_f64(&m)?, Some(m)),
        };
        m.source = save::Source::MlpFile(buf);
        Ok(m)
    }

    /// Parses a model file of `len` bytes from `src` in one streaming pass
    /// ([`format::parse_from`]), then builds the model.
    fn from_reader<R: std::io::Read>(src: R, len: u64) -> Result<Model> {
        let (blocks, have) = format::parse_from(src, len)?;
        let need = format::version_needed(&blocks);
        if have < need {
            return Err(format::bad(format!(
                "the blocks describe a text model, which needs format version {need}, \
                 but the header says version {have}"
            )));
        }
        let source = save::skeleton(have, &blocks);
        let mut m = build::build(blocks)?;
        m.source = source;
        Ok(m)
    }

    /// Reads a model file in one pass: the file is parsed while it is read,
    /// each array decoded straight into the model (no copy of the whole
    /// file is held). Errors as [`Model::from_bytes`], plus `Io`.
    pub fn load(path: &std::path::Path) -> Result<Model> {
        use std::io::Read;
        let io = |e: std::io::Error| Error::Io(format!("model file {}: {e}", path.display()));
        let mut f = std::fs::File::open(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let mut head = [0u8; 8];
        let mut got = 0;
        while got < 8 {
            match f.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e)),
            }
        }
        let res = if got >= 5 && head[..5] == MLP_MAGIC[..5] {
            let mut buf = head[..got].to_vec();
            f.read_to_end(&mut buf).map_err(io)?;
            Model::from_mlp_file(buf)
        } else {
            Model::from_reader((&head[..got]).chain(f), len)
        };
        res.map_err(|e| match e {
            Error::InvalidFormat(m) => Error::InvalidFormat(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// The model's description.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Checks `x`, converts it to the work buffer and runs every
    /// preprocessing step (each validating its input like scikit-learn), then
    /// validates the final estimator's input.
    fn prepare<T: ModelFloat>(&self, fn_name: &str, x: &[T], n_rows: usize) -> Result<Work> {
        let nf = self.info.n_features;
        let want = n_rows.checked_mul(nf).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{fn_name}: {n_rows} rows overflow the address space"
            ))
        })?;
        if x.len() != want {
            return Err(Error::LengthMismatch(format!(
                "{fn_name}: x has {} values, expected {n_rows} rows x {nf} features = {want}",
                x.len()
            )));
        }
        let mut w = Work {
            data: x.iter().map(|v| v.to_f64()).collect(),
            cols: nf,
            f32: T::IS_F32,
        };
        for (name, s) in &self.steps {
            check_input(&w.data, s.accept(), &format!("{fn_name}: {name}"))?;
            s.apply(&mut w);
        }
        if !matches!(self.head, Head::Transform) {
            check_input(
                &w.data,
                Accept::Finite,
                &format!("{fn_name}: {}", self.head_name),
            )?;
        }
        Ok(w)
    }

    fn unavailable(&self, fn_name: &str, hint: &str) -> Error {
        Error::InvalidState(format!(
            "{fn_name}: not available for this model ({}, final step {}){hint}",
            match self.info.task {
                ModelTask::Regressor => "a regressor",
                ModelTask::Classifier => "a classifier",
                ModelTask::Multilabel => "a multilabel classifier",
                ModelTask::Transformer => "a transformer pipeline",
                ModelTask::Neighbors => "a nearest-neighbours index",
            },
            self.head_name
        ))
    }

    fn check_out(fn_name: &str, got: usize, rows: usize, cols: usize) -> Result<()> {
        if Some(got) != rows.checked_mul(cols) {
            return Err(Error::LengthMismatch(format!(
                "{fn_name}: out has {got} values, expected {rows} rows x {cols} = {}",
                rows.saturating_mul(cols)
            )));
        }
        Ok(())
    }

    fn write<T: ModelFloat>(src: &[f64], out: &mut [T]) {
        for (o, &v) in out.iter_mut().zip(src) {
            *o = T::from_f64(v);
        }
    }

    /// Runs the pipeline's steps on `input` (numbers or documents).
    fn rows<T: ModelFloat>(&self, name: &str, input: In<'_, T>) -> Result<Rows> {
        match (input, &self.text) {
            (In::Num(x, n), None) => Ok(Rows::Dense(self.prepare(name, x, n)?)),
            (In::Text(docs), Some(t)) => Ok(Rows::Sparse(t.run(docs)?)),
            (In::Num(..), Some(_)) => Err(Error::InvalidArgument(format!(
                "{name}: this model takes text (one document per row); use the text variant"
            ))),
            (In::Text(_), None) => Err(Error::InvalidArgument(format!(
                "{name}: this model takes numbers ({} features per row), not text",
                self.info.n_features
            ))),
        }
    }

    fn linear(l: &heads::Linear, rows: &Rows, n: usize, out: &mut [f64]) {
        match rows {
            Rows::Dense(w) => l.decision(&w.data, n, out),
            Rows::Sparse(s) => l.decision_sparse(s, out),
        }
    }

    /// The network and its input: the whole MLP on dense rows; on sparse
    /// rows the first layer as a sparse gather, then the rest of the network.
    fn mlp<'a>(&'a self, m: &'a Mlp<f64>, rows: &'a Rows) -> Result<MlpIn<'a>> {
        match (rows, self.text.as_ref().and_then(|t| t.mlp.as_ref())) {
            (Rows::Dense(w), _) => Ok((m, std::borrow::Cow::Borrowed(&w.data[..]), w.cols)),
            (Rows::Sparse(s), Some(sm)) => Ok((
                &sm.tail,
                std::borrow::Cow::Owned(sm.hidden(s)?),
                sm.tail.n_features(),
            )),
            (Rows::Sparse(_), None) => Err(Error::InvalidState(
                "sparse rows reached an MLP without its sparse first layer".into(),
            )),
        }
    }

    /// A float32 network on float32 rows (dense, after the steps, whose
    /// values are then float32 numbers): the network and its input in
    /// float32, computed as scikit-learn computes float32 weights on a float32
    /// array. `None`: compute in float64.
    fn mlp32<'a, T: ModelFloat>(
        m32: &'a Option<Box<Mlp<f32>>>,
        rows: &Rows,
    ) -> Option<(&'a Mlp<f32>, Vec<f32>, usize)> {
        match (m32, rows) {
            (Some(m), Rows::Dense(w)) if T::IS_F32 && w.f32 => {
                Some((m, w.data.iter().map(|&v| v as f32).collect(), w.cols))
            }
            _ => None,
        }
    }

    fn dense(rows: &Rows) -> Result<&Work> {
        match rows {
            Rows::Dense(w) => Ok(w),
            Rows::Sparse(_) => Err(Error::InvalidState(
                "sparse rows reached a k-NN model".into(),
            )),
        }
    }

    fn predict_in<T: ModelFloat>(&self, input: In<'_, T>, out: &mut [T]) -> Result<()> {
        let name = input.name("model_predict");
        let n_rows = input.n_rows();
        if self.info.task != ModelTask::Regressor {
            let hint = if matches!(
                self.info.task,
                ModelTask::Classifier | ModelTask::Multilabel
            ) {
                "; use predict_classes"
            } else {
                ""
            };
            return Err(self.unavailable(name, hint));
        }
        let n_out = self.info.n_outputs;
        Self::check_out(name, out.len(), n_rows, n_out)?;
        let rows = self.rows(name, input)?;
        let mut res = vec![0.0f64; n_rows * n_out];
        match &self.head {
            Head::Linear(l) => Self::linear(l, &rows, n_rows, &mut res),
            Head::Mlp(m, m32) => {
                if let Some((m, x, c)) = Self::mlp32::<T>(m32, &rows) {
                    let mut r = vec![0.0f32; res.len()];
                    m.forward(&x, n_rows, c, &mut r)?;
                    widen(&r, &mut res);
                } else {
                    let (m, x, c) = self.mlp(m, &rows)?;
                    m.forward(&x, n_rows, c, &mut res)?
                }
            }
            Head::Knn(k) => k.values(Self::dense(&rows)?, n_rows, &mut res)?,
            Head::Transform => unreachable!(),
        }
        Self::write(&res, out);
        Ok(())
    }

    fn predict_classes_in<T: ModelFloat>(&self, input: In<'_, T>, out: &mut [i64]) -> Result<()> {
        let name = input.name("model_predict_classes");
        let n_rows = input.n_rows();
        if !matches!(
            self.info.task,
            ModelTask::Classifier | ModelTask::Multilabel
        ) {
            return Err(self.unavailable(name, "; use predict"));
        }
        Self::check_out(name, out.len(), n_rows, self.info.n_outputs)?;
        let rows = self.rows(name, input)?;
        match &self.head {
            Head::Linear(l) => {
                let mut d = vec![0.0f64; n_rows * l.n_dec];
                Self::linear(l, &rows, n_rows, &mut d);
                if l.n_dec == 1 {
                    for (o, &v) in out.iter_mut().zip(&d) {
                        *o = (v > 0.0) as i64;
                    }
                } else {
                    for (o, r) in out.iter_mut().zip(d.chunks_exact(l.n_dec)) {
                        *o = argmax(r, l.last_argmax) as i64;
                    }
                }
            }
            Head::Mlp(m, m32) => {
                if let Some((m, x, c)) = Self::mlp32::<T>(m32, &rows) {
                    m.predict_class(&x, n_rows, c, out)?
                } else {
                    let (m, x, c) = self.mlp(m, &rows)?;
                    m.predict_class(&x, n_rows, c, out)?
                }
            }
            Head::Knn(k) => {
                let KnnTarget::Classes { n_classes, .. } = k.target else {
                    unreachable!()
                };
                let mut p = vec![0.0f64; n_rows * n_classes];
                k.proba(Self::dense(&rows)?, n_rows, &mut p)?;
                for (o, r) in out.iter_mut().zip(p.chunks_exact(n_classes)) {
                    *o = argmax(r, false) as i64;
                }
            }
            Head::Transform => unreachable!(),
        }
        Ok(())
    }

    fn predict_proba_in<T: ModelFloat>(&self, input: In<'_, T>, out: &mut [T]) -> Result<()> {
        let name = input.name("model_predict_proba");
        let n_rows = input.n_rows();
        let cols = self.info.n_proba;
        if cols == 0 {
            return Err(self.unavailable(name, ""));
        }
        Self::check_out(name, out.len(), n_rows, cols)?;
        let rows = self.rows(name, input)?;
        let mut res = vec![0.0f64; n_rows * cols];
        match &self.head {
            Head::Linear(l) => match &rows {
                Rows::Dense(w) => l.proba_dense(&w.data, cols, &mut res),
                Rows::Sparse(_) => {
                    let mut d = vec![0.0f64; n_rows * l.n_dec];
                    Self::linear(l, &rows, n_rows, &mut d);
                    l.proba_from(&d, &mut res);
                }
            },
            Head::Mlp(m, m32) => {
                let multilabel = m.task() == Task::Multilabel;
                if let Some((m, x, c)) = Self::mlp32::<T>(m32, &rows) {
                    let mut r = vec![0.0f32; res.len()];
                    if multilabel {
                        m.forward(&x, n_rows, c, &mut r)?
                    } else {
                        m.predict_proba(&x, n_rows, c, &mut r)?
                    }
                    widen(&r, &mut res);
                } else {
                    let (m, x, c) = self.mlp(m, &rows)?;
                    if multilabel {
                        m.forward(&x, n_rows, c, &mut res)?
                    } else {
                        m.predict_proba(&x, n_rows, c, &mut res)?
                    }
                }
            }
            Head::Knn(k) => k.proba(Self::dense(&rows)?, n_rows, &mut res)?,
            Head::Transform => unreachable!(),
        }
        Self::write(&res, out);
        Ok(())
    }

    fn decision_function_in<T: ModelFloat>(&self, input: In<'_, T>, out: &mut [T]) -> Result<()> {
        let name = input.name("model_decision_function");
        let n_rows = input.n_rows();
        let cols = self.info.n_decision;
        let Head::Linear(l) = &self.head else {
            return Err(self.unavailable(name, ""));
        };
        if cols == 0 {
            return Err(self.unavailable(name, ""));
        }
        Self::check_out(name, out.len(), n_rows, cols)?;
        let rows = self.rows(name, input)?;
        let mut res = vec![0.0f64; n_rows * cols];
        Self::linear(l, &rows, n_rows, &mut res);
        Self::write(&res, out);
        Ok(())
    }

    fn transform_in<T: ModelFloat>(&self, input: In<'_, T>, out: &mut [T]) -> Result<()> {
        let name = input.name("model_transform");
        let n_rows = input.n_rows();
        let cols = self.info.n_transform;
        if cols == 0 {
            return Err(self.unavailable(name, ""));
        }
        Self::check_out(name, out.len(), n_rows, cols)?;
        match self.rows(name, input)? {
            Rows::Dense(w) => Self::write(&w.data, out),
            Rows::Sparse(s) => Self::write(&s.to_dense(), out),
        }
        Ok(())
    }

    /// Regression values, `n_rows × n_outputs` (regressors only; classifiers
    /// use [`Model::predict_classes`]).
    pub fn predict<T: ModelFloat>(&self, x: &[T], n_rows: usize, out: &mut [T]) -> Result<()> {
        self.predict_in(In::Num(x, n_rows), out)
    }

    /// Predicted classes as indices into [`ModelInfo::labels`] (`n_rows`
    /// values), or for a multilabel model the 0/1 indicators
    /// (`n_rows × n_outputs`). Rules as scikit-learn: binary decision `> 0`
    /// (probability `> 0.5`), multiclass first maximum.
    pub fn predict_classes<T: ModelFloat>(
        &self,
        x: &[T],
        n_rows: usize,
        out: &mut [i64],
    ) -> Result<()> {
        self.predict_classes_in(In::Num(x, n_rows), out)
    }

    /// Class probabilities, `n_rows × n_proba` (binary: `[1 - p, p]`).
    pub fn predict_proba<T: ModelFloat>(
        &self,
        x: &[T],
        n_rows: usize,
        out: &mut [T],
    ) -> Result<()> {
        self.predict_proba_in(In::Num(x, n_rows), out)
    }

    /// Decision values, `n_rows × n_decision` (linear classifiers).
    pub fn decision_function<T: ModelFloat>(
        &self,
        x: &[T],
        n_rows: usize,
        out: &mut [T],
    ) -> Result<()> {
        self.decision_function_in(In::Num(x, n_rows), out)
    }

    /// The preprocessed rows, `n_rows × n_transform` (transformer pipelines).
    pub fn transform<T: ModelFloat>(&self, x: &[T], n_rows: usize, out: &mut [T]) -> Result<()> {
        self.transform_in(In::Num(x, n_rows), out)
    }

    /// Text models ([`InputKind::Text`]): regression values of the documents
    /// `docs` (one row per document), `docs.len() × n_outputs`, as
    /// [`Model::predict`]. The text twins (`*_text`) take documents as one
    /// UTF-8 buffer plus offsets ([`Strings`]); [`crate::text::pack`] builds
    /// them from `&[&str]`. The output type `T` only chooses how results are
    /// written: a text model computes in the dtype its vectorizer was saved
    /// with (float32 or float64), like scikit-learn.
    ///
    /// ```
    /// use ferrokit_core::model::format::{write, Block, Value};
    /// use ferrokit_core::model::{kind, Model};
    /// use ferrokit_core::text::{pack, Strings};
    /// let ints = |v: &[i64]| Value::I64(v.to_vec());
    /// let ascii = |s: &str| Value::StrList(s.split(' ').map(String::from).collect());
    /// let bytes = write(&[
    ///     Block::new(kind::META).with("input", ints(&[1])).with("n_features", ints(&[1])),
    ///     Block::new(kind::TEXT_VECTORIZER)
    ///         .with("analyzer", ints(&[0])).with("ngram_range", ints(&[1, 1]))
    ///         .with("lowercase", ints(&[1])).with("strip_accents", ints(&[0]))
    ///         .with("binary", ints(&[0])).with("dtype", ints(&[1]))
    ///         .with("n_features", ints(&[2])).with("vocabulary", ascii("bad good"))
    ///         // Python's \w, \s and lowercase on ASCII (a real file has all of Unicode).
    ///         .with("word", ints(&[48, 57, 65, 90, 95, 95, 97, 122]))
    ///         .with("space", ints(&[9, 13, 28, 32]))
    ///         .with("case_ignorable", ints(&[39, 39, 46, 46, 58, 58, 94, 94, 96, 96]))
    ///         .with("cased", ints(&[65, 90, 97, 122]))
    ///         .with("lower_cp", ints(&[])).with("lower_to", Value::StrList(vec![])),
    ///     Block::new(kind::LINEAR_REGRESSOR)
    ///         .with("n_features", ints(&[2])).with("n_outputs", ints(&[1]))
    ///         .with("coef", Value::F64(vec![-1.0, 1.0])).with("intercept", Value::F64(vec![0.5])),
    /// ]);
    /// let m = Model::from_bytes(&bytes).unwrap();
    /// let (buf, off) = pack(&["Good GOOD bad", ""]);
    /// let mut out = [0.0f64; 2];
    /// m.predict_text(&Strings::new(&buf, &off).unwrap(), &mut out).unwrap();
    /// assert_eq!(out, [1.5, 0.5]);
    /// ```
    pub fn predict_text<T: ModelFloat>(&self, docs: &Strings<'_>, out: &mut [T]) -> Result<()> {
        self.predict_in(In::<T>::Text(docs), out)
    }

    /// Text models: predicted classes of `docs` as [`Model::predict_classes`].
    pub fn predict_classes_text(&self, docs: &Strings<'_>, out: &mut [i64]) -> Result<()> {
        self.predict_classes_in(In::<f64>::Text(docs), out)
    }

    /// Text models: class probabilities of `docs`, `docs.len() × n_proba`.
    pub fn predict_proba_text<T: ModelFloat>(
        &self,
        docs: &Strings<'_>,
        out: &mut [T],
    ) -> Result<()> {
        self.predict_proba_in(In::<T>::Text(docs), out)
    }

    /// Text models: decision values of `docs`, `docs.len() × n_decision`.
    pub fn decision_function_text<T: ModelFloat>(
        &self,
        docs: &Strings<'_>,
        out: &mut [T],
    ) -> Result<()> {
        self.decision_function_in(In::<T>::Text(docs), out)
    }

    /// Text transformer pipelines: the features of `docs` as a dense
    /// `docs.len() × n_transform` matrix (see [`Model::transform_text_sparse`]).
    pub fn transform_text<T: ModelFloat>(&self, docs: &Strings<'_>, out: &mut [T]) -> Result<()> {
        self.transform_in(In::<T>::Text(docs), out)
    }

    /// Text transformer pipelines: the features of `docs` as the sparse CSR
    /// matrix scikit-learn's pipeline returns (same entries in the same order,
    /// explicit zeros of cancelling hashed signs kept; values in float64,
    /// exactly the float32 values when the vectorizer's dtype is float32).
    pub fn transform_text_sparse(&self, docs: &Strings<'_>) -> Result<Csr<f64>> {
        let name = "model_transform_text";
        if self.info.n_transform == 0 {
            return Err(self.unavailable(name, ""));
        }
        match self.rows(name, In::<f64>::Text(docs))? {
            Rows::Sparse(s) => Ok(s.into_csr()),
            Rows::Dense(_) => unreachable!("text input gives sparse rows"),
        }
    }

    /// The `k` nearest training rows of each row (NearestNeighbors):
    /// distances (`n_rows × k`, ascending) and their row indices.
    pub fn kneighbors<T: ModelFloat>(
        &self,
        x: &[T],
        n_rows: usize,
        k: usize,
        distances: &mut [T],
        indices: &mut [i64],
    ) -> Result<()> {
        let name = "model_kneighbors";
        let Head::Knn(knn) = &self.head else {
            return Err(self.unavailable(name, ""));
        };
        if self.info.n_neighbors == 0 {
            return Err(self.unavailable(name, ""));
        }
        Self::check_out(name, distances.len(), n_rows, k)?;
        Self::check_out(name, indices.len(), n_rows, k)?;
        let w = self.prepare(name, x, n_rows)?;
        let (d, i) = knn.search(&w, n_rows, k)?;
        Self::write(&d, distances);
        indices.copy_from_slice(&i);
        Ok(())
    }
}

#[cfg(test)]
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Model>();
};
