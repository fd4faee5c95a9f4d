//! Batches of documents in Arrow layout: one UTF-8 buffer plus `n + 1` offsets.

use crate::{Error, Result};

/// `n` byte strings: string `i` is `buf[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, Copy)]
pub struct Strings<'a> {
    buf: &'a [u8],
    offsets: &'a [u64],
}

impl<'a> Strings<'a> {
    /// Checks the layout: `offsets` non-empty, non-decreasing and within `buf`
    /// (an empty `offsets` is accepted as zero strings).
    ///
    /// ```
    /// use ferrokit_core::text::Strings;
    /// let s = Strings::new(b"abcd", &[0, 1, 4]).unwrap();
    /// assert_eq!((s.len(), s.get(1)), (2, &b"bcd"[..]));
    /// ```
    pub fn new(buf: &'a [u8], offsets: &'a [u64]) -> Result<Self> {
        if let Some(w) = offsets.windows(2).position(|w| w[0] > w[1]) {
            return Err(Error::InvalidArgument(format!(
                "offsets must be non-decreasing, but offsets[{}] > offsets[{}]",
                w,
                w + 1
            )));
        }
        if let Some(&last) = offsets.last() {
            if last > buf.len() as u64 {
                return Err(Error::LengthMismatch(format!(
                    "the last offset {last} is beyond the buffer of {} bytes",
                    buf.len()
                )));
            }
        }
        Ok(Strings { buf, offsets })
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no strings.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of string `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        &self.buf[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// String `i` as `&str`, or an error naming it if it is not UTF-8.
    pub fn get_str(&self, i: usize) -> Result<&'a str> {
        std::str::from_utf8(self.get(i))
            .map_err(|e| Error::InvalidArgument(format!("document {i} is not valid UTF-8 ({e})")))
    }

    /// Total bytes of the strings.
    pub fn total_bytes(&self) -> u64 {
        match (self.offsets.first(), self.offsets.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }
}

/// Documents to vectorize: raw text (analyzed in Rust) or features already
/// produced elsewhere (e.g. by a Python tokenizer), grouped per document.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// One string per document, UTF-8.
    Text(Strings<'a>),
    /// Document `d` has the features `features[doc_ptr[d]..doc_ptr[d + 1]]`
    /// (any bytes; they are counted or hashed as given).
    Features {
        /// Every feature of every document, in order.
        features: Strings<'a>,
        /// `n_docs + 1` non-decreasing positions into `features`.
        doc_ptr: &'a [u64],
    },
}

impl<'a> Input<'a> {
    /// Checks `doc_ptr` of a features input.
    pub fn features(features: Strings<'a>, doc_ptr: &'a [u64]) -> Result<Self> {
        if doc_ptr.windows(2).any(|w| w[0] > w[1])
            || doc_ptr.last().is_some_and(|&l| l > features.len() as u64)
        {
            return Err(Error::InvalidArgument(
                "doc_ptr must be non-decreasing and within the features".into(),
            ));
        }
        Ok(Input::Features { features, doc_ptr })
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        match self {
            Input::Text(s) => s.len(),
            Input::Features { doc_ptr, .. } => doc_ptr.len().saturating_sub(1),
        }
    }

    /// True when there are no documents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate work of documents `a..b` (bytes), for splitting.
    pub(crate) fn weight(&self, a: usize, b: usize) -> u64 {
        match self {
            Input::Text(s) => s.offsets[b] - s.offsets[a],
            Input::Features { features, doc_ptr } => {
                let (fa, fb) = (doc_ptr[a] as usize, doc_ptr[b] as usize);
                features.offsets[fb] - features.offsets[fa] + (fb - fa) as u64
            }
        }
    }
}

/// Splits `0..n` into contiguous ranges of roughly equal `weight`, at least
/// `per_thread` ranges per thread (more ranges, better balance). The results
/// of every kernel do not depend on how documents are split.
pub(crate) fn split(input: &Input, parts: usize) -> Vec<(usize, usize)> {
    let n = input.len();
    if n == 0 {
        return Vec::new();
    }
    let parts = parts.clamp(1, n);
    let total = input.weight(0, n).max(1);
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for p in 1..=parts {
        let target = total * p as u64 / parts as u64;
        let mut end = start + 1;
        if p == parts {
            end = n;
        } else {
            // Binary search for the first end with weight(0, end) >= target.
            let (mut lo, mut hi) = (start + 1, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if input.weight(0, mid) >= target {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            end = end.max(lo).min(n);
        }
        if start < end {
            out.push((start, end));
        }
        start = end;
        if start >= n {
            break;
        }
    }
    out
}
