#![allow(clippy::type_complexity)]
use super::linear::{linear, WeightLayout};
use super::mlp::{AnyMlp, Dense, Labels, Mlp, Task};
use super::topk::topk;
use super::*;
use crate::Error;

/// `n` values in `[-scale, scale)`: the shared generator's values after its
/// first state.
fn data(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let u = crate::test_data::uniform(n + 1, seed);
    u[1..].iter().map(|v| v * scale).collect()
}

/// Runs `f` once per SIMD level (capped with `set_max_level`; levels above
/// the CPU's run its best one), holding the level lock, and removes the cap
/// afterwards even if `f` panics. The FMA and non-FMA kernel variants must
/// both meet every bound.
fn at_every_level(f: impl Fn(crate::simd::Level)) {
    use crate::simd::{set_max_level, Level};
    struct Uncap;
    impl Drop for Uncap {
        fn drop(&mut self) {
            set_max_level(None);
        }
    }
    let _level = crate::simd::test_level_lock();
    let _uncap = Uncap;
    for cap in [Level::Baseline, Level::Avx2, Level::Avx512] {
        set_max_level(Some(cap));
        f(cap);
    }
}

fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= atol + rtol * b.abs()
}

#[test]
fn activations_match_scalar_references() {
    at_every_level(|_| activations_match_scalar_references_at_level());
}

fn activations_match_scalar_references_at_level() {
    let x = data(10_001, 1, 12.0);
    let refs: [(Activation, fn(f64) -> f64); 6] = [
        (Activation::Relu, |v| v.max(0.0)),
        (Activation::Sigmoid, |v| 1.0 / (1.0 + (-v).exp())),
        (Activation::Tanh, f64::tanh),
        (Activation::GeluTanh, |v| {
            0.5 * v
                * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh())
        }),
        (Activation::Silu, |v| v / (1.0 + (-v).exp())),
        (Activation::Identity, |v| v),
    ];
    for (act, f) in refs {
        let mut out = vec![0.0; x.len()];
        activation_into(act, &x, &mut out).unwrap();
        let mut out32 = vec![0.0f32; x.len()];
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        activation_into(act, &x32, &mut out32).unwrap();
        for i in 0..x.len() {
            assert!(
                close(out[i], f(x[i]), 1e-13, 1e-14),
                "{act:?}({}) = {}",
                x[i],
                out[i]
            );
            let r32 = f(x32[i] as f64);
            assert!(
                close(out32[i] as f64, r32, 2e-6, 1e-7),
                "{act:?} f32({}) = {}",
                x32[i],
                out32[i]
            );
        }
        let mut y = x.clone();
        activation_inplace(act, &mut y).unwrap();
        assert_eq!(y, out, "{act:?} in place");
    }
    assert!(activation_into(Activation::Softmax, &x, &mut vec![0.0; x.len()]).is_err());
    assert!(matches!(
        activation_into(Activation::Relu, &x, &mut [0.0; 3]),
        Err(Error::LengthMismatch(_))
    ));
    let mut o = [0.0; 3];
    activation_into(Activation::Relu, &[f64::NAN, -0.5, f64::INFINITY], &mut o).unwrap();
    assert!(o[0].is_nan() && o[1] == 0.0 && o[2] == f64::INFINITY);
}

#[test]
fn softmax_and_norms_match_naive_rows() {
    at_every_level(|_| softmax_and_norms_match_naive_rows_at_level());
}

fn softmax_and_norms_match_naive_rows_at_level() {
    for &(rows, cols) in &[(1usize, 1usize), (3, 17), (64, 1000), (5, 0), (0, 4)] {
        let x = data(rows * cols, 7, 30.0);
        let mut sm = vec![0.0; x.len()];
        let mut lsm = vec![0.0; x.len()];
        let mut ln = vec![0.0; x.len()];
        let mut rn = vec![0.0; x.len()];
        rows_into(RowOp::Softmax, &x, rows, cols, &mut sm).unwrap();
        rows_into(RowOp::LogSoftmax, &x, rows, cols, &mut lsm).unwrap();
        let w = data(cols, 3, 2.0);
        let b = data(cols, 4, 2.0);
        rows_into(
            RowOp::LayerNorm {
                w: Some(&w),
                b: Some(&b),
                eps: 1e-5,
            },
            &x,
            rows,
            cols,
            &mut ln,
        )
        .unwrap();
        rows_into(
            RowOp::RmsNorm {
                w: Some(&w),
                eps: 1e-6,
            },
            &x,
            rows,
            cols,
            &mut rn,
        )
        .unwrap();
        for r in 0..rows {
            let row = &x[r * cols..(r + 1) * cols];
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
            let mean = row.iter().sum::<f64>() / cols as f64;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / cols as f64;
            let ms = row.iter().map(|v| v * v).sum::<f64>() / cols as f64;
            for j in 0..cols {
                let i = r * cols + j;
                assert!(close(sm[i], (row[j] - m).exp() / s, 1e-13, 1e-300));
                assert!(close(lsm[i], row[j] - m - s.ln(), 1e-13, 1e-13));
                let want = (row[j] - mean) / (var + 1e-5).sqrt() * w[j] + b[j];
                assert!(close(ln[i], want, 1e-12, 1e-13));
                assert!(close(
                    rn[i],
                    row[j] / (ms + 1e-6).sqrt() * w[j],
                    1e-12,
                    1e-14
                ));
            }
        }
        let mut y = x.clone();
        rows_inplace(RowOp::Softmax, &mut y, rows, cols).unwrap();
        assert_eq!(y, sm);
    }
    // Huge inputs do not overflow; NaN poisons its row only.
    let x = [1e4f32, 0.0, -1e4, 1e4, f32::NAN, 1.0];
    let mut o = [0.0f32; 6];
    rows_into(RowOp::Softmax, &x, 2, 3, &mut o).unwrap();
    assert_eq!(&o[..3], &[1.0, 0.0, 0.0]);
    assert!(o[3..].iter().all(|v| v.is_nan()));
    assert!(rows_into(
        RowOp::LayerNorm {
            w: Some(&[1.0f32]),
            b: None,
            eps: 1e-5
        },
        &x,
        2,
        3,
        &mut o
    )
    .is_err());
    assert!(rows_into(RowOp::RmsNorm { w: None, eps: -1.0 }, &x, 2, 3, &mut o).is_err());
    assert!(rows_into(RowOp::Softmax, &x, 4, 3, &mut o).is_err());
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let (rows, cols) = (300, 777);
    let x = data(rows * cols, 9, 5.0);
    let w = data(128 * cols, 10, 0.1);
    let run = || {
        let mut a = vec![0.0; x.len()];
        rows_into(RowOp::Softmax, &x, rows, cols, &mut a).unwrap();
        let mut b = vec![0.0; x.len()];
        activation_into(Activation::Gelu, &x, &mut b).unwrap();
        let mut c = vec![0.0; rows * 128];
        linear(
            &x,
            rows,
            cols,
            &w,
            128,
            WeightLayout::OutIn,
            None,
            Activation::Tanh,
            &mut c,
        )
        .unwrap();
        (a, b, c)
    };
    // At every level: the variant (FMA or not) depends on the CPU, never on
    // how rows are split between threads.
    at_every_level(|cap| {
        crate::pool::set_num_threads(1);
        let one = run();
        crate::pool::set_num_threads(3);
        let three = run();
        crate::pool::set_num_threads(0);
        assert!(one == three, "{cap:?}");
        assert!(run() == one, "{cap:?}: same bits on a second run");
    });
}

#[test]
fn topk_matches_sort() {
    let (rows, cols) = (13, 29);
    let mut x = data(rows * cols, 11, 3.0);
    x[5] = f64::NAN;
    x[7] = x[8];
    for k in [0, 1, 5, cols] {
        for largest in [true, false] {
            for sorted in [true, false] {
                let mut v = vec![0.0; rows * k];
                let mut ix = vec![0i64; rows * k];
                topk(&x, rows, cols, k, largest, sorted, &mut v, &mut ix).unwrap();
                for r in 0..rows {
                    let row = &x[r * cols..(r + 1) * cols];
                    let key = |j: &usize| {
                        let v = if row[*j].is_nan() {
                            f64::INFINITY * 2.0
                        } else {
                            row[*j]
                        };
                        (
                            if row[*j].is_nan() { 1 } else { 0 },
                            if largest { -v } else { v },
                        )
                    };
                    let mut order: Vec<usize> = (0..cols).collect();
                    order.sort_by(|a, b| {
                        let (na, va) = key(a);
                        let (nb, vb) = key(b);
                        let nan_cmp = if largest { nb.cmp(&na) } else { na.cmp(&nb) };
                        nan_cmp
                            .then(va.partial_cmp(&vb).unwrap_or(std::cmp::Ordering::Equal))
                            .then(a.cmp(b))
                    });
                    let mut want: Vec<usize> = order[..k].to_vec();
                    if !sorted {
                        want.sort();
                    }
                    let got: Vec<usize> =
                        ix[r * k..(r + 1) * k].iter().map(|&i| i as usize).collect();
                    assert_eq!(got, want, "row {r} k {k} largest {largest}");
                }
            }
        }
    }
    assert!(matches!(
        topk(&x, rows, cols, cols + 1, true, true, &mut [], &mut []),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn linear_matches_naive_product() {
    for &(m, k, n) in &[
        (1usize, 1usize, 1usize),
        (7, 13, 5),
        (600, 65, 33),
        (3, 0, 4),
        (0, 5, 2),
    ] {
        let x = data(m * k, 1, 1.0);
        let w = data(n * k, 2, 1.0);
        let b = data(n, 3, 1.0);
        let mut out = vec![0.0; m * n];
        linear(
            &x,
            m,
            k,
            &w,
            n,
            WeightLayout::OutIn,
            Some(&b),
            Activation::Relu,
            &mut out,
        )
        .unwrap();
        let mut out2 = vec![0.0; m * n];
        // the same weights stored (k, n)
        let wt: Vec<f64> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect();
        linear(
            &x,
            m,
            k,
            &wt,
            n,
            WeightLayout::InOut,
            Some(&b),
            Activation::Relu,
            &mut out2,
        )
        .unwrap();
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k).map(|p| x[i * k + p] * w[j * k + p]).sum::<f64>() + b[j];
                assert!(close(out[i * n + j], s.max(0.0), 1e-12, 1e-12));
                assert!(close(out2[i * n + j], s.max(0.0), 1e-12, 1e-12));
            }
        }
    }
    let mut out = [0.0; 4];
    assert!(matches!(
        linear(
            &[1.0; 6],
            2,
            3,
            &[1.0; 4],
            2,
            WeightLayout::OutIn,
            None,
            Activation::Identity,
            &mut out
        ),
        Err(Error::LengthMismatch(_))
    ));
}

fn small_model() -> Mlp<f64> {
    let sizes = vec![4, 6, 3];
    let layers = vec![
        Dense {
            coef: data(24, 21, 1.0),
            intercept: data(6, 22, 0.5),
        },
        Dense {
            coef: data(18, 23, 1.0),
            intercept: data(3, 24, 0.5),
        },
    ];
    Mlp::new(
        sizes,
        layers,
        Activation::Tanh,
        Activation::Softmax,
        Task::Classifier,
        Labels::Text(vec!["a".into(), "bé".into(), "c".into()]),
    )
    .unwrap()
}

#[test]
fn mlp_predicts_like_a_naive_forward_pass() {
    let m = small_model();
    let x = data(4 * 5, 30, 2.0);
    let mut p = vec![0.0; 15];
    m.predict_proba(&x, 5, 4, &mut p).unwrap();
    let mut cls = vec![0i64; 5];
    m.predict_class(&x, 5, 4, &mut cls).unwrap();
    for s in 0..5 {
        let mut h: Vec<f64> = x[s * 4..s * 4 + 4].to_vec();
        for (li, l) in m.layers().iter().enumerate() {
            let (k, n) = (m.sizes()[li], m.sizes()[li + 1]);
            let mut o: Vec<f64> = (0..n)
                .map(|j| (0..k).map(|p| h[p] * l.coef[p * n + j]).sum::<f64>() + l.intercept[j])
                .collect();
            if li == 0 {
                o.iter_mut().for_each(|v| *v = v.tanh());
            }
            h = o;
        }
        let mx = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = h.iter().map(|v| (v - mx).exp()).sum();
        for j in 0..3 {
            assert!(close(p[s * 3 + j], (h[j] - mx).exp() / z, 1e-13, 1e-15));
        }
        let best = (0..3)
            .max_by(|a, b| h[*a].partial_cmp(&h[*b]).unwrap())
            .unwrap();
        assert_eq!(cls[s], best as i64);
    }
    assert!(matches!(
        m.predict_proba(&x, 4, 5, &mut p),
        Err(Error::LengthMismatch(_))
    ));
}

#[test]
fn mlp_file_roundtrip_and_every_corruption_is_caught() {
    let any = AnyMlp::F64(small_model());
    let bytes = any.to_bytes();
    let back = AnyMlp::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    // every truncation
    for len in 0..bytes.len() {
        let e = AnyMlp::from_bytes(&bytes[..len]).unwrap_err();
        assert!(matches!(e, Error::InvalidFormat(_)), "len {len}: {e:?}");
    }
    // every single-byte corruption (flip one bit) is rejected or, for the
    // version field, reported as unsupported
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        match AnyMlp::from_bytes(&b) {
            Err(Error::InvalidFormat(_)) => {}
            Err(Error::UnsupportedVersion(_)) => assert!((8..12).contains(&i)),
            other => panic!("byte {i}: {other:?}"),
        }
    }
    let mut b = bytes.clone();
    b.push(0);
    assert!(AnyMlp::from_bytes(&b).is_err());
    // Version 3 is unknown; a version 1 image relabelled 2 lacks the
    // feature-name count, so it is malformed (the checksum catches it first).
    let mut v3 = bytes.clone();
    v3[8] = 3;
    assert!(matches!(
        AnyMlp::from_bytes(&v3),
        Err(Error::UnsupportedVersion(_))
    ));
    let mut v2 = bytes.clone();
    v2[8] = 2;
    assert!(matches!(
        AnyMlp::from_bytes(&v2),
        Err(Error::InvalidFormat(_))
    ));
    // absurd sizes: huge layer widths are refused before any allocation
    let mut huge = bytes.clone();
    huge[24..32].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(matches!(
        AnyMlp::from_bytes(&huge),
        Err(Error::InvalidFormat(_))
    ));
    let dir = std::env::temp_dir().join(format!("fk-mlp-test-{}", std::process::id()));
    any.save(&dir).unwrap();
    assert_eq!(AnyMlp::load(&dir).unwrap().to_bytes(), bytes);
    std::fs::remove_file(&dir).unwrap();
    assert!(matches!(AnyMlp::load(&dir), Err(Error::Io(_))));
}

/// The gemm epilogue `bias_relu` (dispatched per SIMD level) equals the
/// scalar rule at every level: `s = v + b`, relu gives +0 for `s <= 0` (so
/// -0 becomes +0) and keeps NaN; widths 1, odd and past a vector, 0 rows.
#[test]
fn bias_relu_matches_scalar_rule_at_every_level() {
    at_every_level(|_| {
        for width in [1usize, 3, 8, 17, 33] {
            for rows in [0usize, 1, 5] {
                let mut v = data(rows * width, 40 + width as u64, 2.0);
                if v.len() > 2 {
                    v[0] = f64::NAN;
                    v[1] = -0.0;
                }
                let mut b = data(width, 7, 1.0);
                b[0] = 0.0;
                for relu in [false, true] {
                    let want: Vec<f64> = v
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| {
                            let s = x + b[i % width];
                            if relu && s <= 0.0 {
                                0.0
                            } else {
                                s
                            }
                        })
                        .collect();
                    let mut got = v.clone();
                    f64::bias_relu(&mut got, &b, relu);
                    let same = |g: &[f64], w: &[f64]| {
                        g.iter().zip(w).all(|(x, y)| x.to_bits() == y.to_bits())
                    };
                    assert!(
                        same(&got, &want),
                        "f64 width {width} rows {rows} relu {relu}"
                    );
                    let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                    let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
                    let mut got32 = v32.clone();
                    f32::bias_relu(&mut got32, &b32, relu);
                    for (i, (&g, &x)) in got32.iter().zip(&v32).enumerate() {
                        let s = x + b32[i % width];
                        let w = if relu && s <= 0.0 { 0.0 } else { s };
                        assert_eq!(g.to_bits(), w.to_bits(), "f32 width {width} element {i}");
                    }
                }
            }
        }
    });
}
