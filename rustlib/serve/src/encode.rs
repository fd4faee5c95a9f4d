//! Response encoders: the protocol's JSON inference response, with the
//! outputs that asked for it appended as Triton binary tensor data.

use crate::protocol::{InferResponse, OutputData};
use serde::ser::{Serialize, SerializeMap, Serializer};

impl Serialize for OutputData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OutputData::F32(v) => v.serialize(s),
            OutputData::F64(v) => v.serialize(s),
            OutputData::I32(v) => v.serialize(s),
            OutputData::I64(v) => v.serialize(s),
            OutputData::Bool(v) => v.serialize(s),
            OutputData::Bytes(v) => v.serialize(s),
        }
    }
}

struct Outputs<'a>(&'a InferResponse, &'a [usize]);

impl Serialize for Outputs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.outputs.len()))?;
        for (o, &size) in self.0.outputs.iter().zip(self.1) {
            seq.serialize_element(&OutputJson { o, size })?;
        }
        seq.end()
    }
}

struct OutputJson<'a> {
    o: &'a crate::protocol::OutputTensor,
    size: usize,
}

struct BinSize(usize);

impl Serialize for BinSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("binary_data_size", &self.0)?;
        m.end()
    }
}

impl Serialize for OutputJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("name", &self.o.name)?;
        m.serialize_entry("datatype", self.o.data.datatype().name())?;
        m.serialize_entry("shape", &self.o.shape)?;
        if self.o.binary {
            m.serialize_entry("parameters", &BinSize(self.size))?;
        } else {
            m.serialize_entry("data", &self.o.data)?;
        }
        m.end()
    }
}

impl Serialize for InferResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sizes: Vec<usize> = self.outputs.iter().map(|o| binary_len(&o.data)).collect();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("model_name", &self.model_name)?;
        m.serialize_entry("model_version", &self.model_version)?;
        if let Some(id) = &self.id {
            m.serialize_entry("id", id)?;
        }
        if let Some(p) = &self.parameters {
            m.serialize_entry("parameters", p)?;
        }
        m.serialize_entry("outputs", &Outputs(self, &sizes))?;
        m.end()
    }
}

/// Bytes of the binary form of `d`.
pub fn binary_len(d: &OutputData) -> usize {
    match d {
        OutputData::F32(v) => 4 * v.len(),
        OutputData::F64(v) => 8 * v.len(),
        OutputData::I32(v) => 4 * v.len(),
        OutputData::I64(v) => 8 * v.len(),
        OutputData::Bool(v) => v.len(),
        OutputData::Bytes(v) => v.iter().map(|s| 4 + s.len()).sum(),
    }
}

/// Appends the binary (little-endian) form of `d` to `out`.
pub fn write_binary(d: &OutputData, out: &mut Vec<u8>) {
    match d {
        OutputData::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        OutputData::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        OutputData::I32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        OutputData::I64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        OutputData::Bool(v) => out.extend(v.iter().map(|&b| b as u8)),
        OutputData::Bytes(v) => {
            for s in v {
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// The response body, and the JSON header's length when binary outputs follow
/// it (the value of `Inference-Header-Content-Length`).
///
/// ```
/// use ferrokit_serve::encode::encode_response;
/// use ferrokit_serve::protocol::{InferResponse, OutputData, OutputTensor};
/// let r = InferResponse {
///     model_name: "m".into(), model_version: "1".into(), id: None, parameters: None,
///     outputs: vec![OutputTensor { name: "predict".into(), shape: vec![1],
///                                  data: OutputData::I64(vec![3]), binary: false }],
/// };
/// let (body, header) = encode_response(&r);
/// assert!(header.is_none());
/// assert!(std::str::from_utf8(&body).unwrap().contains(r#""data":[3]"#));
/// ```
pub fn encode_response(r: &InferResponse) -> (Vec<u8>, Option<usize>) {
    let mut body = Vec::with_capacity(256);
    serde_json::to_writer(&mut body, r).expect("serializing to a Vec cannot fail");
    if !r.outputs.iter().any(|o| o.binary) {
        return (body, None);
    }
    let header = body.len();
    for o in r.outputs.iter().filter(|o| o.binary) {
        write_binary(&o.data, &mut body);
    }
    (body, Some(header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::OutputTensor;

    #[test]
    fn binary_outputs_follow_the_header() {
        let r = InferResponse {
            model_name: "m".into(),
            model_version: "1".into(),
            id: Some("x".into()),
            parameters: None,
            outputs: vec![
                OutputTensor {
                    name: "predict_proba".into(),
                    shape: vec![1, 2],
                    data: OutputData::F32(vec![0.25, 0.75]),
                    binary: true,
                },
                OutputTensor {
                    name: "predict".into(),
                    shape: vec![1],
                    data: OutputData::Bytes(vec!["cat".into()]),
                    binary: true,
                },
            ],
        };
        let (body, h) = encode_response(&r);
        let h = h.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body[..h]).unwrap();
        assert_eq!(v["outputs"][0]["parameters"]["binary_data_size"], 8);
        assert_eq!(v["outputs"][1]["parameters"]["binary_data_size"], 7);
        assert_eq!(v["id"], "x");
        assert_eq!(&body[h..h + 4], &0.25f32.to_le_bytes());
        assert_eq!(&body[h + 8..], b"\x03\x00\x00\x00cat");
    }
}
