//! Column statistics and the scaler transforms (issue 4).
//!
//! Matrices are `rows x cols` buffers in C order (`layout = FK_LAYOUT_C`, rows
//! contiguous) or Fortran order (`FK_LAYOUT_F`, columns contiguous). Packed
//! statistics are `FK_COLSTATS_FIELDS * cols` doubles: the rows count,
//! nan_count, sum, m2, min, max, sum_abs, sum_sq, each `cols` long. All
//! functions are thread-safe (they only touch the buffers passed in) and give
//! bit-identical results for any thread count.
//!
//! Exports are spelled out per dtype (cbindgen does not expand macros); each is
//! a one-line call of a generic body below.

use crate::boundary::{guard, FfiError};
use crate::slices::{in_slice, out_ref, out_slice, overlap, Arg, Overlap};
use crate::status::FkStatus;
use ferrokit_core::matrix::{Layout, MatRef};
use ferrokit_core::stats::argext::col_argminmax;
use ferrokit_core::stats::minmax::{col_minmax, MinMaxElement};
use ferrokit_core::stats::transform::{affine, normalize_rows, Affine, Norm, TransformElement};
use ferrokit_core::stats::{col_stats, ColStats, StatsElement, FIELDS};

/// Number of fields (rows) of a packed statistics buffer (`FK_COLSTATS_FIELDS * cols` doubles).
pub const FK_COLSTATS_FIELDS: usize = 8;
/// `layout` value: C order (row-major).
pub const FK_LAYOUT_C: i32 = 0;
/// `layout` value: Fortran order (column-major).
pub const FK_LAYOUT_F: i32 = 1;
/// `norm` value of `fk_normalize_rows_*`: sum of absolute values.
pub const FK_NORM_L1: i32 = 0;
/// `norm` value: Euclidean norm.
pub const FK_NORM_L2: i32 = 1;
/// `norm` value: maximum absolute value.
pub const FK_NORM_MAX: i32 = 2;

const _: () = assert!(FK_COLSTATS_FIELDS == FIELDS);

fn invalid(msg: String) -> FfiError {
    FfiError::new(FkStatus::FK_ERR_INVALID_ARGUMENT, msg)
}

fn layout(name: &str, l: i32) -> Result<Layout, FfiError> {
    match l {
        FK_LAYOUT_C => Ok(Layout::RowMajor),
        FK_LAYOUT_F => Ok(Layout::ColMajor),
        _ => Err(invalid(format!(
            "{name}: layout must be FK_LAYOUT_C (0) or FK_LAYOUT_F (1), got {l}"
        ))),
    }
}

fn elements(name: &str, rows: usize, cols: usize) -> Result<usize, FfiError> {
    rows.checked_mul(cols).ok_or_else(|| {
        FfiError::new(
            FkStatus::FK_ERR_TOO_LARGE,
            format!("{name}: rows * cols overflows ({rows} x {cols})"),
        )
    })
}

fn len_check(name: &str, arg: &str, got: usize, want: usize) -> Result<(), FfiError> {
    if got != want {
        return Err(FfiError::new(
            FkStatus::FK_ERR_LENGTH_MISMATCH,
            format!("{name}: {arg} has {got} elements, expected {want}"),
        ));
    }
    Ok(())
}

/// Fails unless the byte ranges are disjoint.
fn disjoint<A, B>(
    name: &str,
    a: *const A,
    na: usize,
    b: *const B,
    nb: usize,
) -> Result<(), FfiError> {
    let sa = na.saturating_mul(std::mem::size_of::<A>());
    let sb = nb.saturating_mul(std::mem::size_of::<B>());
    if overlap(a.cast::<u8>(), sa, b.cast::<u8>(), sb) != Overlap::Disjoint {
        return Err(FfiError::new(
            FkStatus::FK_ERR_ALIASING,
            format!("{name}: an output buffer overlaps an input buffer"),
        ));
    }
    Ok(())
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn colstats_body<T: StatsElement>(
    name: &'static str,
    x: *const T,
    rows: usize,
    cols: usize,
    lay: i32,
    w: *const T,
    n_w: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let lay = layout(name, lay)?;
        let n = elements(name, rows, cols)?;
        len_check(name, "out", n_out, FIELDS.saturating_mul(cols))?;
        if !w.is_null() {
            len_check(name, "w", n_w, rows)?;
        }
        disjoint(name, x, n, out.cast_const(), n_out)?;
        disjoint(name, w, n_w, out.cast_const(), n_out)?;
        // SAFETY: forwarded from the export's contract; `out` is disjoint from
        // the inputs (checked above).
        let (xs, ws, os) = unsafe {
            (
                in_slice(x, n, Arg(name, "x"))?,
                if w.is_null() {
                    None
                } else {
                    Some(in_slice(w, n_w, Arg(name, "w"))?)
                },
                out_slice(out, n_out, Arg(name, "out"))?,
            )
        };
        let s = col_stats(MatRef::new(xs, rows, cols, lay)?, ws)?;
        s.to_packed(os)?;
        Ok(())
    })
}

/// Per-column partial statistics of a float64 `rows x cols` matrix into
/// `out` (`FK_COLSTATS_FIELDS * cols` doubles, see the packed layout above).
/// NaN values are skipped (and counted in nan_count); min/max of a column
/// without values are +inf/-inf. `w` (NULL for none) holds one weight per row
/// (`n_w == rows`): count, sum, m2, sum_abs and sum_sq are then weighted.
/// Combine statistics of several chunks with `fk_colstats_merge`.
///
/// # Safety
/// `x` must point to `rows * cols` readable elements, `w` to `n_w` (or be
/// NULL), `out` to `n_out` writable doubles not overlapping the inputs.
#[no_mangle]
pub unsafe extern "C" fn fk_colstats_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    layout: i32,
    w: *const f64,
    n_w: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { colstats_body("fk_colstats_f64", x, rows, cols, layout, w, n_w, out, n_out) }
}

/// Float32 version of `fk_colstats_f64` (accumulated in float64; the
/// statistics are doubles).
///
/// # Safety
/// As `fk_colstats_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_colstats_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    layout: i32,
    w: *const f32,
    n_w: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe { colstats_body("fk_colstats_f32", x, rows, cols, layout, w, n_w, out, n_out) }
}

const NAME: &str = "fk_colstats_merge";

/// Merges two packed statistics of the same `cols` columns (computed on
/// different rows) into `out`, as if computed on all rows at once (Chan et
/// al.'s pairwise update). All three buffers have `FK_COLSTATS_FIELDS * cols`
/// doubles; `out` must not overlap `a` or `b`.
///
/// # Safety
/// `a`/`b` must point to `n_a`/`n_b` readable doubles, `out` to `n_out`
/// writable ones.
#[no_mangle]
pub unsafe extern "C" fn fk_colstats_merge(
    a: *const f64,
    n_a: usize,
    b: *const f64,
    n_b: usize,
    cols: usize,
    out: *mut f64,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let want = FIELDS.saturating_mul(cols);
        len_check(NAME, "a", n_a, want)?;
        len_check(NAME, "b", n_b, want)?;
        len_check(NAME, "out", n_out, want)?;
        disjoint(NAME, a, n_a, out.cast_const(), n_out)?;
        disjoint(NAME, b, n_b, out.cast_const(), n_out)?;
        // SAFETY: forwarded contract; out is disjoint from a and b.
        let (a, b, o) = unsafe {
            (
                in_slice(a, n_a, Arg(NAME, "a"))?,
                in_slice(b, n_b, Arg(NAME, "b"))?,
                out_slice(out, n_out, Arg(NAME, "out"))?,
            )
        };
        let mut s = ColStats::from_packed(a, cols)?;
        s.merge(&ColStats::from_packed(b, cols)?);
        s.to_packed(o)?;
        Ok(())
    })
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn argext_body<T: StatsElement>(
    name: &'static str,
    x: *const T,
    rows: usize,
    cols: usize,
    lay: i32,
    argmin: *mut usize,
    argmax: *mut usize,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let lay = layout(name, lay)?;
        let n = elements(name, rows, cols)?;
        len_check(name, "argmin/argmax", n_out, cols)?;
        disjoint(name, x, n, argmin.cast_const(), n_out)?;
        disjoint(name, x, n, argmax.cast_const(), n_out)?;
        disjoint(name, argmin.cast_const(), n_out, argmax.cast_const(), n_out)?;
        // SAFETY: forwarded contract; outputs are disjoint from each other and x.
        let (xs, mn, mx) = unsafe {
            (
                in_slice(x, n, Arg(name, "x"))?,
                out_slice(argmin, n_out, Arg(name, "argmin"))?,
                out_slice(argmax, n_out, Arg(name, "argmax"))?,
            )
        };
        let (a, b) = col_argminmax(MatRef::new(xs, rows, cols, lay)?)?;
        mn.copy_from_slice(&a);
        mx.copy_from_slice(&b);
        Ok(())
    })
}

/// Per-column row index of the minimum and maximum of a float64 matrix into
/// `argmin`/`argmax` (`n_out == cols` each). numpy's rules: the first
/// occurrence wins, and a column holding NaN gives the index of its first NaN.
/// `rows == 0` (with `cols > 0`) gives `FK_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `x` must point to `rows * cols` readable elements, `argmin`/`argmax` to
/// `n_out` writable `size_t` each, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn fk_col_argminmax_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    layout: i32,
    argmin: *mut usize,
    argmax: *mut usize,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        argext_body(
            "fk_col_argminmax_f64",
            x,
            rows,
            cols,
            layout,
            argmin,
            argmax,
            n_out,
        )
    }
}

/// Float32 version of `fk_col_argminmax_f64`.
///
/// # Safety
/// As `fk_col_argminmax_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_col_argminmax_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    layout: i32,
    argmin: *mut usize,
    argmax: *mut usize,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        argext_body(
            "fk_col_argminmax_f32",
            x,
            rows,
            cols,
            layout,
            argmin,
            argmax,
            n_out,
        )
    }
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn minmax_body<T: MinMaxElement>(
    name: &'static str,
    x: *const T,
    rows: usize,
    cols: usize,
    lay: i32,
    out_min: *mut T,
    out_max: *mut T,
    n_out: usize,
) -> FkStatus {
    guard(|| {
        let lay = layout(name, lay)?;
        let n = elements(name, rows, cols)?;
        len_check(name, "out_min/out_max", n_out, cols)?;
        disjoint(name, x, n, out_min.cast_const(), n_out)?;
        disjoint(name, x, n, out_max.cast_const(), n_out)?;
        disjoint(
            name,
            out_min.cast_const(),
            n_out,
            out_max.cast_const(),
            n_out,
        )?;
        // SAFETY: forwarded contract; outputs are disjoint from each other and x.
        let (xs, mn, mx) = unsafe {
            (
                in_slice(x, n, Arg(name, "x"))?,
                out_slice(out_min, n_out, Arg(name, "out_min"))?,
                out_slice(out_max, n_out, Arg(name, "out_max"))?,
            )
        };
        let (a, b) = col_minmax(MatRef::new(xs, rows, cols, lay)?);
        mn.copy_from_slice(&a);
        mx.copy_from_slice(&b);
        Ok(())
    })
}

/// Per-column minimum and maximum of a float64 `rows x cols` matrix, NaN
/// ignored, into `out_min`/`out_max` (`n_out == cols` each): the lean pass
/// (two comparisons per value) when only the range is needed. A column
/// without values gives +inf/-inf (so min > max); ±inf in the data shows up
/// as an infinite min or max.
///
/// # Safety
/// `x` must point to `rows * cols` readable elements, `out_min`/`out_max` to
/// `n_out` writable elements each, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn fk_colminmax_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    layout: i32,
    out_min: *mut f64,
    out_max: *mut f64,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        minmax_body(
            "fk_colminmax_f64",
            x,
            rows,
            cols,
            layout,
            out_min,
            out_max,
            n_out,
        )
    }
}

/// Float32 version of `fk_colminmax_f64` (results are floats, exact).
///
/// # Safety
/// As `fk_colminmax_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_colminmax_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    layout: i32,
    out_min: *mut f32,
    out_max: *mut f32,
    n_out: usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        minmax_body(
            "fk_colminmax_f32",
            x,
            rows,
            cols,
            layout,
            out_min,
            out_max,
            n_out,
        )
    }
}

/// Runs `f(dst, src)` with `src = None` when `out` is `x` itself (in place),
/// else with disjoint views; a partial overlap is `FK_ERR_ALIASING`.
///
/// # Safety
/// `x` valid for `n` reads, `out` for `n` writes, nobody else writing them.
unsafe fn with_io<T>(
    name: &'static str,
    x: *const T,
    out: *mut T,
    n: usize,
    f: impl FnOnce(&mut [T], Option<&[T]>) -> Result<(), FfiError>,
) -> Result<(), FfiError> {
    match overlap(x, n, out.cast_const(), n) {
        Overlap::Same => {
            // SAFETY: x and out are one buffer of n elements; only this view exists.
            let o = unsafe { out_slice(out, n, Arg(name, "out"))? };
            f(o, None)
        }
        Overlap::Disjoint => {
            // SAFETY: disjoint buffers: a shared and a mutable view may coexist.
            let (i, o) = unsafe {
                (
                    in_slice(x, n, Arg(name, "x"))?,
                    out_slice(out, n, Arg(name, "out"))?,
                )
            };
            f(o, Some(i))
        }
        Overlap::Partial => Err(FfiError::new(
            FkStatus::FK_ERR_ALIASING,
            format!("{name}: out partially overlaps x (pass the same buffer for in-place)"),
        )),
    }
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn affine_body<T: TransformElement>(
    name: &'static str,
    x: *const T,
    rows: usize,
    cols: usize,
    lay: i32,
    sub: *const T,
    scale: *const T,
    add: *const T,
    n_params: usize,
    divide: i32,
    clip: i32,
    clip_lo: T,
    clip_hi: T,
    out: *mut T,
    n_out: usize,
    saw_inf: *mut i32,
) -> FkStatus {
    guard(|| {
        let lay = layout(name, lay)?;
        let n = elements(name, rows, cols)?;
        len_check(name, "out", n_out, n)?;
        len_check(name, "parameters", n_params, cols)?;
        disjoint(name, saw_inf.cast_const(), 1, out.cast_const(), n_out)?;
        for p in [sub, scale, add] {
            disjoint(name, p, n_params, out.cast_const(), n_out)?;
        }
        if !(0..=1).contains(&divide) || !(0..=1).contains(&clip) {
            return Err(invalid(format!(
                "{name}: divide and clip must be 0 or 1, got {divide} and {clip}"
            )));
        }
        // SAFETY: forwarded contract; the parameters do not overlap out.
        let (sub, scale, add) = unsafe {
            (
                in_slice(sub, n_params, Arg(name, "sub"))?,
                in_slice(scale, n_params, Arg(name, "scale"))?,
                in_slice(add, n_params, Arg(name, "add"))?,
            )
        };
        let p = Affine {
            sub,
            scale,
            add,
            divide: divide == 1,
            clip: (clip == 1).then_some((clip_lo, clip_hi)),
            check_inf: !saw_inf.is_null(),
        };
        let mut inf = false;
        // SAFETY: forwarded contract.
        unsafe {
            with_io(name, x, out, n, |o, i| {
                inf = affine(o, i, rows, cols, lay, &p)?;
                Ok(())
            })?;
        }
        if !saw_inf.is_null() {
            // SAFETY: non-NULL, so the contract says it points to a writable int32_t.
            *unsafe { out_ref(saw_inf, Arg(name, "saw_inf"))? } = i32::from(inf);
        }
        Ok(())
    })
}

/// Per-column affine transform of a float64 `rows x cols` matrix:
/// `out = (x - sub[j]) * scale[j] + add[j]`, or `(x - sub[j]) / scale[j] +
/// add[j]` when `divide` is 1; with `clip` 1 the result is then clipped to
/// `[clip_lo, clip_hi]` (NaN stays NaN). `sub`, `scale`, `add` have
/// `n_params == cols` values. `out` (`n_out == rows * cols`, same layout)
/// may be `x` itself for an in-place transform; a partial overlap is
/// `FK_ERR_ALIASING`. One read+write pass; nothing is written on error.
/// If `saw_inf` is not NULL, `*saw_inf` is set to 1 when an input value is
/// ±inf, else 0 (checked in the same pass; callers that must reject infinity
/// check it before using `out`); with NULL nothing is checked.
///
/// # Safety
/// `x` must point to `rows * cols` readable elements, the parameters to
/// `n_params` each, `out` to `n_out` writable elements, `saw_inf` to a
/// writable `int32_t` or be NULL; no other thread may write them during the call.
#[no_mangle]
pub unsafe extern "C" fn fk_affine_cols_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    layout: i32,
    sub: *const f64,
    scale: *const f64,
    add: *const f64,
    n_params: usize,
    divide: i32,
    clip: i32,
    clip_lo: f64,
    clip_hi: f64,
    out: *mut f64,
    n_out: usize,
    saw_inf: *mut i32,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        affine_body(
            "fk_affine_cols_f64",
            x,
            rows,
            cols,
            layout,
            sub,
            scale,
            add,
            n_params,
            divide,
            clip,
            clip_lo,
            clip_hi,
            out,
            n_out,
            saw_inf,
        )
    }
}

/// Float32 version of `fk_affine_cols_f64` (parameters are floats too).
///
/// # Safety
/// As `fk_affine_cols_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_affine_cols_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    layout: i32,
    sub: *const f32,
    scale: *const f32,
    add: *const f32,
    n_params: usize,
    divide: i32,
    clip: i32,
    clip_lo: f32,
    clip_hi: f32,
    out: *mut f32,
    n_out: usize,
    saw_inf: *mut i32,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        affine_body(
            "fk_affine_cols_f32",
            x,
            rows,
            cols,
            layout,
            sub,
            scale,
            add,
            n_params,
            divide,
            clip,
            clip_lo,
            clip_hi,
            out,
            n_out,
            saw_inf,
        )
    }
}

/// # Safety
/// As the exports.
#[allow(clippy::too_many_arguments)]
unsafe fn normrows_body<T: TransformElement>(
    name: &'static str,
    x: *const T,
    rows: usize,
    cols: usize,
    lay: i32,
    norm: i32,
    out: *mut T,
    n_out: usize,
    n_nonfinite: *mut usize,
) -> FkStatus {
    guard(|| {
        disjoint(name, n_nonfinite.cast_const(), 1, out.cast_const(), n_out)?;
        let lay = layout(name, lay)?;
        let n = elements(name, rows, cols)?;
        len_check(name, "out", n_out, n)?;
        let norm = match norm {
            FK_NORM_L1 => Norm::L1,
            FK_NORM_L2 => Norm::L2,
            FK_NORM_MAX => Norm::Max,
            _ => {
                return Err(invalid(format!(
                    "{name}: norm must be FK_NORM_L1 (0), FK_NORM_L2 (1) or FK_NORM_MAX (2), got {norm}"
                )))
            }
        };
        let mut bad = 0;
        // SAFETY: forwarded contract.
        unsafe {
            with_io(name, x, out, n, |o, i| {
                bad = normalize_rows(o, i, rows, cols, lay, norm)?;
                Ok(())
            })?;
        }
        if !n_nonfinite.is_null() {
            // SAFETY: non-NULL, so the contract says it points to a writable size_t.
            *unsafe { out_ref(n_nonfinite, Arg(name, "n_nonfinite"))? } = bad;
        }
        Ok(())
    })
}

/// Divides each row of a float64 `rows x cols` matrix by its norm (`norm`:
/// `FK_NORM_L1`, `FK_NORM_L2` or `FK_NORM_MAX`); a norm below 10 * DBL_EPSILON
/// counts as 1 (zero rows stay zero). `out` (`n_out == rows * cols`, same
/// layout) may be `x` itself for in place; partial overlap is `FK_ERR_ALIASING`.
/// If `n_nonfinite` is not NULL it receives the number of rows whose norm is
/// not finite (a NaN or inf in the row, or an l2 sum of squares that overflows).
///
/// # Safety
/// `x` must point to `rows * cols` readable elements, `out` to `n_out`
/// writable ones, `n_nonfinite` to a writable `size_t` or be NULL; no other
/// thread may write them during the call.
#[no_mangle]
pub unsafe extern "C" fn fk_normalize_rows_f64(
    x: *const f64,
    rows: usize,
    cols: usize,
    layout: i32,
    norm: i32,
    out: *mut f64,
    n_out: usize,
    n_nonfinite: *mut usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        normrows_body(
            "fk_normalize_rows_f64",
            x,
            rows,
            cols,
            layout,
            norm,
            out,
            n_out,
            n_nonfinite,
        )
    }
}

/// Float32 version of `fk_normalize_rows_f64` (epsilon is FLT_EPSILON; norms
/// are accumulated in float64).
///
/// # Safety
/// As `fk_normalize_rows_f64`.
#[no_mangle]
pub unsafe extern "C" fn fk_normalize_rows_f32(
    x: *const f32,
    rows: usize,
    cols: usize,
    layout: i32,
    norm: i32,
    out: *mut f32,
    n_out: usize,
    n_nonfinite: *mut usize,
) -> FkStatus {
    // SAFETY: same contract as this function.
    unsafe {
        normrows_body(
            "fk_normalize_rows_f32",
            x,
            rows,
            cols,
            layout,
            norm,
            out,
            n_out,
            n_nonfinite,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colstats_merge_and_errors() {
        let x = [1.0, 2.0, 3.0, f64::NAN, 5.0, 6.0];
        let mut out = [0.0; 16];
        // SAFETY: valid buffers of the stated lengths.
        let st = unsafe {
            fk_colstats_f64(
                x.as_ptr(),
                3,
                2,
                FK_LAYOUT_C,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                16,
            )
        };
        assert_eq!(st, FkStatus::FK_OK);
        assert_eq!(&out[0..2], &[3.0, 2.0]);
        assert_eq!(&out[2..4], &[0.0, 1.0]);
        assert_eq!(&out[4..6], &[9.0, 8.0]);
        let mut m = [0.0; 16];
        // SAFETY: as above.
        let st =
            unsafe { fk_colstats_merge(out.as_ptr(), 16, out.as_ptr(), 16, 2, m.as_mut_ptr(), 16) };
        assert_eq!(st, FkStatus::FK_OK);
        assert_eq!(&m[0..2], &[6.0, 4.0]);
        // SAFETY: as above; bad layout is refused before any access.
        let st = unsafe {
            fk_colstats_f64(
                x.as_ptr(),
                3,
                2,
                7,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                16,
            )
        };
        assert_eq!(st, FkStatus::FK_ERR_INVALID_ARGUMENT);
        // SAFETY: as above.
        let st = unsafe {
            fk_colstats_f64(
                x.as_ptr(),
                3,
                2,
                0,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                15,
            )
        };
        assert_eq!(st, FkStatus::FK_ERR_LENGTH_MISMATCH);
    }

    #[test]
    fn affine_in_place_and_partial_overlap() {
        let mut x = [1.0f32, 2.0, 3.0, 4.0];
        let (s, m, a) = ([1.0f32, 2.0], [2.0f32, 2.0], [0.0f32, 0.0]);
        let p = x.as_mut_ptr();
        // SAFETY: in place: x and out are the same buffer.
        let st = unsafe {
            fk_affine_cols_f32(
                p,
                2,
                2,
                0,
                s.as_ptr(),
                m.as_ptr(),
                a.as_ptr(),
                2,
                1,
                0,
                0.0,
                0.0,
                p,
                4,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, FkStatus::FK_OK);
        assert_eq!(x, [0.0, 0.0, 1.0, 1.0]);
        let mut buf = [0.0f64; 6];
        let p = buf.as_mut_ptr();
        let (s, m, a) = ([0.0f64; 2], [1.0f64; 2], [0.0f64; 2]);
        // SAFETY: overlapping views of one valid buffer; the call must refuse them.
        let st = unsafe {
            fk_affine_cols_f64(
                p,
                2,
                2,
                0,
                s.as_ptr(),
                m.as_ptr(),
                a.as_ptr(),
                2,
                0,
                0,
                0.0,
                0.0,
                p.add(1),
                4,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, FkStatus::FK_ERR_ALIASING);
    }
}
