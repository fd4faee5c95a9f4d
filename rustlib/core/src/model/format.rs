//! The container of a model file (`docs/model_format.md`): header, blocks of
//! named, typed fields, CRC-32 trailer. This module only parses and writes the
//! container; what the blocks mean is decided in [`super::build`].
//!
//! The reader never trusts the bytes: every count is checked against the bytes
//! that are actually left before anything is allocated, so a short file can
//! never make it allocate more than a small multiple of its own size.

use std::io::Read;

use super::stream::Stream;
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

fn read_field<R: Read>(r: &mut Stream<R>, b: usize, f: usize) -> Result<Field> {
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
        1 => Value::F64(r.array(count, 8, &what, |c| {
            f64::from_le_bytes(c.try_into().unwrap())
        })?),
        2 => Value::F32(r.array(count, 4, &what, |c| {
            f32::from_le_bytes(c.try_into().unwrap())
        })?),
        3 => Value::I64(r.array(count, 8, &what, |c| {
            i64::from_le_bytes(c.try_into().unwrap())
        })?),
        4 => {
            let len = usize::try_from(count).unwrap_or(usize::MAX);
            Value::Str(r.string(len, MAX_STRING_BYTES, &what)?)
        }
        5 => {
            // Each string costs at least its 4-byte length: check before allocating.
            if count > r.remaining() / 4 {
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

/// Parses a whole file image into its blocks, checking magic, version,
/// length and checksum. Errors: `InvalidFormat`, `UnsupportedVersion`.
pub fn parse(buf: &[u8]) -> Result<Vec<Block>> {
    parse_from(buf, buf.len() as u64).map(|(blocks, _)| blocks)
}

/// Parses a model file of `len` bytes from `src` in one pass, in chunks:
/// arrays are decoded straight into their final allocation (each count
/// checked against the bytes left before it is allocated) while a running
/// CRC-32 covers every byte; the checksum is compared at the end, and after
/// any parse error the rest of the file is checksummed too, so a corrupted
/// file is reported as such. Returns the blocks and the header's version.
/// Errors: `InvalidFormat`, `UnsupportedVersion`, `Io` (a failing read).
pub fn parse_from<R: Read>(src: R, len: u64) -> Result<(Vec<Block>, u32)> {
    let mut r = Stream::new(src, len, PREFIX);
    let head = r.head(len.min(12) as usize)?;
    check_magic_version(&head)?;
    if len < (HEADER_LEN + 4) as u64 {
        return Err(bad(format!(
            "truncated: {len} bytes, a model file has at least {}",
            HEADER_LEN + 4
        )));
    }
    let version = u32::from_le_bytes(head[8..12].try_into().unwrap());
    let flags = r.u32("flags")?;
    if flags != 0 {
        return Err(bad(format!("flags are {flags:#x}, expected 0")));
    }
    let total = r.u64("file length")?;
    if total != len {
        return Err(bad(format!(
            "{}: the header says {total} bytes, the data has {len}",
            if total > len {
                "truncated"
            } else {
                "trailing bytes or a corrupted length"
            },
        )));
    }
    let mismatch = |(stored, actual): (u32, u32)| {
        bad(format!(
            "checksum mismatch (stored {stored:#010x}, computed {actual:#010x}): the file is corrupted"
        ))
    };
    match parse_body(&mut r) {
        Ok(blocks) => match r.finish() {
            Ok(Ok(())) => Ok((blocks, version)),
            Ok(Err(m)) => Err(mismatch(m)),
            Err(e) => Err(r.corrupted().map(mismatch).unwrap_or(e)),
        },
        Err(e @ Error::Io(_)) => Err(e),
        Err(e) => Err(r.corrupted().map(mismatch).unwrap_or(e)),
    }
}

fn parse_body<R: Read>(r: &mut Stream<R>) -> Result<Vec<Block>> {
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
    let mut blocks = Vec::with_capacity(n_blocks);
    for b in 0..n_blocks {
        let kind = r.u32("block kind")?;
        let n_fields = r.u32("field count")? as usize;
        // A field takes at least 13 bytes.
        if n_fields > MAX_FIELDS || n_fields as u64 > r.remaining() / 13 {
            return Err(bad(format!(
                "block {b}: {n_fields} fields do not fit (at most {MAX_FIELDS}, {} bytes remain)",
                r.remaining()
            )));
        }
        let mut fields: Vec<Field> = Vec::with_capacity(n_fields);
        for f in 0..n_fields {
            let field = read_field(r, b, f)?;
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

/// A field's values, borrowed for writing, possibly in another element type
/// than they are held in (the exact inverse of what the loader converted).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValRef<'a> {
    F64(&'a [f64]),
    /// float64 values that were read from a float32 field (exact).
    F64AsF32(&'a [f64]),
    F32(&'a [f32]),
    I64(&'a [i64]),
    /// Indices that were read from an int64 field.
    UsizeAsI64(&'a [usize]),
    Str(&'a str),
    StrList(&'a [String]),
}

impl ValRef<'_> {
    fn code(&self) -> u8 {
        match self {
            ValRef::F64(_) => 1,
            ValRef::F64AsF32(_) | ValRef::F32(_) => 2,
            ValRef::I64(_) | ValRef::UsizeAsI64(_) => 3,
            ValRef::Str(_) => 4,
            ValRef::StrList(_) => 5,
        }
    }
    fn count(&self) -> usize {
        match self {
            ValRef::F64(v) | ValRef::F64AsF32(v) => v.len(),
            ValRef::F32(v) => v.len(),
            ValRef::I64(v) => v.len(),
            ValRef::UsizeAsI64(v) => v.len(),
            ValRef::Str(s) => s.len(),
            ValRef::StrList(v) => v.len(),
        }
    }
    fn payload_len(&self) -> usize {
        match self {
            ValRef::F64(v) | ValRef::F64AsF32(v) => v.len() * if self.code() == 2 { 4 } else { 8 },
            ValRef::F32(v) => v.len() * 4,
            ValRef::I64(v) => v.len() * 8,
            ValRef::UsizeAsI64(v) => v.len() * 8,
            ValRef::Str(s) => s.len(),
            ValRef::StrList(v) => v.iter().map(|s| 4 + s.len()).sum(),
        }
    }
    fn put(&self, o: &mut Cursor<'_>) {
        match self {
            ValRef::F64(v) => o.each(v, 8, |x, b| b.copy_from_slice(&x.to_le_bytes())),
            ValRef::F64AsF32(v) => {
                o.each(v, 4, |&x, b| b.copy_from_slice(&(x as f32).to_le_bytes()))
            }
            ValRef::F32(v) => o.each(v, 4, |x, b| b.copy_from_slice(&x.to_le_bytes())),
            ValRef::I64(v) => o.each(v, 8, |x, b| b.copy_from_slice(&x.to_le_bytes())),
            ValRef::UsizeAsI64(v) => {
                o.each(v, 8, |&x, b| b.copy_from_slice(&(x as i64).to_le_bytes()))
            }
            ValRef::Str(s) => o.put(s.as_bytes()),
            ValRef::StrList(v) => v.iter().for_each(|s| {
                o.put(&(s.len() as u32).to_le_bytes());
                o.put(s.as_bytes());
            }),
        }
    }
}

/// Writes into a buffer of exactly the image's length ([`image_len`]).
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, b: &[u8]) {
        self.buf[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }
    fn each<T>(&mut self, v: &[T], size: usize, f: impl Fn(&T, &mut [u8])) {
        let dst = &mut self.buf[self.at..self.at + v.len() * size];
        for (x, b) in v.iter().zip(dst.chunks_exact_mut(size)) {
            f(x, b);
        }
        self.at += v.len() * size;
    }
}

impl Value {
    pub(crate) fn as_ref(&self) -> ValRef<'_> {
        match self {
            Value::F64(v) => ValRef::F64(v),
            Value::F32(v) => ValRef::F32(v),
            Value::I64(v) => ValRef::I64(v),
            Value::Str(s) => ValRef::Str(s),
            Value::StrList(v) => ValRef::StrList(v),
        }
    }
}

/// One block to write: its kind and its fields in file order.
pub(crate) type BlockRef<'a> = (u32, Vec<(&'a str, ValRef<'a>)>);

/// The length of the file image [`write_refs`] makes of `blocks`.
pub(crate) fn image_len(blocks: &[BlockRef<'_>]) -> usize {
    let body: usize = blocks
        .iter()
        .map(|(_, f)| {
            8 + f
                .iter()
                .map(|(n, v)| 12 + n.len() + v.payload_len())
                .sum::<usize>()
        })
        .sum();
    HEADER_LEN + body + 4
}

/// Writes blocks as a file image with the given header version.
pub(crate) fn write_refs(version: u32, blocks: &[BlockRef<'_>]) -> Vec<u8> {
    let mut o = vec![0u8; image_len(blocks)];
    write_refs_into(version, blocks, &mut o);
    o
}

/// Writes the image of `blocks` into `out`, which must hold exactly
/// [`image_len`] bytes (the caller's buffer: no intermediate copy).
pub(crate) fn write_refs_into(version: u32, blocks: &[BlockRef<'_>], out: &mut [u8]) {
    assert_eq!(
        out.len(),
        image_len(blocks),
        "write_refs_into: wrong buffer size"
    );
    let total = out.len() as u64;
    let mut o = Cursor { buf: out, at: 0 };
    o.put(&MAGIC);
    o.put(&version.to_le_bytes());
    o.put(&0u32.to_le_bytes());
    o.put(&total.to_le_bytes());
    o.put(&(blocks.len() as u32).to_le_bytes());
    o.put(&0u32.to_le_bytes());
    for (kind, fields) in blocks {
        o.put(&kind.to_le_bytes());
        o.put(&(fields.len() as u32).to_le_bytes());
        for (name, v) in fields {
            o.put(&[name.len() as u8]);
            o.put(name.as_bytes());
            o.put(&[v.code()]);
            o.put(&0u16.to_le_bytes());
            o.put(&(v.count() as u64).to_le_bytes());
            v.put(&mut o);
        }
    }
    let end = o.at;
    let c = crate::checksum::crc32(&o.buf[..end]);
    o.put(&c.to_le_bytes());
}

/// Writes blocks as a file image (the inverse of [`parse`]).
///
/// ```
/// use ferrokit_core::model::format::{parse, write, Block, Value};
/// let blocks = vec![Block::new(0).with("n_features", Value::I64(vec![3]))];
/// assert_eq!(parse(&write(&blocks)).unwrap(), blocks);
/// ```
pub fn write(blocks: &[Block]) -> Vec<u8> {
    let refs: Vec<BlockRef<'_>> = blocks
        .iter()
        .map(|b| {
            (
                b.kind,
                b.fields
                    .iter()
                    .map(|f| (&f.name[..], f.value.as_ref()))
                    .collect(),
            )
        })
        .collect();
    write_refs(version_needed(blocks), &refs)
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
