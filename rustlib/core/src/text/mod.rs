//! Text featurization identical to scikit-learn's `HashingVectorizer` and
//! `CountVectorizer` (the counting half of `TfidfVectorizer`).
//!
//! Pieces, each usable from Rust directly:
//! - [`CharTables`]: which characters are word characters / whitespace and how
//!   they lowercase. Exactness needs the tables of the Python whose results
//!   are matched (`ferrokit.text` builds them from `re` and `str.lower`).
//! - [`Analyzer`]: one document to its features (word n-grams of the default
//!   token pattern, `char`, `char_wb`), in scikit-learn's order.
//! - [`Strings`] / [`Input`]: batches of documents as one UTF-8 buffer plus
//!   offsets (Arrow layout), or features already produced elsewhere.
//! - [`hash_documents`]: `HashingVectorizer` (MurmurHash3 x86_32, seed 0).
//! - [`CountBuilder`]: streaming `CountVectorizer` fit; [`FittedVocab`]: the
//!   fitted vocabulary and its `transform`.
//!
//! A fitted vectorizer's whole state is an [`Analyzer`] plus a [`FittedVocab`]
//! (plus scikit-learn's `idf_`, applied by the caller): [`FittedVectorizer`]
//! bundles them with `transform(&[&str]) -> Csr`.
//!
//! Every kernel runs on the library pool and gives bit-identical results for
//! any thread count.
//!
//! ```
//! use ferrokit_core::text::*;
//! use std::sync::Arc;
//! let a = Analyzer::new(Arc::new(CharTables::ascii_std()), AnalyzerKind::Word, (1, 1), true, None).unwrap();
//! let v = FittedVectorizer::fit(a, &["the cat", "the dog"]).unwrap();
//! let x = v.transform(&["a dog and the cat"]).unwrap();
//! assert_eq!((x.indices.clone(), x.data.clone()), (vec![0, 1, 2], vec![1, 1, 1]));
//! ```

mod analyze;
mod csr;
mod hashing;
mod input;
mod murmur;
mod row_sort;
mod short_table;
mod tables;
mod utf8;
mod vocab;
mod words;

pub use analyze::{Analyzer, AnalyzerKind, Scratch};
pub use csr::{convert_into, Csr, CsrBlocks};
pub use hashing::{hash_documents, hash_documents_blocks};
pub use input::{Input, Strings};
pub use murmur::{column_and_sign, murmurhash3_32};
pub use tables::{CharSet, CharTables};
pub use utf8::{pack_utf8, utf8_bound, View};
pub use vocab::{CountBuilder, CountFit, FittedVocab, Vocab};

use crate::Result;

/// Packs strings into one buffer plus offsets.
pub fn pack(docs: &[&str]) -> (Vec<u8>, Vec<u64>) {
    let mut buf = Vec::with_capacity(docs.iter().map(|d| d.len()).sum());
    let mut off = Vec::with_capacity(docs.len() + 1);
    off.push(0);
    for d in docs {
        buf.extend_from_slice(d.as_bytes());
        off.push(buf.len() as u64);
    }
    (buf, off)
}

/// A fitted count vectorizer: analyzer + vocabulary.
#[derive(Debug, Clone)]
pub struct FittedVectorizer {
    /// How documents become features.
    pub analyzer: Analyzer,
    /// Which features are columns.
    pub vocabulary: FittedVocab,
}

impl FittedVectorizer {
    /// `CountVectorizer(...).fit(docs)` with default `min_df`/`max_df`.
    pub fn fit(analyzer: Analyzer, docs: &[&str]) -> Result<Self> {
        let (buf, off) = pack(docs);
        let input = Input::Text(Strings::new(&buf, &off)?);
        let mut b = CountBuilder::new();
        b.add(&input, Some(&analyzer))?;
        let fit = b.finish(f64::INFINITY, 1.0, true);
        Ok(FittedVectorizer {
            analyzer,
            vocabulary: fit.vocabulary,
        })
    }

    /// Counts of the vocabulary's terms in `docs` (scikit-learn's `transform`).
    pub fn transform(&self, docs: &[&str]) -> Result<Csr<i32>> {
        let (buf, off) = pack(docs);
        let input = Input::Text(Strings::new(&buf, &off)?);
        self.vocabulary.transform(&input, Some(&self.analyzer))
    }
}
