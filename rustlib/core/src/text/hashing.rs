//! `HashingVectorizer`: features hashed into columns, summed per document.

use super::analyze::{Analyzer, Scratch};
use super::csr::{Csr, CsrBlocks};
use super::input::{split, Input};
use super::murmur::{murmurhash3_32, Columns};
use crate::{pool, Error, Result};
use rayon::prelude::*;

/// Calls `f` with every feature of document `i` of `input`.
pub(crate) fn doc_features(
    input: &Input,
    analyzer: Option<&Analyzer>,
    i: usize,
    scratch: &mut Scratch,
    f: impl FnMut(&[u8]),
) -> Result<()> {
    match input {
        Input::Text(s) => {
            let a = analyzer
                .ok_or_else(|| Error::InvalidArgument("text input needs an analyzer".into()))?;
            if a.for_each_bytes(s.get(i), scratch, f).is_err() {
                // The document is not UTF-8: `get_str` says where and why.
                s.get_str(i)?;
                return Err(Error::InvalidArgument(format!(
                    "document {i} is not valid UTF-8"
                )));
            }
        }
        Input::Features { features, doc_ptr } => {
            let mut f = f;
            for j in doc_ptr[i] as usize..doc_ptr[i + 1] as usize {
                f(features.get(j));
            }
        }
    }
    Ok(())
}

/// Minimum bytes of input before a call is split across the pool.
pub(crate) const MIN_PARALLEL_BYTES: usize = 1 << 16;

/// Runs `work(a, b)` over contiguous document ranges, on the pool when large
/// enough; results in document order.
pub(crate) fn par_ranges<R: Send>(
    input: &Input,
    work: impl Fn(usize, usize) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let n = input.len();
    let bytes = if n == 0 {
        0
    } else {
        input.weight(0, n) as usize
    };
    pool::run(bytes, MIN_PARALLEL_BYTES, |par| {
        if !par || n < 2 {
            return Ok(vec![work(0, n)?]);
        }
        let ranges = split(input, pool::num_threads() * 8);
        ranges.par_iter().map(|&(a, b)| work(a, b)).collect()
    })
}

/// Hashes the features of every document into `n_features` columns exactly as
/// scikit-learn's `HashingVectorizer` (before `binary`/`norm`): rows sorted by
/// column, duplicates summed, entries whose signs cancel kept as explicit 0.
///
/// ```
/// use ferrokit_core::text::{hash_documents, Analyzer, AnalyzerKind, CharTables, Input, Strings};
/// use std::sync::Arc;
/// let a = Analyzer::new(Arc::new(CharTables::ascii_std()), AnalyzerKind::Word, (1, 1), true, None).unwrap();
/// let docs = Strings::new(b"foo foo bar", &[0, 11]).unwrap();
/// let x = hash_documents(&Input::Text(docs), Some(&a), 16, true).unwrap();
/// assert_eq!((x.n_rows, x.nnz()), (1, 2));
/// ```
pub fn hash_documents(
    input: &Input,
    analyzer: Option<&Analyzer>,
    n_features: u32,
    alternate_sign: bool,
) -> Result<Csr<i32>> {
    Ok(hash_documents_blocks(input, analyzer, n_features, alternate_sign)?.into_csr())
}

/// [`hash_documents`] as the row blocks the pool's tasks produced (no copy
/// to join them: [`CsrBlocks`] is read out in parallel).
pub fn hash_documents_blocks(
    input: &Input,
    analyzer: Option<&Analyzer>,
    n_features: u32,
    alternate_sign: bool,
) -> Result<CsrBlocks<i32>> {
    if n_features == 0 || n_features > i32::MAX as u32 {
        return Err(Error::InvalidArgument(format!(
            "n_features must be in [1, 2**31 - 1], got {n_features}"
        )));
    }
    let cols = Columns::new(n_features);
    let parts = par_ranges(input, |a, b| {
        let mut scratch = Scratch::default();
        // (column << 1) | negative (fits: column < 2**31 - 1): sorting these
        // sorts by column, and each column's sum is its positive count minus
        // its negative count.
        let mut row: Vec<u32> = Vec::new();
        let mut out = Csr::empty(n_features as usize);
        for i in a..b {
            row.clear();
            doc_features(input, analyzer, i, &mut scratch, |f| {
                let h = murmurhash3_32(f, 0);
                let neg = alternate_sign && h < 0;
                row.push((cols.column(h) << 1) | neg as u32);
            })?;
            row.sort_unstable();
            let mut k = 0;
            while k < row.len() {
                let col = row[k] >> 1;
                let mut sum = 0i32;
                while k < row.len() && row[k] >> 1 == col {
                    sum += 1 - 2 * (row[k] & 1) as i32;
                    k += 1;
                }
                out.indices.push(col);
                out.data.push(sum);
            }
            out.indptr.push(out.indices.len() as u64);
            out.n_rows += 1;
        }
        Ok(out)
    })?;
    Ok(CsrBlocks {
        n_cols: n_features as usize,
        blocks: parts,
    })
}
