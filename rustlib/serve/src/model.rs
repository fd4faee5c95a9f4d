//! What the server needs from a model ([`ServeModel`]), the conversion of a
//! request's input tensor into the model's rows, and the adapter over
//! ferrokit's MLP files (`ferrokit_core::nn::mlp::AnyMlp`).

use crate::protocol::{ApiError, DataType, ErrorKind, InputTensor, OutputData, TensorData};
use ferrokit_core::nn::mlp::{AnyMlp, Labels, Mlp, PanelFloat, Task};

/// An output a model can compute, named as MLServer's scikit-learn runtime
/// names them (so its clients work unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Predict,
    PredictProba,
    DecisionFunction,
    Transform,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 4] = [
        Method::Predict,
        Method::PredictProba,
        Method::DecisionFunction,
        Method::Transform,
    ];
    /// The output name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Predict => "predict",
            Method::PredictProba => "predict_proba",
            Method::DecisionFunction => "decision_function",
            Method::Transform => "transform",
        }
    }
    /// The method of an output name.
    ///
    /// ```
    /// use ferrokit_serve::model::Method;
    /// assert_eq!(Method::parse("predict_proba"), Some(Method::PredictProba));
    /// assert_eq!(Method::parse("proba"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// The element type a numeric model computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    F32,
    F64,
    /// FP32 requests as float32, every other datatype as float64.
    Any,
}

impl Native {
    /// The protocol datatype of its metadata.
    pub fn datatype(self) -> DataType {
        match self {
            Native::F32 => DataType::F32,
            Native::F64 | Native::Any => DataType::F64,
        }
    }
}

/// What a model takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Rows of `n_features` numbers.
    Numeric { n_features: usize, dtype: Native },
    /// One UTF-8 document per row; bytes that are not UTF-8 are handled as
    /// the vectorizer's `decode_error` says.
    Text { decode: DecodeError },
}

/// scikit-learn's `decode_error` for documents given as bytes (UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Refuse them (400), like Python's `strict`.
    Strict,
    /// Each invalid sequence becomes U+FFFD, like Python's `replace`.
    Replace,
    /// Invalid sequences are dropped, like Python's `ignore`.
    Ignore,
}

impl DecodeError {
    /// The value of scikit-learn's parameter.
    ///
    /// ```
    /// use ferrokit_serve::model::DecodeError;
    /// assert_eq!(DecodeError::parse("replace"), Some(DecodeError::Replace));
    /// assert_eq!(DecodeError::parse("surrogateescape"), None);
    /// ```
    pub fn parse(s: &str) -> Option<DecodeError> {
        match s {
            "strict" => Some(DecodeError::Strict),
            "replace" => Some(DecodeError::Replace),
            "ignore" => Some(DecodeError::Ignore),
            _ => None,
        }
    }
}

/// A tensor's name, datatype and shape (-1 for the batch dimension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub datatype: DataType,
    pub shape: Vec<i64>,
}

/// A model's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The `platform` of the model metadata.
    pub platform: String,
    pub input_kind: InputKind,
    pub input: TensorSpec,
    /// The outputs it offers, each with its method.
    pub outputs: Vec<(Method, TensorSpec)>,
    /// The output answered when the request names none.
    pub default_method: Method,
}

impl ModelInfo {
    /// The methods this model offers.
    pub fn methods(&self) -> impl Iterator<Item = Method> + '_ {
        self.outputs.iter().map(|(m, _)| *m)
    }
}

/// Documents in the layout of `ferrokit_core::text::Strings` (Arrow's): one
/// UTF-8 buffer and `n + 1` offsets, the first 0. Every document is valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Docs {
    buf: Vec<u8>,
    offsets: Vec<u64>,
}

impl Default for Docs {
    fn default() -> Docs {
        Docs::with_capacity(0, 0)
    }
}

impl Docs {
    /// No documents, with room for `n` of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Docs {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Docs {
            buf: Vec::with_capacity(bytes),
            offsets,
        }
    }

    /// Packs `items`; one that is not UTF-8 is refused (a 400 naming the
    /// input `name` and the element) or repaired as `decode` says.
    ///
    /// ```
    /// use ferrokit_serve::model::{DecodeError, Docs};
    /// let d = Docs::pack("x", &[b"ab".to_vec(), vec![]], DecodeError::Strict).unwrap();
    /// assert_eq!((d.len(), d.bytes()), (2, 2));
    /// let bad = [b"ok".to_vec(), b"a\xffb".to_vec()];
    /// let e = Docs::pack("x", &bad, DecodeError::Strict).unwrap_err();
    /// assert!(e.message.contains("element 1 is not valid UTF-8"));
    /// let d = Docs::pack("x", &bad, DecodeError::Replace).unwrap();
    /// assert_eq!(d.strings().get(1), "a\u{fffd}b".as_bytes());
    /// let d = Docs::pack("x", &bad, DecodeError::Ignore).unwrap();
    /// assert_eq!(d.strings().get(1), b"ab");
    /// ```
    pub fn pack(name: &str, items: &[Vec<u8>], decode: DecodeError) -> Result<Docs, ApiError> {
        let bytes = items.iter().map(Vec::len).sum();
        let mut d = Docs::with_capacity(items.len(), bytes);
        for (i, item) in items.iter().enumerate() {
            match std::str::from_utf8(item) {
                Ok(_) => d.buf.extend_from_slice(item),
                Err(e) if decode == DecodeError::Strict => {
                    return Err(ApiError::bad(format!(
                        "input '{name}': element {i} is not valid UTF-8 ({e})"
                    )))
                }
                Err(_) => {
                    for chunk in item.utf8_chunks() {
                        d.buf.extend_from_slice(chunk.valid().as_bytes());
                        if !chunk.invalid().is_empty() && decode == DecodeError::Replace {
                            d.buf.extend_from_slice("\u{fffd}".as_bytes());
                        }
                    }
                }
            }
            d.offsets.push(d.buf.len() as u64);
        }
        Ok(d)
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of all documents.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Appends the documents of `other`.
    pub fn extend(&mut self, other: &Docs) {
        let base = self.buf.len() as u64;
        self.buf.extend_from_slice(&other.buf);
        self.offsets
            .extend(other.offsets[1..].iter().map(|&o| o + base));
    }

    /// The documents as the model's input.
    pub fn strings(&self) -> ferrokit_core::text::Strings<'_> {
        ferrokit_core::text::Strings::new(&self.buf, &self.offsets)
            .expect("offsets built by pack/extend are valid")
    }
}

/// A batch of rows in the model's own layout.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Text(Docs),
}

impl Rows {
    /// Appends `other` (same variant) to `self`; false when the variants differ.
    pub fn extend(&mut self, other: &Rows) -> bool {
        match (self, other) {
            (Rows::F32(a), Rows::F32(b)) => a.extend_from_slice(b),
            (Rows::F64(a), Rows::F64(b)) => a.extend_from_slice(b),
            (Rows::Text(a), Rows::Text(b)) => a.extend(b),
            _ => return false,
        }
        true
    }
    /// An empty batch of the same variant with room for `n` elements.
    pub fn empty_like(&self, n: usize) -> Rows {
        match self {
            Rows::F32(_) => Rows::F32(Vec::with_capacity(n)),
            Rows::F64(_) => Rows::F64(Vec::with_capacity(n)),
            Rows::Text(_) => Rows::Text(Docs::with_capacity(n, 0)),
        }
    }
    /// Number of elements (documents for text).
    pub fn len(&self) -> usize {
        match self {
            Rows::F32(v) => v.len(),
            Rows::F64(v) => v.len(),
            Rows::Text(v) => v.len(),
        }
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The size of the work, to decide whether it runs inline: elements, or
    /// bytes of text.
    pub fn cost(&self) -> usize {
        match self {
            Rows::Text(d) => d.bytes().max(d.len()),
            other => other.len(),
        }
    }
}

/// One method's answer for `n` rows: shape `[n]` (`cols` None) or `[n, cols]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodOutput {
    pub data: OutputData,
    pub cols: Option<usize>,
}

impl MethodOutput {
    /// The tensor shape for `n` rows.
    pub fn shape(&self, n: usize) -> Vec<usize> {
        match self.cols {
            None => vec![n],
            Some(c) => vec![n, c],
        }
    }
    /// Rows `[a, b)` of the answer.
    pub fn rows(&self, a: usize, b: usize) -> MethodOutput {
        let c = self.cols.unwrap_or(1);
        MethodOutput {
            data: self.data.slice(a * c, b * c),
            cols: self.cols,
        }
    }
}

/// What the server needs from a model. Implementations are immutable after
/// loading, so many requests may run on one model at the same time.
pub trait ServeModel: Send + Sync {
    /// Inputs, outputs and their types.
    fn info(&self) -> &ModelInfo;
    /// Runs `method` on `n` rows (in the layout [`prepare_rows`] made).
    fn run(&self, method: Method, rows: &Rows, n: usize) -> Result<MethodOutput, ApiError>;
}

/// Turns a request's input tensor into rows for a model, checking its kind
/// and shape: numeric models take `[n, n_features]` (or `[n_features]` for one
/// row; `[n]` when the model has one feature), text models `[n]` or `[n, 1]`.
/// Returns the rows and `n`.
pub fn prepare_rows(info: &ModelInfo, t: &InputTensor) -> Result<(Rows, usize), ApiError> {
    let name = &t.name;
    match info.input_kind {
        InputKind::Numeric { n_features, dtype } => {
            let n = match t.shape[..] {
                [n, f] if f == n_features => n,
                [f] if f == n_features => 1,
                [n] if n_features == 1 => n,
                _ => {
                    return Err(ApiError::bad(format!(
                        "input '{name}': shape {:?} does not match the model's [-1, {n_features}] \
                         (the model expects {n_features} features per row)",
                        t.shape
                    )))
                }
            };
            let rows = match (&t.data, dtype) {
                (TensorData::F32(v), Native::F32 | Native::Any) => Rows::F32(v.clone()),
                (TensorData::F64(v), Native::F64 | Native::Any) => Rows::F64(v.clone()),
                (TensorData::F32(v), Native::F64) => {
                    Rows::F64(v.iter().map(|&x| x as f64).collect())
                }
                (TensorData::F64(v), Native::F32) => {
                    Rows::F32(v.iter().map(|&x| x as f32).collect())
                }
                (TensorData::Bytes(_), _) => {
                    return Err(ApiError::bad(format!(
                        "input '{name}': the model takes numbers ({}), not BYTES",
                        dtype.datatype().name()
                    )))
                }
            };
            Ok((rows, n))
        }
        InputKind::Text { decode } => {
            let n = match t.shape[..] {
                [n] | [n, 1] => n,
                _ => {
                    return Err(ApiError::bad(format!(
                        "input '{name}': shape {:?} does not match the model's [-1] (one document per row)",
                        t.shape
                    )))
                }
            };
            let TensorData::Bytes(docs) = &t.data else {
                return Err(ApiError::bad(format!(
                    "input '{name}': the model takes text (BYTES), not {}",
                    t.datatype.name()
                )));
            };
            let out = Docs::pack(name, docs, decode)?;
            Ok((Rows::Text(out), n))
        }
    }
}

/// A served MLP file (`fk.nn.MLP(...).save(path)`).
pub struct MlpModel {
    mlp: AnyMlp,
    info: ModelInfo,
}

fn spec(name: &str, datatype: DataType, cols: Option<usize>) -> TensorSpec {
    TensorSpec {
        name: name.to_string(),
        datatype,
        shape: match cols {
            None => vec![-1],
            Some(c) => vec![-1, c as i64],
        },
    }
}

/// The datatype `predict` answers with for these labels.
pub fn label_datatype(labels: &Labels) -> DataType {
    match labels {
        Labels::None | Labels::Int(_) => DataType::I64,
        Labels::Float(_) => DataType::F64,
        Labels::Text(_) => DataType::Bytes,
        Labels::Bool(_) => DataType::Bool,
    }
}

/// Class indices mapped to their labels.
pub fn map_labels(labels: &Labels, idx: &[i64]) -> OutputData {
    let at = |i: i64| i as usize;
    match labels {
        Labels::None => OutputData::I64(idx.to_vec()),
        Labels::Int(v) => OutputData::I64(idx.iter().map(|&i| v[at(i)]).collect()),
        Labels::Float(v) => OutputData::F64(idx.iter().map(|&i| v[at(i)]).collect()),
        Labels::Text(v) => OutputData::Bytes(idx.iter().map(|&i| v[at(i)].clone()).collect()),
        Labels::Bool(v) => OutputData::Bool(idx.iter().map(|&i| v[at(i)]).collect()),
    }
}

fn mlp_info<T: PanelFloat>(m: &Mlp<T>, native: Native) -> ModelInfo {
    let nf = m.n_features();
    let n_out = m.n_outputs();
    let dt = native.datatype();
    let mut outputs = Vec::new();
    match m.task() {
        Task::Regressor => {
            let cols = (n_out > 1).then_some(n_out);
            outputs.push((Method::Predict, spec("predict", dt, cols)));
        }
        Task::Classifier => {
            outputs.push((
                Method::Predict,
                spec("predict", label_datatype(m.labels()), None),
            ));
            outputs.push((
                Method::PredictProba,
                spec("predict_proba", dt, Some(m.n_proba_columns())),
            ));
        }
        Task::Multilabel => {
            outputs.push((Method::Predict, spec("predict", DataType::I64, Some(n_out))));
            outputs.push((Method::PredictProba, spec("predict_proba", dt, Some(n_out))));
        }
    }
    ModelInfo {
        platform: "ferrokit-mlp".into(),
        input_kind: InputKind::Numeric {
            n_features: nf,
            dtype: native,
        },
        input: spec("input-0", dt, Some(nf)),
        outputs,
        default_method: Method::Predict,
    }
}

trait Wrap: PanelFloat {
    fn wrap(v: Vec<Self>) -> OutputData;
    fn as_rows(r: &Rows) -> Option<&[Self]>;
}
impl Wrap for f32 {
    fn wrap(v: Vec<f32>) -> OutputData {
        OutputData::F32(v)
    }
    fn as_rows(r: &Rows) -> Option<&[f32]> {
        match r {
            Rows::F32(v) => Some(v),
            _ => None,
        }
    }
}
impl Wrap for f64 {
    fn wrap(v: Vec<f64>) -> OutputData {
        OutputData::F64(v)
    }
    fn as_rows(r: &Rows) -> Option<&[f64]> {
        match r {
            Rows::F64(v) => Some(v),
            _ => None,
        }
    }
}

fn mlp_run<T: Wrap>(
    m: &Mlp<T>,
    method: Method,
    rows: &Rows,
    n: usize,
) -> Result<MethodOutput, ApiError> {
    let x = T::as_rows(rows).ok_or_else(|| internal("rows of the wrong element type".into()))?;
    let nf = m.n_features();
    let n_out = m.n_outputs();
    let e = |e: ferrokit_core::Error| internal(e.to_string());
    match (method, m.task()) {
        (Method::Predict, Task::Regressor) => {
            let mut out = vec![T::ZERO; n * n_out];
            m.forward(x, n, nf, &mut out).map_err(e)?;
            Ok(MethodOutput {
                data: T::wrap(out),
                cols: (n_out > 1).then_some(n_out),
            })
        }
        (Method::Predict, Task::Classifier) => {
            let mut idx = vec![0i64; n];
            m.predict_class(x, n, nf, &mut idx).map_err(e)?;
            Ok(MethodOutput {
                data: map_labels(m.labels(), &idx),
                cols: None,
            })
        }
        (Method::Predict, Task::Multilabel) => {
            let mut ind = vec![0i64; n * n_out];
            m.predict_class(x, n, nf, &mut ind).map_err(e)?;
            Ok(MethodOutput {
                data: OutputData::I64(ind),
                cols: Some(n_out),
            })
        }
        (Method::PredictProba, Task::Classifier | Task::Multilabel) => {
            let cols = m.n_proba_columns();
            let mut out = vec![T::ZERO; n * cols];
            m.predict_proba(x, n, nf, &mut out).map_err(e)?;
            Ok(MethodOutput {
                data: T::wrap(out),
                cols: Some(cols),
            })
        }
        (other, _) => Err(ApiError::bad(format!("this model has no {}", other.name()))),
    }
}

impl MlpModel {
    /// Wraps a loaded MLP.
    pub fn new(mlp: AnyMlp) -> MlpModel {
        let info = match &mlp {
            AnyMlp::F32(m) => mlp_info(m, Native::F32),
            AnyMlp::F64(m) => mlp_info(m, Native::F64),
        };
        MlpModel { mlp, info }
    }
}

impl ServeModel for MlpModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }
    fn run(&self, method: Method, rows: &Rows, n: usize) -> Result<MethodOutput, ApiError> {
        match &self.mlp {
            AnyMlp::F32(m) => mlp_run(m, method, rows, n),
            AnyMlp::F64(m) => mlp_run(m, method, rows, n),
        }
    }
}

/// A 500 with `message`.
pub fn internal(message: String) -> ApiError {
    ApiError::new(ErrorKind::Internal, format!("model failed: {message}"))
}

/// Loads a model file image of any format this server knows (told apart by
/// the magic bytes): pipeline files (`fk.export`) and MLP files (kept in
/// their own element type, so float32 MLPs compute in float32).
pub fn model_from_bytes(bytes: &[u8]) -> Result<Box<dyn ServeModel>, String> {
    if bytes.starts_with(&ferrokit_core::nn::mlp::MAGIC) {
        let m = AnyMlp::from_bytes(bytes).map_err(|e| e.to_string())?;
        return Ok(Box::new(MlpModel::new(m)));
    }
    if bytes.starts_with(&ferrokit_core::model::format::MAGIC) {
        let m = ferrokit_core::model::Model::from_bytes(bytes).map_err(|e| e.to_string())?;
        return Ok(Box::new(crate::pipeline::PipelineModel::new(m)?));
    }
    Err("not a ferrokit model file (unknown magic bytes)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokit_core::nn::mlp::Dense;
    use ferrokit_core::nn::Activation;

    fn classifier() -> MlpModel {
        // 2 features -> 3 classes, logits = x·W + b.
        let m = Mlp::new(
            vec![2, 3],
            vec![Dense {
                coef: vec![1.0f64, 0.0, -1.0, 0.0, 1.0, 0.5],
                intercept: vec![0.0, 0.1, 0.0],
            }],
            Activation::Identity,
            Activation::Softmax,
            Task::Classifier,
            Labels::Text(vec!["a".into(), "b".into(), "c".into()]),
        )
        .unwrap();
        MlpModel::new(AnyMlp::F64(m))
    }

    fn tensor(shape: Vec<usize>, data: TensorData) -> InputTensor {
        InputTensor {
            name: "x".into(),
            datatype: DataType::F32,
            shape,
            data,
        }
    }

    #[test]
    fn classifier_predicts_labels_and_probabilities() {
        let m = classifier();
        let info = m.info();
        assert_eq!(info.input.shape, vec![-1, 2]);
        assert_eq!(info.outputs[0].1.datatype, DataType::Bytes);
        let (rows, n) = prepare_rows(
            info,
            &tensor(vec![2, 2], TensorData::F32(vec![3.0, 0.0, 0.0, 3.0])),
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(rows, Rows::F64(vec![3.0, 0.0, 0.0, 3.0]));
        let p = m.run(Method::Predict, &rows, n).unwrap();
        assert_eq!(p.data, OutputData::Bytes(vec!["a".into(), "b".into()]));
        let pr = m.run(Method::PredictProba, &rows, n).unwrap();
        assert_eq!(pr.cols, Some(3));
        let OutputData::F64(v) = &pr.data else {
            panic!()
        };
        assert!((v[0] + v[1] + v[2] - 1.0).abs() < 1e-12);
        assert!(m.run(Method::DecisionFunction, &rows, n).is_err());
        assert_eq!(pr.rows(1, 2).data.len(), 3);
    }

    #[test]
    fn shapes_and_kinds_are_checked() {
        let m = classifier();
        let info = m.info();
        let (_, n) = prepare_rows(info, &tensor(vec![2], TensorData::F64(vec![1.0, 2.0]))).unwrap();
        assert_eq!(n, 1);
        let (_, n) = prepare_rows(info, &tensor(vec![0, 2], TensorData::F64(vec![]))).unwrap();
        assert_eq!(n, 0);
        let e = prepare_rows(info, &tensor(vec![1, 3], TensorData::F64(vec![1.0; 3]))).unwrap_err();
        assert!(e.message.contains("expects 2 features"), "{}", e.message);
        assert!(prepare_rows(info, &tensor(vec![1, 1, 2], TensorData::F64(vec![1.0; 2]))).is_err());
        assert!(prepare_rows(
            info,
            &tensor(vec![1, 2], TensorData::Bytes(vec![vec![], vec![]]))
        )
        .is_err());
        assert!(model_from_bytes(b"nope").is_err());
    }
}
