//! The pipeline model handle (`fk_model_*`): a fitted scikit-learn pipeline
//! saved by `ferrokit.export` (format: docs/model_format.md; old MLP files
//! load too), for prediction from C.
//!
//! Thread safety: a model never changes after loading, so every `fk_model_*`
//! call except `fk_model_free` may run concurrently on the same handle from
//! any number of threads. `fk_model_free` must not race with other calls on it.
//!
//! Input `x` is `n_rows x n_features` row-major, float32 or float64 (`_f32` /
//! `_f64`). Outputs go to caller buffers whose lengths are checked and which
//! are written only on success. Each step checks its input like scikit-learn:
//! NaN where the step does not accept it, or infinity, gives `FK_ERR_NON_FINITE`.

use crate::boundary::{guard, FfiError};
use crate::slices::{in_slice, out_ref, out_slice, overlap, Arg, Overlap};
use crate::status::FkStatus;
use ferrokit_core::model::{Labels, Model, ModelFloat, Strings};
use std::ffi::{c_char, CStr};

/// `fk_model_info.input_kind`: rows of numbers (`x` arrays).
pub const FK_MODEL_INPUT_NUMERIC: i32 = 0;
/// `fk_model_info.input_kind`: UTF-8 documents, one per row (`fk_model_*_text*`).
pub const FK_MODEL_INPUT_TEXT: i32 = 1;
/// `fk_model_info.task`: regressor (`fk_model_predict_*`).
pub const FK_MODEL_REGRESSOR: i32 = 0;
/// `fk_model_info.task`: classifier (`fk_model_predict_class_*` gives class indices).
pub const FK_MODEL_CLASSIFIER: i32 = 1;
/// `fk_model_info.task`: multilabel classifier (0/1 per label).
pub const FK_MODEL_MULTILABEL: i32 = 2;
/// `fk_model_info.task`: transformers only (`fk_model_transform_*`).
pub const FK_MODEL_TRANSFORMER: i32 = 3;
/// `fk_model_info.task`: nearest-neighbour index (`fk_model_kneighbors_*`).
pub const FK_MODEL_NEIGHBORS: i32 = 4;

/// A loaded pipeline model (opaque). Created by `fk_model_load` /
/// `fk_model_load_bytes`, released by `fk_model_free`.
///
/// Thread safety: every call except `fk_model_free` may run concurrently on
/// one handle from many threads (the model is immutable after loading).
pub struct FkModel {
    model: Model,
}

/// Facts about a loaded model (filled by `fk_model_get_info`).
#[repr(C)]
pub struct FkModelInfo {
    /// `FK_MODEL_INPUT_NUMERIC` or `FK_MODEL_INPUT_TEXT`.
    pub input_kind: i32,
    /// `FK_MODEL_REGRESSOR`, `_CLASSIFIER`, `_MULTILABEL`, `_TRANSFORMER` or `_NEIGHBORS`.
    pub task: i32,
    /// Columns of x.
    pub n_features: usize,
    /// Values per row of `fk_model_predict_*` (regressor targets) or
    /// `fk_model_predict_class_*` (1 for a classifier, labels of a multilabel model).
    pub n_outputs: usize,
    /// 1 when scikit-learn returns `predict` as a 1-D array.
    pub predict_1d: i32,
    /// Columns of `fk_model_predict_proba_*` (0: not available).
    pub n_proba: usize,
    /// Columns of `fk_model_decision_function_*` (0: not available; 1: binary).
    pub n_decision: usize,
    /// Columns of `fk_model_transform_*` (0: not available).
    pub n_transform: usize,
    /// Default k of `fk_model_kneighbors_*` (0: not available).
    pub n_neighbors: usize,
    /// `FK_LABELS_*` kind of the class labels.
    pub label_kind: i32,
    /// Number of class labels (0 unless a classifier).
    pub n_classes: usize,
    /// Number of feature names (0 when fitted without names, else `n_features`).
    pub n_feature_names: usize,
    /// Number of steps including the final estimator (`fk_model_step_name`).
    pub n_steps: usize,
}

/// # Safety
/// `model` must be NULL or a live handle.
unsafe fn handle<'a>(model: *const FkModel, name: &str) -> Result<&'a Model, FfiError> {
    if model.is_null() {
        return Err(FfiError::new(
            FkStatus::FK_ERR_NULL_POINTER,
            format!("{name}: model is NULL"),
        ));
    }
    // SAFETY: non-null live handle (contract); handles are never mutated.
    Ok(unsafe { &(*model).model })
}

/// Loads a model file into a new handle `*out`. Errors: `FK_ERR_IO` (cannot
/// open/read), `FK_ERR_INVALID_FORMAT` (wrong magic, truncated, corrupted,
/// checksum mismatch, inconsistent), `FK_ERR_UNSUPPORTED_VERSION` (the message
/// names the file's and this library's versions). `*out` is written only on
/// success; free it with `fk_model_free`.
///
/// # Safety
/// `path` must be a NUL-terminated string; `out` must point to a writable `fk_model *`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_load(path: *const c_char, out: *mut *mut FkModel) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_load";
        if path.is_null() {
            return Err(FfiError::new(
                FkStatus::FK_ERR_NULL_POINTER,
                format!("{NAME}: path is NULL"),
            ));
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        let p = unsafe { CStr::from_ptr(path) };
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { out_ref(out, Arg(NAME, "out"))? };
        #[cfg(unix)]
        let path = {
            use std::os::unix::ffi::OsStrExt;
            std::path::PathBuf::from(std::ffi::OsStr::from_bytes(p.to_bytes()))
        };
        #[cfg(not(unix))]
        let path = std::path::PathBuf::from(p.to_str().map_err(|_| {
            FfiError::new(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                format!("{NAME}: path is not UTF-8"),
            )
        })?);
        let model = Model::load(&path)?;
        *out = Box::into_raw(Box::new(FkModel { model }));
        Ok(())
    })
}

/// Loads a model from the `n` bytes of a model file image at `data` (the
/// bytes are not kept). Same errors as `fk_model_load` except `FK_ERR_IO`.
///
/// # Safety
/// `data` must point to `n` readable bytes; `out` to a writable `fk_model *`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_load_bytes(
    data: *const u8,
    n: usize,
    out: *mut *mut FkModel,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_load_bytes";
        // SAFETY: forwarded from this function's contract.
        let (bytes, out) = unsafe {
            (
                in_slice(data, n, Arg(NAME, "data"))?,
                out_ref(out, Arg(NAME, "out"))?,
            )
        };
        let model = Model::from_bytes(bytes)?;
        *out = Box::into_raw(Box::new(FkModel { model }));
        Ok(())
    })
}

/// Writes the model's file image into `buf`: byte-identical to the file it
/// was loaded from (which `fk_model_load_bytes` reads back), rebuilt from the
/// loaded model, which does not keep the file. `*len` receives the image size
/// in bytes. Query the size first with `buf == NULL, cap == 0` (then nothing
/// else is written); a `cap` smaller than the image gives
/// `FK_ERR_LENGTH_MISMATCH` and writes nothing (no partial image). A model
/// never changes, so the size queried stays valid. Thread-safe.
///
/// # Safety
/// `model` must be a live handle; `buf` valid for `cap` bytes (or NULL with
/// `cap == 0`); `len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_save_bytes(
    model: *const FkModel,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_save_bytes";
        // SAFETY: forwarded from this function's contract.
        let (m, b, len) = unsafe {
            (
                handle(model, NAME)?,
                out_slice(buf, cap, Arg(NAME, "buf"))?,
                out_ref(len, Arg(NAME, "len"))?,
            )
        };
        let need = m.saved_len()?;
        if b.is_empty() {
            *len = need;
            return Ok(());
        }
        if b.len() < need {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!("{NAME}: buf holds {cap} bytes, the model image needs {need}"),
            ));
        }
        m.save_into(&mut b[..need])?;
        *len = need;
        Ok(())
    })
}

/// Frees a model handle. NULL is accepted and does nothing. The handle must
/// not be used afterwards, nor freed twice, nor freed while another thread
/// still calls it.
///
/// # Safety
/// `model` must be NULL or a handle from `fk_model_load*` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn fk_model_free(model: *mut FkModel) {
    crate::boundary::guard_value((), || {
        if !model.is_null() {
            // SAFETY: the pointer came from Box::into_raw in fk_model_load* and
            // is freed exactly once (contract).
            drop(unsafe { Box::from_raw(model) });
        }
    })
}

/// Describes the model into `*out`.
///
/// # Safety
/// `model` must be a live handle; `out` must point to a writable `fk_model_info`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_get_info(
    model: *const FkModel,
    out: *mut FkModelInfo,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_get_info";
        // SAFETY: forwarded from this function's contract.
        let (m, out) = unsafe { (handle(model, NAME)?, out_ref(out, Arg(NAME, "out"))?) };
        let i = m.info();
        *out = FkModelInfo {
            input_kind: i.input as i32,
            task: i.task as i32,
            n_features: i.n_features,
            n_outputs: i.n_outputs,
            predict_1d: i.predict_1d as i32,
            n_proba: i.n_proba,
            n_decision: i.n_decision,
            n_transform: i.n_transform,
            n_neighbors: i.n_neighbors,
            label_kind: i.labels.kind() as i32,
            n_classes: i.labels.len(),
            n_feature_names: i.feature_names.len(),
            n_steps: i.steps.len(),
        };
        Ok(())
    })
}

/// Copies the `n` labels of an int- or bool-labelled classifier into `out`
/// (`n == n_classes`; booleans as 0/1). Other kinds: `FK_ERR_INVALID_STATE`.
///
/// # Safety
/// `model` must be a live handle; `out` valid for `n` writes.
#[no_mangle]
pub unsafe extern "C" fn fk_model_classes_i64(
    model: *const FkModel,
    out: *mut i64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_classes_i64";
        // SAFETY: forwarded from this function's contract.
        let (m, o) = unsafe { (handle(model, NAME)?, out_slice(out, n, Arg(NAME, "out"))?) };
        let labels = &m.info().labels;
        check_len(NAME, "out", n, labels.len())?;
        match labels {
            Labels::Int(v) => o.copy_from_slice(v),
            Labels::Bool(v) => o.iter_mut().zip(v).for_each(|(o, &b)| *o = b as i64),
            _ => {
                return Err(FfiError::new(
                    FkStatus::FK_ERR_INVALID_STATE,
                    format!("{NAME}: the labels are not integers or booleans"),
                ))
            }
        }
        Ok(())
    })
}

/// Copies the `n` labels of a float-labelled classifier into `out`.
/// Other kinds: `FK_ERR_INVALID_STATE`.
///
/// # Safety
/// `model` must be a live handle; `out` valid for `n` writes.
#[no_mangle]
pub unsafe extern "C" fn fk_model_classes_f64(
    model: *const FkModel,
    out: *mut f64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_classes_f64";
        // SAFETY: forwarded from this function's contract.
        let (m, o) = unsafe { (handle(model, NAME)?, out_slice(out, n, Arg(NAME, "out"))?) };
        let labels = &m.info().labels;
        check_len(NAME, "out", n, labels.len())?;
        match labels {
            Labels::Float(v) => o.copy_from_slice(v),
            _ => {
                return Err(FfiError::new(
                    FkStatus::FK_ERR_INVALID_STATE,
                    format!("{NAME}: the labels are not floats"),
                ))
            }
        }
        Ok(())
    })
}

fn check_len(name: &str, what: &str, got: usize, want: usize) -> Result<(), FfiError> {
    if got != want {
        return Err(FfiError::new(
            FkStatus::FK_ERR_LENGTH_MISMATCH,
            format!("{name}: {what} has {got} elements, expected {want}"),
        ));
    }
    Ok(())
}

/// Copies `text` snprintf-style into `buf` and its byte length into `*len`.
///
/// # Safety
/// `buf` valid for `cap` bytes (or NULL with cap 0); `len` writable.
unsafe fn copy_text(
    name: &'static str,
    text: &str,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> Result<(), FfiError> {
    // SAFETY: forwarded from the caller's contract.
    let (b, len) = unsafe {
        (
            out_slice(buf.cast::<u8>(), cap, Arg(name, "buf"))?,
            out_ref(len, Arg(name, "len"))?,
        )
    };
    let t = text.as_bytes();
    if !b.is_empty() {
        let k = t.len().min(b.len() - 1);
        b[..k].copy_from_slice(&t[..k]);
        b[k] = 0;
    }
    *len = t.len();
    Ok(())
}

fn index_err(name: &str, what: &str, i: usize, n: usize) -> FfiError {
    FfiError::new(
        FkStatus::FK_ERR_INVALID_ARGUMENT,
        format!("{name}: {what} index {i} out of range (the model has {n})"),
    )
}

/// Class label `i` as UTF-8 text (integers in decimal, floats in shortest
/// round-trip form, booleans as True/False), copied snprintf-style into `buf`
/// (`cap` bytes, always NUL-terminated when `cap > 0`); `*len` receives the
/// full length without the NUL. `buf` may be NULL with `cap == 0` to ask for
/// the length. `i >= n_classes` gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `model` must be a live handle; `buf` valid for `cap` bytes; `len` writable.
#[no_mangle]
pub unsafe extern "C" fn fk_model_class_label(
    model: *const FkModel,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_class_label";
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { handle(model, NAME)? };
        let labels = &m.info().labels;
        let text = labels
            .text(i)
            .ok_or_else(|| index_err(NAME, "label", i, labels.len()))?;
        // SAFETY: forwarded from this function's contract.
        unsafe { copy_text(NAME, &text, buf, cap, len) }
    })
}

/// Feature name `i` (`feature_names_in_` of the fitted pipeline), copied like
/// `fk_model_class_label`. `i >= n_feature_names` gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// As `fk_model_class_label`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_feature_name(
    model: *const FkModel,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_feature_name";
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { handle(model, NAME)? };
        let names = &m.info().feature_names;
        let text = names
            .get(i)
            .ok_or_else(|| index_err(NAME, "feature", i, names.len()))?;
        // SAFETY: forwarded from this function's contract.
        unsafe { copy_text(NAME, text, buf, cap, len) }
    })
}

/// Description of step `i` (the final estimator is the last), e.g.
/// `block 1 (standard_scaler "standardscaler")`, copied like `fk_model_class_label`.
///
/// # Safety
/// As `fk_model_class_label`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_step_name(
    model: *const FkModel,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_step_name";
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { handle(model, NAME)? };
        let steps = &m.info().steps;
        let text = steps
            .get(i)
            .ok_or_else(|| index_err(NAME, "step", i, steps.len()))?;
        // SAFETY: forwarded from this function's contract.
        unsafe { copy_text(NAME, text, buf, cap, len) }
    })
}

/// The metadata text the writer stored in the model (ferrokit's exporter:
/// JSON with producer versions and the numpy dtype of the labels; empty if
/// none), copied like `fk_model_class_label`.
///
/// # Safety
/// As `fk_model_class_label` (without the index).
#[no_mangle]
pub unsafe extern "C" fn fk_model_metadata(
    model: *const FkModel,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_metadata";
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { handle(model, NAME)? };
        // SAFETY: forwarded from this function's contract.
        unsafe { copy_text(NAME, &m.info().metadata, buf, cap, len) }
    })
}

/// Checks `n_features`, borrows x and the output (disjoint) and runs `f`.
///
/// # Safety
/// `model` a live handle; `x` valid for `n_rows * n_features` reads; `out`
/// for `n_out` writes.
#[allow(clippy::too_many_arguments)]
unsafe fn body<T: ModelFloat, O: Copy>(
    name: &'static str,
    model: *const FkModel,
    x: *const T,
    n_rows: usize,
    n_features: usize,
    out: *mut O,
    n_out: usize,
    f: impl FnOnce(&Model, &[T], &mut [O]) -> ferrokit_core::Result<()>,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let m = unsafe { handle(model, name)? };
        let nf = m.info().n_features;
        if n_features != nf {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!("{name}: x has {n_features} features, the model expects {nf}"),
            ));
        }
        let nx = n_rows.checked_mul(n_features).ok_or_else(|| {
            FfiError::new(
                FkStatus::FK_ERR_TOO_LARGE,
                format!("{name}: shape ({n_rows}, {n_features}) overflows size_t"),
            )
        })?;
        if overlap(
            x.cast::<u8>(),
            nx.saturating_mul(std::mem::size_of::<T>()),
            out.cast_const().cast::<u8>(),
            n_out.saturating_mul(std::mem::size_of::<O>()),
        ) != Overlap::Disjoint
        {
            return Err(FfiError::new(
                FkStatus::FK_ERR_ALIASING,
                format!("{name}: out overlaps x"),
            ));
        }
        // SAFETY: forwarded from the export's contract; x and out are disjoint.
        let (xs, o) = unsafe {
            (
                in_slice(x, nx, Arg(name, "x"))?,
                out_slice(out, n_out, Arg(name, "out"))?,
            )
        };
        f(m, xs, o)?;
        Ok(())
    })
}

/// Regression values, `n_rows x n_outputs` (regressors; a classifier
/// gives `FK_ERR_INVALID_STATE`: use `fk_model_predict_class_f64`).
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_f64(
    model: *const FkModel,
    x: *const f64,
    n_rows: usize,
    n_features: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_predict_f64",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict(x, n_rows, o),
        )
    }
}
/// Float32 version of `fk_model_predict_f64`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_f32(
    model: *const FkModel,
    x: *const f32,
    n_rows: usize,
    n_features: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_predict_f32",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict(x, n_rows, o),
        )
    }
}
/// Predicted classes as indices into the labels (`fk_model_class_label`),
/// `n_rows` values; a multilabel model writes `n_rows x n_outputs` 0/1
/// indicators. Regressors give `FK_ERR_INVALID_STATE`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_class_f64(
    model: *const FkModel,
    x: *const f64,
    n_rows: usize,
    n_features: usize,
    out: *mut i64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_predict_class_f64",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_classes(x, n_rows, o),
        )
    }
}
/// Float32 version of `fk_model_predict_class_f64`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_class_f32(
    model: *const FkModel,
    x: *const f32,
    n_rows: usize,
    n_features: usize,
    out: *mut i64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_predict_class_f32",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_classes(x, n_rows, o),
        )
    }
}
/// Class probabilities, `n_rows x n_proba` (binary: `[1 - p, p]`), as
/// scikit-learn's `predict_proba`. `FK_ERR_INVALID_STATE` when `n_proba == 0`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_proba_f64(
    model: *const FkModel,
    x: *const f64,
    n_rows: usize,
    n_features: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_predict_proba_f64",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_proba(x, n_rows, o),
        )
    }
}
/// Float32 version of `fk_model_predict_proba_f64` (computed in float64, rounded).
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_proba_f32(
    model: *const FkModel,
    x: *const f32,
    n_rows: usize,
    n_features: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_predict_proba_f32",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_proba(x, n_rows, o),
        )
    }
}
/// Decision values, `n_rows x n_decision`, as scikit-learn's
/// `decision_function`. `FK_ERR_INVALID_STATE` when `n_decision == 0`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_decision_function_f64(
    model: *const FkModel,
    x: *const f64,
    n_rows: usize,
    n_features: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_decision_function_f64",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.decision_function(x, n_rows, o),
        )
    }
}
/// Float32 version of `fk_model_decision_function_f64`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_decision_function_f32(
    model: *const FkModel,
    x: *const f32,
    n_rows: usize,
    n_features: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_decision_function_f32",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.decision_function(x, n_rows, o),
        )
    }
}
/// The preprocessed rows, `n_rows x n_transform` (pipelines of
/// transformers only; others give `FK_ERR_INVALID_STATE`).
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_transform_f64(
    model: *const FkModel,
    x: *const f64,
    n_rows: usize,
    n_features: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_transform_f64",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.transform(x, n_rows, o),
        )
    }
}
/// Float32 version of `fk_model_transform_f64`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `out` valid for `n_out` writes and disjoint from `x`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_transform_f32(
    model: *const FkModel,
    x: *const f32,
    n_rows: usize,
    n_features: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body(
            "fk_model_transform_f32",
            model,
            x,
            n_rows,
            n_features,
            out,
            n_out,
            |m, x, o| m.transform(x, n_rows, o),
        )
    }
}
/// The `k` nearest training rows of each row of a NearestNeighbors model:
/// `distances` (`n_rows x k`, ascending) and `indices` (`n_rows x k`).
/// Other models give `FK_ERR_INVALID_STATE`; k outside 1..=n_samples
/// gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `distances` / `indices` valid for `n_dist` / `n_idx` writes,
/// disjoint from `x` and each other.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_model_kneighbors_f64(
    model: *const FkModel,
    x: *const f64,
    n_rows: usize,
    n_features: usize,
    k: usize,
    distances: *mut f64,
    n_dist: usize,
    indices: *mut i64,
    n_idx: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        kneighbors_body(
            "fk_model_kneighbors_f64",
            model,
            x,
            n_rows,
            n_features,
            k,
            distances,
            n_dist,
            indices,
            n_idx,
        )
    }
}
/// Float32 version of `fk_model_kneighbors_f64`.
///
/// # Safety
/// `model` must be a live handle; `x` valid for `n_rows * n_features`
/// reads; `distances` / `indices` valid for `n_dist` / `n_idx` writes,
/// disjoint from `x` and each other.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fk_model_kneighbors_f32(
    model: *const FkModel,
    x: *const f32,
    n_rows: usize,
    n_features: usize,
    k: usize,
    distances: *mut f32,
    n_dist: usize,
    indices: *mut i64,
    n_idx: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        kneighbors_body(
            "fk_model_kneighbors_f32",
            model,
            x,
            n_rows,
            n_features,
            k,
            distances,
            n_dist,
            indices,
            n_idx,
        )
    }
}

/// Shared body of `fk_model_kneighbors_*`.
///
/// # Safety
/// As `fk_model_kneighbors_f64`.
#[allow(clippy::too_many_arguments)]
unsafe fn kneighbors_body<T: ModelFloat>(
    name: &'static str,
    model: *const FkModel,
    x: *const T,
    n_rows: usize,
    n_features: usize,
    k: usize,
    distances: *mut T,
    n_dist: usize,
    indices: *mut i64,
    n_idx: usize,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let m = unsafe { handle(model, name)? };
        let nf = m.info().n_features;
        if n_features != nf {
            return Err(FfiError::new(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!("{name}: x has {n_features} features, the model expects {nf}"),
            ));
        }
        let nx = n_rows.checked_mul(n_features).ok_or_else(|| {
            FfiError::new(
                FkStatus::FK_ERR_TOO_LARGE,
                format!("{name}: shape ({n_rows}, {n_features}) overflows size_t"),
            )
        })?;
        let bytes = |n: usize, size: usize| n.saturating_mul(size);
        let (xp, dp, ip) = (
            x.cast::<u8>(),
            distances.cast_const().cast::<u8>(),
            indices.cast_const().cast::<u8>(),
        );
        let (xb, db, ib) = (
            bytes(nx, std::mem::size_of::<T>()),
            bytes(n_dist, std::mem::size_of::<T>()),
            bytes(n_idx, 8),
        );
        if overlap(xp, xb, dp, db) != Overlap::Disjoint
            || overlap(xp, xb, ip, ib) != Overlap::Disjoint
            || overlap(dp, db, ip, ib) != Overlap::Disjoint
        {
            return Err(FfiError::new(
                FkStatus::FK_ERR_ALIASING,
                format!("{name}: x, distances and indices must not overlap"),
            ));
        }
        // SAFETY: forwarded from the export's contract; the three buffers are
        // disjoint (checked above).
        let (xs, d, i) = unsafe {
            (
                in_slice(x, nx, Arg(name, "x"))?,
                out_slice(distances, n_dist, Arg(name, "distances"))?,
                out_slice(indices, n_idx, Arg(name, "indices"))?,
            )
        };
        m.kneighbors(xs, n_rows, k, d, i)?;
        Ok(())
    })
}

// ------------------------------------------------------------------ text

/// The shared body of the text exports: documents in Arrow layout
/// (`buf`, `buf_len`, `offsets`, `n_offsets`; `n_offsets == 0` is no
/// documents), `out` checked to be disjoint from both.
///
/// # Safety
/// `model` a live handle; `buf` / `offsets` readable for `buf_len` /
/// `n_offsets` elements; `out` writable for `n_out` elements.
#[allow(clippy::too_many_arguments)]
unsafe fn body_text<O>(
    name: &'static str,
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut O,
    n_out: usize,
    f: impl FnOnce(&Model, &Strings<'_>, &mut [O]) -> ferrokit_core::Result<()>,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { handle(model, name)? };
        let out_bytes = n_out.saturating_mul(std::mem::size_of::<O>());
        for (p, len, what) in [
            (buf, buf_len, "buf"),
            (offsets.cast::<u8>(), n_offsets.saturating_mul(8), "offsets"),
        ] {
            if overlap(p, len, out.cast_const().cast::<u8>(), out_bytes) != Overlap::Disjoint {
                return Err(FfiError::new(
                    FkStatus::FK_ERR_ALIASING,
                    format!("{name}: out overlaps {what}"),
                ));
            }
        }
        // SAFETY: forwarded contract; out is disjoint from the inputs.
        let (b, off, o) = unsafe {
            (
                in_slice(buf, buf_len, Arg(name, "buf"))?,
                in_slice(offsets, n_offsets, Arg(name, "offsets"))?,
                out_slice(out, n_out, Arg(name, "out"))?,
            )
        };
        let docs = Strings::new(b, off).map_err(|e| {
            let mut fe = FfiError::from(e);
            fe.message = format!("{name}: {}", fe.message);
            fe
        })?;
        f(m, &docs, o)?;
        Ok(())
    })
}

/// Text models (`FK_MODEL_INPUT_TEXT`): regression values of `n` documents,
/// `n x n_outputs`. Documents are one UTF-8 buffer plus `n + 1` offsets
/// (Arrow layout, as `fk_text_*`): document `i` is
/// `buf[offsets[i] .. offsets[i + 1]]`; `n_offsets == 0` means no documents.
/// Invalid UTF-8 gives `FK_ERR_INVALID_ARGUMENT` naming the document; a
/// numeric model gives `FK_ERR_INVALID_ARGUMENT`. The model computes in the
/// dtype its vectorizer was saved with; `_f32` / `_f64` choose the output type.
///
/// # Safety
/// `model` must be a live handle; `buf` / `offsets` readable for `buf_len` /
/// `n_offsets` elements; `out` writable for `n_out` elements, disjoint from both.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_text_f64(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_predict_text_f64",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.predict_text(d, o),
        )
    }
}
/// Float32 output version of `fk_model_predict_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_text_f32(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_predict_text_f32",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.predict_text(d, o),
        )
    }
}
/// Text models: predicted classes of the documents as indices into the
/// labels (`n` values; multilabel: `n x n_outputs` 0/1), as
/// `fk_model_predict_class_f64`. Documents as in `fk_model_predict_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_class_text(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut i64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_predict_class_text",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.predict_classes_text(d, o),
        )
    }
}
/// Text models: class probabilities of the documents, `n x n_proba`.
/// Documents as in `fk_model_predict_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_proba_text_f64(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_predict_proba_text_f64",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.predict_proba_text(d, o),
        )
    }
}
/// Float32 output version of `fk_model_predict_proba_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_predict_proba_text_f32(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_predict_proba_text_f32",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.predict_proba_text(d, o),
        )
    }
}
/// Text models: decision values of the documents, `n x n_decision`
/// (linear classifiers). Documents as in `fk_model_predict_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_decision_function_text_f64(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_decision_function_text_f64",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.decision_function_text(d, o),
        )
    }
}
/// Float32 output version of `fk_model_decision_function_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_decision_function_text_f32(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_decision_function_text_f32",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.decision_function_text(d, o),
        )
    }
}
/// Text transformer pipelines: the features of the documents as a DENSE
/// row-major `n x n_transform` matrix (zeros included; scikit-learn's result
/// is the same values as a sparse matrix). Documents as in
/// `fk_model_predict_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_transform_text_f64(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_transform_text_f64",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.transform_text(d, o),
        )
    }
}
/// Float32 output version of `fk_model_transform_text_f64`.
///
/// # Safety
/// As `fk_model_predict_text_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_transform_text_f32(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        body_text(
            "fk_model_transform_text_f32",
            model,
            buf,
            buf_len,
            offsets,
            n_offsets,
            out,
            n_out,
            |m, d, o| m.transform_text(d, o),
        )
    }
}

/// Text transformer pipelines: the features of the documents as the sparse
/// CSR matrix scikit-learn returns (same entries in the same order, explicit
/// zeros where hashed signs cancel kept), in a new `fk_csr` result `*out`
/// (read it with `fk_csr_shape`, `fk_csr_indptr_*`, `fk_csr_indices_*`,
/// `fk_csr_data_f64` / `_f32`, free it with `fk_csr_free`). Values are
/// float64, exactly the float32 values when the vectorizer's dtype is
/// float32; `fk_csr_data_i64` / `_i32` read the counts of an integer dtype.
/// Documents as in `fk_model_predict_text_f64`.
///
/// # Safety
/// `model` must be a live handle; `buf` / `offsets` readable for `buf_len` /
/// `n_offsets` elements; `out` must point to a writable `fk_csr *`.
#[no_mangle]
pub unsafe extern "C" fn fk_model_transform_text_csr(
    model: *const FkModel,
    buf: *const u8,
    buf_len: usize,
    offsets: *const u64,
    n_offsets: usize,
    out: *mut *mut crate::text::fk_csr,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_model_transform_text_csr";
        // SAFETY: forwarded contract.
        let m = unsafe { handle(model, NAME)? };
        // SAFETY: forwarded contract.
        let (b, off) = unsafe {
            (
                in_slice(buf, buf_len, Arg(NAME, "buf"))?,
                in_slice(offsets, n_offsets, Arg(NAME, "offsets"))?,
            )
        };
        let docs = Strings::new(b, off).map_err(|e| {
            let mut fe = FfiError::from(e);
            fe.message = format!("{NAME}: {}", fe.message);
            fe
        })?;
        let csr = m.transform_text_sparse(&docs)?;
        // SAFETY: forwarded contract (out is a writable fk_csr * slot).
        unsafe { crate::text::put(NAME, out, crate::text::fk_csr::floats(csr)) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokit_core::model::format::{write, Block, Value};
    use ferrokit_core::model::kind;
    use std::ptr::{null, null_mut};

    fn bytes() -> Vec<u8> {
        write(&[
            Block::new(kind::META)
                .with("input", Value::I64(vec![0]))
                .with("n_features", Value::I64(vec![2]))
                .with(
                    "feature_names",
                    Value::StrList(vec!["a".into(), "b".into()]),
                ),
            Block::new(kind::LINEAR_CLASSIFIER)
                .with("n_features", Value::I64(vec![2]))
                .with("n_outputs", Value::I64(vec![1]))
                .with("coef", Value::F64(vec![1.0, -1.0]))
                .with("intercept", Value::F64(vec![0.0]))
                .with("proba", Value::I64(vec![1]))
                .with("classes_kind", Value::I64(vec![1]))
                .with("classes", Value::I64(vec![3, 7])),
        ])
    }

    #[test]
    fn load_info_predict_free() {
        let b = bytes();
        let mut m: *mut FkModel = null_mut();
        // SAFETY: valid buffers and out-pointer.
        unsafe {
            assert_eq!(
                fk_model_load_bytes(b.as_ptr(), b.len(), &mut m),
                FkStatus::FK_OK
            );
            let mut info = std::mem::zeroed::<FkModelInfo>();
            assert_eq!(fk_model_get_info(m, &mut info), FkStatus::FK_OK);
            assert_eq!(
                (info.task, info.n_features, info.n_proba, info.n_classes),
                (1, 2, 2, 2)
            );
            let x = [2.0f64, 1.0, 0.0, 1.0];
            let mut c = [0i64; 2];
            assert_eq!(
                fk_model_predict_class_f64(m, x.as_ptr(), 2, 2, c.as_mut_ptr(), 2),
                FkStatus::FK_OK
            );
            assert_eq!(c, [1, 0]);
            let mut cl = [0i64; 2];
            assert_eq!(fk_model_classes_i64(m, cl.as_mut_ptr(), 2), FkStatus::FK_OK);
            assert_eq!(cl, [3, 7]);
            let mut len = 0usize;
            let mut buf = [0 as c_char; 4];
            assert_eq!(
                fk_model_feature_name(m, 1, buf.as_mut_ptr(), 4, &mut len),
                FkStatus::FK_OK
            );
            assert_eq!((len, buf[0] as u8), (1, b'b'));
            // Wrong width, aliasing, wrong output kind, NULL handle.
            let mut p = [0.0f64; 4];
            assert_eq!(
                fk_model_predict_proba_f64(m, x.as_ptr(), 2, 1, p.as_mut_ptr(), 4),
                FkStatus::FK_ERR_LENGTH_MISMATCH
            );
            assert_eq!(
                fk_model_predict_proba_f64(m, p.as_ptr(), 1, 2, p.as_mut_ptr(), 2),
                FkStatus::FK_ERR_ALIASING
            );
            assert_eq!(
                fk_model_transform_f64(m, x.as_ptr(), 2, 2, p.as_mut_ptr(), 4),
                FkStatus::FK_ERR_INVALID_STATE
            );
            assert_eq!(
                fk_model_predict_proba_f64(null(), x.as_ptr(), 2, 2, p.as_mut_ptr(), 4),
                FkStatus::FK_ERR_NULL_POINTER
            );
            let nan = [f64::NAN, 0.0];
            assert_eq!(
                fk_model_predict_proba_f64(m, nan.as_ptr(), 1, 2, p.as_mut_ptr(), 2),
                FkStatus::FK_ERR_NON_FINITE
            );
            fk_model_free(m);
            fk_model_free(null_mut());
        }
    }

    #[test]
    fn corrupt_bytes_give_format_errors() {
        let b = bytes();
        let mut m: *mut FkModel = null_mut();
        for cut in [0, 5, 20, b.len() - 1] {
            // SAFETY: valid buffers and out-pointer.
            let st = unsafe { fk_model_load_bytes(b.as_ptr(), cut, &mut m) };
            assert_eq!(st, FkStatus::FK_ERR_INVALID_FORMAT, "cut {cut}");
            assert!(m.is_null());
        }
    }
}
