//! The adapter over ferrokit's pipeline model files
//! (`ferrokit_core::model::Model`, written by `fk.export`): scalers,
//! imputers, normalizers, then a linear model, an MLP or k-NN.
//!
//! The model takes float32 or float64 rows: FP32 requests compute as
//! scikit-learn does on a float32 array and answer FP32; every other numeric
//! datatype computes in float64.

use crate::model::{
    label_datatype, map_labels, InputKind, Method, MethodOutput, ModelInfo, Native, Rows,
    ServeModel, TensorSpec,
};
use crate::protocol::{ApiError, DataType, OutputData};
use ferrokit_core::model::{InputKind as CoreInput, Model, ModelFloat, ModelTask, Output};

/// A served pipeline model file.
pub struct PipelineModel {
    model: Model,
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

/// `[n]` when `one_d`, else `[n, cols]`.
fn cols(one_d: bool, c: usize) -> Option<usize> {
    (!one_d).then_some(c)
}

impl PipelineModel {
    /// Wraps a loaded pipeline (text pipelines are refused: this server
    /// version takes numeric rows only).
    pub fn new(model: Model) -> Result<PipelineModel, String> {
        let mi = model.info();
        if mi.input != CoreInput::Numeric {
            return Err("text pipelines are not served by this version".into());
        }
        let f64t = DataType::F64;
        let mut outputs = Vec::new();
        let mut default_method = Method::Predict;
        match mi.task {
            ModelTask::Regressor => outputs.push((
                Method::Predict,
                spec("predict", f64t, cols(mi.predict_1d, mi.n_outputs)),
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
                spec("predict_proba", f64t, Some(mi.n_proba)),
            ));
        }
        if mi.has(Output::DecisionFunction) {
            outputs.push((
                Method::DecisionFunction,
                spec(
                    "decision_function",
                    f64t,
                    cols(mi.n_decision == 1, mi.n_decision),
                ),
            ));
        }
        if mi.has(Output::Transform) {
            outputs.push((
                Method::Transform,
                spec("transform", f64t, Some(mi.n_transform)),
            ));
        }
        let info = ModelInfo {
            platform: "ferrokit".into(),
            input_kind: InputKind::Numeric {
                n_features: mi.n_features,
                dtype: Native::Any,
            },
            input: spec("input-0", f64t, Some(mi.n_features)),
            outputs,
            default_method,
        };
        Ok(PipelineModel { model, info })
    }
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

fn run<T: Wrap>(m: &Model, method: Method, x: &[T], n: usize) -> Result<MethodOutput, ApiError> {
    let mi = m.info();
    let floats = |c: usize, one_d: bool, f: &dyn Fn(&mut [T]) -> ferrokit_core::Result<()>| {
        let mut out = vec![T::from_f64(0.0); n * c];
        f(&mut out).map_err(api)?;
        Ok(MethodOutput {
            data: T::wrap(out),
            cols: cols(one_d, c),
        })
    };
    match method {
        Method::Predict => match mi.task {
            ModelTask::Regressor => floats(mi.n_outputs, mi.predict_1d, &|o| m.predict(x, n, o)),
            ModelTask::Classifier | ModelTask::Multilabel => {
                let mut idx = vec![0i64; n * mi.n_outputs];
                m.predict_classes(x, n, &mut idx).map_err(api)?;
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
        Method::PredictProba => floats(mi.n_proba, false, &|o| m.predict_proba(x, n, o)),
        Method::DecisionFunction => floats(mi.n_decision, mi.n_decision == 1, &|o| {
            m.decision_function(x, n, o)
        }),
        Method::Transform => floats(mi.n_transform, false, &|o| m.transform(x, n, o)),
    }
}

impl ServeModel for PipelineModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }
    fn run(&self, method: Method, rows: &Rows, n: usize) -> Result<MethodOutput, ApiError> {
        match rows {
            Rows::F32(x) => run(&self.model, method, x, n),
            Rows::F64(x) => run(&self.model, method, x, n),
            Rows::Text(_) => Err(ApiError::bad("this model takes numbers, not text")),
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
}
