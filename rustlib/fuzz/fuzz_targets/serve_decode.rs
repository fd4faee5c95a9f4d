//! Fuzzes ferrokit-serve's request decoders (JSON inference request plus
//! Triton binary tensor data) and, when a request decodes, the conversion of
//! its inputs into a model's rows, the model run and the response encoder;
//! BYTES inputs also go through a text pipeline (CountVectorizer(1, 2) +
//! LogisticRegression, decode_error="replace", so any bytes reach the tokenizer).
//! Contract: no panic, no unbounded allocation; a decoded tensor always holds
//! exactly its shape's element count; every refusal is a 400.
#![no_main]

use ferrokit_core::model::format::{write, Block, Value};
use ferrokit_core::model::{kind, Model};
use ferrokit_core::nn::mlp::{AnyMlp, Dense, Labels, Mlp, Task};
use ferrokit_core::nn::Activation;
use ferrokit_serve::decode::decode_request;
use ferrokit_serve::encode::encode_response;
use ferrokit_serve::model::{prepare_rows, Method, MlpModel, ServeModel};
use ferrokit_serve::pipeline::PipelineModel;
use ferrokit_serve::protocol::{shape_product, ErrorKind, InferResponse, OutputTensor};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn model() -> &'static MlpModel {
    static M: OnceLock<MlpModel> = OnceLock::new();
    M.get_or_init(|| {
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
        .expect("valid model");
        MlpModel::new(AnyMlp::F64(m))
    })
}

fn text_model() -> &'static PipelineModel {
    static M: OnceLock<PipelineModel> = OnceLock::new();
    M.get_or_init(|| {
        let ints = |v: &[i64]| Value::I64(v.to_vec());
        let vocab = ["a", "a b", "b", "caf\u{e9}", "\u{fffd}x"];
        let bytes = write(&[
            Block::new(kind::META)
                .with("input", ints(&[1]))
                .with("n_features", ints(&[1]))
                .with(
                    "metadata",
                    Value::Str(r#"{"text": {"decode_error": "replace"}}"#.into()),
                ),
            Block::new(kind::TEXT_VECTORIZER)
                .with("analyzer", ints(&[0]))
                .with("ngram_range", ints(&[1, 2]))
                .with("lowercase", ints(&[1]))
                .with("strip_accents", ints(&[0]))
                .with("binary", ints(&[0]))
                .with("dtype", ints(&[1]))
                .with("n_features", ints(&[vocab.len() as i64]))
                .with(
                    "vocabulary",
                    Value::StrList(vocab.iter().map(|s| s.to_string()).collect()),
                )
                .with("word", ints(&[48, 57, 65, 90, 95, 95, 97, 122, 0xE9, 0xE9]))
                .with("space", ints(&[9, 13, 28, 32]))
                .with("case_ignorable", ints(&[39, 39]))
                .with("cased", ints(&[65, 90, 97, 122, 0xE9, 0xE9]))
                .with("lower_cp", ints(&[]))
                .with("lower_to", Value::StrList(vec![])),
            Block::new(kind::LINEAR_CLASSIFIER)
                .with("n_features", ints(&[vocab.len() as i64]))
                .with("n_outputs", ints(&[1]))
                .with("coef", Value::F64(vec![1.0, -0.5, 0.25, 2.0, -1.0]))
                .with("intercept", Value::F64(vec![0.1]))
                .with("proba", ints(&[1]))
                .with("classes_kind", ints(&[1]))
                .with("classes", Value::I64(vec![0, 1])),
        ]);
        PipelineModel::new(Model::from_bytes(&bytes).expect("valid text model"))
            .expect("servable text model")
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // The first two bytes choose the Inference-Header-Content-Length.
    let sel = u16::from_le_bytes([data[0], data[1]]) as usize;
    let body = &data[2..];
    let header = (sel != 0xffff).then(|| sel % (body.len() + 2));
    let req = match decode_request(body, header) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::BadRequest);
            assert!(!e.message.is_empty());
            return;
        }
    };
    let text = text_model();
    for t in &req.inputs {
        let Ok((rows, n)) = prepare_rows(text.info(), t) else {
            continue;
        };
        for method in [
            Method::Predict,
            Method::PredictProba,
            Method::DecisionFunction,
        ] {
            let o = text
                .run(method, &rows, n)
                .expect("prepared documents always run");
            assert_eq!(o.data.len(), n * o.cols.unwrap_or(1));
        }
    }
    let m = model();
    for t in &req.inputs {
        assert_eq!(Some(t.data.len()), shape_product(&t.shape));
        let Ok((rows, n)) = prepare_rows(m.info(), t) else {
            continue;
        };
        let mut outputs = Vec::new();
        for method in [Method::Predict, Method::PredictProba] {
            let o = m.run(method, &rows, n).expect("prepared rows always run");
            outputs.push(OutputTensor {
                name: method.name().into(),
                shape: o.shape(n),
                data: o.data,
                binary: n % 2 == 1,
            });
        }
        let resp = InferResponse {
            model_name: "m".into(),
            model_version: "1".into(),
            id: req.id.clone(),
            parameters: req.parameters.clone(),
            outputs,
        };
        let (bytes, h) = encode_response(&resp);
        let json_end = h.unwrap_or(bytes.len());
        serde_json_check(&bytes[..json_end]);
    }
});

fn serde_json_check(b: &[u8]) {
    assert!(b.starts_with(b"{") && b.ends_with(b"}"));
}
