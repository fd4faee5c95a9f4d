//! gRPC messages <-> the protocol's data model: typed `contents` or
//! `raw_input_contents` in, typed `contents` or `raw_output_contents` out.
//! Same checks as the REST decoders (shapes, datatypes, ranges, sizes).

use crate::decode::{check_tensor_header, decode_binary, MAX_INPUTS, MAX_OUTPUTS};
use crate::encode::write_binary;
use crate::pb;
use crate::protocol::{
    ApiError, DataType, InferRequest, InferResponse, InputTensor, OutputData, OutputRequest,
    TensorData,
};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

fn param_to_json(p: &pb::InferParameter) -> Value {
    match &p.choice {
        None => Value::Null,
        Some(pb::ParameterChoice::Bool(b)) => Value::Bool(*b),
        Some(pb::ParameterChoice::Int64(i)) => Value::from(*i),
        Some(pb::ParameterChoice::Uint64(u)) => Value::from(*u),
        Some(pb::ParameterChoice::Double(d)) => {
            Number::from_f64(*d).map_or(Value::Null, Value::Number)
        }
        Some(pb::ParameterChoice::String(s)) => Value::String(s.clone()),
    }
}

fn json_to_param(v: &Value) -> pb::InferParameter {
    let choice = match v {
        Value::Bool(b) => pb::ParameterChoice::Bool(*b),
        Value::Number(n) if n.is_i64() => pb::ParameterChoice::Int64(n.as_i64().unwrap_or(0)),
        Value::Number(n) if n.is_u64() => pb::ParameterChoice::Uint64(n.as_u64().unwrap_or(0)),
        Value::Number(n) => pb::ParameterChoice::Double(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => pb::ParameterChoice::String(s.clone()),
        other => pb::ParameterChoice::String(other.to_string()),
    };
    pb::InferParameter {
        choice: Some(choice),
    }
}

fn ints<T: Copy + Into<f64>>(name: &str, dt: DataType, v: &[T]) -> Result<TensorData, ApiError> {
    let (lo, hi) = dt.int_range().expect("integer datatype");
    let out: Vec<f64> = v.iter().map(|&x| x.into()).collect();
    if let Some(x) = out.iter().find(|&&x| x < lo || x > hi) {
        return Err(ApiError::bad(format!(
            "input '{name}': value {x} is not a valid {}",
            dt.name()
        )));
    }
    Ok(TensorData::F64(out))
}

fn typed(name: &str, dt: DataType, c: pb::InferTensorContents) -> Result<TensorData, ApiError> {
    Ok(match dt {
        DataType::F32 => TensorData::F32(c.fp32_contents),
        DataType::F64 => TensorData::F64(c.fp64_contents),
        DataType::Bool => {
            TensorData::F64(c.bool_contents.iter().map(|&b| b as u8 as f64).collect())
        }
        DataType::I8 | DataType::I16 | DataType::I32 => ints(name, dt, &c.int_contents)?,
        DataType::U8 | DataType::U16 | DataType::U32 => ints(name, dt, &c.uint_contents)?,
        DataType::I64 => TensorData::F64(c.int64_contents.iter().map(|&x| x as f64).collect()),
        DataType::U64 => TensorData::F64(c.uint64_contents.iter().map(|&x| x as f64).collect()),
        DataType::Bytes => TensorData::Bytes(c.bytes_contents),
        DataType::F16 => unreachable!("refused by check_tensor_header"),
    })
}

/// Decodes a `ModelInferRequest`. Returns the request and whether the
/// answer should use `raw_output_contents` (it does when the request used
/// `raw_input_contents`, or asked with the parameter `binary_data_output`).
///
/// ```
/// use ferrokit_serve::grpc_codec::infer_request_from_pb;
/// use ferrokit_serve::pb::{InferTensor, InferTensorContents, ModelInferRequest};
/// let req = ModelInferRequest {
///     inputs: vec![InferTensor {
///         name: "x".into(), datatype: "FP64".into(), shape: vec![1, 2],
///         contents: Some(InferTensorContents { fp64_contents: vec![1.0, 2.0], ..Default::default() }),
///         ..Default::default()
///     }],
///     ..Default::default()
/// };
/// let (r, raw) = infer_request_from_pb(req).unwrap();
/// assert_eq!(r.inputs[0].shape, vec![1, 2]);
/// assert!(!raw);
/// ```
pub fn infer_request_from_pb(r: pb::ModelInferRequest) -> Result<(InferRequest, bool), ApiError> {
    if r.inputs.is_empty() {
        return Err(ApiError::bad("the request has no inputs"));
    }
    if r.inputs.len() > MAX_INPUTS || r.outputs.len() > MAX_OUTPUTS {
        return Err(ApiError::bad(format!(
            "at most {MAX_INPUTS} inputs and {MAX_OUTPUTS} outputs are accepted"
        )));
    }
    let raw = !r.raw_input_contents.is_empty();
    if raw && r.raw_input_contents.len() != r.inputs.len() {
        return Err(ApiError::bad(format!(
            "{} raw_input_contents for {} inputs",
            r.raw_input_contents.len(),
            r.inputs.len()
        )));
    }
    let mut inputs = Vec::with_capacity(r.inputs.len());
    for (i, t) in r.inputs.into_iter().enumerate() {
        let (dt, shape, n) = check_tensor_header(&t.name, &t.datatype, &t.shape)?;
        let data = if raw {
            if t.contents.is_some() {
                return Err(ApiError::bad(format!(
                    "input '{}' has both contents and raw_input_contents",
                    t.name
                )));
            }
            decode_binary(&t.name, dt, &r.raw_input_contents[i], n)?
        } else {
            let c = t
                .contents
                .ok_or_else(|| ApiError::bad(format!("input '{}' has no contents", t.name)))?;
            typed(&t.name, dt, c)?
        };
        if data.len() != n {
            return Err(ApiError::bad(format!(
                "input '{}': shape {shape:?} has {n} elements but contents has {}",
                t.name,
                data.len()
            )));
        }
        inputs.push(InputTensor {
            name: t.name,
            datatype: dt,
            shape,
            data,
        });
    }
    let mut params: Map<String, Value> = r
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), param_to_json(v)))
        .collect();
    let binary_out = matches!(params.remove("binary_data_output"), Some(Value::Bool(true)));
    let raw_out = raw || binary_out;
    let mut outputs = Vec::new();
    for o in r.outputs {
        if outputs.iter().any(|x: &OutputRequest| x.name == o.name) {
            return Err(ApiError::bad(format!(
                "output '{}' is requested twice",
                o.name
            )));
        }
        outputs.push(OutputRequest {
            name: o.name,
            binary: raw_out,
        });
    }
    Ok((
        InferRequest {
            id: (!r.id.is_empty()).then_some(r.id),
            parameters: (!params.is_empty()).then_some(params),
            inputs,
            outputs,
            binary_output: raw_out,
        },
        raw_out,
    ))
}

/// Encodes a response: every output in `raw_output_contents` when `raw`,
/// else in typed `contents`.
pub fn infer_response_to_pb(r: InferResponse, raw: bool) -> pb::ModelInferResponse {
    let mut outputs = Vec::with_capacity(r.outputs.len());
    let mut raw_out = Vec::new();
    for o in r.outputs {
        let mut t = pb::InferTensor {
            name: o.name,
            datatype: o.data.datatype().name().to_string(),
            shape: o.shape.iter().map(|&d| d as i64).collect(),
            parameters: HashMap::new(),
            contents: None,
        };
        if raw {
            let mut b = Vec::new();
            write_binary(&o.data, &mut b);
            raw_out.push(b);
        } else {
            let mut c = pb::InferTensorContents::default();
            match o.data {
                OutputData::F32(v) => c.fp32_contents = v,
                OutputData::F64(v) => c.fp64_contents = v,
                OutputData::I32(v) => c.int_contents = v,
                OutputData::I64(v) => c.int64_contents = v,
                OutputData::Bool(v) => c.bool_contents = v,
                OutputData::Bytes(v) => {
                    c.bytes_contents = v.into_iter().map(String::into_bytes).collect()
                }
            }
            t.contents = Some(c);
        }
        outputs.push(t);
    }
    pb::ModelInferResponse {
        model_name: r.model_name,
        model_version: r.model_version,
        id: r.id.unwrap_or_default(),
        parameters: r
            .parameters
            .iter()
            .flat_map(|m| m.iter())
            .map(|(k, v)| (k.clone(), json_to_param(v)))
            .collect(),
        outputs,
        raw_output_contents: raw_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::OutputTensor;

    fn tensor(dt: &str, shape: Vec<i64>, c: pb::InferTensorContents) -> pb::InferTensor {
        pb::InferTensor {
            name: "x".into(),
            datatype: dt.into(),
            shape,
            parameters: HashMap::new(),
            contents: Some(c),
        }
    }

    #[test]
    fn typed_and_raw_inputs() {
        let c = pb::InferTensorContents {
            int_contents: vec![1, -2],
            ..Default::default()
        };
        let req = pb::ModelInferRequest {
            id: "7".into(),
            inputs: vec![tensor("INT8", vec![1, 2], c)],
            ..Default::default()
        };
        let (r, raw) = infer_request_from_pb(req.clone()).unwrap();
        assert!(!raw);
        assert_eq!(r.id.as_deref(), Some("7"));
        assert_eq!(r.inputs[0].data, TensorData::F64(vec![1.0, -2.0]));
        let mut bad = req.clone();
        bad.inputs[0].contents.as_mut().unwrap().int_contents = vec![1, 300];
        assert!(infer_request_from_pb(bad)
            .unwrap_err()
            .message
            .contains("INT8"));
        let mut short = req.clone();
        short.inputs[0].shape = vec![2, 2];
        assert!(infer_request_from_pb(short).is_err());
        let mut rawreq = req;
        rawreq.inputs[0].contents = None;
        rawreq.inputs[0].datatype = "FP32".into();
        rawreq.raw_input_contents = vec![[1.5f32.to_le_bytes(), 2.5f32.to_le_bytes()].concat()];
        let (r, raw) = infer_request_from_pb(rawreq.clone()).unwrap();
        assert!(raw);
        assert_eq!(r.inputs[0].data, TensorData::F32(vec![1.5, 2.5]));
        rawreq.raw_input_contents[0].pop();
        assert!(infer_request_from_pb(rawreq).is_err());
    }

    #[test]
    fn responses_typed_or_raw() {
        let resp = InferResponse {
            model_name: "m".into(),
            model_version: "1".into(),
            id: None,
            parameters: Some(Map::from_iter([("a".to_string(), Value::from(2))])),
            outputs: vec![OutputTensor {
                name: "predict".into(),
                shape: vec![2],
                data: OutputData::Bytes(vec!["a".into(), "bc".into()]),
                binary: false,
            }],
        };
        let t = infer_response_to_pb(resp.clone(), false);
        assert_eq!(
            t.outputs[0].contents.as_ref().unwrap().bytes_contents[1],
            b"bc"
        );
        assert_eq!(
            t.parameters["a"].choice,
            Some(pb::ParameterChoice::Int64(2))
        );
        let r = infer_response_to_pb(resp, true);
        assert!(r.outputs[0].contents.is_none());
        assert_eq!(
            r.raw_output_contents[0],
            b"\x01\x00\x00\x00a\x02\x00\x00\x00bc"
        );
    }
}
