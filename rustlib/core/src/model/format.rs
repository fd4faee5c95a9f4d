//! The container of a model file (`docs/model_format.md`): header, blocks of
//! named, typed fields, CRC-32 trailer. This module only parses and writes the
//! container; what the blocks mean is decided in [`super::build`].
//!
//! The reader never trusts the bytes: every count is checked against the bytes
//! that are actually left before anything is allocated, so a short file can
//! never make it allocate more than a small multiple of its own size.

use crate::byte_reader::ByteReader as Reader;
use crate::{Error, Result};

/// The 8 bytes every model file starts with.
pub const MAGIC: [u8; 8] = *b"FKMODEL\x1a";
/// The newest format version this library reads and writes (2 added text
/// models: meta `input` 1 and block kinds 6 and 7). [`write`] writes the
/// lowest version that can hold the blocks ([`version_needed`]), so files
/// without text stay readable by older ferrokit versions.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this library reads.
pub const MIN_FORMAT_VERSION: u32 = 1;
/// Bytes of the fixed header.
pub const HEADER_LEN: usize = 32;
/// Most blocks in one file (the meta block, the steps, the final estimator).
pub const MAX_BLOCKS: usize = 256;
/// Most fields in one block (an MLP has two per layer).
pub const MAX_FIELDS: usize = 4096;
/// Longest field name.
pub const MAX_NAME: usize = 32;
/// Longest string in a string field or list.
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// A field's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// float64 array (type code 1).
    F64(Vec<f64>),
    /// float32 array (type code 2).
    F32(Vec<f32>),
    /// int64 array (type code 3).
    I64(Vec<i64>),
    /// One UTF-8 string (type code 4).
    Str(String),
    /// A list of UTF-8 strings (type code 5).
    StrList(Vec<String>),
}

impl Value {
    /// The type code written in the file.
    pub fn code(&self) -> u8 {
        match self {
            Value::F64(_) => 1,
            Value::F32(_) => 2,
            Value::I64(_) => 3,
            Value::Str(_) => 4,
            Value::StrList(_) => 5,
        }
    }
    /// The type's name in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::F64(_) => "float64",
            Value::F32(_) => "float32",
            Value::I64(_) => "int64",
            Value::Str(_) => "string",
            Value::StrList(_) => "string list",
        }
    }
}

/// One named field of a block.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: Value,
}

/// One block: a kind code and its fields, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: u32,
    pub fields: Vec<Field>,
}

impl Block {
    /// An empty block of `kind`.
    pub fn new(kind: u32) -> Block {
        Block {
            kind,
            fields: Vec::new(),
        }
    }
    /// Appends a field (builder style).
    pub fn with(mut self, name: &str, value: Value) -> Block {
        self.fields.push(Field {
            name: name.to_string(),
            value,
        });
        self
    }
}

const PREFIX: &str = "model file";

pub(crate) fn bad(msg: String) -> Error {
    Error::InvalidFormat(format!("{PREFIX}: {msg}"))
}

/// Checks magic and version of the first bytes (also used on a file's prefix).
pub(crate) fn check_magic_version(head: &[u8]) -> Result<()> {
    let n = head.len().min(8);
    if head[..n] != MAGIC[..n] {
        return Err(bad(
            "not a ferrokit model (wrong magic bytes; expected \"FKMODEL\\x1a\")".into(),
        ));
    }
    if head.len() < 12 {
        return Err(bad(format!(
            "truncated: {} bytes, the header alone has {HEADER_LEN}",
            head.len()
        )));
    }
    let v = u32::from_le_bytes(head[8..12].try_into().unwrap());
    if v > FORMAT_VERSION {
        return Err(Error::UnsupportedVersion(format!(
            "model file: format version {v} is newer than this ferrokit reads \
             (versions {MIN_FORMAT_VERSION} to {FORMAT_VERSION}); upgrade ferrokit to load it"
        )));
    }
    if v < MIN_FORMAT_VERSION {
        return Err(Error::UnsupportedVersion(format!(
            "model file: format version {v} is not a valid version \
             (this ferrokit reads versions {MIN_FORMAT_VERSION} to {FORMAT_VERSION})"
        )));
    }
    Ok(())
}

fn read_field(r: &mut Reader<'_>, b: usize, f: usize) -> Result<Field> {
    let at = r.pos;
    let name_len = r.u8("field name length")? as usize;
    if name_len == 0 || name_len > MAX_NAME {
        return Err(bad(format!(
            "block {b} field {f} (offset {at}): name length {name_len}, expected 1..={MAX_NAME}"
        )));
    }
    let name = r.take(name_len, "field name")?;
    if !name
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
    {
        return Err(bad(format!(
            "block {b} field {f} (offset {at}): name is not [a-z0-9_]+"
        )));
    }
    let name = String::from_utf8(name.to_vec()).expect("ascii");
    let code = r.u8("field type")?;
    let reserved = r.u16("field reserved")?;
    if reserved != 0 {
        return Err(bad(format!(
            "block {b} field {name:?}: reserved bytes are {reserved}, expected 0"
        )));
    }
    let count = r.u64("field count")?;
    let what = format!("block {b} field {name:?}");
    let value = match code {
        1 => Value::F64(
            r.array(count, 8, &what)?
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        2 => Value::F32(
            r.array(count, 4, &what)?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        3 => Value::I64(
            r.array(count, 8, &what)?
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        4 => {
            let len = usize::try_from(count).unwrap_or(usize::MAX);
            Value::Str(r.string(len, MAX_STRING_BYTES, &what)?)
        }
        5 => {
            // Each string costs at least its 4-byte length: check before allocating.
            if count > (r.remaining() / 4) as u64 {
                return Err(bad(format!(
                    "truncated: {what} lists {count} strings, only {} bytes remain",
                    r.remaining()
                )));
            }
            let mut v = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let len = r.u32("string length")? as usize;
                v.push(r.string(len, MAX_STRING_BYTES, &what)?);
            }
            Value::StrList(v)
        }
        t => {
            return Err(bad(format!(
                "{what}: type code {t} unknown, expected 1..=5"
            )))
        }
    };
    Ok(Field { name, value })
}

/// Parses a whole file image into its blocks after checking magic, version,
/// length and checksum. Errors: `InvalidFormat`, `UnsupportedVersion`.
pub fn parse(buf: &[u8]) -> Result<Vec<Block>> {
    check_magic_version(&buf[..buf.len().min(12)])?;
    if buf.len() < HEADER_LEN + 4 {
        return Err(bad(format!(
            "truncated: {} bytes, a model file has at least {}",
            buf.len(),
            HEADER_LEN + 4
        )));
    }
    let mut r = Reader::new(buf, 12, PREFIX);
    let flags = r.u32("flags")?;
    if flags != 0 {
        return Err(bad(format!("flags are {flags:#x}, expected 0")));
    }
    let total = r.u64("file length")?;
    if total != buf.len() as u64 {
        return Err(bad(format!(
            "{}: the header says {total} bytes, the data has {}",
            if total > buf.len() as u64 {
                "truncated"
            } else {
                "trailing bytes or a corrupted length"
            },
            buf.len()
        )));
    }
    let body_end = buf.len() - 4;
    let stored = u32::from_le_bytes(buf[body_end..].try_into().unwrap());
    let actual = crate::checksum::crc32(&buf[..body_end]);
    if stored != actual {
        return Err(bad(format!(
            "checksum mismatch (stored {stored:#010x}, computed {actual:#010x}): the file is corrupted"
        )));
    }
    let n_blocks = r.u32("block count")? as usize;
    if n_blocks == 0 || n_blocks > MAX_BLOCKS {
        return Err(bad(format!("{n_blocks} blocks, expected 1..={MAX_BLOCKS}")));
    }
    let reserved = r.u32("reserved")?;
    if reserved != 0 {
        return Err(bad(format!(
            "reserved header field is {reserved}, expected 0"
        )));
    }
    let mut r = Reader::new(&buf[..body_end], HEADER_LEN, PREFIX);
    let mut blocks = Vec::with_capacity(n_blocks);
    for b in 0..n_blocks {
        let kind = r.u32("block kind")?;
        let n_fields = r.u32("field count")? as usize;
        // A field takes at least 13 bytes.
        if n_fields > MAX_FIELDS || n_fields > r.remaining() / 13 {
            return Err(bad(format!(
                "block {b}: {n_fields} fields do not fit (at most {MAX_FIELDS}, {} bytes remain)",
                r.remaining()
            )));
        }
        let mut fields: Vec<Field> = Vec::with_capacity(n_fields);
        for f in 0..n_fields {
            let field = read_field(&mut r, b, f)?;
            if fields.iter().any(|o| o.name == field.name) {
                return Err(bad(format!(
                    "block {b}: field {:?} appears twice",
                    field.name
                )));
            }
            fields.push(field);
        }
        blocks.push(Block { kind, fields });
    }
    if r.remaining() != 0 {
        return Err(bad(format!(
            "{} unexplained bytes after the last block (offset {})",
            r.remaining(),
            r.pos
        )));
    }
    Ok(blocks)
}

/// The lowest format version that can hold `blocks`: 2 when they describe a
/// text model (meta `input` 1, a `text_vectorizer` or `tfidf` block), else 1.
pub fn version_needed(blocks: &[Block]) -> u32 {
    let text = blocks.iter().any(|b| {
        matches!(b.kind, 6 | 7)
            || (b.kind == 0
                && b.fields
                    .iter()
                    .any(|f| f.name == "input" && f.value != Value::I64(vec![0])))
    });
    if text {
        2
    } else {
        1
    }
}

/// The version in a file image's header (call after [`parse`] succeeded).
pub fn header_version(buf: &[u8]) -> u32 {
    u32::from_le_bytes(buf[8..12].try_into().unwrap())
}

/// Writes blocks as a file image (the inverse of [`parse`]).
///
/// ```
/// use ferrokit_core::model::format::{parse, write, Block, Value};
/// let blocks = vec![Block::new(0).with("n_features", Value::I64(vec![3]))];
/// assert_eq!(parse(&write(&blocks)).unwrap(), blocks);
/// ```
pub fn write(blocks: &[Block]) -> Vec<u8> {
    let mut o = Vec::new();
    o.extend_from_slice(&MAGIC);
    o.extend_from_slice(&version_needed(blocks).to_le_bytes());
    o.extend_from_slice(&0u32.to_le_bytes());
    o.extend_from_slice(&0u64.to_le_bytes()); // file length, patched below
    o.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
    o.extend_from_slice(&0u32.to_le_bytes());
    for b in blocks {
        o.extend_from_slice(&b.kind.to_le_bytes());
        o.extend_from_slice(&(b.fields.len() as u32).to_le_bytes());
        for f in &b.fields {
            o.push(f.name.len() as u8);
            o.extend_from_slice(f.name.as_bytes());
            o.push(f.value.code());
            o.extend_from_slice(&0u16.to_le_bytes());
            let count = match &f.value {
                Value::F64(v) => v.len(),
                Value::F32(v) => v.len(),
                Value::I64(v) => v.len(),
                Value::Str(s) => s.len(),
                Value::StrList(v) => v.len(),
            };
            o.extend_from_slice(&(count as u64).to_le_bytes());
            match &f.value {
                Value::F64(v) => v.iter().for_each(|x| o.extend_from_slice(&x.to_le_bytes())),
                Value::F32(v) => v.iter().for_each(|x| o.extend_from_slice(&x.to_le_bytes())),
                Value::I64(v) => v.iter().for_each(|x| o.extend_from_slice(&x.to_le_bytes())),
                Value::Str(s) => o.extend_from_slice(s.as_bytes()),
                Value::StrList(v) => v.iter().for_each(|s| {
                    o.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    o.extend_from_slice(s.as_bytes());
                }),
            }
        }
    }
    seal(&mut o);
    o
}

/// Sets the length field and appends the checksum of a file image whose last
/// 4 bytes are NOT yet a checksum. Used by [`write`] and by fuzzers that want
/// mutated images to get past the checksum.
pub fn seal(image: &mut Vec<u8>) {
    if image.len() >= 24 {
        let total = (image.len() + 4) as u64;
        image[16..24].copy_from_slice(&total.to_le_bytes());
    }
    let c = crate::checksum::crc32(image);
    image.extend_from_slice(&c.to_le_bytes());
}
