//! Element-wise activations and row-wise softmax / log-softmax / layer norm /
//! RMS norm. Loops are written over fixed-width lane arrays so LLVM vectorizes
//! them; each is compiled per SIMD level. The element-wise and row kernels use
//! `multiversion_fma!`: the AVX2 / AVX-512 copies evaluate exp / tanh / erfc
//! with fused multiply-adds, the baseline copy without (see `math.rs`), so
//! results may differ in the last bit between SIMD levels. They never depend
//! on the thread count (each element / row is computed by the same code
//! whichever block it falls in) and are the same on every run on one CPU.

// `v != v` is the NaN test of the generic `Float` (no `is_nan` there).
#![allow(clippy::eq_op)]

use super::math::*;
use crate::float::{halving_sum, Float};
use crate::simd::softmax_exp::exp_shifted_sum_f32;
use crate::simd::stream::{scale_stream_f32, scale_stream_f64, store_fence};
use crate::{multiversion, multiversion_fma};

/// Independent accumulators per row reduction.
pub(crate) const LANES: usize = 16;

/// An activation function, with its C ABI code (`FK_ACT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Activation {
    /// `x`
    Identity = 0,
    /// `max(x, 0)` (NaN stays NaN, like `numpy.maximum`)
    Relu = 1,
    /// `1 / (1 + e^-x)` (scikit-learn's "logistic")
    Sigmoid = 2,
    /// `tanh(x)`
    Tanh = 3,
    /// `x Φ(x)` with the exact erf form
    Gelu = 4,
    /// GELU, tanh approximation
    GeluTanh = 5,
    /// `x σ(x)` (a.k.a. swish)
    Silu = 6,
    /// Row-wise softmax (only as the activation of a linear layer / MLP output).
    Softmax = 7,
}

impl Activation {
    /// The activation with C code `code`, if any.
    pub fn from_code(code: i32) -> Option<Activation> {
        Some(match code {
            0 => Activation::Identity,
            1 => Activation::Relu,
            2 => Activation::Sigmoid,
            3 => Activation::Tanh,
            4 => Activation::Gelu,
            5 => Activation::GeluTanh,
            6 => Activation::Silu,
            7 => Activation::Softmax,
            _ => return None,
        })
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::GeluTanh => "gelu_tanh",
            Activation::Silu => "silu",
            Activation::Softmax => "softmax",
        }
    }
}

/// Scalar maths per element type (all `#[inline(always)]`, branch-free).
pub trait VMath: Float {
    const ONE: Self;
    fn from_f64(v: f64) -> Self;
    fn vexp<const FMA: bool>(self) -> Self;
    /// `e^x` for `x <= 0` (subnormal results flushed to 0).
    fn vexp_neg<const FMA: bool>(self) -> Self;
    /// `e^(x + dx)` for `x <= 0` and a rounding-size `dx`.
    fn vexp_neg_adj<const FMA: bool>(self, dx: Self) -> Self;
    fn vtanh<const FMA: bool>(self) -> Self;
    fn vsigmoid<const FMA: bool>(self) -> Self;
    fn vgelu<const FMA: bool>(self) -> Self;
    fn vgelu_tanh<const FMA: bool>(self) -> Self;
    fn ln(self) -> Self;
    /// Row reductions, dispatched as separate functions: inlined into the big
    /// row kernels, LLVM's SLP vectorizer gives up on their lane arrays.
    fn rmax(x: &[Self]) -> Self;
    fn rsum64(x: &[Self], shift: f64, square: bool) -> f64;
    /// `out = x * s`, with streaming stores when `stream`.
    fn scale_into(x: &[Self], out: &mut [Self], s: Self, stream: bool);
    /// `e = exp(x - m)` and its sum by a dedicated SIMD kernel, if this type
    /// and CPU have one (`None`: use the portable loop).
    fn exp_shifted_sum_simd(x: &[Self], m: Self, e: &mut [Self]) -> Option<Self>;
}

impl VMath for f64 {
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn from_f64(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn vexp<const FMA: bool>(self) -> f64 {
        exp_f64::<FMA>(self)
    }
    #[inline(always)]
    fn vexp_neg<const FMA: bool>(self) -> f64 {
        exp_neg_f64::<FMA>(self)
    }
    #[inline(always)]
    fn vexp_neg_adj<const FMA: bool>(self, dx: f64) -> f64 {
        exp_neg_adj_f64::<FMA>(self, dx)
    }
    #[inline(always)]
    fn vtanh<const FMA: bool>(self) -> f64 {
        tanh_f64::<FMA>(self)
    }
    #[inline(always)]
    fn vsigmoid<const FMA: bool>(self) -> f64 {
        sigmoid_f64::<FMA>(self)
    }
    #[inline(always)]
    fn vgelu<const FMA: bool>(self) -> f64 {
        gelu_f64::<FMA>(self)
    }
    #[inline(always)]
    fn vgelu_tanh<const FMA: bool>(self) -> f64 {
        gelu_tanh_f64::<FMA>(self)
    }
    #[inline(always)]
    fn ln(self) -> f64 {
        f64::ln(self)
    }
    fn rmax(x: &[f64]) -> f64 {
        row_max_f64(x)
    }
    fn rsum64(x: &[f64], shift: f64, square: bool) -> f64 {
        row_sum64_f64(x, shift, square)
    }
    #[inline(always)]
    fn scale_into(x: &[f64], out: &mut [f64], s: f64, stream: bool) {
        if stream {
            scale_stream_f64(x, out, s)
        } else {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = v * s;
            }
        }
    }
    #[inline(always)]
    fn exp_shifted_sum_simd(_x: &[f64], _m: f64, _e: &mut [f64]) -> Option<f64> {
        None
    }
}

impl VMath for f32 {
    const ONE: f32 = 1.0;
    #[inline(always)]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn vexp<const FMA: bool>(self) -> f32 {
        exp_f32::<FMA>(self)
    }
    #[inline(always)]
    fn vexp_neg<const FMA: bool>(self) -> f32 {
        exp_neg_f32::<FMA>(self)
    }
    #[inline(always)]
    fn vexp_neg_adj<const FMA: bool>(self, dx: f32) -> f32 {
        exp_neg_adj_f32::<FMA>(self, dx)
    }
    #[inline(always)]
    fn vtanh<const FMA: bool>(self) -> f32 {
        tanh_f32::<FMA>(self)
    }
    #[inline(always)]
    fn vsigmoid<const FMA: bool>(self) -> f32 {
        sigmoid_f32::<FMA>(self)
    }
    #[inline(always)]
    fn vgelu<const FMA: bool>(self) -> f32 {
        // The erf form in f64 (then rounded): f32 error bounds for erfc are poor.
        gelu_f64::<FMA>(self as f64) as f32
    }
    #[inline(always)]
    fn vgelu_tanh<const FMA: bool>(self) -> f32 {
        // In f64: the inner polynomial u(x) is large for |x| >~ 5 and its f32
        // rounding error would be amplified by the exponential.
        gelu_tanh_f64::<FMA>(self as f64) as f32
    }
    #[inline(always)]
    fn ln(self) -> f32 {
        f32::ln(self)
    }
    fn rmax(x: &[f32]) -> f32 {
        row_max_f32(x)
    }
    fn rsum64(x: &[f32], shift: f64, square: bool) -> f64 {
        row_sum64_f32(x, shift, square)
    }
    #[inline(always)]
    fn scale_into(x: &[f32], out: &mut [f32], s: f32, stream: bool) {
        if stream {
            scale_stream_f32(x, out, s)
        } else {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = v * s;
            }
        }
    }
    #[inline(always)]
    fn exp_shifted_sum_simd(x: &[f32], m: f32, e: &mut [f32]) -> Option<f32> {
        exp_shifted_sum_f32(x, m, e)
    }
}

#[inline(always)]
fn relu<T: VMath>(v: T) -> T {
    // `!(v <= 0)` keeps NaN (numpy.maximum propagates NaN).
    if v <= T::ZERO {
        T::ZERO
    } else {
        v
    }
}

/// `out[i] = act(x[i])` (softmax is not element-wise and is rejected by callers).
///
/// Plain `for` loops, not `for_each`: a large closure passed to `fold` may be
/// outlined into a function compiled without the caller's target features.
#[inline(always)]
fn unary_body<T: VMath, const FMA: bool>(act: Activation, x: &[T], out: &mut [T]) {
    let out = &mut out[..x.len()];
    macro_rules! map {
        (|$v:ident| $e:expr) => {
            for (o, &$v) in out.iter_mut().zip(x) {
                *o = $e;
            }
        };
    }
    match act {
        Activation::Identity | Activation::Softmax => out.copy_from_slice(x),
        Activation::Relu => map!(|v| relu(v)),
        Activation::Sigmoid => map!(|v| v.vsigmoid::<FMA>()),
        Activation::Tanh => map!(|v| v.vtanh::<FMA>()),
        Activation::Gelu => map!(|v| v.vgelu::<FMA>()),
        Activation::GeluTanh => map!(|v| v.vgelu_tanh::<FMA>()),
        Activation::Silu => map!(|v| v * v.vsigmoid::<FMA>()),
    }
}

/// In place, through an L1-sized scratch buffer (one kernel body serves both).
#[inline(always)]
fn unary_inplace_body<T: VMath, const FMA: bool>(act: Activation, x: &mut [T]) {
    const CHUNK: usize = 512;
    let mut tmp = [T::ZERO; CHUNK];
    for c in x.chunks_mut(CHUNK) {
        let t = &mut tmp[..c.len()];
        t.copy_from_slice(c);
        unary_body::<T, FMA>(act, t, c);
    }
}

/// Lanes of the row reductions (32 f32 = two zmm registers).
const RLANES: usize = 32;

/// Maximum of the non-NaN values of a row (-inf if none). A NaN needs no
/// special case here: it makes `exp(x - max)` and hence the row sum NaN, so
/// softmax / log-softmax of that row come out NaN, as numpy's formula gives.
#[inline(always)]
fn row_max<T: VMath>(x: &[T]) -> T {
    let mut m = [T::NEG_INFINITY; RLANES];
    let chunks = x.chunks_exact(RLANES);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..RLANES {
            let v = c[j];
            m[j] = if v > m[j] { v } else { m[j] };
        }
    }
    let mut mx = T::NEG_INFINITY;
    for &v in rest {
        mx = if v > mx { v } else { mx };
    }
    for v in m {
        mx = if v > mx { v } else { mx };
    }
    mx
}

/// `e^(v - m)` with the exact rounding error of `v - m` folded into exp's
/// reduced argument.
///
/// `v - m` is rounded, and exp turns an absolute error of the argument into a
/// relative error of the result (|v - m| · ulp): the two-difference recovers
/// that error exactly, so tiny probabilities keep full relative accuracy.
/// NaN/inf in the row give NaN or a flushed 0, as numpy's formula gives.
#[inline(always)]
fn exp_shifted<T: VMath, const FMA: bool>(v: T, m: T) -> T {
    let d = v - m;
    let back = d + m;
    let err = (v - back) - (m - (back - d));
    d.vexp_neg_adj::<FMA>(err)
}

/// `e = exp(x - m)` and its sum in `RLANES` accumulators (the portable loop).
#[inline(always)]
fn exp_shifted_sum<T: VMath, const FMA: bool>(x: &[T], m: T, e: &mut [T]) -> T {
    let mut acc = [T::ZERO; RLANES];
    let (xc, xt) = x.as_chunks::<RLANES>();
    let (ec, et) = e[..x.len()].as_chunks_mut::<RLANES>();
    for (o, c) in ec.iter_mut().zip(xc) {
        for j in 0..RLANES {
            let v = exp_shifted::<T, FMA>(c[j], m);
            o[j] = v;
            acc[j] = acc[j] + v;
        }
    }
    let mut tail = T::ZERO;
    for (o, &v) in et.iter_mut().zip(xt) {
        let v = exp_shifted::<T, FMA>(v, m);
        *o = v;
        tail = tail + v;
    }
    halving_sum(acc) + tail
}

/// Softmax (or log-softmax) of one row. One pass finds the max; a second
/// computes `e^(x - max)` into `scratch` (one row, stays in L1) and sums it in
/// `RLANES` accumulators on the way; a third writes `scratch * (1/sum)` to
/// `out`, with streaming stores when `stream` (so the output is written
/// without first being read). Log-softmax needs only the sum:
/// `out = (x - max) - ln(sum)`.
#[inline(always)]
fn softmax_row_body<T: VMath, const FMA: bool>(
    x: &[T],
    out: &mut [T],
    log: bool,
    scratch: &mut [T],
    stream: bool,
) {
    let n = x.len();
    let out = &mut out[..n];
    let e = &mut scratch[..n];
    let m = T::rmax(x);
    let s = match T::exp_shifted_sum_simd(x, m, e) {
        Some(s) => s,
        None => exp_shifted_sum::<T, FMA>(x, m, e),
    };
    if log {
        let l = s.ln();
        for (o, &v) in out.iter_mut().zip(x) {
            *o = (v - m) - l;
        }
    } else {
        T::scale_into(e, out, T::ONE / s, stream);
    }
}

/// Sum of a row in f64 lanes.
#[inline(always)]
fn row_sum_f64<T: VMath>(x: &[T], shift: f64, square: bool) -> f64 {
    let mut acc = [0.0f64; LANES];
    let (chunks, rest) = x.as_chunks::<LANES>();
    for c in chunks {
        for j in 0..LANES {
            let d = c[j].to_f64() - shift;
            acc[j] += if square { d * d } else { d };
        }
    }
    let mut tail = 0.0;
    for &v in rest {
        let d = v.to_f64() - shift;
        tail += if square { d * d } else { d };
    }
    acc[0] += tail;
    halving_sum(acc)
}

/// Layer norm of one row: mean and variance in f64 (two passes), then
/// `(x - mean) * rstd * w + b` written in one pass.
#[inline(always)]
fn layer_norm_row_body<T: VMath>(
    x: &[T],
    w: Option<&[T]>,
    b: Option<&[T]>,
    eps: f64,
    out: &mut [T],
) {
    let n = x.len();
    let out = &mut out[..n];
    if n == 0 {
        return;
    }
    let mean = T::rsum64(x, 0.0, false) / n as f64;
    let var = T::rsum64(x, mean, true) / n as f64;
    let rstd = 1.0 / (var + eps).sqrt();
    match (w, b) {
        (None, None) => {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = T::from_f64((v.to_f64() - mean) * rstd);
            }
        }
        (Some(w), None) => {
            for ((o, &v), &wv) in out.iter_mut().zip(x).zip(&w[..n]) {
                *o = T::from_f64((v.to_f64() - mean) * rstd * wv.to_f64());
            }
        }
        (None, Some(b)) => {
            for ((o, &v), &bv) in out.iter_mut().zip(x).zip(&b[..n]) {
                *o = T::from_f64((v.to_f64() - mean) * rstd + bv.to_f64());
            }
        }
        (Some(w), Some(b)) => {
            for (((o, &v), &wv), &bv) in out.iter_mut().zip(x).zip(&w[..n]).zip(&b[..n]) {
                *o = T::from_f64((v.to_f64() - mean) * rstd * wv.to_f64() + bv.to_f64());
            }
        }
    }
}

/// RMS norm of one row: `x / sqrt(mean(x^2) + eps) * w` (statistic in f64).
#[inline(always)]
fn rms_norm_row_body<T: VMath>(x: &[T], w: Option<&[T]>, eps: f64, out: &mut [T]) {
    let n = x.len();
    let out = &mut out[..n];
    if n == 0 {
        return;
    }
    let ms = T::rsum64(x, 0.0, true) / n as f64;
    let r = 1.0 / (ms + eps).sqrt();
    match w {
        None => {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = T::from_f64(v.to_f64() * r);
            }
        }
        Some(w) => {
            for ((o, &v), &wv) in out.iter_mut().zip(x).zip(&w[..n]) {
                *o = T::from_f64(v.to_f64() * r * wv.to_f64());
            }
        }
    }
}

/// One row of a row kernel; `scratch` holds at least one row (softmax's
/// exponentials).
#[inline(always)]
fn row_op<T: VMath, const FMA: bool>(
    kind: RowOp<'_, T>,
    xr: &[T],
    or: &mut [T],
    scratch: &mut [T],
    stream: bool,
) {
    match kind {
        RowOp::Softmax => softmax_row_body::<T, FMA>(xr, or, false, scratch, stream),
        RowOp::LogSoftmax => softmax_row_body::<T, FMA>(xr, or, true, scratch, stream),
        RowOp::LayerNorm { w, b, eps } => layer_norm_row_body(xr, w, b, eps, or),
        RowOp::RmsNorm { w, eps } => rms_norm_row_body(xr, w, eps, or),
    }
}

/// Applies a row kernel to the rows of `x` (`cols` elements each) into `out`;
/// `stream`: write the output with streaming stores where the kernel can.
#[inline(always)]
fn rows_body<T: VMath, const FMA: bool>(
    kind: RowOp<'_, T>,
    x: &[T],
    out: &mut [T],
    cols: usize,
    stream: bool,
) {
    if cols == 0 {
        return;
    }
    let mut scratch = vec![T::ZERO; cols];
    for (xr, or) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        row_op::<T, FMA>(kind, xr, or, &mut scratch, stream);
    }
    if stream {
        store_fence();
    }
}

/// In place, each row copied to a scratch row first (`scratch`: two rows).
#[inline(always)]
fn rows_inplace_body<T: VMath, const FMA: bool>(
    kind: RowOp<'_, T>,
    x: &mut [T],
    cols: usize,
    scratch: &mut [T],
) {
    if cols == 0 {
        return;
    }
    let (copy, work) = scratch[..2 * cols].split_at_mut(cols);
    for xr in x.chunks_exact_mut(cols) {
        copy.copy_from_slice(xr);
        row_op::<T, FMA>(kind, copy, xr, work, false);
    }
}

/// Which row kernel to run, with its parameters.
#[derive(Clone, Copy)]
pub enum RowOp<'a, T> {
    Softmax,
    LogSoftmax,
    LayerNorm {
        w: Option<&'a [T]>,
        b: Option<&'a [T]>,
        eps: f64,
    },
    RmsNorm {
        w: Option<&'a [T]>,
        eps: f64,
    },
}

/// Rows of `x` up to which a dense layer uses [`small_matmul_body`] instead of gemm.
pub const SMALL_M: usize = 8;

/// `out (m×n) [+]= x (m×k) · W` for a handful of rows (latency path: no
/// packing). `inout`: W is `(k, n)` and each row is a sum of scaled rows of W
/// (axpy, vectorized along n); else W is `(n, k)` and each output a dot
/// product in `LANES` accumulators.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn small_matmul_body<T: VMath>(
    x: &[T],
    m: usize,
    k: usize,
    w: &[T],
    n: usize,
    inout: bool,
    out: &mut [T],
    accumulate: bool,
) {
    if n == 0 {
        return;
    }
    for (i, orow) in out[..m * n].chunks_exact_mut(n).enumerate() {
        if !accumulate {
            orow.fill(T::ZERO);
        }
        let xr = &x[i * k..(i + 1) * k];
        if inout {
            // Four rows of W per pass over the output row: one load/store of
            // the output per four multiply-adds.
            let mut p = 0;
            while p + 4 <= k {
                let (x0, x1, x2, x3) = (xr[p], xr[p + 1], xr[p + 2], xr[p + 3]);
                let w0 = &w[p * n..(p + 1) * n];
                let w1 = &w[(p + 1) * n..(p + 2) * n];
                let w2 = &w[(p + 2) * n..(p + 3) * n];
                let w3 = &w[(p + 3) * n..(p + 4) * n];
                for ((((o, &a), &b), &c), &d) in orow.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3) {
                    *o = *o + ((x0 * a + x1 * b) + (x2 * c + x3 * d));
                }
                p += 4;
            }
            while p < k {
                let xv = xr[p];
                let wr = &w[p * n..(p + 1) * n];
                for (o, &wv) in orow.iter_mut().zip(wr) {
                    *o = *o + xv * wv;
                }
                p += 1;
            }
        } else {
            for (j, o) in orow.iter_mut().enumerate() {
                let wr = &w[j * k..(j + 1) * k];
                let mut acc = [T::ZERO; LANES];
                let (xc, xt) = xr.as_chunks::<LANES>();
                let (wc, wt) = wr.as_chunks::<LANES>();
                for (a, b) in xc.iter().zip(wc) {
                    for l in 0..LANES {
                        acc[l] = acc[l] + a[l] * b[l];
                    }
                }
                let mut tail = T::ZERO;
                for (&a, &b) in xt.iter().zip(wt) {
                    tail = tail + a * b;
                }
                acc[0] = acc[0] + tail;
                *o = *o + halving_sum(acc);
            }
        }
    }
}

multiversion! {
    #[inline(never)]
    fn row_max_f64(x: &[f64]) -> f64 = row_max::<f64>;
}
multiversion! {
    #[inline(never)]
    fn row_max_f32(x: &[f32]) -> f32 = row_max::<f32>;
}
multiversion! {
    #[inline(never)]
    fn row_sum64_f64(x: &[f64], shift: f64, square: bool) -> f64 = row_sum_f64::<f64>;
}
multiversion! {
    #[inline(never)]
    fn row_sum64_f32(x: &[f32], shift: f64, square: bool) -> f64 = row_sum_f64::<f32>;
}
multiversion_fma! {
    fn unary_f64(act: Activation, x: &[f64], out: &mut [f64]) -> () = unary_body::<f64>;
}
multiversion_fma! {
    fn unary_f32(act: Activation, x: &[f32], out: &mut [f32]) -> () = unary_body::<f32>;
}
multiversion_fma! {
    fn unary_inplace_f64(act: Activation, x: &mut [f64]) -> () = unary_inplace_body::<f64>;
}
multiversion_fma! {
    fn unary_inplace_f32(act: Activation, x: &mut [f32]) -> () = unary_inplace_body::<f32>;
}
multiversion_fma! {
    fn rows_f64(kind: RowOp<'_, f64>, x: &[f64], out: &mut [f64], cols: usize, stream: bool) -> () = rows_body::<f64>;
}
multiversion_fma! {
    fn rows_f32(kind: RowOp<'_, f32>, x: &[f32], out: &mut [f32], cols: usize, stream: bool) -> () = rows_body::<f32>;
}
multiversion_fma! {
    fn rows_inplace_f64(kind: RowOp<'_, f64>, x: &mut [f64], cols: usize, scratch: &mut [f64]) -> () = rows_inplace_body::<f64>;
}
multiversion_fma! {
    fn rows_inplace_f32(kind: RowOp<'_, f32>, x: &mut [f32], cols: usize, scratch: &mut [f32]) -> () = rows_inplace_body::<f32>;
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn small_matmul_f64(x: &[f64], m: usize, k: usize, w: &[f64], n: usize, inout: bool, out: &mut [f64], accumulate: bool) -> () = small_matmul_body::<f64>;
}
multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn small_matmul_f32(x: &[f32], m: usize, k: usize, w: &[f32], n: usize, inout: bool, out: &mut [f32], accumulate: bool) -> () = small_matmul_body::<f32>;
}

/// Body of [`NnFloat::bias_relu`]: one pass, each element `s = v + b`, then
/// relu as the activation kernel computes it (`s <= 0` gives +0, NaN stays).
#[inline(always)]
fn bias_relu_body<T: VMath>(seg: &mut [T], bias: &[T], relu: bool) {
    let width = bias.len();
    if width == 0 {
        return;
    }
    if relu {
        for row in seg.chunks_exact_mut(width) {
            for (o, &b) in row.iter_mut().zip(bias) {
                let s = *o + b;
                *o = if s <= T::ZERO { T::ZERO } else { s };
            }
        }
    } else {
        for row in seg.chunks_exact_mut(width) {
            for (o, &b) in row.iter_mut().zip(bias) {
                *o = *o + b;
            }
        }
    }
}
multiversion! {
    fn bias_relu_f64(seg: &mut [f64], bias: &[f64], relu: bool) -> () = bias_relu_body::<f64>;
}
multiversion! {
    fn bias_relu_f32(seg: &mut [f32], bias: &[f32], relu: bool) -> () = bias_relu_body::<f32>;
}

/// Element types of the nn kernels (f32, f64) with their dispatched kernels.
pub trait NnFloat: VMath {
    #[doc(hidden)]
    fn unary(act: Activation, x: &[Self], out: &mut [Self]);
    #[doc(hidden)]
    fn unary_inplace(act: Activation, x: &mut [Self]);
    #[doc(hidden)]
    fn rows(kind: RowOp<'_, Self>, x: &[Self], out: &mut [Self], cols: usize, stream: bool);
    #[doc(hidden)]
    fn rows_inplace(kind: RowOp<'_, Self>, x: &mut [Self], cols: usize, scratch: &mut [Self]);
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    fn small_matmul(
        x: &[Self],
        m: usize,
        k: usize,
        w: &[Self],
        n: usize,
        inout: bool,
        out: &mut [Self],
        accumulate: bool,
    );
    /// `seg[r][j] += bias[j]` for the rows of `bias.len()` elements in `seg`,
    /// then relu when `relu` (the epilogue of a gemm block).
    #[doc(hidden)]
    fn bias_relu(seg: &mut [Self], bias: &[Self], relu: bool);
    /// "float32" / "float64".
    const NAME: &'static str;
}

macro_rules! impl_nn_float {
    ($t:ty, $u:ident, $ui:ident, $r:ident, $ri:ident, $sm:ident, $br:ident, $name:literal) => {
        impl NnFloat for $t {
            fn bias_relu(seg: &mut [$t], bias: &[$t], relu: bool) {
                $br(seg, bias, relu)
            }
            fn small_matmul(
                x: &[$t],
                m: usize,
                k: usize,
                w: &[$t],
                n: usize,
                inout: bool,
                out: &mut [$t],
                accumulate: bool,
            ) {
                $sm(x, m, k, w, n, inout, out, accumulate)
            }
            fn unary(act: Activation, x: &[$t], out: &mut [$t]) {
                $u(act, x, out)
            }
            fn unary_inplace(act: Activation, x: &mut [$t]) {
                $ui(act, x)
            }
            fn rows(kind: RowOp<'_, $t>, x: &[$t], out: &mut [$t], cols: usize, stream: bool) {
                $r(kind, x, out, cols, stream)
            }
            fn rows_inplace(kind: RowOp<'_, $t>, x: &mut [$t], cols: usize, scratch: &mut [$t]) {
                $ri(kind, x, cols, scratch)
            }
            const NAME: &'static str = $name;
        }
    };
}
impl_nn_float!(
    f64,
    unary_f64,
    unary_inplace_f64,
    rows_f64,
    rows_inplace_f64,
    small_matmul_f64,
    bias_relu_f64,
    "float64"
);
impl_nn_float!(
    f32,
    unary_f32,
    unary_inplace_f32,
    rows_f32,
    rows_inplace_f32,
    small_matmul_f32,
    bias_relu_f32,
    "float32"
);
