//! Fuzzes the statistics, nn and neighbours C entry points with arbitrary
//! shapes, claimed output lengths, parameters and values (NaN, inf, huge).
//! The harness never lies about a buffer's size (every pointer is valid for
//! at least the length it is passed with); everything else is the fuzzer's.
//! Contract: no crash or out-of-bounds access (ASan), known statuses only,
//! outputs untouched on error, handles freed once.
#![no_main]

// Links the library; its C symbols are then called through the declarations below.
extern crate ferrokit;

use libfuzzer_sys::fuzz_target;
use std::ffi::c_void;

extern "C" {
    fn fk_colstats_f32(
        x: *const f32,
        rows: usize,
        cols: usize,
        layout: i32,
        w: *const f32,
        n_w: usize,
        out: *mut f64,
        n_out: usize,
    ) -> i32;
    fn fk_col_argminmax_f32(
        x: *const f32,
        rows: usize,
        cols: usize,
        layout: i32,
        amin: *mut usize,
        amax: *mut usize,
        n_out: usize,
    ) -> i32;
    fn fk_colminmax_f32(
        x: *const f32,
        rows: usize,
        cols: usize,
        layout: i32,
        mn: *mut f32,
        mx: *mut f32,
        n_out: usize,
    ) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_affine_cols_f32(
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
        lo: f32,
        hi: f32,
        out: *mut f32,
        n_out: usize,
        saw_inf: *mut i32,
    ) -> i32;
    fn fk_normalize_rows_f32(
        x: *const f32,
        rows: usize,
        cols: usize,
        layout: i32,
        norm: i32,
        out: *mut f32,
        n_out: usize,
        n_nonfinite: *mut usize,
    ) -> i32;
    fn fk_activation_f32(act: i32, x: *const f32, n: usize, out: *mut f32, n_out: usize) -> i32;
    fn fk_softmax_f32(x: *const f32, rows: usize, cols: usize, out: *mut f32, n_out: usize) -> i32;
    fn fk_log_softmax_f32(
        x: *const f32,
        rows: usize,
        cols: usize,
        out: *mut f32,
        n_out: usize,
    ) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_layer_norm_f32(
        x: *const f32,
        rows: usize,
        cols: usize,
        w: *const f32,
        n_w: usize,
        b: *const f32,
        n_b: usize,
        eps: f64,
        out: *mut f32,
        n_out: usize,
    ) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_topk_f32(
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
    ) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_linear_f32(
        x: *const f32,
        m: usize,
        k: usize,
        w: *const f32,
        n: usize,
        wcols: usize,
        b: *const f32,
        n_b: usize,
        act: i32,
        out: *mut f32,
        n_out: usize,
    ) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_pairwise_distances_f32(
        x: *const f32,
        nx: usize,
        y: *const f32,
        ny: usize,
        dim: usize,
        metric: i32,
        out: *mut f32,
        n_out: usize,
    ) -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_knn_search_f32(
        q: *const f32,
        nq: usize,
        db: *const f32,
        nd: usize,
        dim: usize,
        k: usize,
        metric: i32,
        d: *mut f32,
        n_d: usize,
        i: *mut i64,
        n_i: usize,
    ) -> i32;
    fn fk_knn_index_new_f32(dim: usize, metric: i32, out: *mut *mut c_void) -> i32;
    fn fk_knn_index_add_f32(index: *mut c_void, data: *const f32, n_rows: usize, dim: usize)
        -> i32;
    #[allow(clippy::too_many_arguments)]
    fn fk_knn_index_search_f32(
        index: *const c_void,
        q: *const f32,
        nq: usize,
        dim: usize,
        k: usize,
        d: *mut f32,
        n_d: usize,
        i: *mut i64,
        n_i: usize,
    ) -> i32;
    fn fk_knn_index_free_f32(index: *mut c_void);
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn small(&mut self, max: usize) -> usize {
        self.u8() as usize % (max + 1)
    }
    fn f32(&mut self) -> f32 {
        match self.u8() % 8 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => f32::MAX,
            4 => 0.0,
            _ => (self.u8() as f32 - 128.0) / 7.0,
        }
    }
}

const SENTINEL: f32 = -12345.0;

fn ok_status(st: i32) {
    assert!((0..15).contains(&st), "unknown status {st}");
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let op = b.u8() % 12;
    let rows = b.small(40);
    let cols = b.small(40);
    let x: Vec<f32> = (0..rows * cols).map(|_| b.f32()).collect();
    // Large enough for every output shape below (knn: rows x k with k <= rows + 1).
    let cap = (rows * cols * 16).max(rows * (rows + 2)) + 64;
    // Claimed output length: usually right, sometimes off by a little.
    let fudge = b.u8();
    let claim = |right: usize| -> usize {
        match fudge % 4 {
            0 => right.saturating_sub(1),
            1 => (right + 1).min(cap),
            _ => right.min(cap),
        }
    };
    let layout = (b.u8() % 3) as i32; // 2 is not a valid layout
    let p = b.small(8) as i32;
    let mut out = vec![SENTINEL; cap];
    let mut out2 = vec![SENTINEL; cap];
    let mut outd = vec![-1.0f64; cap];
    let mut idx = vec![-7i64; cap];
    let mut us = vec![usize::MAX; cap];
    let mut us2 = vec![usize::MAX; cap];
    let params: Vec<f32> = (0..cols.max(1)).map(|_| b.f32()).collect();
    let np = claim(cols).min(params.len());
    let xp = x.as_ptr();
    // SAFETY (whole block): every pointer is valid for at least the length
    // passed with it: x for rows*cols (or the smaller products below), outputs
    // for `cap` >= every claimed length, params for `np` <= params.len().
    let st = unsafe {
        match op {
            0 => fk_colstats_f32(
                xp,
                rows,
                cols,
                layout,
                std::ptr::null(),
                0,
                outd.as_mut_ptr(),
                claim(cols * 9),
            ),
            1 => fk_col_argminmax_f32(
                xp,
                rows,
                cols,
                layout,
                us.as_mut_ptr(),
                us2.as_mut_ptr(),
                claim(cols),
            ),
            2 => fk_colminmax_f32(
                xp,
                rows,
                cols,
                layout,
                out.as_mut_ptr(),
                out2.as_mut_ptr(),
                claim(cols),
            ),
            3 => {
                let mut inf = 0;
                fk_affine_cols_f32(
                    xp,
                    rows,
                    cols,
                    layout,
                    params.as_ptr(),
                    params.as_ptr(),
                    params.as_ptr(),
                    np,
                    p & 1,
                    p & 2,
                    -1.0,
                    1.0,
                    out.as_mut_ptr(),
                    claim(rows * cols),
                    &mut inf,
                )
            }
            4 => {
                let mut bad = 0usize;
                fk_normalize_rows_f32(
                    xp,
                    rows,
                    cols,
                    layout,
                    p % 4,
                    out.as_mut_ptr(),
                    claim(rows * cols),
                    &mut bad,
                )
            }
            5 => fk_activation_f32(p, xp, rows * cols, out.as_mut_ptr(), claim(rows * cols)),
            6 => {
                if p & 1 == 0 {
                    fk_softmax_f32(xp, rows, cols, out.as_mut_ptr(), claim(rows * cols))
                } else {
                    fk_log_softmax_f32(xp, rows, cols, out.as_mut_ptr(), claim(rows * cols))
                }
            }
            7 => fk_layer_norm_f32(
                xp,
                rows,
                cols,
                params.as_ptr(),
                np,
                params.as_ptr(),
                np,
                1e-5,
                out.as_mut_ptr(),
                claim(rows * cols),
            ),
            8 => {
                let k = b.small(cols + 1);
                fk_topk_f32(
                    xp,
                    rows,
                    cols,
                    k,
                    p & 1,
                    p & 2,
                    out.as_mut_ptr(),
                    claim(rows * k),
                    idx.as_mut_ptr(),
                    claim(rows * k),
                )
            }
            9 => {
                // x is (rows x cols); weight is (n x cols) taken from the same values.
                let n = b.small(rows.max(1));
                let wcols = if fudge % 5 == 0 { cols + 1 } else { cols };
                let w_ok = n * wcols <= x.len();
                if !w_ok {
                    return;
                }
                fk_linear_f32(
                    xp,
                    rows,
                    cols,
                    xp,
                    n,
                    wcols,
                    params.as_ptr(),
                    np.min(n),
                    p % 9,
                    out.as_mut_ptr(),
                    claim(rows * n),
                )
            }
            10 => {
                let (ny, metric) = (b.small(rows), p % 5);
                fk_pairwise_distances_f32(
                    xp,
                    rows,
                    xp,
                    ny,
                    cols,
                    metric,
                    out.as_mut_ptr(),
                    claim(rows * ny),
                )
            }
            _ => {
                let k = b.small(rows + 1);
                let metric = p % 5;
                let st = fk_knn_search_f32(
                    xp,
                    rows,
                    xp,
                    rows,
                    cols,
                    k,
                    metric,
                    out.as_mut_ptr(),
                    claim(rows * k),
                    idx.as_mut_ptr(),
                    claim(rows * k),
                );
                ok_status(st);
                let mut h: *mut c_void = std::ptr::null_mut();
                let st = fk_knn_index_new_f32(cols, metric, &mut h);
                if st == 0 {
                    ok_status(fk_knn_index_add_f32(h, xp, rows, cols));
                    ok_status(fk_knn_index_search_f32(
                        h,
                        xp,
                        rows.min(3),
                        cols + (fudge % 2) as usize,
                        k,
                        out2.as_mut_ptr(),
                        claim(rows.min(3) * k),
                        idx.as_mut_ptr(),
                        claim(rows.min(3) * k),
                    ));
                    fk_knn_index_free_f32(h);
                } else {
                    assert!(h.is_null(), "handle written on error");
                }
                fk_knn_index_free_f32(std::ptr::null_mut());
                st
            }
        }
    };
    ok_status(st);
    if st != 0 && op != 11 {
        assert!(
            out.iter().all(|&v| v.to_bits() == SENTINEL.to_bits()),
            "output written on error (op {op})"
        );
    }
});
