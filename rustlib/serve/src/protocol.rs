//! The Open Inference Protocol's data model, independent of the transport:
//! tensor datatypes, a decoded inference request, the response, and the
//! errors every transport maps to its own status codes.

use serde_json::{Map, Value};

/// A tensor element type of the protocol (`"FP32"`, `"INT64"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Bool,
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F16,
    F32,
    F64,
    Bytes,
}

impl DataType {
    /// Every datatype, in the protocol's order.
    pub const ALL: [DataType; 13] = [
        DataType::Bool,
        DataType::U8,
        DataType::U16,
        DataType::U32,
        DataType::U64,
        DataType::I8,
        DataType::I16,
        DataType::I32,
        DataType::I64,
        DataType::F16,
        DataType::F32,
        DataType::F64,
        DataType::Bytes,
    ];

    /// Parses the protocol's name (exact, upper case).
    ///
    /// ```
    /// use ferrokit_serve::protocol::DataType;
    /// assert_eq!(DataType::parse("FP32"), Some(DataType::F32));
    /// assert_eq!(DataType::parse("fp32"), None);
    /// ```
    pub fn parse(s: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|d| d.name() == s)
    }

    /// The protocol's name.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "BOOL",
            DataType::U8 => "UINT8",
            DataType::U16 => "UINT16",
            DataType::U32 => "UINT32",
            DataType::U64 => "UINT64",
            DataType::I8 => "INT8",
            DataType::I16 => "INT16",
            DataType::I32 => "INT32",
            DataType::I64 => "INT64",
            DataType::F16 => "FP16",
            DataType::F32 => "FP32",
            DataType::F64 => "FP64",
            DataType::Bytes => "BYTES",
        }
    }

    /// Bytes per element in the binary layouts (None for BYTES, whose
    /// elements carry a 4-byte length each).
    pub fn size(self) -> Option<usize> {
        Some(match self {
            DataType::Bool | DataType::U8 | DataType::I8 => 1,
            DataType::U16 | DataType::I16 | DataType::F16 => 2,
            DataType::U32 | DataType::I32 | DataType::F32 => 4,
            DataType::U64 | DataType::I64 | DataType::F64 => 8,
            DataType::Bytes => return None,
        })
    }

    /// The closed range of an integer type as f64 (None for the others).
    pub fn int_range(self) -> Option<(f64, f64)> {
        Some(match self {
            DataType::U8 => (0.0, u8::MAX as f64),
            DataType::U16 => (0.0, u16::MAX as f64),
            DataType::U32 => (0.0, u32::MAX as f64),
            DataType::U64 => (0.0, u64::MAX as f64),
            DataType::I8 => (i8::MIN as f64, i8::MAX as f64),
            DataType::I16 => (i16::MIN as f64, i16::MAX as f64),
            DataType::I32 => (i32::MIN as f64, i32::MAX as f64),
            DataType::I64 => (i64::MIN as f64, i64::MAX as f64),
            _ => return None,
        })
    }
}

/// The elements of a decoded input tensor. Integer and boolean inputs are
/// widened to f64 (every model computes in floating point).
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<Vec<u8>>),
}

impl TensorData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::Bytes(v) => v.len(),
        }
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One input tensor of a request, validated: `shape`'s product equals the
/// number of elements.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTensor {
    pub name: String,
    pub datatype: DataType,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// One requested output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputRequest {
    pub name: String,
    /// Triton's binary data extension: answer this output as raw bytes.
    pub binary: bool,
}

/// A decoded inference request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InferRequest {
    pub id: Option<String>,
    /// Request parameters, echoed in the response (the binary extension's
    /// own keys removed).
    pub parameters: Option<Map<String, Value>>,
    pub inputs: Vec<InputTensor>,
    /// Empty: the model's default output.
    pub outputs: Vec<OutputRequest>,
    /// `parameters.binary_data_output`: outputs not listed answer in binary.
    pub binary_output: bool,
}

/// Elements of an output tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    Bytes(Vec<String>),
}

impl OutputData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            OutputData::F32(v) => v.len(),
            OutputData::F64(v) => v.len(),
            OutputData::I32(v) => v.len(),
            OutputData::I64(v) => v.len(),
            OutputData::Bool(v) => v.len(),
            OutputData::Bytes(v) => v.len(),
        }
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The protocol datatype of these elements.
    pub fn datatype(&self) -> DataType {
        match self {
            OutputData::F32(_) => DataType::F32,
            OutputData::F64(_) => DataType::F64,
            OutputData::I32(_) => DataType::I32,
            OutputData::I64(_) => DataType::I64,
            OutputData::Bool(_) => DataType::Bool,
            OutputData::Bytes(_) => DataType::Bytes,
        }
    }
    /// Elements `[a, b)` as a new tensor (used to split a batch).
    pub fn slice(&self, a: usize, b: usize) -> OutputData {
        match self {
            OutputData::F32(v) => OutputData::F32(v[a..b].to_vec()),
            OutputData::F64(v) => OutputData::F64(v[a..b].to_vec()),
            OutputData::I32(v) => OutputData::I32(v[a..b].to_vec()),
            OutputData::I64(v) => OutputData::I64(v[a..b].to_vec()),
            OutputData::Bool(v) => OutputData::Bool(v[a..b].to_vec()),
            OutputData::Bytes(v) => OutputData::Bytes(v[a..b].to_vec()),
        }
    }
}

/// One output tensor of a response.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: OutputData,
    pub binary: bool,
}

/// An inference response.
#[derive(Debug, Clone, PartialEq)]
pub struct InferResponse {
    pub model_name: String,
    pub model_version: String,
    pub id: Option<String>,
    pub parameters: Option<Map<String, Value>>,
    pub outputs: Vec<OutputTensor>,
}

/// What went wrong, in terms every transport can map (HTTP status, gRPC code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400 / INVALID_ARGUMENT.
    BadRequest,
    /// 401 / UNAUTHENTICATED.
    Unauthorized,
    /// 404 / NOT_FOUND.
    NotFound,
    /// 405.
    MethodNotAllowed,
    /// 408: the client sent its body too slowly.
    RequestTimeout,
    /// 413 / RESOURCE_EXHAUSTED.
    PayloadTooLarge,
    /// 503 / UNAVAILABLE (queue full, shutting down, model not ready).
    Unavailable,
    /// 504 / DEADLINE_EXCEEDED: the request timeout passed.
    Timeout,
    /// 500 / INTERNAL.
    Internal,
}

impl ErrorKind {
    /// The HTTP status code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::RequestTimeout => 408,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::Internal => 500,
        }
    }
}

/// An error answer: kind and a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }
    /// A 400.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::BadRequest, message)
    }
    /// A 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::NotFound, message)
    }
    /// A 503.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Unavailable, message)
    }
    /// The `{"error": "..."}` body of the protocol.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "error": self.message }))
            .unwrap_or_else(|_| b"{\"error\":\"internal error\"}".to_vec())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Product of the dims, or None on overflow.
pub fn shape_product(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}
