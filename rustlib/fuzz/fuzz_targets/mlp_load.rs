//! Fuzzes the model file loader (`fk_mlp_load_bytes`) and, when a mutated file
//! still loads, every query and prediction on the handle. Contract: no crash,
//! no out-of-bounds read (ASan), known statuses only, the handle freed once.
#![no_main]

// Links the library; its C symbols are then called through the declarations below.
extern crate ferrokit;

use libfuzzer_sys::fuzz_target;
use std::ffi::c_void;

#[repr(C)]
#[derive(Default)]
struct MlpInfo {
    dtype: i32,
    task: i32,
    n_features: usize,
    n_outputs: usize,
    n_layers: usize,
    hidden_activation: i32,
    output_activation: i32,
    label_kind: i32,
    n_classes: usize,
    n_proba_columns: usize,
}

extern "C" {
    fn fk_mlp_load_bytes(data: *const u8, n: usize, out: *mut *mut c_void) -> i32;
    fn fk_mlp_free(model: *mut c_void);
    fn fk_mlp_get_info(model: *const c_void, out: *mut MlpInfo) -> i32;
    fn fk_mlp_predict_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        out: *mut f64,
        n_out: usize,
    ) -> i32;
    fn fk_mlp_predict_f32(
        m: *const c_void,
        x: *const f32,
        n: usize,
        d: usize,
        out: *mut f32,
        n_out: usize,
    ) -> i32;
    fn fk_mlp_predict_proba_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        out: *mut f64,
        n_out: usize,
    ) -> i32;
}

fuzz_target!(|data: &[u8]| {
    let mut model: *mut c_void = std::ptr::null_mut();
    // SAFETY: data is a valid slice; model is a writable pointer slot.
    let st = unsafe { fk_mlp_load_bytes(data.as_ptr(), data.len(), &mut model) };
    assert!((0..15).contains(&st), "unknown status {st}");
    if st != 0 {
        assert!(model.is_null(), "handle written on error");
        return;
    }
    let mut info = MlpInfo::default();
    // SAFETY: model is a live handle from fk_mlp_load_bytes; info is writable.
    assert_eq!(unsafe { fk_mlp_get_info(model, &mut info) }, 0);
    if info.n_features <= 4096 && info.n_outputs <= 4096 {
        let rows = 3;
        let x64 = vec![0.5f64; rows * info.n_features];
        let x32 = vec![0.5f32; rows * info.n_features];
        let mut o64 = vec![0.0f64; rows * info.n_outputs.max(info.n_proba_columns)];
        let mut o32 = vec![0.0f32; rows * info.n_outputs];
        // SAFETY: buffers hold exactly the lengths passed; model is live.
        unsafe {
            let a = fk_mlp_predict_f64(
                model,
                x64.as_ptr(),
                rows,
                info.n_features,
                o64.as_mut_ptr(),
                rows * info.n_outputs,
            );
            let b = fk_mlp_predict_f32(
                model,
                x32.as_ptr(),
                rows,
                info.n_features,
                o32.as_mut_ptr(),
                rows * info.n_outputs,
            );
            let c = fk_mlp_predict_proba_f64(
                model,
                x64.as_ptr(),
                rows,
                info.n_features,
                o64.as_mut_ptr(),
                o64.len(),
            );
            assert!([a, b, c].iter().all(|s| (0..15).contains(s)));
            // A wrong feature count must be refused, never read past x.
            let d = fk_mlp_predict_f64(
                model,
                x64.as_ptr(),
                1,
                info.n_features + 1,
                o64.as_mut_ptr(),
                o64.len(),
            );
            assert_ne!(d, 0);
        }
    }
    // SAFETY: model is live and freed exactly once; NULL is documented as a no-op.
    unsafe {
        fk_mlp_free(model);
        fk_mlp_free(std::ptr::null_mut());
    }
});
