//! Text vectorizers (scikit-learn's `HashingVectorizer` / `CountVectorizer`)
//! over the C ABI.
//!
//! Strings cross as one UTF-8 buffer plus `n + 1` offsets (Arrow layout):
//! `(buf, buf_len, offsets, n_offsets)` with string `i` at
//! `buf[offsets[i] .. offsets[i + 1]]`; `n_offsets == 0` means no strings.
//!
//! Variable-size outputs use one pattern: the call returns an opaque result
//! handle (`fk_csr`, `fk_vocabulary`); its `*_shape`/`*_size` accessor gives
//! the sizes, the other accessors copy into caller buffers of exactly those
//! sizes, and `*_free` (NULL-safe) releases it. Result handles are immutable:
//! any thread may read one; free it once, when no call is using it.

use crate::boundary::{guard, guard_value, FfiError};
use crate::slices::{in_slice, out_ref, out_slice, Arg};
use crate::status::FkStatus;
use ferrokit_core::text::{
    convert_into, hash_documents_blocks, pack_utf8, Analyzer, AnalyzerKind, CharTables,
    CountBuilder, Csr, CsrBlocks, FittedVocab, Input, Strings, View,
};
use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// `analyzer='word'` with the default token pattern `(?u)\b\w\w+\b`.
pub const FK_TEXT_WORD: i32 = 0;
/// `analyzer='char'`.
pub const FK_TEXT_CHAR: i32 = 1;
/// `analyzer='char_wb'`.
pub const FK_TEXT_CHAR_WB: i32 = 2;

/// Character tables (opaque): word characters, whitespace, lowercase mapping.
/// Immutable and thread-safe. Create with `fk_text_tables_new` or
/// `fk_text_tables_default`, release with `fk_text_tables_free`.
#[allow(non_camel_case_types)]
pub struct fk_text_tables {
    inner: Arc<CharTables>,
}

/// An analyzer (opaque): how a document becomes features. Immutable and
/// thread-safe. Create with `fk_text_analyzer_new`, release with `fk_text_analyzer_free`.
#[allow(non_camel_case_types)]
pub struct fk_text_analyzer {
    inner: Analyzer,
}

/// A sparse CSR result (opaque): read with `fk_csr_shape` and the
/// `fk_csr_indptr_*` / `fk_csr_indices_*` / `fk_csr_data_*` accessors, release
/// with `fk_csr_free`. Immutable; thread-safe to read.
#[allow(non_camel_case_types)]
pub struct fk_csr {
    /// The matrix, as the row blocks a kernel produced (read out in parallel).
    inner: CsrBlocks<i32>,
    /// Float values (a model's `transform`); the blocks hold no data then.
    float: Option<Vec<f64>>,
}

impl fk_csr {
    fn blocks(inner: CsrBlocks<i32>) -> Self {
        fk_csr { inner, float: None }
    }

    /// A result of float values (the structure kept in an int matrix without data).
    pub(crate) fn floats(m: Csr<f64>) -> Self {
        let Csr {
            n_rows,
            n_cols,
            indptr,
            indices,
            data,
        } = m;
        fk_csr {
            inner: CsrBlocks::one(Csr {
                n_rows,
                n_cols,
                indptr,
                indices,
                data: Vec::new(),
            }),
            float: Some(data),
        }
    }
}

/// A float value as an integer of type `T` when it is one exactly.
fn integral<T: TryFrom<i64>>(v: f64) -> Option<T> {
    if v.fract() == 0.0 && v.abs() < 9.2e18 {
        T::try_from(v as i64).ok()
    } else {
        None
    }
}

/// A vocabulary result (opaque): terms in first-occurrence order and their
/// columns. Read with `fk_vocabulary_size`, `fk_vocabulary_terms` and
/// `fk_vocabulary_ids_i64`, release with `fk_vocabulary_free`.
#[allow(non_camel_case_types)]
pub struct fk_vocabulary {
    buf: Vec<u8>,
    offsets: Vec<u64>,
    ids: Vec<i64>,
}

/// A count vectorizer (opaque): a streaming fit (`fk_count_vectorizer_fit_add*`
/// then `fk_count_vectorizer_fit_finish`) or a given vocabulary
/// (`fk_count_vectorizer_set_vocabulary`), then `fk_count_vectorizer_transform*`.
/// Thread-safe: an internal lock serializes calls on one handle (each call
/// itself runs on the library pool). Free with `fk_count_vectorizer_free`.
#[allow(non_camel_case_types)]
pub struct fk_count_vectorizer {
    inner: Mutex<CountState>,
}

struct CountState {
    analyzer: Option<Analyzer>,
    builder: CountBuilder,
    fitted: Option<FittedVocab>,
}

fn err(status: FkStatus, msg: String) -> FfiError {
    FfiError::new(status, msg)
}

fn prefix(name: &'static str) -> impl Fn(ferrokit_core::Error) -> FfiError {
    move |e| {
        let mut f = FfiError::from(e);
        f.message = format!("{name}: {}", f.message);
        f
    }
}

fn flag(name: &'static str, arg: &str, v: i32) -> Result<bool, FfiError> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(err(
            FkStatus::FK_ERR_INVALID_ARGUMENT,
            format!("{name}: {arg} is {v}, expected 0 or 1"),
        )),
    }
}

/// # Safety
/// `p` must be NULL or point to a live `T`.
unsafe fn live<'a, T>(
    name: &'static str,
    arg: &'static str,
    p: *const T,
) -> Result<&'a T, FfiError> {
    // SAFETY: a live handle is one readable T (contract); NULL is an error.
    let s = unsafe { in_slice(p, 1, Arg(name, arg))? };
    Ok(&s[0])
}

/// # Safety
/// `out` must be NULL or writable.
pub(crate) unsafe fn put<T>(name: &'static str, out: *mut *mut T, v: T) -> Result<(), FfiError> {
    // SAFETY: forwarded contract.
    let out = unsafe { out_ref(out, Arg(name, "out"))? };
    *out = Box::into_raw(Box::new(v));
    Ok(())
}

/// # Safety
/// `p` must be NULL or a live handle made by `Box::into_raw`, freed once.
unsafe fn free<T>(p: *mut T) {
    guard_value((), || {
        if !p.is_null() {
            // SAFETY: made by Box::into_raw in `put`, freed once (contract).
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// # Safety
/// The pointers must satisfy the Arrow-layout contract of the exports.
unsafe fn strings<'a>(
    name: &'static str,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
) -> Result<Strings<'a>, FfiError> {
    // SAFETY: forwarded contract.
    let (b, o) = unsafe {
        (
            in_slice(buf, buf_len, Arg(name, "buf"))?,
            in_slice(offsets, n_offsets, Arg(name, "offsets"))?,
        )
    };
    Strings::new(b, o).map_err(prefix(name))
}

/// # Safety
/// As [`strings`], plus `doc_ptr` for `n_doc_ptr` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn features<'a>(
    name: &'static str,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    doc_ptr: *const u64,
    n_doc_ptr: usize,
) -> Result<Input<'a>, FfiError> {
    // SAFETY: forwarded contract.
    let (s, d) = unsafe {
        (
            strings(name, buf, buf_len, offsets, n_offsets)?,
            in_slice(doc_ptr, n_doc_ptr, Arg(name, "doc_ptr"))?,
        )
    };
    Input::features(s, d).map_err(prefix(name))
}

/// # Safety
/// `p`/`n` a readable array of `2 * n` u32 (inclusive range pairs).
unsafe fn ranges(
    name: &'static str,
    arg: &'static str,
    p: *const u32,
    n: usize,
) -> Result<Vec<(u32, u32)>, FfiError> {
    let len = n.checked_mul(2).ok_or_else(|| {
        err(
            FkStatus::FK_ERR_TOO_LARGE,
            format!("{name}: {arg} count {n} is too large"),
        )
    })?;
    // SAFETY: forwarded contract.
    let s = unsafe { in_slice(p, len, Arg(name, arg))? };
    Ok(s.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

// ------------------------------------------------------------------ tables

/// Builds character tables. `*_ranges` are `n_*` inclusive code point ranges
/// given as `2 * n_*` uint32 (first, last): `word` = Python's `\w`, `space` =
/// `\s`, `case_ignorable` and `cased` (cased and not case-ignorable) for the
/// final sigma rule. The lowercase mapping: code point `lower_cps[i]` becomes
/// the UTF-8 string `i` of (`lower_buf`, `lower_offsets`), for every code
/// point whose lowercase differs (`n_lower_offsets == n_lower_cps + 1`).
/// `ferrokit.text` builds these from the running Python.
///
/// # Safety
/// Every pointer must be readable for the given count (NULL only with count
/// 0); `out` must point to a writable `fk_text_tables *`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_text_tables_new(
    word_ranges: *const u32,
    n_word_ranges: usize,
    space_ranges: *const u32,
    n_space_ranges: usize,
    case_ignorable_ranges: *const u32,
    n_case_ignorable_ranges: usize,
    cased_ranges: *const u32,
    n_cased_ranges: usize,
    lower_cps: *const u32,
    n_lower_cps: usize,
    lower_buf: *const u8,
    lower_buf_len: usize,
    lower_offsets: *const u64,
    n_lower_offsets: usize,
    out: *mut *mut fk_text_tables,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_text_tables_new";
        // SAFETY: forwarded contract.
        let (w, s, ci, ca, cps, low) = unsafe {
            (
                ranges(NAME, "word_ranges", word_ranges, n_word_ranges)?,
                ranges(NAME, "space_ranges", space_ranges, n_space_ranges)?,
                ranges(
                    NAME,
                    "case_ignorable_ranges",
                    case_ignorable_ranges,
                    n_case_ignorable_ranges,
                )?,
                ranges(NAME, "cased_ranges", cased_ranges, n_cased_ranges)?,
                in_slice(lower_cps, n_lower_cps, Arg(NAME, "lower_cps"))?,
                strings(
                    NAME,
                    lower_buf,
                    lower_buf_len,
                    lower_offsets,
                    n_lower_offsets,
                )?,
            )
        };
        if low.len() != cps.len() {
            return Err(err(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!(
                    "{NAME}: {} lowercase code points but {} strings",
                    cps.len(),
                    low.len()
                ),
            ));
        }
        let mut lower = Vec::with_capacity(cps.len());
        for (i, &cp) in cps.iter().enumerate() {
            lower.push((cp, low.get_str(i).map_err(prefix(NAME))?.to_string()));
        }
        let t = CharTables::from_parts(&w, &s, &ci, &ca, &lower);
        // SAFETY: forwarded contract.
        unsafe { put(NAME, out, fk_text_tables { inner: Arc::new(t) }) }
    })
}

/// Character tables from Rust's Unicode data, for C callers without a Python:
/// exact on ASCII text, an approximation of Python's `\w` / `str.lower`
/// elsewhere. Free with `fk_text_tables_free`.
///
/// # Safety
/// `out` must point to a writable `fk_text_tables *`.
#[no_mangle]
pub unsafe extern "C" fn fk_text_tables_default(out: *mut *mut fk_text_tables) -> FkStatus {
    guard(|| {
        static DEFAULT: OnceLock<Arc<CharTables>> = OnceLock::new();
        let t = Arc::clone(DEFAULT.get_or_init(|| Arc::new(CharTables::ascii_std())));
        // SAFETY: forwarded contract.
        unsafe { put("fk_text_tables_default", out, fk_text_tables { inner: t }) }
    })
}

/// Frees tables (NULL is ignored). Analyzers made from them stay valid.
///
/// # Safety
/// `tables` must be NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn fk_text_tables_free(tables: *mut fk_text_tables) {
    // SAFETY: forwarded contract.
    unsafe { free(tables) }
}

// ---------------------------------------------------------------- analyzer

/// Creates an analyzer: `kind` is `FK_TEXT_WORD`, `FK_TEXT_CHAR` or
/// `FK_TEXT_CHAR_WB`; n-grams from `min_n` to `max_n` (1 <= min_n <= max_n);
/// `lowercase` 0 or 1; stop words (word analyzer only) as strings
/// (`n_stop_offsets == 0`: none). Errors: `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `tables` a live handle; the stop-word arrays readable for their counts;
/// `out` must point to a writable `fk_text_analyzer *`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_text_analyzer_new(
    tables: *const fk_text_tables,
    kind: i32,
    min_n: usize,
    max_n: usize,
    lowercase: i32,
    stop_buf: *const u8,
    stop_buf_len: usize,
    stop_offsets: *const u64,
    n_stop_offsets: usize,
    out: *mut *mut fk_text_analyzer,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_text_analyzer_new";
        // SAFETY: forwarded contract.
        let (t, stop) = unsafe {
            (
                live(NAME, "tables", tables)?,
                strings(NAME, stop_buf, stop_buf_len, stop_offsets, n_stop_offsets)?,
            )
        };
        let kind = match kind {
            FK_TEXT_WORD => AnalyzerKind::Word,
            FK_TEXT_CHAR => AnalyzerKind::Char,
            FK_TEXT_CHAR_WB => AnalyzerKind::CharWb,
            k => {
                return Err(err(
                    FkStatus::FK_ERR_INVALID_ARGUMENT,
                    format!(
                    "{NAME}: kind is {k}, expected FK_TEXT_WORD, FK_TEXT_CHAR or FK_TEXT_CHAR_WB"
                ),
                ))
            }
        };
        let lower = flag(NAME, "lowercase", lowercase)?;
        let stop_words = if n_stop_offsets == 0 {
            None
        } else {
            let mut v = Vec::with_capacity(stop.len());
            for i in 0..stop.len() {
                v.push(stop.get_str(i).map_err(prefix(NAME))?.to_string());
            }
            Some(v)
        };
        let a = Analyzer::new(
            Arc::clone(&t.inner),
            kind,
            (min_n, max_n),
            lower,
            stop_words,
        )
        .map_err(prefix(NAME))?;
        // SAFETY: forwarded contract.
        unsafe { put(NAME, out, fk_text_analyzer { inner: a }) }
    })
}

/// Frees an analyzer (NULL is ignored).
///
/// # Safety
/// `analyzer` must be NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn fk_text_analyzer_free(analyzer: *mut fk_text_analyzer) {
    // SAFETY: forwarded contract.
    unsafe { free(analyzer) }
}

// ----------------------------------------------------------------- hashing

fn check_features(name: &'static str, n_features: usize) -> Result<u32, FfiError> {
    if n_features == 0 || n_features > i32::MAX as usize {
        return Err(err(
            FkStatus::FK_ERR_INVALID_ARGUMENT,
            format!("{name}: n_features is {n_features}, expected 1 to 2**31 - 1"),
        ));
    }
    Ok(n_features as u32)
}

/// Hashes documents (Arrow layout, UTF-8; invalid UTF-8 is
/// `FK_ERR_INVALID_ARGUMENT`) like scikit-learn's `HashingVectorizer` before
/// `binary`/`norm`: MurmurHash3 x86_32 (seed 0) of each feature, column
/// `abs(h) % n_features`, sign of `h` when `alternate_sign` is 1; rows sorted
/// by column, duplicates summed, cancelled entries kept as explicit zeros.
/// The result (`*out`, a `fk_csr`) has int values.
///
/// # Safety
/// `analyzer` a live handle; the arrays readable for their counts; `out`
/// must point to a writable `fk_csr *`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_text_hash(
    analyzer: *const fk_text_analyzer,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    n_features: usize,
    alternate_sign: i32,
    out: *mut *mut fk_csr,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_text_hash";
        // SAFETY: forwarded contract.
        let (a, docs) = unsafe {
            (
                live(NAME, "analyzer", analyzer)?,
                strings(NAME, buf, buf_len, offsets, n_offsets)?,
            )
        };
        let nf = check_features(NAME, n_features)?;
        let alt = flag(NAME, "alternate_sign", alternate_sign)?;
        let m = hash_documents_blocks(&Input::Text(docs), Some(&a.inner), nf, alt)
            .map_err(prefix(NAME))?;
        // SAFETY: forwarded contract.
        unsafe { put(NAME, out, fk_csr::blocks(m)) }
    })
}

/// As `fk_text_hash` for features produced elsewhere: document `d` has the
/// features (strings, any bytes) `doc_ptr[d] .. doc_ptr[d + 1]` of
/// (`buf`, `offsets`); `n_doc_ptr` is the number of documents plus one.
///
/// # Safety
/// The arrays readable for their counts; `out` writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_text_hash_features(
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    doc_ptr: *const u64,
    n_doc_ptr: usize,
    n_features: usize,
    alternate_sign: i32,
    out: *mut *mut fk_csr,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_text_hash_features";
        // SAFETY: forwarded contract.
        let input =
            unsafe { features(NAME, buf, buf_len, offsets, n_offsets, doc_ptr, n_doc_ptr)? };
        let nf = check_features(NAME, n_features)?;
        let alt = flag(NAME, "alternate_sign", alternate_sign)?;
        let m = hash_documents_blocks(&input, None, nf, alt).map_err(prefix(NAME))?;
        // SAFETY: forwarded contract.
        unsafe { put(NAME, out, fk_csr::blocks(m)) }
    })
}

// -------------------------------------------------------------- utf8 pack

/// `fk_text_utf8_pack` string kind: UTF-8 bytes (`lens[i]` bytes, checked).
pub const FK_TEXT_KIND_UTF8: i32 = 0;
/// `fk_text_utf8_pack` string kind: one byte per code point (Latin-1).
pub const FK_TEXT_KIND_LATIN1: i32 = 1;
/// `fk_text_utf8_pack` string kind: one `uint16_t` per code point (UCS-2, no surrogates).
pub const FK_TEXT_KIND_UCS2: i32 = 2;
/// `fk_text_utf8_pack` string kind: one `uint32_t` per code point (UCS-4, no surrogates).
pub const FK_TEXT_KIND_UCS4: i32 = 4;

/// Packs `n` strings given in their stored form into one UTF-8 buffer plus
/// `n + 1` offsets (Arrow layout, the input of the other text exports), on
/// the library pool. String `i` is `lens[i]` code units at `strs[i]` of kind
/// `kinds[i]` (`FK_TEXT_KIND_*`; CPython's `str` storage is Latin-1, UCS-2 or
/// UCS-4). `buf_len` of at most 1, 2, 3, 4 bytes per unit (UTF-8, Latin-1,
/// UCS-2, UCS-4) always suffices. `*used` receives the bytes written.
/// Everything is checked first: a string that is not valid UTF-8 or holds a
/// surrogate is `FK_ERR_INVALID_ARGUMENT` naming it, a short `buf` or
/// `n_offsets != n + 1` is `FK_ERR_LENGTH_MISMATCH`; nothing is written then.
///
/// # Safety
/// `strs`, `lens`, `kinds` readable for `n` elements, each `strs[i]` readable
/// for `lens[i]` units of its kind (aligned to it); `buf` writable for
/// `buf_len` bytes, `offsets` for `n_offsets` elements; `used` writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_text_utf8_pack(
    strs: *const *const c_void,
    lens: *const usize,
    kinds: *const u8,
    n: usize,
    buf: *mut u8,
    buf_len: usize,
    offsets: *mut u64,
    n_offsets: usize,
    used: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_text_utf8_pack";
        // SAFETY: forwarded contract.
        let (ptrs, lens, kinds, buf, offsets, used) = unsafe {
            (
                in_slice(strs, n, Arg(NAME, "strs"))?,
                in_slice(lens, n, Arg(NAME, "lens"))?,
                in_slice(kinds, n, Arg(NAME, "kinds"))?,
                out_slice(buf, buf_len, Arg(NAME, "buf"))?,
                out_slice(offsets, n_offsets, Arg(NAME, "offsets"))?,
                out_ref(used, Arg(NAME, "used"))?,
            )
        };
        let mut views = Vec::with_capacity(n);
        for i in 0..n {
            let (p, l) = (ptrs[i], lens[i]);
            const S: Arg = Arg(NAME, "strs[i]");
            // SAFETY: strs[i] is readable for lens[i] units of kinds[i] (contract);
            // in_slice checks NULL, alignment and size.
            let v = unsafe {
                match kinds[i] as i32 {
                    FK_TEXT_KIND_UTF8 => View::Utf8(in_slice(p as *const u8, l, S)?),
                    FK_TEXT_KIND_LATIN1 => View::Latin1(in_slice(p as *const u8, l, S)?),
                    FK_TEXT_KIND_UCS2 => View::Ucs2(in_slice(p as *const u16, l, S)?),
                    FK_TEXT_KIND_UCS4 => View::Ucs4(in_slice(p as *const u32, l, S)?),
                    k => {
                        return Err(err(
                            FkStatus::FK_ERR_INVALID_ARGUMENT,
                            format!("{NAME}: kinds[{i}] is {k}, expected 0, 1, 2 or 4"),
                        ))
                    }
                }
            };
            views.push(v);
        }
        *used = pack_utf8(&views, buf, offsets).map_err(prefix(NAME))?;
        Ok(())
    })
}

// ---------------------------------------------------------------------- csr

/// The shape and number of stored entries of a CSR result.
///
/// # Safety
/// `csr` a live handle; the outputs writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_shape(
    csr: *const fk_csr,
    n_rows: *mut usize,
    n_cols: *mut usize,
    nnz: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_shape";
        // SAFETY: forwarded contract.
        let (c, r, k, z) = unsafe {
            (
                live(NAME, "csr", csr)?,
                out_ref(n_rows, Arg(NAME, "n_rows"))?,
                out_ref(n_cols, Arg(NAME, "n_cols"))?,
                out_ref(nnz, Arg(NAME, "nnz"))?,
            )
        };
        (*r, *k, *z) = (c.inner.n_rows(), c.inner.n_cols, c.inner.nnz());
        Ok(())
    })
}

/// `FK_ERR_OVERFLOW`: a result value does not fit the caller's output type.
fn overflow(name: &'static str) -> FfiError {
    err(
        FkStatus::FK_ERR_OVERFLOW,
        format!("{name}: a value does not fit the output type"),
    )
}

/// Copies `src` converted into the caller's `out` of exactly `n` elements.
///
/// # Safety
/// `out` writable for `n` elements.
unsafe fn copy_out<S: Copy + Sync, D: Send>(
    name: &'static str,
    src: &[S],
    out: *mut D,
    n: usize,
    conv: impl Fn(S) -> Option<D> + Sync,
) -> Result<(), FfiError> {
    if n != src.len() {
        return Err(err(
            FkStatus::FK_ERR_LENGTH_MISMATCH,
            format!("{name}: out has {n} elements, the result has {}", src.len()),
        ));
    }
    // Every value is checked before the first write: the caller's `out` is
    // written only on success (a check the compiler drops for conversions
    // that cannot fail).
    if !src.iter().all(|&v| conv(v).is_some()) {
        return Err(overflow(name));
    }
    // SAFETY: forwarded contract.
    let o = unsafe { out_slice(out, n, Arg(name, "out"))? };
    if convert_into(src, o, conv) {
        Ok(())
    } else {
        Err(overflow(name))
    }
}

/// Checks that the caller's `out` has exactly `len` elements, then fills it
/// with `fill` (which returns false when a value does not fit the type).
///
/// # Safety
/// `out` writable for `n` elements.
unsafe fn blocks_out<D>(
    name: &'static str,
    out: *mut D,
    n: usize,
    len: usize,
    fill: impl FnOnce(&mut [D]) -> bool,
) -> Result<(), FfiError> {
    if n != len {
        return Err(err(
            FkStatus::FK_ERR_LENGTH_MISMATCH,
            format!("{name}: out has {n} elements, the result has {len}"),
        ));
    }
    // SAFETY: forwarded contract.
    let o = unsafe { out_slice(out, n, Arg(name, "out"))? };
    if fill(o) {
        Ok(())
    } else {
        Err(overflow(name))
    }
}

/// Copies the `n_rows + 1` row pointers as int64 (`n` must equal `n_rows + 1`).
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_indptr_i64(
    csr: *const fk_csr,
    out: *mut i64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_indptr_i64";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        // SAFETY: forwarded contract.
        unsafe {
            blocks_out(NAME, out, n, c.inner.n_rows() + 1, |o| {
                c.inner.indptr_into(o, |v: u64| i64::try_from(v).ok())
            })
        }
    })
}

/// Copies the `n_rows + 1` row pointers as int32 (`FK_ERR_OVERFLOW` if nnz > INT32_MAX).
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_indptr_i32(
    csr: *const fk_csr,
    out: *mut i32,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_indptr_i32";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        // SAFETY: forwarded contract.
        unsafe {
            // Row starts run up to nnz: checked before anything is written.
            if i32::try_from(c.inner.nnz()).is_err() {
                return Err(overflow(NAME));
            }
            blocks_out(NAME, out, n, c.inner.n_rows() + 1, |o| {
                c.inner.indptr_into(o, |v: u64| i32::try_from(v).ok())
            })
        }
    })
}

/// Copies the `nnz` column indices as int32.
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_indices_i32(
    csr: *const fk_csr,
    out: *mut i32,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_indices_i32";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        // SAFETY: forwarded contract.
        unsafe {
            // Column indices are below n_cols; past INT32_MAX columns every
            // index is checked before anything is written.
            let fits = c.inner.n_cols <= 1 << 31
                || c.inner
                    .blocks
                    .iter()
                    .all(|b| b.indices.iter().all(|&v| i32::try_from(v).is_ok()));
            if !fits {
                return Err(overflow(NAME));
            }
            blocks_out(NAME, out, n, c.inner.nnz(), |o| {
                c.inner.indices_into(o, |v: u32| i32::try_from(v).ok())
            })
        }
    })
}

/// Copies the `nnz` column indices as int64.
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_indices_i64(
    csr: *const fk_csr,
    out: *mut i64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_indices_i64";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        // SAFETY: forwarded contract.
        unsafe {
            blocks_out(NAME, out, n, c.inner.nnz(), |o| {
                c.inner.indices_into(o, |v: u32| Some(v as i64))
            })
        }
    })
}

/// Copies the `nnz` values as float64.
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_data_f64(csr: *const fk_csr, out: *mut f64, n: usize) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_data_f64";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        match &c.float {
            // SAFETY: forwarded contract.
            Some(f) => unsafe { copy_out(NAME, f, out, n, Some) },
            // SAFETY: forwarded contract.
            None => unsafe {
                blocks_out(NAME, out, n, c.inner.nnz(), |o| {
                    c.inner.data_into(o, |v: i32| Some(v as f64))
                })
            },
        }
    })
}

/// Copies the `nnz` values as float32 (exact for counts below 2**24).
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_data_f32(csr: *const fk_csr, out: *mut f32, n: usize) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_data_f32";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        match &c.float {
            // SAFETY: forwarded contract.
            Some(f) => unsafe { copy_out(NAME, f, out, n, |v: f64| Some(v as f32)) },
            // SAFETY: forwarded contract.
            None => unsafe {
                blocks_out(NAME, out, n, c.inner.nnz(), |o| {
                    c.inner.data_into(o, |v: i32| Some(v as f32))
                })
            },
        }
    })
}

/// Copies the `nnz` values as int64 (float values, from a model's
/// `transform`, only when every one is an integer: else `FK_ERR_OVERFLOW`).
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_data_i64(csr: *const fk_csr, out: *mut i64, n: usize) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_data_i64";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        match &c.float {
            // SAFETY: forwarded contract.
            Some(f) => unsafe { copy_out(NAME, f, out, n, integral::<i64>) },
            // SAFETY: forwarded contract.
            None => unsafe {
                blocks_out(NAME, out, n, c.inner.nnz(), |o| {
                    c.inner.data_into(o, |v: i32| Some(v as i64))
                })
            },
        }
    })
}

/// Copies the `nnz` values as int32 (float values only when every one is an
/// int32: else `FK_ERR_OVERFLOW`).
///
/// # Safety
/// `csr` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_data_i32(csr: *const fk_csr, out: *mut i32, n: usize) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_csr_data_i32";
        // SAFETY: forwarded contract.
        let c = unsafe { live(NAME, "csr", csr)? };
        match &c.float {
            // SAFETY: forwarded contract.
            Some(f) => unsafe { copy_out(NAME, f, out, n, integral::<i32>) },
            // SAFETY: forwarded contract.
            None => unsafe {
                blocks_out(NAME, out, n, c.inner.nnz(), |o| c.inner.data_into(o, Some))
            },
        }
    })
}

/// Frees a CSR result (NULL is ignored).
///
/// # Safety
/// `csr` must be NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn fk_csr_free(csr: *mut fk_csr) {
    // SAFETY: forwarded contract.
    unsafe { free(csr) }
}

// -------------------------------------------------------- count vectorizer

fn lock(cv: &fk_count_vectorizer) -> MutexGuard<'_, CountState> {
    // No call leaves the state half-updated on panic in a way that matters:
    // a later fit starts over, so a poisoned lock stays usable.
    cv.inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// Creates a count vectorizer using `analyzer` (copied; NULL: only the
/// `*_features` calls are allowed).
///
/// # Safety
/// `analyzer` NULL or a live handle; `out` must point to a writable `fk_count_vectorizer *`.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_new(
    analyzer: *const fk_text_analyzer,
    out: *mut *mut fk_count_vectorizer,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_new";
        let a = if analyzer.is_null() {
            None
        } else {
            // SAFETY: forwarded contract.
            Some(unsafe { live(NAME, "analyzer", analyzer)? }.inner.clone())
        };
        let st = CountState {
            analyzer: a,
            builder: CountBuilder::new(),
            fitted: None,
        };
        // SAFETY: forwarded contract.
        unsafe {
            put(
                NAME,
                out,
                fk_count_vectorizer {
                    inner: Mutex::new(st),
                },
            )
        }
    })
}

fn need_analyzer(name: &'static str, st: &CountState) -> Result<(), FfiError> {
    if st.analyzer.is_none() {
        return Err(err(
            FkStatus::FK_ERR_INVALID_STATE,
            format!("{name}: this vectorizer has no analyzer (use the *_features calls)"),
        ));
    }
    Ok(())
}

/// Counts a batch of documents into the fit in progress (a fit may take any
/// number of batches). On error the batch is not added... except rows of
/// earlier batches, which stay.
///
/// # Safety
/// `cv` a live handle; the arrays readable for their counts.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_fit_add(
    cv: *const fk_count_vectorizer,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_fit_add";
        // SAFETY: forwarded contract.
        let (cv, docs) = unsafe {
            (
                live(NAME, "cv", cv)?,
                strings(NAME, buf, buf_len, offsets, n_offsets)?,
            )
        };
        let mut st = lock(cv);
        need_analyzer(NAME, &st)?;
        let st = &mut *st;
        st.builder
            .add(&Input::Text(docs), st.analyzer.as_ref())
            .map_err(prefix(NAME))
    })
}

/// As `fk_count_vectorizer_fit_add` for features produced elsewhere (see
/// `fk_text_hash_features` for the layout).
///
/// # Safety
/// `cv` a live handle; the arrays readable for their counts.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_count_vectorizer_fit_add_features(
    cv: *const fk_count_vectorizer,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    doc_ptr: *const u64,
    n_doc_ptr: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_fit_add_features";
        // SAFETY: forwarded contract.
        let (cv, input) = unsafe {
            (
                live(NAME, "cv", cv)?,
                features(NAME, buf, buf_len, offsets, n_offsets, doc_ptr, n_doc_ptr)?,
            )
        };
        let mut st = lock(cv);
        st.builder.add(&input, None).map_err(prefix(NAME))
    })
}

/// The documents and distinct terms of the fit in progress.
///
/// # Safety
/// `cv` a live handle; outputs writable.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_fit_size(
    cv: *const fk_count_vectorizer,
    n_docs: *mut usize,
    n_terms: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_fit_size";
        // SAFETY: forwarded contract.
        let (cv, d, t) = unsafe {
            (
                live(NAME, "cv", cv)?,
                out_ref(n_docs, Arg(NAME, "n_docs"))?,
                out_ref(n_terms, Arg(NAME, "n_terms"))?,
            )
        };
        let st = lock(cv);
        (*d, *t) = (st.builder.n_docs(), st.builder.n_terms());
        Ok(())
    })
}

/// Ends the fit in progress, like scikit-learn's `CountVectorizer.fit_transform`:
/// with `sort_features` 1, terms whose document frequency is outside
/// [`low`, `high`] are dropped and the rest numbered in code point order;
/// with 0, terms keep their first-occurrence numbers (no pruning). Writes the
/// document-term counts to `*out` (rows sorted by first-occurrence number),
/// makes the vocabulary the fitted one and starts a new, empty fit.
///
/// # Safety
/// `cv` a live handle; `out` must point to a writable `fk_csr *`.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_fit_finish(
    cv: *const fk_count_vectorizer,
    high: f64,
    low: f64,
    sort_features: i32,
    out: *mut *mut fk_csr,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_fit_finish";
        // SAFETY: forwarded contract.
        let cv = unsafe { live(NAME, "cv", cv)? };
        let sort = flag(NAME, "sort_features", sort_features)?;
        if high.is_nan() || low.is_nan() {
            return Err(err(
                FkStatus::FK_ERR_NON_FINITE,
                format!("{NAME}: high or low is NaN"),
            ));
        }
        if out.is_null() {
            return Err(err(
                FkStatus::FK_ERR_NULL_POINTER,
                format!("{NAME}: out is NULL"),
            ));
        }
        let mut st = lock(cv);
        let b = std::mem::take(&mut st.builder);
        let fit = b.finish(high, low, sort);
        st.fitted = Some(fit.vocabulary);
        // SAFETY: forwarded contract (checked non-NULL above).
        unsafe { put(NAME, out, fk_csr::blocks(fit.matrix)) }
    })
}

/// Sets the fitted vocabulary: term `i` (strings, Arrow layout) is column
/// `ids[i]` (`0 <= ids[i] < n_cols`, terms distinct; `FK_ERR_INVALID_ARGUMENT`).
///
/// # Safety
/// `cv` a live handle; the arrays readable for their counts.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_count_vectorizer_set_vocabulary(
    cv: *const fk_count_vectorizer,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    ids: *const i64,
    n_ids: usize,
    n_cols: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_set_vocabulary";
        // SAFETY: forwarded contract.
        let (cv, terms, ids) = unsafe {
            (
                live(NAME, "cv", cv)?,
                strings(NAME, buf, buf_len, offsets, n_offsets)?,
                in_slice(ids, n_ids, Arg(NAME, "ids"))?,
            )
        };
        if n_cols > u32::MAX as usize - 1 {
            return Err(err(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                format!("{NAME}: n_cols is too large"),
            ));
        }
        let ids32: Vec<u32> = ids
            .iter()
            .map(|&i| {
                if i < 0 || i as u64 >= n_cols as u64 {
                    u32::MAX
                } else {
                    i as u32
                }
            })
            .collect();
        if let Some(k) = ids32.iter().position(|&i| i == u32::MAX) {
            return Err(err(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                format!("{NAME}: ids[{k}] = {} is not in [0, {n_cols})", ids[k]),
            ));
        }
        let v = FittedVocab::from_terms(&terms, &ids32, n_cols).map_err(prefix(NAME))?;
        lock(cv).fitted = Some(v);
        Ok(())
    })
}

/// # Safety
/// As the exports.
unsafe fn transform_body(
    name: &'static str,
    cv: *const fk_count_vectorizer,
    input: impl FnOnce() -> Result<Input<'static>, FfiError>,
    text: bool,
    out: *mut *mut fk_csr,
) -> Result<(), FfiError> {
    // SAFETY: forwarded contract.
    let cv = unsafe { live(name, "cv", cv)? };
    let input = input()?;
    let st = lock(cv);
    if text {
        need_analyzer(name, &st)?;
    }
    let Some(f) = &st.fitted else {
        return Err(err(
            FkStatus::FK_ERR_INVALID_STATE,
            format!("{name}: the vectorizer is not fitted"),
        ));
    };
    let a = if text { st.analyzer.as_ref() } else { None };
    let m = f.transform_blocks(&input, a).map_err(prefix(name))?;
    // SAFETY: forwarded contract.
    unsafe { put(name, out, fk_csr::blocks(m)) }
}

/// Counts the fitted vocabulary's terms in documents (scikit-learn's
/// `CountVectorizer.transform`: rows sorted by column) into `*out`.
/// `FK_ERR_INVALID_STATE` before a fit or vocabulary.
///
/// # Safety
/// `cv` a live handle; the arrays readable for their counts, unchanged during
/// the call; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_transform(
    cv: *const fk_count_vectorizer,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut *mut fk_csr,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_transform";
        // SAFETY: forwarded contract; the input lives for the whole call.
        unsafe {
            transform_body(
                NAME,
                cv,
                || {
                    Ok(Input::Text(strings(
                        NAME, buf, buf_len, offsets, n_offsets,
                    )?))
                },
                true,
                out,
            )
        }
    })
}

/// As `fk_count_vectorizer_transform` for features produced elsewhere.
///
/// # Safety
/// As `fk_count_vectorizer_transform`, plus `doc_ptr` readable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_count_vectorizer_transform_features(
    cv: *const fk_count_vectorizer,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    doc_ptr: *const u64,
    n_doc_ptr: usize,
    out: *mut *mut fk_csr,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_transform_features";
        // SAFETY: forwarded contract; the input lives for the whole call.
        unsafe {
            transform_body(
                NAME,
                cv,
                || features(NAME, buf, buf_len, offsets, n_offsets, doc_ptr, n_doc_ptr),
                false,
                out,
            )
        }
    })
}

/// The fitted vocabulary as a result handle: terms (kept ones, in order of
/// first occurrence, or in the order given to `set_vocabulary`) and columns.
/// `FK_ERR_INVALID_STATE` before a fit.
///
/// # Safety
/// `cv` a live handle; `out` must point to a writable `fk_vocabulary *`.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_vocabulary(
    cv: *const fk_count_vectorizer,
    out: *mut *mut fk_vocabulary,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_count_vectorizer_vocabulary";
        // SAFETY: forwarded contract.
        let cv = unsafe { live(NAME, "cv", cv)? };
        let st = lock(cv);
        let Some(f) = &st.fitted else {
            return Err(err(
                FkStatus::FK_ERR_INVALID_STATE,
                format!("{NAME}: the vectorizer is not fitted"),
            ));
        };
        let mut v = fk_vocabulary {
            buf: Vec::new(),
            offsets: vec![0],
            ids: Vec::new(),
        };
        for (k, &id) in f.ids.iter().enumerate() {
            if id != u32::MAX {
                v.buf.extend_from_slice(f.vocab.term(k as u32));
                v.offsets.push(v.buf.len() as u64);
                v.ids.push(id as i64);
            }
        }
        // SAFETY: forwarded contract.
        unsafe { put(NAME, out, v) }
    })
}

/// Number of terms and total bytes of a vocabulary result.
///
/// # Safety
/// `vocab` a live handle; outputs writable.
#[no_mangle]
pub unsafe extern "C" fn fk_vocabulary_size(
    vocab: *const fk_vocabulary,
    n_terms: *mut usize,
    n_bytes: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_vocabulary_size";
        // SAFETY: forwarded contract.
        let (v, t, b) = unsafe {
            (
                live(NAME, "vocab", vocab)?,
                out_ref(n_terms, Arg(NAME, "n_terms"))?,
                out_ref(n_bytes, Arg(NAME, "n_bytes"))?,
            )
        };
        (*t, *b) = (v.ids.len(), v.buf.len());
        Ok(())
    })
}

/// Copies the terms: `n_bytes` bytes into `buf` and `n_terms + 1` offsets
/// (exact sizes from `fk_vocabulary_size`, else `FK_ERR_LENGTH_MISMATCH`).
///
/// # Safety
/// `vocab` a live handle; outputs writable for their counts.
#[no_mangle]
pub unsafe extern "C" fn fk_vocabulary_terms(
    vocab: *const fk_vocabulary,
    buf: *mut u8,
    buf_len: usize,
    offsets: *mut u64,
    n_offsets: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_vocabulary_terms";
        // SAFETY: forwarded contract.
        let v = unsafe { live(NAME, "vocab", vocab)? };
        // SAFETY: forwarded contract.
        unsafe {
            copy_out(NAME, &v.buf, buf, buf_len, Some)?;
            copy_out(NAME, &v.offsets, offsets, n_offsets, Some)
        }
    })
}

/// Copies the `n_terms` columns of the terms.
///
/// # Safety
/// `vocab` a live handle; `out` writable for `n` elements.
#[no_mangle]
pub unsafe extern "C" fn fk_vocabulary_ids_i64(
    vocab: *const fk_vocabulary,
    out: *mut i64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_vocabulary_ids_i64";
        // SAFETY: forwarded contract.
        let v = unsafe { live(NAME, "vocab", vocab)? };
        // SAFETY: forwarded contract.
        unsafe { copy_out(NAME, &v.ids, out, n, Some) }
    })
}

/// Frees a vocabulary result (NULL is ignored).
///
/// # Safety
/// `vocab` must be NULL or a live handle, freed once.
#[no_mangle]
pub unsafe extern "C" fn fk_vocabulary_free(vocab: *mut fk_vocabulary) {
    // SAFETY: forwarded contract.
    unsafe { free(vocab) }
}

/// Frees a count vectorizer (NULL is ignored).
///
/// # Safety
/// `cv` must be NULL or a live handle, freed once, with no call using it.
#[no_mangle]
pub unsafe extern "C" fn fk_count_vectorizer_free(cv: *mut fk_count_vectorizer) {
    // SAFETY: forwarded contract.
    unsafe { free(cv) }
}
