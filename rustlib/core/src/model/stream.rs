//! A bounds-checked little-endian reader over any [`std::io::Read`] of known
//! length, with a running CRC-32: the model file parser reads a file once,
//! in chunks, and decodes every array straight into its final allocation
//! while the chunk is in cache (no whole-file buffer, no second copy).
//!
//! Every read is checked against the bytes the file has left before the
//! checksum (`remaining`), so a count in a short file can never make it
//! allocate more than that. The checksum covers every byte before the last
//! 4; [`Stream::finish`] compares it once the body has been read.

use std::io::Read;

use crate::{Error, Result};

/// Bytes read from the source at a time.
const CHUNK: usize = 1 << 16;

pub(crate) struct Stream<R> {
    src: R,
    buf: Box<[u8]>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    pub(crate) pos: u64,
    /// File offset of the first byte not yet pulled from `src`.
    loaded: u64,
    /// Total file length (checksum included).
    total: u64,
    crc: crc32fast::Hasher,
    prefix: &'static str,
}

impl<R: Read> Stream<R> {
    /// A stream over `src`, a file of `total` bytes; `prefix` starts every
    /// error message.
    pub(crate) fn new(src: R, total: u64, prefix: &'static str) -> Self {
        Stream {
            src,
            buf: vec![0u8; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            pos: 0,
            loaded: 0,
            total,
            crc: crc32fast::Hasher::new(),
            prefix,
        }
    }

    /// Bytes of the body (before the 4-byte checksum) not read yet.
    pub(crate) fn remaining(&self) -> u64 {
        self.total.saturating_sub(4).saturating_sub(self.pos)
    }

    fn truncated(&self, what: &str, n: u64) -> Error {
        Error::InvalidFormat(format!(
            "{}: truncated: {what} needs {n} bytes at offset {}, only {} remain",
            self.prefix,
            self.pos,
            self.remaining()
        ))
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::Io(format!(
            "{}: read failed at offset {}: {e}",
            self.prefix, self.loaded
        ))
    }

    /// Makes at least `n` (≤ CHUNK) bytes available in the buffer, reading
    /// from the source; the checksum is updated on every byte of the body
    /// as it is loaded.
    fn fill(&mut self, n: usize, what: &str) -> Result<()> {
        if self.end - self.start >= n {
            return Ok(());
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        while self.end < n {
            let want = (CHUNK - self.end).min((self.total - self.loaded) as usize);
            if want == 0 {
                return Err(self.truncated(what, n as u64));
            }
            let got = loop {
                match self.src.read(&mut self.buf[self.end..self.end + want]) {
                    Ok(g) => break g,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.io(e)),
                }
            };
            if got == 0 {
                return Err(Error::InvalidFormat(format!(
                    "{}: truncated: the data ends at offset {}, the header says {} bytes",
                    self.prefix, self.loaded, self.total
                )));
            }
            let body = self
                .total
                .saturating_sub(4)
                .saturating_sub(self.loaded)
                .min(got as u64) as usize;
            self.crc.update(&self.buf[self.end..self.end + body]);
            self.loaded += got as u64;
            self.end += got;
        }
        Ok(())
    }

    fn advance(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// The first `n` (≤ 64 KiB) bytes of the file, however short it is
    /// (for the magic and version, checked before the length).
    pub(crate) fn head(&mut self, n: usize) -> Result<Vec<u8>> {
        self.fill(n, "header")?;
        let s = self.start;
        self.advance(n);
        Ok(self.buf[s..s + n].to_vec())
    }

    /// The next `n` (≤ 64 KiB) bytes of the body.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&[u8]> {
        if n as u64 > self.remaining() {
            return Err(self.truncated(what, n as u64));
        }
        self.fill(n, what)?;
        let s = self.start;
        self.advance(n);
        Ok(&self.buf[s..s + n])
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().unwrap()))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }

    /// `count` elements of `size` bytes decoded by `dec`, into one
    /// allocation made only after `count × size` was checked against the
    /// bytes that remain.
    pub(crate) fn array<T>(
        &mut self,
        count: u64,
        size: usize,
        what: &str,
        dec: impl Fn(&[u8]) -> T,
    ) -> Result<Vec<T>> {
        let bytes = count.checked_mul(size as u64).ok_or_else(|| {
            Error::InvalidFormat(format!(
                "{}: {what}: {count} elements overflow",
                self.prefix
            ))
        })?;
        if bytes > self.remaining() {
            return Err(self.truncated(what, bytes));
        }
        // A large array (a k-NN index's rows) is faulted in as huge pages
        // where the OS allows: far fewer first-touch page faults than 4 KiB
        // pages (the load's largest cost after the read itself).
        let mut out = Vec::new();
        crate::simd::mem::reserve_huge(&mut out, count as usize);
        let mut left = count as usize;
        while left > 0 {
            self.fill(size, what)?;
            let k = left.min((self.end - self.start) / size);
            let s = self.start;
            out.extend(self.buf[s..s + k * size].chunks_exact(size).map(&dec));
            self.advance(k * size);
            left -= k;
        }
        Ok(out)
    }

    /// A UTF-8 string of `len` bytes (at most `max`).
    pub(crate) fn string(&mut self, len: usize, max: usize, what: &str) -> Result<String> {
        if len > max {
            return Err(Error::InvalidFormat(format!(
                "{}: {what}: string of {len} bytes, at most {max} allowed",
                self.prefix
            )));
        }
        let at = self.pos;
        let b = self.array(len as u64, 1, what, |c| c[0])?;
        String::from_utf8(b).map_err(|_| {
            Error::InvalidFormat(format!(
                "{}: {what}: not valid UTF-8 (offset {at})",
                self.prefix
            ))
        })
    }

    /// After a parse error: reads what is left of the source (up to the
    /// file length) into the checksum without keeping it, to tell a
    /// corrupted file from a well-formed but invalid one. `Some((stored,
    /// computed))` when the whole file was there and the checksum does not
    /// match; `None` otherwise (then the parse error stands).
    pub(crate) fn corrupted(&mut self) -> Option<(u32, u32)> {
        let mut tail: Vec<u8> = self.buf[self.start..self.end].to_vec();
        while self.loaded < self.total {
            self.start = 0;
            self.end = 0;
            self.fill(1, "the rest of the file").ok()?;
            tail.extend_from_slice(&self.buf[..self.end]);
            if tail.len() > 4 {
                tail.drain(..tail.len() - 4);
            }
        }
        self.start = self.end;
        if tail.len() < 4 || self.total < 4 {
            return None;
        }
        let stored = u32::from_le_bytes(tail[tail.len() - 4..].try_into().unwrap());
        self.check(stored).err()
    }

    /// After the body: checks that exactly the checksum is left and that it
    /// matches; `Err((stored, computed))` inside on a mismatch (the caller
    /// words that error).
    pub(crate) fn finish(&mut self) -> Result<std::result::Result<(), (u32, u32)>> {
        if self.remaining() != 0 {
            return Err(Error::InvalidFormat(format!(
                "{}: {} unexplained bytes after the last block (offset {})",
                self.prefix,
                self.remaining(),
                self.pos
            )));
        }
        self.fill(4, "checksum")?;
        let s = self.start;
        self.advance(4);
        let stored = u32::from_le_bytes(self.buf[s..s + 4].try_into().unwrap());
        Ok(self.check(stored))
    }

    fn check(&self, stored: u32) -> std::result::Result<(), (u32, u32)> {
        let actual = self.crc.clone().finalize();
        if stored == actual {
            Ok(())
        } else {
            Err((stored, actual))
        }
    }
}
