//! Request decoders: the protocol's JSON inference request, optionally followed
//! by Triton's binary tensor data (`Inference-Header-Content-Length`).
//!
//! Nothing here trusts the request: no allocation is sized from a claimed
//! shape (elements are counted as they are parsed, then compared with the
//! shape), nesting is bounded, every binary slice is bounds-checked, and
//! every problem is a 400 naming the input and what was wrong.

use crate::protocol::{
    shape_product, ApiError, DataType, InferRequest, InputTensor, OutputRequest, TensorData,
};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::fmt;

/// Most input tensors in one request.
pub const MAX_INPUTS: usize = 64;
/// Most requested outputs in one request.
pub const MAX_OUTPUTS: usize = 64;
/// Most dimensions of a shape.
pub const MAX_RANK: usize = 16;
/// Deepest nesting of a `data` array.
pub const MAX_DATA_DEPTH: usize = 32;

#[derive(Deserialize)]
struct JsonRequest {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    inputs: Vec<JsonInput>,
    #[serde(default)]
    outputs: Option<Vec<JsonOutput>>,
}

#[derive(Deserialize)]
struct JsonInput {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    #[serde(default)]
    data: Option<RawData>,
}

#[derive(Deserialize)]
struct JsonOutput {
    name: String,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

/// The flattened elements of a JSON `data` array, before its datatype is known
/// (the keys of an input object come in any order).
#[derive(Debug, Default)]
struct RawData {
    kind: Kind,
    nums: Vec<f64>,
    bools: Vec<bool>,
    strs: Vec<Vec<u8>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Kind {
    #[default]
    Empty,
    Num,
    Bool,
    Str,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Empty => "nothing",
            Kind::Num => "numbers",
            Kind::Bool => "booleans",
            Kind::Str => "strings",
        }
    }
}

impl RawData {
    fn set_kind<E: de::Error>(&mut self, k: Kind) -> Result<(), E> {
        if self.kind == Kind::Empty {
            self.kind = k;
        } else if self.kind != k {
            return Err(E::custom(format!(
                "data mixes {} and {}",
                self.kind.name(),
                k.name()
            )));
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.nums.len() + self.bools.len() + self.strs.len()
    }
}

impl<'de> Deserialize<'de> for RawData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut acc = RawData::default();
        d.deserialize_any(Flat {
            acc: &mut acc,
            depth: 0,
        })?;
        Ok(acc)
    }
}

/// Visits one element of `data` (an array at any depth, or a leaf).
struct Flat<'a> {
    acc: &'a mut RawData,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Flat<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Flat<'_> {
    fn leaf<E: de::Error>(&self) -> Result<(), E> {
        if self.depth == 0 {
            return Err(E::custom("data must be an array"));
        }
        Ok(())
    }
    fn num<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.leaf()?;
        self.acc.set_kind(Kind::Num)?;
        self.acc.nums.push(v);
        Ok(())
    }
}

impl<'de> Visitor<'de> for Flat<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers, booleans or strings (flat or nested)")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DATA_DEPTH {
            return Err(de::Error::custom(format!(
                "data is nested deeper than {MAX_DATA_DEPTH} levels"
            )));
        }
        while seq
            .next_element_seed(Flat {
                acc: &mut *self.acc,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.num(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.num(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.num(v as f64)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.leaf()?;
        self.acc.set_kind(Kind::Bool)?;
        self.acc.bools.push(v);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.leaf()?;
        self.acc.set_kind(Kind::Str)?;
        self.acc.strs.push(v.as_bytes().to_vec());
        Ok(())
    }
}

/// Decodes an inference request body. `header_len` is the value of the
/// `Inference-Header-Content-Length` header: the JSON is the first
/// `header_len` bytes and the binary tensor data follows.
///
/// ```
/// use ferrokit_serve::decode::decode_request;
/// let body = br#"{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[[1,2]]}]}"#;
/// let req = decode_request(body, None).unwrap();
/// assert_eq!(req.inputs[0].shape, vec![1, 2]);
/// ```
pub fn decode_request(body: &[u8], header_len: Option<usize>) -> Result<InferRequest, ApiError> {
    let (json, mut binary) = match header_len {
        None => (body, &[][..]),
        Some(n) if n <= body.len() => body.split_at(n),
        Some(n) => {
            return Err(ApiError::bad(format!(
                "Inference-Header-Content-Length is {n} but the body has only {} bytes",
                body.len()
            )))
        }
    };
    let req: JsonRequest = serde_json::from_slice(json)
        .map_err(|e| ApiError::bad(format!("invalid inference request JSON: {e}")))?;
    if req.inputs.is_empty() {
        return Err(ApiError::bad("the request has no inputs"));
    }
    if req.inputs.len() > MAX_INPUTS {
        return Err(ApiError::bad(format!(
            "the request has {} inputs, at most {MAX_INPUTS} are accepted",
            req.inputs.len()
        )));
    }
    let mut inputs = Vec::with_capacity(req.inputs.len());
    for inp in req.inputs {
        inputs.push(decode_input(inp, &mut binary)?);
    }
    if !binary.is_empty() {
        return Err(ApiError::bad(format!(
            "{} bytes of binary tensor data are not claimed by any input's binary_data_size",
            binary.len()
        )));
    }
    let mut parameters = req.parameters;
    let mut binary_output = false;
    if let Some(p) = parameters.as_mut() {
        if let Some(v) = p.remove("binary_data_output") {
            binary_output = v
                .as_bool()
                .ok_or_else(|| ApiError::bad("parameters.binary_data_output must be a boolean"))?;
        }
    }
    let outs = req.outputs.unwrap_or_default();
    if outs.len() > MAX_OUTPUTS {
        return Err(ApiError::bad(format!(
            "the request asks for {} outputs, at most {MAX_OUTPUTS} are accepted",
            outs.len()
        )));
    }
    let mut outputs = Vec::with_capacity(outs.len());
    for o in outs {
        let binary = match o.parameters.as_ref().and_then(|p| p.get("binary_data")) {
            None => binary_output,
            Some(v) => v.as_bool().ok_or_else(|| {
                ApiError::bad(format!(
                    "output '{}': parameters.binary_data must be a boolean",
                    o.name
                ))
            })?,
        };
        if outputs.iter().any(|x: &OutputRequest| x.name == o.name) {
            return Err(ApiError::bad(format!(
                "output '{}' is requested twice",
                o.name
            )));
        }
        outputs.push(OutputRequest {
            name: o.name,
            binary,
        });
    }
    Ok(InferRequest {
        id: req.id,
        parameters,
        inputs,
        outputs,
        binary_output,
    })
}

/// Validates a datatype name and a shape, returning the element count.
pub fn check_tensor_header(
    name: &str,
    datatype: &str,
    shape: &[i64],
) -> Result<(DataType, Vec<usize>, usize), ApiError> {
    let dt = DataType::parse(datatype).ok_or_else(|| {
        let all: Vec<&str> = DataType::ALL.iter().map(|d| d.name()).collect();
        ApiError::bad(format!(
            "input '{name}': unknown datatype '{datatype}' (expected one of {})",
            all.join(", ")
        ))
    })?;
    if dt == DataType::F16 {
        return Err(ApiError::bad(format!(
            "input '{name}': datatype FP16 is not supported (send FP32 or FP64)"
        )));
    }
    if shape.len() > MAX_RANK {
        return Err(ApiError::bad(format!(
            "input '{name}': shape has {} dimensions, at most {MAX_RANK} are accepted",
            shape.len()
        )));
    }
    let mut dims = Vec::with_capacity(shape.len());
    for &d in shape {
        if d < 0 {
            return Err(ApiError::bad(format!(
                "input '{name}': shape {shape:?} has a negative dimension"
            )));
        }
        dims.push(d as usize);
    }
    let n = shape_product(&dims)
        .ok_or_else(|| ApiError::bad(format!("input '{name}': shape {shape:?} overflows")))?;
    Ok((dt, dims, n))
}

fn decode_input(inp: JsonInput, binary: &mut &[u8]) -> Result<InputTensor, ApiError> {
    let name = inp.name;
    let (dt, shape, n) = check_tensor_header(&name, &inp.datatype, &inp.shape)?;
    let bin_size = match inp
        .parameters
        .as_ref()
        .and_then(|p| p.get("binary_data_size"))
    {
        None => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ApiError::bad(format!(
                "input '{name}': parameters.binary_data_size must be a non-negative integer"
            ))
        })?),
    };
    let data = match (inp.data, bin_size) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(format!(
                "input '{name}' has both data and parameters.binary_data_size"
            )))
        }
        (None, None) => {
            return Err(ApiError::bad(format!(
                "input '{name}' has no data (and no parameters.binary_data_size)"
            )))
        }
        (Some(raw), None) => from_json(&name, dt, raw)?,
        (None, Some(size)) => {
            if size > binary.len() as u64 {
                return Err(ApiError::bad(format!(
                    "input '{name}': binary_data_size {size} but only {} bytes of binary data remain",
                    binary.len()
                )));
            }
            let (mine, rest) = binary.split_at(size as usize);
            *binary = rest;
            decode_binary(&name, dt, mine, n)?
        }
    };
    if data.len() != n {
        return Err(ApiError::bad(format!(
            "input '{name}': shape {shape:?} has {n} elements but data has {}",
            data.len()
        )));
    }
    Ok(InputTensor {
        name,
        datatype: dt,
        shape,
        data,
    })
}

fn from_json(name: &str, dt: DataType, raw: RawData) -> Result<TensorData, ApiError> {
    let want = match dt {
        DataType::Bytes => Kind::Str,
        DataType::Bool => Kind::Bool,
        _ => Kind::Num,
    };
    if raw.kind != want && raw.kind != Kind::Empty {
        return Err(ApiError::bad(format!(
            "input '{name}': datatype {} needs {} in data, got {}",
            dt.name(),
            want.name(),
            raw.kind.name()
        )));
    }
    debug_assert!(raw.len() == raw.nums.len() || raw.kind != Kind::Num);
    Ok(match dt {
        DataType::Bytes => TensorData::Bytes(raw.strs),
        DataType::Bool => TensorData::F64(raw.bools.iter().map(|&b| b as u8 as f64).collect()),
        DataType::F32 => {
            if let Some(v) = raw.nums.iter().find(|v| v.abs() > f32::MAX as f64) {
                return Err(ApiError::bad(format!(
                    "input '{name}': value {v} does not fit FP32"
                )));
            }
            TensorData::F32(raw.nums.iter().map(|&v| v as f32).collect())
        }
        DataType::F64 => TensorData::F64(raw.nums),
        _ => {
            let (lo, hi) = dt.int_range().expect("integer datatype");
            if let Some(v) = raw
                .nums
                .iter()
                .find(|&&v| v.fract() != 0.0 || v < lo || v > hi)
            {
                return Err(ApiError::bad(format!(
                    "input '{name}': value {v} is not a valid {}",
                    dt.name()
                )));
            }
            TensorData::F64(raw.nums)
        }
    })
}

/// Decodes one input's binary tensor data (`n` elements of `dt`, little-endian;
/// BYTES: each element a u32 length then its bytes).
pub fn decode_binary(
    name: &str,
    dt: DataType,
    bytes: &[u8],
    n: usize,
) -> Result<TensorData, ApiError> {
    let size_err = |unit: usize| {
        ApiError::bad(format!(
            "input '{name}': {} bytes of binary data for {n} elements of {} ({unit} bytes each)",
            bytes.len(),
            dt.name()
        ))
    };
    if dt == DataType::Bytes {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err(ApiError::bad(format!(
                    "input '{name}': truncated BYTES element length"
                )));
            }
            let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
            rest = &rest[4..];
            if len > rest.len() {
                return Err(ApiError::bad(format!(
                    "input '{name}': BYTES element of {len} bytes but only {} remain",
                    rest.len()
                )));
            }
            if out.len() == n {
                return Err(ApiError::bad(format!(
                    "input '{name}': more BYTES elements than the shape's {n}"
                )));
            }
            out.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        return Ok(TensorData::Bytes(out));
    }
    let unit = dt.size().expect("fixed-size datatype");
    if n.checked_mul(unit) != Some(bytes.len()) {
        return Err(size_err(unit));
    }
    macro_rules! ints {
        ($t:ty) => {
            TensorData::F64(
                bytes
                    .chunks_exact(unit)
                    .map(|c| <$t>::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
            )
        };
    }
    Ok(match dt {
        DataType::F32 => TensorData::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        DataType::F64 => TensorData::F64(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        DataType::Bool => {
            if let Some(b) = bytes.iter().find(|&&b| b > 1) {
                return Err(ApiError::bad(format!(
                    "input '{name}': BOOL byte {b} is neither 0 nor 1"
                )));
            }
            TensorData::F64(bytes.iter().map(|&b| b as f64).collect())
        }
        DataType::U8 => ints!(u8),
        DataType::U16 => ints!(u16),
        DataType::U32 => ints!(u32),
        DataType::U64 => ints!(u64),
        DataType::I8 => ints!(i8),
        DataType::I16 => ints!(i16),
        DataType::I32 => ints!(i32),
        DataType::I64 => ints!(i64),
        DataType::F16 | DataType::Bytes => unreachable!("handled above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorKind;

    fn bad(body: &str) -> String {
        let e = decode_request(body.as_bytes(), None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadRequest, "{body}");
        e.message
    }

    #[test]
    fn nested_and_flat_data_agree() {
        let a = decode_request(
            br#"{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4.5]]}]}"#,
            None,
        )
        .unwrap();
        let b = decode_request(
            br#"{"inputs":[{"data":[1,2,3,4.5],"datatype":"FP32","shape":[2,2],"name":"x"}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.inputs[0].data, TensorData::F32(vec![1.0, 2.0, 3.0, 4.5]));
    }

    #[test]
    fn every_integer_type_checks_its_range() {
        for (dt, ok, no) in [
            ("UINT8", "255", "256"),
            ("INT8", "-128", "-129"),
            ("UINT16", "65535", "-1"),
            ("INT32", "2147483647", "2147483648"),
            ("UINT32", "0", "1.5"),
            ("INT64", "-5", "0.25"),
            ("UINT64", "7", "-7"),
            ("INT16", "-32768", "32768"),
        ] {
            let body = |v: &str| {
                format!(
                    r#"{{"inputs":[{{"name":"x","shape":[1],"datatype":"{dt}","data":[{v}]}}]}}"#
                )
            };
            let r = decode_request(body(ok).as_bytes(), None).unwrap();
            assert_eq!(r.inputs[0].data.len(), 1);
            assert!(bad(&body(no)).contains("not a valid"), "{dt} {no}");
        }
    }

    #[test]
    fn bad_requests_name_the_problem() {
        assert!(bad("{").contains("invalid inference request JSON"));
        assert!(bad(r#"{"inputs":[]}"#).contains("no inputs"));
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP8","data":[1]}]}"#)
                .contains("unknown datatype 'FP8'")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP64","data":[1,2]}]}"#)
                .contains("has 3 elements but data has 2")
        );
        assert!(bad(
            r#"{"inputs":[{"name":"x","shape":[4000000000,4000000000,4000000000],"datatype":"FP64","data":[1]}]}"#
        )
        .contains("overflows"));
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[-1],"datatype":"FP64","data":[1]}]}"#)
                .contains("negative")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[2],"datatype":"FP64","data":[1,"a"]}]}"#)
                .contains("mixes")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":[1]}]}"#)
                .contains("needs strings")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":1}]}"#)
                .contains("must be an array")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64"}]}"#).contains("no data")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1e300]}]}"#)
                .contains("does not fit FP32")
        );
        assert!(
            bad(r#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP16","data":[1]}]}"#)
                .contains("FP16")
        );
        let deep = format!(
            r#"{{"inputs":[{{"name":"x","shape":[1],"datatype":"FP64","data":{}1{}}}]}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(bad(&deep).contains("nested deeper"));
        let deeper = "[".repeat(100_000);
        bad(&deeper);
    }

    #[test]
    fn unknown_fields_are_ignored_and_parameters_kept() {
        let r = decode_request(
            br#"{"id":"7","extra":{"a":[1]},"parameters":{"p":1,"binary_data_output":true},
                "inputs":[{"name":"x","shape":[0,3],"datatype":"FP64","data":[],"what":2}],
                "outputs":[{"name":"predict_proba"},{"name":"predict","parameters":{"binary_data":false}}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(r.id.as_deref(), Some("7"));
        assert!(r.binary_output);
        assert_eq!(r.parameters.unwrap().len(), 1);
        assert!(r.outputs[0].binary);
        assert!(!r.outputs[1].binary);
        assert_eq!(r.inputs[0].data.len(), 0);
    }

    #[test]
    fn binary_inputs() {
        let json = br#"{"inputs":[{"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},{"name":"b","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}},{"name":"c","shape":[1],"datatype":"INT16","parameters":{"binary_data_size":2}}]}"#;
        let mut body = json.to_vec();
        body.extend_from_slice(&1.5f32.to_le_bytes());
        body.extend_from_slice(&(-2f32).to_le_bytes());
        body.extend_from_slice(&3u32.to_le_bytes());
        body.extend_from_slice(b"abc");
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&(-300i16).to_le_bytes());
        let r = decode_request(&body, Some(json.len())).unwrap();
        assert_eq!(r.inputs[0].data, TensorData::F32(vec![1.5, -2.0]));
        assert_eq!(
            r.inputs[1].data,
            TensorData::Bytes(vec![b"abc".to_vec(), vec![]])
        );
        assert_eq!(r.inputs[2].data, TensorData::F64(vec![-300.0]));
        // Truncated, surplus and over-long claims are refused.
        assert!(decode_request(&body[..body.len() - 1], Some(json.len())).is_err());
        let mut more = body.clone();
        more.push(0);
        assert!(decode_request(&more, Some(json.len()))
            .unwrap_err()
            .message
            .contains("not claimed"));
        assert!(decode_request(&body, Some(body.len() + 1)).is_err());
        assert!(decode_binary("x", DataType::Bytes, &[255, 255, 255, 255, 1], 1).is_err());
        assert!(decode_binary("x", DataType::Bool, &[2], 1).is_err());
        assert!(decode_binary("x", DataType::F64, &[0; 7], 1).is_err());
    }
}
