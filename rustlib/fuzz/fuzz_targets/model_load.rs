//! Fuzzes the pipeline model loader (`fk_model_load_bytes`) and, when a
//! mutated file still loads, the info, label and prediction calls on the
//! handle, and writing it back (`fk_model_save_bytes` must give the loaded
//! image byte for byte). Contract: no crash, no out-of-bounds read (ASan), no huge
//! allocation from a small input (libFuzzer's -rss_limit_mb / -malloc_limit_mb),
//! known statuses only, the handle freed once.
//!
//! Inputs starting with `FK` are loaded as they are (the CRC-32 makes most
//! mutations fail at the checksum). Any other input drops its first byte and
//! is re-sealed (length field set, checksum appended) first, so mutations
//! reach the block and field parser and the model builder.
#![no_main]

extern crate ferrokit;

use ferrokit_core::model::format::seal;
use libfuzzer_sys::fuzz_target;
use std::ffi::c_void;

#[repr(C)]
#[derive(Default)]
struct ModelInfo {
    input_kind: i32,
    task: i32,
    n_features: usize,
    n_outputs: usize,
    predict_1d: i32,
    n_proba: usize,
    n_decision: usize,
    n_transform: usize,
    n_neighbors: usize,
    label_kind: i32,
    n_classes: usize,
    n_feature_names: usize,
    n_steps: usize,
}

type Predict =
    unsafe extern "C" fn(*const c_void, *const f64, usize, usize, *mut f64, usize) -> i32;
type PredictText = unsafe extern "C" fn(
    *const c_void,
    *const u8,
    usize,
    *const u64,
    usize,
    *mut f64,
    usize,
) -> i32;

extern "C" {
    fn fk_model_load_bytes(data: *const u8, n: usize, out: *mut *mut c_void) -> i32;
    fn fk_model_free(model: *mut c_void);
    fn fk_model_save_bytes(m: *const c_void, buf: *mut u8, cap: usize, len: *mut usize) -> i32;
    fn fk_model_get_info(model: *const c_void, out: *mut ModelInfo) -> i32;
    fn fk_model_class_label(
        m: *const c_void,
        i: usize,
        buf: *mut u8,
        cap: usize,
        len: *mut usize,
    ) -> i32;
    fn fk_model_feature_name(
        m: *const c_void,
        i: usize,
        buf: *mut u8,
        cap: usize,
        len: *mut usize,
    ) -> i32;
    fn fk_model_predict_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_predict_proba_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_decision_function_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_transform_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_predict_text_f64(
        m: *const c_void,
        b: *const u8,
        nb: usize,
        off: *const u64,
        noff: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_predict_proba_text_f64(
        m: *const c_void,
        b: *const u8,
        nb: usize,
        off: *const u64,
        noff: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_decision_function_text_f64(
        m: *const c_void,
        b: *const u8,
        nb: usize,
        off: *const u64,
        noff: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_transform_text_f64(
        m: *const c_void,
        b: *const u8,
        nb: usize,
        off: *const u64,
        noff: usize,
        o: *mut f64,
        no: usize,
    ) -> i32;
    fn fk_model_predict_class_text(
        m: *const c_void,
        b: *const u8,
        nb: usize,
        off: *const u64,
        noff: usize,
        o: *mut i64,
        no: usize,
    ) -> i32;
    fn fk_model_predict_class_f32(
        m: *const c_void,
        x: *const f32,
        n: usize,
        d: usize,
        o: *mut i64,
        no: usize,
    ) -> i32;
    fn fk_model_kneighbors_f64(
        m: *const c_void,
        x: *const f64,
        n: usize,
        d: usize,
        k: usize,
        dist: *mut f64,
        nd: usize,
        idx: *mut i64,
        ni: usize,
    ) -> i32;
}

fn known(st: i32) -> bool {
    (0..15).contains(&st)
}

/// Asks a `rows`-row batch for each float output (`float(j, out, capacity)`:
/// predict, predict_proba, decision_function, transform, each with room for
/// rows x its width) and for the class labels (`class`); every status must be
/// a known one.
fn each_output(
    info: &ModelInfo,
    rows: usize,
    widest: usize,
    mut float: impl FnMut(usize, *mut f64, usize) -> i32,
    class: impl FnOnce(*mut i64, usize) -> i32,
) {
    let mut o = vec![0.0f64; rows * widest];
    let mut c = vec![0i64; rows * widest];
    let widths = [
        info.n_outputs,
        info.n_proba,
        info.n_decision,
        info.n_transform,
    ];
    for (j, w) in widths.into_iter().enumerate() {
        assert!(known(float(j, o.as_mut_ptr(), rows * w)));
    }
    assert!(known(class(c.as_mut_ptr(), rows * info.n_outputs)));
}

fuzz_target!(|data: &[u8]| {
    let image: Vec<u8> = if data.starts_with(b"FK") {
        data.to_vec()
    } else {
        let mut v = data.get(1..).unwrap_or(&[]).to_vec();
        seal(&mut v);
        v
    };
    let mut model: *mut c_void = std::ptr::null_mut();
    // SAFETY: image is a valid buffer; model is a writable pointer slot.
    let st = unsafe { fk_model_load_bytes(image.as_ptr(), image.len(), &mut model) };
    assert!(known(st), "unknown status {st}");
    if st != 0 {
        assert!(model.is_null(), "handle written on error");
        return;
    }
    // A model that loads writes back exactly the image it was loaded from.
    let mut saved_len = 0usize;
    // SAFETY: model is a live handle; NULL/0 queries the size into saved_len.
    assert_eq!(
        unsafe { fk_model_save_bytes(model, std::ptr::null_mut(), 0, &mut saved_len) },
        0
    );
    assert_eq!(saved_len, image.len(), "saved image size");
    let mut saved = vec![0u8; saved_len];
    // SAFETY: saved holds saved_len writable bytes.
    assert_eq!(
        unsafe { fk_model_save_bytes(model, saved.as_mut_ptr(), saved.len(), &mut saved_len) },
        0
    );
    assert!(
        saved == image,
        "the saved image differs from the loaded one"
    );
    let mut info = ModelInfo::default();
    // SAFETY: model is a live handle; info is writable.
    assert_eq!(unsafe { fk_model_get_info(model, &mut info) }, 0);
    let mut len = 0usize;
    let mut buf = [0u8; 8];
    // SAFETY: buf holds 8 bytes; len is writable; indexes past the end must fail.
    unsafe {
        for i in 0..info.n_classes.min(4) {
            assert_eq!(
                fk_model_class_label(model, i, buf.as_mut_ptr(), buf.len(), &mut len),
                0
            );
        }
        assert_ne!(
            fk_model_class_label(model, info.n_classes, buf.as_mut_ptr(), 8, &mut len),
            0
        );
        assert_ne!(
            fk_model_feature_name(model, info.n_feature_names, buf.as_mut_ptr(), 8, &mut len),
            0
        );
    }
    let widest = info
        .n_outputs
        .max(info.n_proba)
        .max(info.n_decision)
        .max(info.n_transform)
        .max(info.n_neighbors);
    if info.input_kind == 1 && widest <= 4096 {
        // Text model: three documents (ASCII, non-ASCII, empty).
        let text =
            "The Caf\u{e9} \u{3a3}\u{3bf}\u{3c6}\u{3af}\u{3b1} stra\u{df}e x1 y_2".as_bytes();
        let off = [0u64, 9, text.len() as u64, text.len() as u64];
        let rows = 3;
        let calls: [PredictText; 4] = [
            fk_model_predict_text_f64,
            fk_model_predict_proba_text_f64,
            fk_model_decision_function_text_f64,
            fk_model_transform_text_f64,
        ];
        let (doc, nb, offs, noff) = (text.as_ptr(), text.len(), off.as_ptr(), off.len());
        each_output(
            &info,
            rows,
            widest,
            // SAFETY: `o` holds the `n` values passed (each_output sizes it);
            // the documents are `text` cut at `off`; model is live.
            |j, o, n| unsafe { calls[j](model, doc, nb, offs, noff, o, n) },
            // SAFETY: as above, for the class labels.
            |c, n| unsafe { fk_model_predict_class_text(model, doc, nb, offs, noff, c, n) },
        );
    }
    if info.n_features <= 4096 && widest <= 4096 {
        let rows = 3;
        let nf = info.n_features;
        let x64: Vec<f64> = (0..rows * nf).map(|i| (i % 7) as f64 - 2.5).collect();
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let calls: [Predict; 4] = [
            fk_model_predict_f64,
            fk_model_predict_proba_f64,
            fk_model_decision_function_f64,
            fk_model_transform_f64,
        ];
        each_output(
            &info,
            rows,
            widest,
            // SAFETY: `o` holds the `n` values passed (each_output sizes it);
            // x64 holds rows x nf values; model is live.
            |j, o, n| unsafe { calls[j](model, x64.as_ptr(), rows, nf, o, n) },
            // SAFETY: as above, for the class labels (float32 input).
            |c, n| unsafe { fk_model_predict_class_f32(model, x32.as_ptr(), rows, nf, c, n) },
        );
        let mut o = vec![0.0f64; rows * widest];
        let mut c = vec![0i64; rows * widest];
        // SAFETY: every buffer holds at least the length passed; model is live.
        unsafe {
            if info.n_neighbors > 0 {
                let k = info.n_neighbors;
                let s = fk_model_kneighbors_f64(
                    model,
                    x64.as_ptr(),
                    rows,
                    nf,
                    k,
                    o.as_mut_ptr(),
                    rows * k,
                    c.as_mut_ptr(),
                    rows * k,
                );
                assert!(known(s));
            }
            // A wrong feature count must be refused, never read past x.
            let s =
                fk_model_predict_proba_f64(model, x64.as_ptr(), 1, nf + 1, o.as_mut_ptr(), o.len());
            assert_ne!(s, 0);
        }
    }
    // SAFETY: model is live and freed exactly once; NULL is a documented no-op.
    unsafe {
        fk_model_free(model);
        fk_model_free(std::ptr::null_mut());
    }
});
