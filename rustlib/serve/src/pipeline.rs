//! The adapter over ferrokit's pipeline model files
//! (`ferrokit_core::model::Model`, written by `fk.export`): scalers,
//! imputers, normalizers, then a linear model, an MLP or k-NN.
//!
//! The model takes float32 or float64 rows: FP32 requests compute as
//! scikit-learn does on a float32 array and answer FP32; every other numeric
//! datatype computes in float64. Text pipelines (a vectorizer first) take
//! one UTF-8 document per row (BYTES, shape `[n]` or `[n, 1]`) and answer in
//! the dtype scikit-learn's pipeline answers with (as `fk.Model` does): FP32
//! when the vectorizer's dtype is float32 and so are the final estimator's
//! weights (`transform`: when the vectorizer's dtype is float32), else FP64;
//! the `transform` of a bare integer-dtype vectorizer (no step after it)
//! answers its counts as INT64 / INT32, as scikit-learn does.

use crate::model::{
    label_datatype, map_labels, DecodeError, Docs, InputKind, Method, MethodOutput, ModelInfo,
    Native, Rows, ServeModel, TensorSpec,
};
use crate::protocol::{ApiError, DataType, OutputData};
use ferrokit_core::model::{InputKind as CoreInput, Model, ModelFloat, ModelTask, Output};

/// A served pipeline model file.
pub struct PipelineModel {
    model: Model,
    info: ModelInfo,
    /// Text models: `predict_proba`, `decision_function` and a regressor's
    /// `predict` answer float32.
    text_out_f32: bool,
    /// Text models: the datatype `transform` answers (FP64, FP32, INT64 or INT32).
    text_transform: DataType,
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

/// `[n]` when `one_d`, else `[n, cols]`.
fn cols(one_d: bool, c: usize) -> Option<usize> {
    (!one_d).then_some(c)
}

impl PipelineModel {
    /// Wraps a loaded pipeline (numeric or text).
    pub fn new(model: Model) -> Result<PipelineModel, String> {
        let mi = model.info();
        let text = mi.input == CoreInput::Text;
        let (out_f32, transform_dt) = if text {
            text_dtypes(&mi.metadata, mi.steps.len())
        } else {
            (false, DataType::F64)
        };
        let dt = |f32: bool| if f32 { DataType::F32 } else { DataType::F64 };
        let out_t = dt(out_f32);
        let mut outputs = Vec::new();
        let mut default_method = Method::Predict;
        match mi.task {
            ModelTask::Regressor => outputs.push((
                Method::Predict,
                spec("predict", out_t, cols(mi.predict_1d, mi.n_outputs)),
            )),
            ModelTask::Classifier => outputs.push((
                Method::Predict,
                spec("predict", label_datatype(&mi.labels), None),
            )),
            ModelTask::Multilabel => outputs.push((
                Method::Predict,
                spec("predict", DataType::I64, Some(mi.n_outputs)),
            )),
            ModelTask::Transformer => default_method = Method::Transform,
            ModelTask::Neighbors => {}
        }
        if mi.has(Output::PredictProba) {
            outputs.push((
                Method::PredictProba,
                spec("predict_proba", out_t, Some(mi.n_proba)),
            ));
        }
        if mi.has(Output::DecisionFunction) {
            outputs.push((
                Method::DecisionFunction,
                spec(
                    "decision_function",
                    out_t,
                    cols(mi.n_decision == 1, mi.n_decision),
                ),
            ));
        }
        if mi.has(Output::Transform) {
            outputs.push((
                Method::Transform,
                spec("transform", transform_dt, Some(mi.n_transform)),
            ));
        }
        let (input_kind, input) = match mi.input {
            CoreInput::Numeric => (
                InputKind::Numeric {
                    n_features: mi.n_features,
                    dtype: Native::Any,
                },
                spec("input-0", DataType::F64, Some(mi.n_features)),
            ),
            CoreInput::Text => (
                InputKind::Text {
                    decode: text_decoding(&mi.metadata)?,
                },
                spec("input-0", DataType::Bytes, None),
            ),
        };
        let info = ModelInfo {
            platform: "ferrokit".into(),
            input_kind,
            input,
            outputs,
            default_method,
        };
        Ok(PipelineModel {
            model,
            info,
            text_out_f32: out_f32,
            text_transform: transform_dt,
        })
    }
}

/// The output dtypes of a text model of `n_steps` steps as ferrokit's
/// exporter records them in the file's metadata (what `fk.Model` answers
/// with, like scikit-learn): `(outputs float32, transform datatype)` from
/// `{"text": {"output_dtype": "<f4", "dtype": ..}}`: `transform` answers the
/// vectorizer's dtype, `"<f4"` FP32, and `"<i8"` / `"<i4"` INT64 / INT32 when
/// the vectorizer is the only step (tf-idf, normalizers and scalers make
/// float64 of integer counts); absent or anything else: float64.
fn text_dtypes(metadata: &str, n_steps: usize) -> (bool, DataType) {
    let meta: serde_json::Value = serde_json::from_str(metadata).unwrap_or_default();
    let text = &meta["text"];
    let transform = match text["dtype"].as_str() {
        Some("<f4") => DataType::F32,
        Some("<i8") if n_steps == 1 => DataType::I64,
        Some("<i4") if n_steps == 1 => DataType::I32,
        _ => DataType::F64,
    };
    (text["output_dtype"].as_str() == Some("<f4"), transform)
}

/// `transform`'s float64 values as the integers of `dt` (INT64 / INT32):
/// exact (a count is an integer), or an error naming the value that is not.
fn to_ints(out: MethodOutput, dt: DataType) -> Result<MethodOutput, ApiError> {
    let OutputData::F64(v) = out.data else {
        unreachable!("integer transforms compute in float64")
    };
    let bad = |x: f64| {
        ApiError::new(
            crate::protocol::ErrorKind::Internal,
            format!(
                "model failed: transform value {x} does not fit {}",
                dt.name()
            ),
        )
    };
    // Integers of magnitude below 2^63 (i64) / 2^31 (i32) convert exactly;
    // the first value that is not one is named.
    let lim = 2f64.powi(if dt == DataType::I32 { 31 } else { 63 });
    if let Some(&x) = v
        .iter()
        .find(|&&x| !(x.fract() == 0.0 && -lim <= x && x < lim))
    {
        return Err(bad(x));
    }
    let data = if dt == DataType::I32 {
        OutputData::I32(v.iter().map(|&x| x as i32).collect())
    } else {
        OutputData::I64(v.iter().map(|&x| x as i64).collect())
    };
    Ok(MethodOutput {
        data,
        cols: out.cols,
    })
}

/// How a text model decodes documents sent as bytes: the vectorizer's
/// `encoding` and `decode_error`, which ferrokit's exporter keeps in the
/// file's metadata (`{"text": {"encoding": .., "decode_error": ..}}`; absent:
/// scikit-learn's defaults, UTF-8 and strict). Encodings other than UTF-8 are
/// refused: the protocol's BYTES carry UTF-8 text (JSON strings always do).
fn text_decoding(metadata: &str) -> Result<DecodeError, String> {
    let meta: serde_json::Value = serde_json::from_str(metadata).unwrap_or_default();
    let text = &meta["text"];
    let encoding = text["encoding"].as_str().unwrap_or("utf-8");
    let norm = encoding.to_ascii_lowercase().replace('_', "-");
    if !matches!(norm.as_str(), "utf-8" | "utf8" | "u8" | "utf") {
        return Err(format!(
            "the text vectorizer decodes bytes with encoding '{encoding}'; this server serves \
             UTF-8 text only (refit with encoding='utf-8')"
        ));
    }
    let de = text["decode_error"].as_str().unwrap_or("strict");
    DecodeError::parse(de).ok_or_else(|| {
        format!("the text vectorizer's decode_error '{de}' is not strict, replace or ignore")
    })
}

trait Wrap: ModelFloat {
    fn wrap(v: Vec<Self>) -> OutputData;
}
impl Wrap for f32 {
    fn wrap(v: Vec<f32>) -> OutputData {
        OutputData::F32(v)
    }
}
impl Wrap for f64 {
    fn wrap(v: Vec<f64>) -> OutputData {
        OutputData::F64(v)
    }
}

/// Rejections of the input (non-finite values where a step refuses them)
/// are the client's problem: 400; anything else is the server's: 500.
fn api(e: ferrokit_core::Error) -> ApiError {
    use ferrokit_core::Error as E;
    match e {
        E::NonFinite(m) | E::InvalidArgument(m) | E::LengthMismatch(m) => ApiError::bad(m),
        e => ApiError::new(
            crate::protocol::ErrorKind::Internal,
            format!("model failed: {e}"),
        ),
    }
}

/// Most elements of one answer (a dense `transform` of a text pipeline has a
/// column per vocabulary term or hash bucket).
pub const MAX_OUTPUT_ELEMENTS: usize = 1 << 25;

/// A request's rows as the model's input: numbers or documents.
enum In<'a, T> {
    Num(&'a [T]),
    Text(&'a Docs),
}

fn run<T: Wrap>(
    m: &Model,
    method: Method,
    x: In<'_, T>,
    n: usize,
) -> Result<MethodOutput, ApiError> {
    let mi = m.info();
    let floats = |c: usize, one_d: bool, f: &dyn Fn(&mut [T]) -> ferrokit_core::Result<()>| {
        let size = n.checked_mul(c).filter(|&s| s <= MAX_OUTPUT_ELEMENTS);
        let Some(size) = size else {
            return Err(ApiError::bad(format!(
                "the answer would have {n} x {c} values, over the limit of {MAX_OUTPUT_ELEMENTS}; \
                 send fewer rows per request"
            )));
        };
        let mut out = vec![T::from_f64(0.0); size];
        f(&mut out).map_err(api)?;
        Ok(MethodOutput {
            data: T::wrap(out),
            cols: cols(one_d, c),
        })
    };
    // One closure per method, over numbers or documents.
    let predict = |o: &mut [T]| match &x {
        In::Num(x) => m.predict(x, n, o),
        In::Text(d) => m.predict_text(&d.strings(), o),
    };
    let proba = |o: &mut [T]| match &x {
        In::Num(x) => m.predict_proba(x, n, o),
        In::Text(d) => m.predict_proba_text(&d.strings(), o),
    };
    let decision = |o: &mut [T]| match &x {
        In::Num(x) => m.decision_function(x, n, o),
        In::Text(d) => m.decision_function_text(&d.strings(), o),
    };
    let transform = |o: &mut [T]| match &x {
        In::Num(x) => m.transform(x, n, o),
        In::Text(d) => m.transform_text(&d.strings(), o),
    };
    match method {
        Method::Predict => match mi.task {
            ModelTask::Regressor => floats(mi.n_outputs, mi.predict_1d, &predict),
            ModelTask::Classifier | ModelTask::Multilabel => {
                let mut idx = vec![0i64; n * mi.n_outputs];
                match &x {
                    In::Num(x) => m.predict_classes(x, n, &mut idx),
                    In::Text(d) => m.predict_classes_text(&d.strings(), &mut idx),
                }
                .map_err(api)?;
                Ok(if mi.task == ModelTask::Multilabel {
                    MethodOutput {
                        data: OutputData::I64(idx),
                        cols: Some(mi.n_outputs),
                    }
                } else {
                    MethodOutput {
                        data: map_labels(&mi.labels, &idx),
                        cols: None,
                    }
                })
            }
            _ => Err(ApiError::bad("this model has no predict")),
        },
        Method::PredictProba => floats(mi.n_proba, false, &proba),
        Method::DecisionFunction => floats(mi.n_decision, mi.n_decision == 1, &decision),
        Method::Transform => floats(mi.n_transform, false, &transform),
    }
}

impl ServeModel for PipelineModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }
    fn run(&self, method: Method, rows: &Rows, n: usize) -> Result<MethodOutput, ApiError> {
        let text = matches!(self.info.input_kind, InputKind::Text { .. });
        match rows {
            Rows::F32(x) if !text => run(&self.model, method, In::Num(x), n),
            Rows::F64(x) if !text => run(&self.model, method, In::Num(x), n),
            Rows::Text(d) if text => {
                let dt = if method == Method::Transform {
                    self.text_transform
                } else if self.text_out_f32 {
                    DataType::F32
                } else {
                    DataType::F64
                };
                match dt {
                    DataType::F32 => run::<f32>(&self.model, method, In::Text(d), n),
                    DataType::I64 | DataType::I32 => {
                        to_ints(run::<f64>(&self.model, method, In::Text(d), n)?, dt)
                    }
                    _ => run::<f64>(&self.model, method, In::Text(d), n),
                }
            }
            Rows::Text(_) => Err(ApiError::bad("this model takes numbers, not text")),
            _ => Err(ApiError::bad("this model takes text (BYTES), not numbers")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{InputTensor, TensorData};
    use ferrokit_core::model::format::{write, Block, Value};
    use ferrokit_core::model::kind;

    fn i(v: i64) -> Value {
        Value::I64(vec![v])
    }

    /// StandardScaler + a 3-class LogisticRegression on 2 features.
    fn pipeline() -> PipelineModel {
        let bytes = write(&[
            Block::new(kind::META)
                .with("input", i(0))
                .with("n_features", i(2)),
            Block::new(kind::STANDARD_SCALER)
                .with("n_features", i(2))
                .with("mean", Value::F64(vec![1.0, 2.0]))
                .with("scale", Value::F64(vec![2.0, 4.0])),
            Block::new(kind::LINEAR_CLASSIFIER)
                .with("n_features", i(2))
                .with("n_outputs", i(3))
                .with("coef", Value::F64(vec![1.0, 0.0, 0.0, 1.0, -1.0, -1.0]))
                .with("intercept", Value::F64(vec![0.0, 0.0, 0.5]))
                .with("proba", i(ferrokit_core::model::ProbaRule::Softmax as i64))
                .with("classes_kind", i(1))
                .with("classes", Value::I64(vec![10, 20, 30])),
        ]);
        let m = crate::model::model_from_bytes(&bytes).unwrap();
        drop(m);
        PipelineModel::new(Model::from_bytes(&bytes).unwrap()).unwrap()
    }

    #[test]
    fn scaled_linear_classifier() {
        let m = pipeline();
        let info = m.info();
        let names: Vec<&str> = info.outputs.iter().map(|(m, _)| m.name()).collect();
        assert_eq!(names, ["predict", "predict_proba", "decision_function"]);
        assert_eq!(info.input.shape, vec![-1, 2]);
        // Row (3, 2) scales to (1, 0): decisions (1, 0, -0.5) -> class 10.
        let t = InputTensor {
            name: "x".into(),
            datatype: DataType::F32,
            shape: vec![1, 2],
            data: TensorData::F32(vec![3.0, 2.0]),
        };
        let (rows, n) = crate::model::prepare_rows(info, &t).unwrap();
        assert!(matches!(rows, Rows::F32(_)), "FP32 stays FP32");
        let p = m.run(Method::Predict, &rows, n).unwrap();
        assert_eq!(p.data, OutputData::I64(vec![10]));
        let d = m.run(Method::DecisionFunction, &rows, n).unwrap();
        assert_eq!(d.data, OutputData::F32(vec![1.0, 0.0, -0.5]));
        let t64 = InputTensor {
            data: TensorData::F64(vec![f64::NAN, 2.0]),
            datatype: DataType::F64,
            ..t
        };
        let (rows, n) = crate::model::prepare_rows(info, &t64).unwrap();
        let e = m.run(Method::PredictProba, &rows, n).unwrap_err();
        assert_eq!(
            e.kind,
            crate::protocol::ErrorKind::BadRequest,
            "{}",
            e.message
        );
        assert!(m.run(Method::Transform, &rows, n).is_err());
    }

    /// A CountVectorizer(vocabulary bad, good) + binary LogisticRegression text
    /// pipeline (ASCII character tables: enough here).
    fn text_pipeline() -> PipelineModel {
        text_model(false, false, "")
    }

    /// The pipeline of [`text_pipeline`] with the vectorizer's dtype float32
    /// when `f32`, the classifier's weights float32 when `f32_head` (None: no
    /// classifier) and `metadata` as the exporter writes it.
    fn text_model(f32: bool, f32_head: bool, metadata: &str) -> PipelineModel {
        let ints = |v: &[i64]| Value::I64(v.to_vec());
        let floats = |v: &[f64]| {
            if f32_head {
                Value::F32(v.iter().map(|&x| x as f32).collect())
            } else {
                Value::F64(v.to_vec())
            }
        };
        let mut blocks = vec![
            Block::new(kind::META)
                .with("input", ints(&[1]))
                .with("n_features", ints(&[1]))
                .with("metadata", Value::Str(metadata.into())),
            Block::new(kind::TEXT_VECTORIZER)
                .with("analyzer", ints(&[0]))
                .with("ngram_range", ints(&[1, 1]))
                .with("lowercase", ints(&[1]))
                .with("strip_accents", ints(&[0]))
                .with("binary", ints(&[0]))
                .with("dtype", ints(&[if f32 { 2 } else { 1 }]))
                .with("n_features", ints(&[2]))
                .with(
                    "vocabulary",
                    Value::StrList(vec!["bad".into(), "good".into()]),
                )
                .with("word", ints(&[48, 57, 65, 90, 95, 95, 97, 122]))
                .with("space", ints(&[9, 13, 28, 32]))
                .with("case_ignorable", ints(&[39, 39]))
                .with("cased", ints(&[65, 90, 97, 122]))
                .with("lower_cp", ints(&[]))
                .with("lower_to", Value::StrList(vec![])),
            Block::new(kind::LINEAR_CLASSIFIER)
                .with("n_features", ints(&[2]))
                .with("n_outputs", ints(&[1]))
                .with("coef", floats(&[-1.0, 1.0]))
                .with("intercept", floats(&[-0.5]))
                .with("proba", ints(&[1]))
                .with("classes_kind", ints(&[3]))
                .with("classes", Value::StrList(vec!["neg".into(), "pos".into()])),
        ];
        if metadata.contains("transform-only") {
            blocks.pop();
        }
        PipelineModel::new(Model::from_bytes(&write(&blocks)).unwrap()).unwrap()
    }

    fn docs(shape: Vec<usize>, items: &[&[u8]]) -> InputTensor {
        InputTensor {
            name: "text".into(),
            datatype: DataType::Bytes,
            shape,
            data: TensorData::Bytes(items.iter().map(|d| d.to_vec()).collect()),
        }
    }

    #[test]
    fn text_pipeline_takes_documents() {
        let m = text_pipeline();
        let info = m.info();
        assert_eq!(
            info.input_kind,
            InputKind::Text {
                decode: crate::model::DecodeError::Strict
            }
        );
        assert_eq!(
            (info.input.datatype, info.input.shape.clone()),
            (DataType::Bytes, vec![-1])
        );
        let names: Vec<&str> = info.outputs.iter().map(|(m, _)| m.name()).collect();
        assert_eq!(names, ["predict", "predict_proba", "decision_function"]);
        assert_eq!(info.outputs[0].1.datatype, DataType::Bytes);
        assert_eq!(info.outputs[2].1.shape, vec![-1]);
        let all: [&[u8]; 3] = [b"Good GOOD bad", b"", "bad, b\u{e9}d".as_bytes()];
        for shape in [vec![3], vec![3, 1]] {
            let (rows, n) = crate::model::prepare_rows(info, &docs(shape, &all)).unwrap();
            assert_eq!(n, 3);
            let d = m.run(Method::DecisionFunction, &rows, n).unwrap();
            assert_eq!(d.data, OutputData::F64(vec![0.5, -0.5, -1.5]));
            assert_eq!(d.shape(n), vec![3]);
            let p = m.run(Method::Predict, &rows, n).unwrap();
            assert_eq!(
                p.data,
                OutputData::Bytes(vec!["pos".into(), "neg".into(), "neg".into()])
            );
            let pr = m.run(Method::PredictProba, &rows, n).unwrap();
            let OutputData::F64(v) = pr.data else {
                panic!("FP64 probabilities")
            };
            let p1 = 1.0 / (1.0 + (-0.5f64).exp());
            assert!((v[1] - p1).abs() < 1e-15 && (v[0] - (1.0 - p1)).abs() < 1e-15);
        }
        // Documents batched together answer as they do alone.
        let (mut a, _) = crate::model::prepare_rows(info, &docs(vec![1], &all[..1])).unwrap();
        let (b, _) = crate::model::prepare_rows(info, &docs(vec![2], &all[1..])).unwrap();
        assert!(a.extend(&b));
        let (whole, _) = crate::model::prepare_rows(info, &docs(vec![3], &all)).unwrap();
        assert_eq!(a, whole);
        // Zero documents.
        let (rows, n) = crate::model::prepare_rows(info, &docs(vec![0], &[])).unwrap();
        assert_eq!(m.run(Method::PredictProba, &rows, n).unwrap().data.len(), 0);
    }

    /// A float32 text model answers FP32 (metadata and data) where
    /// scikit-learn's pipeline answers float32, FP64 elsewhere.
    #[test]
    fn float32_text_models_answer_fp32() {
        let out = |m: &PipelineModel, name: &str| {
            m.info()
                .outputs
                .iter()
                .find(|(k, _)| k.name() == name)
                .map(|(_, s)| s.datatype)
        };
        let all: [&[u8]; 3] = [b"Good GOOD bad", b"", b"bad bad"];
        let f32_meta = r#"{"text": {"dtype": "<f4", "output_dtype": "<f4"}}"#;
        let m = text_model(true, true, f32_meta);
        assert_eq!(out(&m, "predict_proba"), Some(DataType::F32));
        assert_eq!(out(&m, "decision_function"), Some(DataType::F32));
        assert_eq!(out(&m, "predict"), Some(DataType::Bytes));
        let (rows, n) = crate::model::prepare_rows(m.info(), &docs(vec![3], &all)).unwrap();
        let d = m.run(Method::DecisionFunction, &rows, n).unwrap();
        assert_eq!(d.data, OutputData::F32(vec![0.5, -0.5, -2.5]));
        let OutputData::F32(p) = m.run(Method::PredictProba, &rows, n).unwrap().data else {
            panic!("FP32 probabilities")
        };
        let p1 = 1.0 / (1.0 + (-0.5f32).exp());
        assert!((p[1] - p1).abs() <= 1e-6 * p1 && (p[0] - (1.0 - p1)).abs() <= 1e-6);
        let p = m.run(Method::Predict, &rows, n).unwrap();
        assert_eq!(
            p.data,
            OutputData::Bytes(vec!["pos".into(), "neg".into(), "neg".into()])
        );
        // A float32 vectorizer before float64 weights: scikit-learn answers float64.
        let m = text_model(true, false, r#"{"text": {"dtype": "<f4"}}"#);
        assert_eq!(out(&m, "predict_proba"), Some(DataType::F64));
        let (rows, n) = crate::model::prepare_rows(m.info(), &docs(vec![3], &all)).unwrap();
        let d = m.run(Method::DecisionFunction, &rows, n).unwrap();
        assert_eq!(d.data, OutputData::F64(vec![0.5, -0.5, -2.5]));
        // A float32 vectorizer alone: transform answers float32 counts.
        let m = text_model(
            true,
            false,
            r#"{"text": {"dtype": "<f4"}, "transform-only": 1}"#,
        );
        assert_eq!(out(&m, "transform"), Some(DataType::F32));
        let (rows, n) = crate::model::prepare_rows(m.info(), &docs(vec![3], &all)).unwrap();
        let t = m.run(Method::Transform, &rows, n).unwrap();
        assert_eq!(t.data, OutputData::F32(vec![1.0, 2.0, 0.0, 0.0, 2.0, 0.0]));
        // float64 (and models without metadata) stay FP64.
        let m = text_model(
            false,
            false,
            r#"{"text": {"dtype": "<f8"}, "transform-only": 1}"#,
        );
        assert_eq!(out(&m, "transform"), Some(DataType::F64));
        // A bare integer-dtype vectorizer: transform answers its integer counts.
        for (dtype, dt, want) in [
            (
                "<i8",
                DataType::I64,
                OutputData::I64(vec![1, 2, 0, 0, 2, 0]),
            ),
            (
                "<i4",
                DataType::I32,
                OutputData::I32(vec![1, 2, 0, 0, 2, 0]),
            ),
        ] {
            let meta = format!(r#"{{"text": {{"dtype": "{dtype}"}}, "transform-only": 1}}"#);
            let m = text_model(false, false, &meta);
            assert_eq!(out(&m, "transform"), Some(dt));
            let (rows, n) = crate::model::prepare_rows(m.info(), &docs(vec![3], &all)).unwrap();
            assert_eq!(m.run(Method::Transform, &rows, n).unwrap().data, want);
        }
        // After another step (here the classifier), integer counts become float64.
        let m = text_model(false, false, r#"{"text": {"dtype": "<i8"}}"#);
        assert_eq!(
            text_dtypes(r#"{"text": {"dtype": "<i8"}}"#, 2).1,
            DataType::F64
        );
        assert_eq!(out(&m, "predict_proba"), Some(DataType::F64));
    }

    #[test]
    fn integer_transforms_refuse_values_that_do_not_fit() {
        let conv = |v: Vec<f64>, dt| {
            let out = MethodOutput {
                data: OutputData::F64(v),
                cols: Some(1),
            };
            to_ints(out, dt).map(|o| o.data)
        };
        let lim = 2f64.powi(31);
        assert_eq!(
            conv(vec![-lim, lim - 1.0, 0.0], DataType::I32).unwrap(),
            OutputData::I32(vec![i32::MIN, i32::MAX, 0])
        );
        assert_eq!(
            conv(vec![lim, -3.0], DataType::I64).unwrap(),
            OutputData::I64(vec![1 << 31, -3])
        );
        for (v, dt) in [
            (vec![0.0, lim], DataType::I32),
            (vec![-lim - 1.0], DataType::I32),
            (vec![2f64.powi(63)], DataType::I64),
            (vec![1.0, 0.5], DataType::I64),
            (vec![f64::NAN], DataType::I64),
            (vec![f64::INFINITY], DataType::I32),
        ] {
            let e = conv(v, dt).unwrap_err();
            assert!(e.message.contains("does not fit"), "{}", e.message);
        }
    }

    #[test]
    fn text_pipeline_refuses_what_is_not_text() {
        let m = text_pipeline();
        let info = m.info();
        let bad =
            crate::model::prepare_rows(info, &docs(vec![2], &[b"ok", b"\xff\xfe"])).unwrap_err();
        assert_eq!(bad.kind, crate::protocol::ErrorKind::BadRequest);
        assert!(
            bad.message.contains("element 1 is not valid UTF-8"),
            "{}",
            bad.message
        );
        assert!(crate::model::prepare_rows(info, &docs(vec![1, 2], &[b"a", b"b"])).is_err());
        let nums = InputTensor {
            name: "x".into(),
            datatype: DataType::F64,
            shape: vec![1],
            data: TensorData::F64(vec![1.0]),
        };
        let e = crate::model::prepare_rows(info, &nums).unwrap_err();
        assert!(e.message.contains("takes text (BYTES)"), "{}", e.message);
        assert!(m
            .run(Method::Predict, &Rows::F64(vec![1.0, 2.0]), 1)
            .is_err());
        let numeric = pipeline();
        assert!(numeric
            .run(
                Method::Predict,
                &Rows::Text(crate::model::Docs::default()),
                0
            )
            .is_err());
    }
}
