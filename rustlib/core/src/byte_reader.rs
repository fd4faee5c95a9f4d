//! A bounds-checked little-endian reader over a byte buffer, shared by the
//! file parsers (model files, MLP files). Every read checks the bytes that are
//! left first; errors are `InvalidFormat` messages that start with the
//! parser's prefix (e.g. `"model file"`) and name what was being read and the
//! offset.

use crate::{Error, Result};

pub(crate) struct ByteReader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
    prefix: &'static str,
}

impl<'a> ByteReader<'a> {
    /// A reader of `buf` starting at `pos`; `prefix` starts every error message.
    pub(crate) fn new(buf: &'a [u8], pos: usize, prefix: &'static str) -> Self {
        ByteReader { buf, pos, prefix }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.buf.len() => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(Error::InvalidFormat(format!(
                "{}: truncated: {what} needs {n} bytes at offset {}, only {} remain",
                self.prefix,
                self.pos,
                self.buf.len() - self.pos
            ))),
        }
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses_with_the_prefix() {
        let mut r = ByteReader::new(&[1, 3, 0, 0, 0, b'h', b'i'], 0, "x file");
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u32("c").unwrap(), 3);
        assert_eq!(r.take(2, "s").unwrap(), b"hi");
        let e = r.u64("d").unwrap_err().to_string();
        assert!(
            e.contains("x file: truncated: d needs 8 bytes at offset 7, only 0 remain"),
            "{e}"
        );
        assert_eq!(r.remaining(), 0);
    }
}
