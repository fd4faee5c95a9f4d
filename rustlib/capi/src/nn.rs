//! Inference kernels (`fk_activation_*`, `fk_softmax_*`, `fk_log_softmax_*`,
//! `fk_layer_norm_*`, `fk_rms_norm_*`, `fk_topk_*`, `fk_linear_*`) and the
//! multi-layer perceptron handle (`fk_mlp_*`).
//!
//! 2-D arrays are row-major `rows x cols`; row kernels work along the last axis
//! (pass an N-D C-contiguous array as `rows = product of the leading dims`).
//! Where documented, `out` may be exactly `x` (in place); any other overlap of
//! an output with an input gives `FK_ERR_ALIASING`. Outputs are written only on
//! success. NaN propagates like numpy (a NaN in a row makes that row's softmax /
//! norm NaN); infinities follow the formulas.

use crate::boundary::{guard, guard_value, FfiError};
use crate::slices::{in_slice, out_ref, out_slice, overlap, Arg, Overlap};
use crate::status::FkStatus;
use ferrokit_core::nn::linear::{linear, WeightLayout};
use ferrokit_core::nn::mlp::{AnyMlp, Labels, Mlp, PanelFloat, Task};
use ferrokit_core::nn::topk::topk;
use ferrokit_core::nn::{
    activation_inplace, activation_into, rows_inplace, rows_into, Activation, NnFloat, RowOp,
};
use std::ffi::{c_char, CStr};

/// Activation code: identity.
pub const FK_ACT_IDENTITY: i32 = 0;
/// Activation code: `max(x, 0)`.
pub const FK_ACT_RELU: i32 = 1;
/// Activation code: logistic sigmoid `1 / (1 + exp(-x))`.
pub const FK_ACT_SIGMOID: i32 = 2;
/// Activation code: `tanh(x)`.
pub const FK_ACT_TANH: i32 = 3;
/// Activation code: GELU, exact erf form `0.5 x (1 + erf(x / sqrt 2))`.
pub const FK_ACT_GELU: i32 = 4;
/// Activation code: GELU, tanh approximation.
pub const FK_ACT_GELU_TANH: i32 = 5;
/// Activation code: SiLU `x * sigmoid(x)`.
pub const FK_ACT_SILU: i32 = 6;
/// Activation code: row-wise softmax (only for `fk_linear_*` and MLP outputs).
pub const FK_ACT_SOFTMAX: i32 = 7;

/// `fk_mlp_info.dtype`: float32 weights.
pub const FK_DTYPE_F32: i32 = 1;
/// `fk_mlp_info.dtype`: float64 weights.
pub const FK_DTYPE_F64: i32 = 2;
/// `fk_mlp_info.task`: regressor (real outputs).
pub const FK_MLP_REGRESSOR: i32 = 0;
/// `fk_mlp_info.task`: single-label classifier (binary or multiclass).
pub const FK_MLP_CLASSIFIER: i32 = 1;
/// `fk_mlp_info.task`: multilabel classifier.
pub const FK_MLP_MULTILABEL: i32 = 2;
/// `fk_mlp_info.label_kind`: no labels (regressor).
pub const FK_LABELS_NONE: i32 = 0;
/// `fk_mlp_info.label_kind`: int64 labels (`fk_mlp_classes_i64`).
pub const FK_LABELS_INT: i32 = 1;
/// `fk_mlp_info.label_kind`: float64 labels (`fk_mlp_classes_f64`).
pub const FK_LABELS_FLOAT: i32 = 2;
/// `fk_mlp_info.label_kind`: UTF-8 text labels (`fk_mlp_class_label`).
pub const FK_LABELS_TEXT: i32 = 3;
/// `fk_mlp_info.label_kind`: boolean labels (0/1 via `fk_mlp_classes_i64`).
pub const FK_LABELS_BOOL: i32 = 4;

fn ffi_err(status: FkStatus, msg: String) -> FfiError {
    FfiError::new(status, msg)
}

fn activation(name: &str, code: i32) -> Result<Activation, FfiError> {
    Activation::from_code(code).ok_or_else(|| {
        ffi_err(
            FkStatus::FK_ERR_INVALID_ARGUMENT,
            format!("{name}: activation code {code} unknown, expected FK_ACT_IDENTITY..FK_ACT_SOFTMAX (0..7)"),
        )
    })
}

fn check_n(name: &str, what: &str, got: usize, want: usize) -> Result<(), FfiError> {
    if got != want {
        return Err(ffi_err(
            FkStatus::FK_ERR_LENGTH_MISMATCH,
            format!("{name}: {what} has {got} elements, expected {want}"),
        ));
    }
    Ok(())
}

fn dims(name: &str, a: usize, b: usize) -> Result<usize, FfiError> {
    a.checked_mul(b).ok_or_else(|| {
        ffi_err(
            FkStatus::FK_ERR_TOO_LARGE,
            format!("{name}: shape ({a}, {b}) overflows size_t"),
        )
    })
}

fn disjoint<T>(
    name: &'static str,
    what: &str,
    a: *const T,
    na: usize,
    out: *const T,
    no: usize,
) -> Result<(), FfiError> {
    if overlap(a, na, out, no) != Overlap::Disjoint {
        return Err(ffi_err(
            FkStatus::FK_ERR_ALIASING,
            format!("{name}: out overlaps {what}"),
        ));
    }
    Ok(())
}

/// An input/output pair that may be one buffer.
enum Io<'a, T> {
    Into(&'a [T], &'a mut [T]),
    InPlace(&'a mut [T]),
}

/// # Safety
/// `x` readable for `n`, `out` writable for `n_out` (or NULL with 0).
unsafe fn io<'a, T>(
    name: &'static str,
    x: *const T,
    n: usize,
    out: *mut T,
    n_out: usize,
) -> Result<Io<'a, T>, FfiError> {
    check_n(name, "out", n_out, n)?;
    match overlap(x, n, out.cast_const(), n_out) {
        // SAFETY: one buffer of n writable elements (contract); only this view exists.
        Overlap::Same => Ok(Io::InPlace(unsafe { out_slice(out, n, Arg(name, "out"))? })),
        // SAFETY: disjoint buffers valid per the contract.
        Overlap::Disjoint => Ok(unsafe {
            Io::Into(
                in_slice(x, n, Arg(name, "x"))?,
                out_slice(out, n_out, Arg(name, "out"))?,
            )
        }),
        Overlap::Partial => Err(ffi_err(
            FkStatus::FK_ERR_ALIASING,
            format!("{name}: out partially overlaps x (pass the same buffer for in-place)"),
        )),
    }
}

// ---------------------------------------------------------------- activations

unsafe fn activation_body<T: NnFloat>(
    name: &'static str,
    act: i32,
    x: *const T,
    n: usize,
    out: *mut T,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let act = activation(name, act)?;
        // SAFETY: forwarded from the export's contract.
        match unsafe { io(name, x, n, out, n_out)? } {
            Io::Into(x, o) => activation_into(act, x, o)?,
            Io::InPlace(x) => activation_inplace(act, x)?,
        }
        Ok(())
    })
}

/// Applies an element-wise activation (`FK_ACT_RELU`, `FK_ACT_SIGMOID`,
/// `FK_ACT_TANH`, `FK_ACT_GELU`, `FK_ACT_GELU_TANH`, `FK_ACT_SILU`,
/// `FK_ACT_IDENTITY`) to `n` doubles: `out[i] = f(x[i])`. `out` (`n_out == n`)
/// may be `x` itself. `FK_ACT_SOFTMAX` or an unknown code gives
/// `FK_ERR_INVALID_ARGUMENT`. NaN stays NaN.
///
/// # Safety
/// `x` must point to `n` readable and `out` to `n_out` writable elements (or be
/// NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn fk_activation_f64(
    activation: i32,
    x: *const f64,
    n: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe { activation_body("fk_activation_f64", activation, x, n, out, n_out) }
}

/// Float32 version of `fk_activation_f64`.
///
/// # Safety
/// As `fk_activation_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_activation_f32(
    activation: i32,
    x: *const f32,
    n: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe { activation_body("fk_activation_f32", activation, x, n, out, n_out) }
}

// ---------------------------------------------------------------- row kernels

#[allow(clippy::too_many_arguments)]
unsafe fn rows_body<T: NnFloat>(
    name: &'static str,
    kind: u8,
    x: *const T,
    rows: usize,
    cols: usize,
    weight: *const T,
    n_weight: usize,
    bias: *const T,
    n_bias: usize,
    eps: f64,
    out: *mut T,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let n = dims(name, rows, cols)?;
        if n_weight != 0 {
            check_n(name, "weight", n_weight, cols)?;
        }
        if n_bias != 0 {
            check_n(name, "bias", n_bias, cols)?;
        }
        disjoint(name, "weight", weight, n_weight, out.cast_const(), n_out)?;
        disjoint(name, "bias", bias, n_bias, out.cast_const(), n_out)?;
        // SAFETY: forwarded from the export's contract; weight/bias do not overlap out.
        let (w, b) = unsafe {
            (
                in_slice(weight, n_weight, Arg(name, "weight"))?,
                in_slice(bias, n_bias, Arg(name, "bias"))?,
            )
        };
        let w = (n_weight != 0).then_some(w);
        let b = (n_bias != 0).then_some(b);
        let op = match kind {
            0 => RowOp::Softmax,
            1 => RowOp::LogSoftmax,
            2 => RowOp::LayerNorm { w, b, eps },
            _ => RowOp::RmsNorm { w, eps },
        };
        // SAFETY: forwarded from the export's contract.
        match unsafe { io(name, x, n, out, n_out)? } {
            Io::Into(x, o) => rows_into(op, x, rows, cols, o)?,
            Io::InPlace(x) => rows_inplace(op, x, rows, cols)?,
        }
        Ok(())
    })
}

/// Row-wise softmax of `x` (`rows x cols`, row-major) into `out`
/// (`n_out == rows * cols`; may be `x` itself): `exp(x - max) / sum`, stable
/// for any finite input (rows sum to 1). A NaN makes its row NaN.
///
/// # Safety
/// `x` must point to `rows * cols` readable and `out` to `n_out` writable
/// elements (or be NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn fk_softmax_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_softmax_f64",
            0,
            x,
            rows,
            cols,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            0.0,
            out,
            n_out,
        )
    }
}

/// Float32 version of `fk_softmax_f64`.
///
/// # Safety
/// As `fk_softmax_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_softmax_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_softmax_f32",
            0,
            x,
            rows,
            cols,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            0.0,
            out,
            n_out,
        )
    }
}

/// Row-wise log-softmax `x - max - log(sum(exp(x - max)))`; as `fk_softmax_f64`.
///
/// # Safety
/// As `fk_softmax_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_log_softmax_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_log_softmax_f64",
            1,
            x,
            rows,
            cols,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            0.0,
            out,
            n_out,
        )
    }
}

/// Float32 version of `fk_log_softmax_f64`.
///
/// # Safety
/// As `fk_softmax_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_log_softmax_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_log_softmax_f32",
            1,
            x,
            rows,
            cols,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            0.0,
            out,
            n_out,
        )
    }
}

/// Layer normalization of each row: `(x - mean) / sqrt(var + eps) * weight + bias`
/// (biased variance, statistics in double precision). `weight` / `bias` have
/// `cols` elements or are absent (NULL with length 0). `eps` must be finite and
/// >= 0. `out` may be `x` itself.
///
/// # Safety
/// Every pointer must be valid for its length (or NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn fk_layer_norm_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    weight: *const f64,
    n_weight: usize,
    bias: *const f64,
    n_bias: usize,
    eps: f64,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_layer_norm_f64",
            2,
            x,
            rows,
            cols,
            weight,
            n_weight,
            bias,
            n_bias,
            eps,
            out,
            n_out,
        )
    }
}

/// Float32 version of `fk_layer_norm_f64` (`eps` stays a double).
///
/// # Safety
/// As `fk_layer_norm_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_layer_norm_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    weight: *const f32,
    n_weight: usize,
    bias: *const f32,
    n_bias: usize,
    eps: f64,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_layer_norm_f32",
            2,
            x,
            rows,
            cols,
            weight,
            n_weight,
            bias,
            n_bias,
            eps,
            out,
            n_out,
        )
    }
}

/// RMS normalization of each row: `x / sqrt(mean(x^2) + eps) * weight`.
/// `weight` has `cols` elements or is absent (NULL with length 0).
///
/// # Safety
/// Every pointer must be valid for its length (or NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn fk_rms_norm_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    weight: *const f64,
    n_weight: usize,
    eps: f64,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_rms_norm_f64",
            3,
            x,
            rows,
            cols,
            weight,
            n_weight,
            std::ptr::null(),
            0,
            eps,
            out,
            n_out,
        )
    }
}

/// Float32 version of `fk_rms_norm_f64` (`eps` stays a double).
///
/// # Safety
/// As `fk_rms_norm_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_rms_norm_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    weight: *const f32,
    n_weight: usize,
    eps: f64,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        rows_body(
            "fk_rms_norm_f32",
            3,
            x,
            rows,
            cols,
            weight,
            n_weight,
            std::ptr::null(),
            0,
            eps,
            out,
            n_out,
        )
    }
}

// ---------------------------------------------------------------------- topk

#[allow(clippy::too_many_arguments)]
unsafe fn topk_body<T: NnFloat>(
    name: &'static str,
    x: *const T,
    rows: usize,
    cols: usize,
    k: usize,
    largest: i32,
    sorted: i32,
    values: *mut T,
    n_values: usize,
    indices: *mut i64,
    n_indices: usize,
) -> FkStatus {
    guard(|| {
        let n = dims(name, rows, cols)?;
        if k > cols {
            return Err(ffi_err(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                format!("{name}: k is {k}, larger than the last axis ({cols})"),
            ));
        }
        disjoint(name, "x", x, n, values.cast_const(), n_values)?;
        if overlap(
            x.cast::<u8>(),
            n * std::mem::size_of::<T>(),
            indices.cast_const().cast::<u8>(),
            n_indices * 8,
        ) != Overlap::Disjoint
            || overlap(
                values.cast_const().cast::<u8>(),
                n_values * std::mem::size_of::<T>(),
                indices.cast_const().cast::<u8>(),
                n_indices * 8,
            ) != Overlap::Disjoint
        {
            return Err(ffi_err(
                FkStatus::FK_ERR_ALIASING,
                format!("{name}: indices overlaps x or values"),
            ));
        }
        // SAFETY: forwarded from the export's contract; the three buffers are disjoint.
        let (x, v, i) = unsafe {
            (
                in_slice(x, n, Arg(name, "x"))?,
                out_slice(values, n_values, Arg(name, "values"))?,
                out_slice(indices, n_indices, Arg(name, "indices"))?,
            )
        };
        topk(x, rows, cols, k, largest != 0, sorted != 0, v, i)?;
        Ok(())
    })
}

/// The `k` largest (`largest != 0`) or smallest values of each row of `x`
/// (`rows x cols`) into `values` and their column indices into `indices`
/// (`rows * k` each). NaN ranks above +inf; ties go to the lower index. With
/// `sorted != 0` each row's results are in rank order, else in column order.
/// `k > cols` gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// Every pointer must be valid for its length (or NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn fk_topk_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    k: usize,
    largest: i32,
    sorted: i32,
    values: *mut f64,
    n_values: usize,
    indices: *mut i64,
    n_indices: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        topk_body(
            "fk_topk_f64",
            x,
            rows,
            cols,
            k,
            largest,
            sorted,
            values,
            n_values,
            indices,
            n_indices,
        )
    }
}

/// Float32 version of `fk_topk_f64`.
///
/// # Safety
/// As `fk_topk_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_topk_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    k: usize,
    largest: i32,
    sorted: i32,
    values: *mut f32,
    n_values: usize,
    indices: *mut i64,
    n_indices: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        topk_body(
            "fk_topk_f32",
            x,
            rows,
            cols,
            k,
            largest,
            sorted,
            values,
            n_values,
            indices,
            n_indices,
        )
    }
}

// -------------------------------------------------------------------- linear

#[allow(clippy::too_many_arguments)]
unsafe fn linear_body<T: NnFloat>(
    name: &'static str,
    x: *const T,
    m: usize,
    k: usize,
    weight: *const T,
    n: usize,
    weight_cols: usize,
    bias: *const T,
    n_bias: usize,
    act: i32,
    out: *mut T,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let act = activation(name, act)?;
        if weight_cols != k {
            return Err(ffi_err(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!("{name}: x has {k} features but weight has {weight_cols} columns"),
            ));
        }
        let nx = dims(name, m, k)?;
        let nw = dims(name, n, k)?;
        if n_bias != 0 {
            check_n(name, "bias", n_bias, n)?;
        }
        check_n(name, "out", n_out, dims(name, m, n)?)?;
        disjoint(name, "x", x, nx, out.cast_const(), n_out)?;
        disjoint(name, "weight", weight, nw, out.cast_const(), n_out)?;
        disjoint(name, "bias", bias, n_bias, out.cast_const(), n_out)?;
        // SAFETY: forwarded from the export's contract; out overlaps no input.
        let (x, w, b, o) = unsafe {
            (
                in_slice(x, nx, Arg(name, "x"))?,
                in_slice(weight, nw, Arg(name, "weight"))?,
                in_slice(bias, n_bias, Arg(name, "bias"))?,
                out_slice(out, n_out, Arg(name, "out"))?,
            )
        };
        let b = (n_bias != 0).then_some(b);
        linear(x, m, k, w, n, WeightLayout::OutIn, b, act, o)?;
        Ok(())
    })
}

/// A dense layer: `out (m x n) = act(x (m x k) @ weight.T + bias)`, `weight`
/// row-major `n x weight_cols` (one row per output, like PyTorch's `Linear`),
/// `weight_cols` must equal `k` (else `FK_ERR_LENGTH_MISMATCH`). `bias` has `n`
/// elements or is absent (NULL, 0). `activation` is any `FK_ACT_*` code
/// (`FK_ACT_SOFTMAX` applies a row-wise softmax). The product uses the `gemm`
/// crate on the library pool. `out` must not overlap any input.
///
/// # Safety
/// Every pointer must be valid for its length (or NULL with length 0).
#[no_mangle]
pub unsafe extern "C" fn fk_linear_f64(
    x: *const f64,
    m: usize,
    k: usize,
    weight: *const f64,
    n: usize,
    weight_cols: usize,
    bias: *const f64,
    n_bias: usize,
    activation: i32,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        linear_body(
            "fk_linear_f64",
            x,
            m,
            k,
            weight,
            n,
            weight_cols,
            bias,
            n_bias,
            activation,
            out,
            n_out,
        )
    }
}

/// Float32 version of `fk_linear_f64`.
///
/// # Safety
/// As `fk_linear_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_linear_f32(
    x: *const f32,
    m: usize,
    k: usize,
    weight: *const f32,
    n: usize,
    weight_cols: usize,
    bias: *const f32,
    n_bias: usize,
    activation: i32,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        linear_body(
            "fk_linear_f32",
            x,
            m,
            k,
            weight,
            n,
            weight_cols,
            bias,
            n_bias,
            activation,
            out,
            n_out,
        )
    }
}

// ----------------------------------------------------------------------- MLP

/// A loaded multi-layer perceptron (opaque). Created by `fk_mlp_load` /
/// `fk_mlp_load_bytes`, released by `fk_mlp_free`.
///
/// Thread safety: a model never changes after loading, so every `fk_mlp_*`
/// call except `fk_mlp_free` may run concurrently on the same handle from any
/// number of threads. `fk_mlp_free` must not race with other calls on it.
pub struct FkMlp {
    model: AnyMlp,
}

/// Facts about a loaded model (filled by `fk_mlp_get_info`).
#[repr(C)]
pub struct FkMlpInfo {
    /// `FK_DTYPE_F32` or `FK_DTYPE_F64`: which `fk_mlp_predict*_f32/_f64` to call.
    pub dtype: i32,
    /// `FK_MLP_REGRESSOR`, `FK_MLP_CLASSIFIER` or `FK_MLP_MULTILABEL`.
    pub task: i32,
    /// Features per sample (columns of x).
    pub n_features: usize,
    /// Width of the output layer (columns of `fk_mlp_predict_*`).
    pub n_outputs: usize,
    /// Number of weight layers (hidden layers + 1).
    pub n_layers: usize,
    /// `FK_ACT_*` code of the hidden layers.
    pub hidden_activation: i32,
    /// `FK_ACT_*` code of the output layer (identity, sigmoid or softmax).
    pub output_activation: i32,
    /// `FK_LABELS_*` kind of the class labels.
    pub label_kind: i32,
    /// Number of class labels (0 for a regressor).
    pub n_classes: usize,
    /// Columns of `fk_mlp_predict_proba_*` (2 for a binary classifier, 0 for a regressor).
    pub n_proba_columns: usize,
}

fn new_handle(model: AnyMlp, out: &mut *mut FkMlp) {
    *out = Box::into_raw(Box::new(FkMlp { model }));
}

/// Loads a model file (format: docs/mlp_format.md) into a new handle `*out`.
/// Errors: `FK_ERR_IO` (cannot open/read), `FK_ERR_INVALID_FORMAT` (wrong
/// magic, truncated, corrupted, inconsistent), `FK_ERR_UNSUPPORTED_VERSION`.
/// `*out` is written only on success; free the handle with `fk_mlp_free`.
///
/// # Safety
/// `path` must be a NUL-terminated string; `out` must point to a writable `fk_mlp *`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_load(path: *const c_char, out: *mut *mut FkMlp) -> FkStatus {
    guard(|| {
        if path.is_null() {
            return Err(ffi_err(
                FkStatus::FK_ERR_NULL_POINTER,
                "fk_mlp_load: path is NULL".into(),
            ));
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        let p = unsafe { CStr::from_ptr(path) };
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { out_ref(out, Arg("fk_mlp_load", "out"))? };
        #[cfg(unix)]
        let path = {
            use std::os::unix::ffi::OsStrExt;
            std::path::PathBuf::from(std::ffi::OsStr::from_bytes(p.to_bytes()))
        };
        #[cfg(not(unix))]
        let path = std::path::PathBuf::from(p.to_str().map_err(|_| {
            ffi_err(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                "fk_mlp_load: path is not UTF-8".into(),
            )
        })?);
        let model = AnyMlp::load(&path)?;
        new_handle(model, out);
        Ok(())
    })
}

/// Loads a model from the `n` bytes of a model file image at `data`.
/// Same errors as `fk_mlp_load` (except `FK_ERR_IO`).
///
/// # Safety
/// `data` must point to `n` readable bytes; `out` to a writable `fk_mlp *`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_load_bytes(
    data: *const u8,
    n: usize,
    out: *mut *mut FkMlp,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let (bytes, out) = unsafe {
            (
                in_slice(data, n, Arg("fk_mlp_load_bytes", "data"))?,
                out_ref(out, Arg("fk_mlp_load_bytes", "out"))?,
            )
        };
        let model = AnyMlp::from_bytes(bytes)?;
        new_handle(model, out);
        Ok(())
    })
}

/// Writes the model to the file `path` (format version 1, or 2 when the model
/// has feature names; docs/mlp_format.md). `FK_ERR_IO` on failure.
///
/// # Safety
/// `model` must be a live handle; `path` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_save(model: *const FkMlp, path: *const c_char) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { handle(model, "fk_mlp_save")? };
        if path.is_null() {
            return Err(ffi_err(
                FkStatus::FK_ERR_NULL_POINTER,
                "fk_mlp_save: path is NULL".into(),
            ));
        }
        // SAFETY: the caller guarantees a NUL-terminated string.
        let p = unsafe { CStr::from_ptr(path) };
        #[cfg(unix)]
        let path = {
            use std::os::unix::ffi::OsStrExt;
            std::path::PathBuf::from(std::ffi::OsStr::from_bytes(p.to_bytes()))
        };
        #[cfg(not(unix))]
        let path = std::path::PathBuf::from(p.to_str().map_err(|_| {
            ffi_err(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                "fk_mlp_save: path is not UTF-8".into(),
            )
        })?);
        m.model.save(&path)?;
        Ok(())
    })
}

/// Writes the model's file image (the bytes `fk_mlp_save` would write, which
/// `fk_mlp_load_bytes` reads back) into `buf`. `*len` receives the image size
/// in bytes. Query the size first with `buf == NULL, cap == 0` (then nothing
/// else is written); a `cap` smaller than the image gives
/// `FK_ERR_LENGTH_MISMATCH` and writes nothing (no partial image). A model
/// never changes, so the size queried stays valid. Thread-safe.
///
/// # Safety
/// `model` must be a live handle; `buf` valid for `cap` bytes (or NULL with
/// `cap == 0`); `len` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_save_bytes(
    model: *const FkMlp,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_mlp_save_bytes";
        // SAFETY: forwarded from this function's contract.
        let (m, b, len) = unsafe {
            (
                handle(model, NAME)?,
                out_slice(buf, cap, Arg(NAME, "buf"))?,
                out_ref(len, Arg(NAME, "len"))?,
            )
        };
        let image = m.model.to_bytes();
        if b.is_empty() {
            *len = image.len();
            return Ok(());
        }
        if b.len() < image.len() {
            return Err(ffi_err(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!(
                    "{NAME}: buf holds {cap} bytes, the model image needs {}",
                    image.len()
                ),
            ));
        }
        b[..image.len()].copy_from_slice(&image);
        *len = image.len();
        Ok(())
    })
}

/// Frees a model handle. NULL is accepted and does nothing. The handle must
/// not be used afterwards, nor freed twice.
///
/// # Safety
/// `model` must be NULL or a handle from `fk_mlp_load*` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_free(model: *mut FkMlp) {
    guard_value((), || {
        if !model.is_null() {
            // SAFETY: the pointer came from Box::into_raw in new_handle and is
            // freed exactly once (contract).
            drop(unsafe { Box::from_raw(model) });
        }
    })
}

/// # Safety
/// `model` must be NULL or a live handle.
unsafe fn handle<'a>(model: *const FkMlp, name: &str) -> Result<&'a FkMlp, FfiError> {
    if model.is_null() {
        return Err(ffi_err(
            FkStatus::FK_ERR_NULL_POINTER,
            format!("{name}: model is NULL"),
        ));
    }
    // SAFETY: non-null live handle (contract); handles are never mutated.
    Ok(unsafe { &*model })
}

/// Describes the model into `*out`.
///
/// # Safety
/// `model` must be a live handle; `out` must point to a writable `fk_mlp_info`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_get_info(model: *const FkMlp, out: *mut FkMlpInfo) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from this function's contract.
        let (m, out) = unsafe {
            (
                handle(model, "fk_mlp_get_info")?,
                out_ref(out, Arg("fk_mlp_get_info", "out"))?,
            )
        };
        *out = match &m.model {
            AnyMlp::F32(m) => info(m, FK_DTYPE_F32),
            AnyMlp::F64(m) => info(m, FK_DTYPE_F64),
        };
        Ok(())
    })
}

fn info<T: PanelFloat>(m: &Mlp<T>, dtype: i32) -> FkMlpInfo {
    FkMlpInfo {
        dtype,
        task: m.task() as i32,
        n_features: m.n_features(),
        n_outputs: m.n_outputs(),
        n_layers: m.layers().len(),
        hidden_activation: m.hidden() as i32,
        output_activation: m.output() as i32,
        label_kind: m.labels().kind() as i32,
        n_classes: m.labels().len(),
        n_proba_columns: m.n_proba_columns(),
    }
}

/// Copies the `n` class labels of an integer or boolean labelled classifier
/// into `out` (`n` must equal `n_classes`). Other label kinds give
/// `FK_ERR_INVALID_STATE` (use `fk_mlp_class_label`).
///
/// # Safety
/// `model` must be a live handle; `out` valid for `n` writes.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_classes_i64(
    model: *const FkMlp,
    out: *mut i64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_mlp_classes_i64";
        // SAFETY: forwarded from this function's contract.
        let (m, o) = unsafe { (handle(model, NAME)?, out_slice(out, n, Arg(NAME, "out"))?) };
        let labels = match &m.model {
            AnyMlp::F32(m) => m.labels(),
            AnyMlp::F64(m) => m.labels(),
        };
        check_n(NAME, "out", n, labels.len())?;
        match labels {
            Labels::Int(v) => o.copy_from_slice(v),
            Labels::Bool(v) => o.iter_mut().zip(v).for_each(|(o, &b)| *o = b as i64),
            _ => {
                return Err(ffi_err(
                    FkStatus::FK_ERR_INVALID_STATE,
                    format!("{NAME}: the labels are not integers"),
                ))
            }
        }
        Ok(())
    })
}

/// Copies the `n` float labels of a float-labelled classifier into `out`.
/// Other label kinds give `FK_ERR_INVALID_STATE`.
///
/// # Safety
/// `model` must be a live handle; `out` valid for `n` writes.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_classes_f64(
    model: *const FkMlp,
    out: *mut f64,
    n: usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_mlp_classes_f64";
        // SAFETY: forwarded from this function's contract.
        let (m, o) = unsafe { (handle(model, NAME)?, out_slice(out, n, Arg(NAME, "out"))?) };
        let labels = match &m.model {
            AnyMlp::F32(m) => m.labels(),
            AnyMlp::F64(m) => m.labels(),
        };
        check_n(NAME, "out", n, labels.len())?;
        match labels {
            Labels::Float(v) => o.copy_from_slice(v),
            _ => {
                return Err(ffi_err(
                    FkStatus::FK_ERR_INVALID_STATE,
                    format!("{NAME}: the labels are not floats"),
                ))
            }
        }
        Ok(())
    })
}

/// Label `i` of a classifier as UTF-8 text (any label kind; integers in
/// decimal, booleans as True/False), copied snprintf-style into `buf` (`cap`
/// bytes, always NUL-terminated when `cap > 0`); `*len` receives the full
/// length in bytes without the NUL. `buf` may be NULL with `cap == 0` to query
/// the length. `i >= n_classes` gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `model` must be a live handle; `buf` valid for `cap` bytes; `len` writable.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_class_label(
    model: *const FkMlp,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_mlp_class_label";
        // SAFETY: forwarded from this function's contract.
        let (m, b, len) = unsafe {
            (
                handle(model, NAME)?,
                out_slice(buf.cast::<u8>(), cap, Arg(NAME, "buf"))?,
                out_ref(len, Arg(NAME, "len"))?,
            )
        };
        let labels = match &m.model {
            AnyMlp::F32(m) => m.labels(),
            AnyMlp::F64(m) => m.labels(),
        };
        let text = labels.text(i).ok_or_else(|| {
            ffi_err(
                FkStatus::FK_ERR_INVALID_ARGUMENT,
                format!(
                    "{NAME}: label index {i} out of range (the model has {} labels)",
                    labels.len()
                ),
            )
        })?;
        let t = text.as_bytes();
        if !b.is_empty() {
            let k = t.len().min(b.len() - 1);
            b[..k].copy_from_slice(&t[..k]);
            b[k] = 0;
        }
        *len = t.len();
        Ok(())
    })
}

/// The number of input feature names the model carries (scikit-learn's
/// `feature_names_in_`) into `*out`: 0 or `n_features`.
///
/// # Safety
/// `model` must be a live handle; `out` must point to a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_n_feature_names(model: *const FkMlp, out: *mut usize) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_mlp_n_feature_names";
        // SAFETY: forwarded from this function's contract.
        let (m, out) = unsafe { (handle(model, NAME)?, out_ref(out, Arg(NAME, "out"))?) };
        *out = m.model.feature_names().len();
        Ok(())
    })
}

/// Feature name `i` as UTF-8, copied snprintf-style like `fk_mlp_class_label`
/// (`buf` of `cap` bytes, NUL-terminated when `cap > 0`; `*len` gets the full
/// length without the NUL; `buf` NULL with `cap == 0` queries the length).
/// `i >= fk_mlp_n_feature_names` gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `model` must be a live handle; `buf` valid for `cap` bytes; `len` writable.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_feature_name(
    model: *const FkMlp,
    i: usize,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> FkStatus {
    guard(|| {
        const NAME: &str = "fk_mlp_feature_name";
        // SAFETY: forwarded from this function's contract.
        let (m, b, len) = unsafe {
            (
                handle(model, NAME)?,
                out_slice(buf.cast::<u8>(), cap, Arg(NAME, "buf"))?,
                out_ref(len, Arg(NAME, "len"))?,
            )
        };
        let names = m.model.feature_names();
        let t = names
            .get(i)
            .ok_or_else(|| {
                ffi_err(
                    FkStatus::FK_ERR_INVALID_ARGUMENT,
                    format!(
                        "{NAME}: feature index {i} out of range (the model has {} feature names)",
                        names.len()
                    ),
                )
            })?
            .as_bytes();
        if !b.is_empty() {
            let k = t.len().min(b.len() - 1);
            b[..k].copy_from_slice(&t[..k]);
            b[k] = 0;
        }
        *len = t.len();
        Ok(())
    })
}

/// Picks the model of element type T or reports a dtype mismatch.
trait Pick: PanelFloat + Into<f64> {
    /// numpy's name of the type, for messages.
    const DTYPE: &'static str;
    fn pick<'a>(m: &'a AnyMlp, name: &str) -> Result<&'a Mlp<Self>, FfiError>;
}
fn wrong_dtype(name: &str, model: &str) -> FfiError {
    ffi_err(
        FkStatus::FK_ERR_INVALID_ARGUMENT,
        format!(
            "{name}: the model holds {model} weights; call the _{} variant",
            if model == "float32" { "f32" } else { "f64" }
        ),
    )
}
impl Pick for f64 {
    const DTYPE: &'static str = "float64";
    fn pick<'a>(m: &'a AnyMlp, name: &str) -> Result<&'a Mlp<f64>, FfiError> {
        match m {
            AnyMlp::F64(m) => Ok(m),
            AnyMlp::F32(_) => Err(wrong_dtype(name, "float32")),
        }
    }
}
impl Pick for f32 {
    const DTYPE: &'static str = "float32";
    fn pick<'a>(m: &'a AnyMlp, name: &str) -> Result<&'a Mlp<f32>, FfiError> {
        match m {
            AnyMlp::F32(m) => Ok(m),
            AnyMlp::F64(_) => Err(wrong_dtype(name, "float64")),
        }
    }
}

/// scikit-learn's input check (`check_array`, `ensure_all_finite=True`): NaN or
/// infinity in `x` is an error, `FK_ERR_NON_FINITE`, whose message starts with
/// scikit-learn's sentence ("Input X contains NaN." / "Input X contains
/// infinity or a value too large for dtype('float64')."). One pass, which the
/// compiler vectorizes: `v * 0` is 0 for every finite `v` and NaN otherwise.
fn check_finite<T: Copy + Into<f64>>(
    name: &str,
    x: &[T],
    n_features: usize,
    dtype: &str,
) -> Result<(), FfiError> {
    // Eight independent sums (lanes): the compiler vectorizes them (one long
    // chain of dependent adds would not be, as float addition is not associative).
    let mut lanes = [0.0f64; 8];
    let chunks = x.chunks_exact(8);
    let mut acc = chunks
        .remainder()
        .iter()
        .fold(0.0, |a, &v| a + v.into() * 0.0);
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += v.into() * 0.0;
        }
    }
    acc += lanes.iter().sum::<f64>();
    if acc == 0.0 {
        return Ok(());
    }
    let first = |bad: fn(f64) -> bool| x.iter().position(|&v| bad(v.into()));
    let (what, at) = match first(f64::is_nan) {
        Some(i) => ("NaN".to_string(), i),
        None => (
            format!("infinity or a value too large for dtype('{dtype}')"),
            first(f64::is_infinite).unwrap_or(0),
        ),
    };
    Err(ffi_err(
        FkStatus::FK_ERR_NON_FINITE,
        format!(
            "Input X contains {what}.\n{name}: x[{}, {}] is {}; the MLP does not accept \
             missing or infinite values (impute them first, e.g. with \
             sklearn.impute.SimpleImputer)",
            at / n_features.max(1),
            at % n_features.max(1),
            x[at].into()
        ),
    ))
}

#[allow(clippy::too_many_arguments)]
unsafe fn predict_body<T: Pick, O: Copy>(
    name: &'static str,
    model: *const FkMlp,
    x: *const T,
    n_samples: usize,
    n_features: usize,
    out: *mut O,
    n_out: usize,
    f: impl FnOnce(&Mlp<T>, &[T], &mut [O]) -> ferrokit_core::Result<()>,
) -> FkStatus {
    guard(|| {
        // SAFETY: forwarded from the export's contract.
        let m = unsafe { handle(model, name)? };
        let m = T::pick(&m.model, name)?;
        if n_features != m.n_features() {
            return Err(ffi_err(
                FkStatus::FK_ERR_LENGTH_MISMATCH,
                format!(
                    "{name}: x has {n_features} features, the model expects {}",
                    m.n_features()
                ),
            ));
        }
        let nx = dims(name, n_samples, n_features)?;
        if overlap(
            x.cast::<u8>(),
            nx * std::mem::size_of::<T>(),
            out.cast_const().cast::<u8>(),
            n_out * std::mem::size_of::<O>(),
        ) != Overlap::Disjoint
        {
            return Err(ffi_err(
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
        check_finite(name, xs, n_features, T::DTYPE)?;
        f(m, xs, o)?;
        Ok(())
    })
}

/// The network output after the output activation, `n_samples x n_outputs`
/// doubles into `out`: regression values for a regressor, the logistic /
/// softmax outputs for a classifier. `x` is `n_samples x n_features`
/// row-major. A float32 model gives `FK_ERR_INVALID_ARGUMENT` (use `_f32`).
/// Like scikit-learn, NaN or infinity anywhere in `x` gives
/// `FK_ERR_NON_FINITE` (message "Input X contains NaN." / "... infinity ...")
/// and nothing is written; this holds for every `fk_mlp_predict*` function.
///
/// # Safety
/// `model` must be a live handle; `x` / `out` valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_predict_f64(
    model: *const FkMlp,
    x: *const f64,
    n_samples: usize,
    n_features: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        predict_body(
            "fk_mlp_predict_f64",
            model,
            x,
            n_samples,
            n_features,
            out,
            n_out,
            |m, x, o| m.forward(x, n_samples, n_features, o),
        )
    }
}

/// Float32 version of `fk_mlp_predict_f64` (float32 models).
///
/// # Safety
/// As `fk_mlp_predict_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_predict_f32(
    model: *const FkMlp,
    x: *const f32,
    n_samples: usize,
    n_features: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        predict_body(
            "fk_mlp_predict_f32",
            model,
            x,
            n_samples,
            n_features,
            out,
            n_out,
            |m, x, o| m.forward(x, n_samples, n_features, o),
        )
    }
}

/// Class probabilities like scikit-learn's `predict_proba`:
/// `n_samples x n_proba_columns` (a binary classifier gives `[1 - p, p]`).
/// A regressor gives `FK_ERR_INVALID_STATE`.
///
/// # Safety
/// As `fk_mlp_predict_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_predict_proba_f64(
    model: *const FkMlp,
    x: *const f64,
    n_samples: usize,
    n_features: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        predict_body(
            "fk_mlp_predict_proba_f64",
            model,
            x,
            n_samples,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_proba(x, n_samples, n_features, o),
        )
    }
}

/// Float32 version of `fk_mlp_predict_proba_f64`.
///
/// # Safety
/// As `fk_mlp_predict_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_predict_proba_f32(
    model: *const FkMlp,
    x: *const f32,
    n_samples: usize,
    n_features: usize,
    out: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        predict_body(
            "fk_mlp_predict_proba_f32",
            model,
            x,
            n_samples,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_proba(x, n_samples, n_features, o),
        )
    }
}

/// Predicted classes as label indices (`n_samples` values; binary: `p > 0.5`,
/// multiclass: first argmax), or for a multilabel model the 0/1 indicator
/// matrix (`n_samples x n_outputs`). A regressor gives `FK_ERR_INVALID_STATE`.
///
/// # Safety
/// As `fk_mlp_predict_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_predict_class_f64(
    model: *const FkMlp,
    x: *const f64,
    n_samples: usize,
    n_features: usize,
    out: *mut i64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        predict_body(
            "fk_mlp_predict_class_f64",
            model,
            x,
            n_samples,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_class(x, n_samples, n_features, o),
        )
    }
}

/// Float32 version of `fk_mlp_predict_class_f64`.
///
/// # Safety
/// As `fk_mlp_predict_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_mlp_predict_class_f32(
    model: *const FkMlp,
    x: *const f32,
    n_samples: usize,
    n_features: usize,
    out: *mut i64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract.
    unsafe {
        predict_body(
            "fk_mlp_predict_class_f32",
            model,
            x,
            n_samples,
            n_features,
            out,
            n_out,
            |m, x, o| m.predict_class(x, n_samples, n_features, o),
        )
    }
}

// The C codes are the core enums' discriminants.
const _: () = {
    assert!(Task::Regressor as i32 == FK_MLP_REGRESSOR);
    assert!(Task::Classifier as i32 == FK_MLP_CLASSIFIER);
    assert!(Task::Multilabel as i32 == FK_MLP_MULTILABEL);
    assert!(Activation::Identity as i32 == FK_ACT_IDENTITY);
    assert!(Activation::Relu as i32 == FK_ACT_RELU);
    assert!(Activation::Sigmoid as i32 == FK_ACT_SIGMOID);
    assert!(Activation::Tanh as i32 == FK_ACT_TANH);
    assert!(Activation::Gelu as i32 == FK_ACT_GELU);
    assert!(Activation::GeluTanh as i32 == FK_ACT_GELU_TANH);
    assert!(Activation::Silu as i32 == FK_ACT_SILU);
    assert!(Activation::Softmax as i32 == FK_ACT_SOFTMAX);
};
