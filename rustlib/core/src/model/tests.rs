use super::format::{parse, seal, write, Block, Value};
use super::*;
use crate::nn::mlp::{AnyMlp, Dense, Mlp, Task};
use crate::nn::Activation;

pub(super) fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}

pub(super) fn i(v: i64) -> Value {
    Value::I64(vec![v])
}

pub(super) fn meta(nf: usize) -> Block {
    Block::new(kind::META)
        .with("input", i(0))
        .with("n_features", i(nf as i64))
}

pub(super) fn scaler(nf: usize) -> Block {
    Block::new(kind::STANDARD_SCALER)
        .with("name", Value::Str("standardscaler".into()))
        .with("n_features", i(nf as i64))
        .with("mean", Value::F64(data(nf, 1)))
        .with(
            "scale",
            Value::F64(data(nf, 2).iter().map(|v| v.abs() + 0.5).collect()),
        )
}

pub(super) fn logistic(nf: usize, n_dec: usize, proba: ProbaRule) -> Block {
    let n_classes = if n_dec == 1 { 2 } else { n_dec };
    Block::new(kind::LINEAR_CLASSIFIER)
        .with("n_features", i(nf as i64))
        .with("n_outputs", i(n_dec as i64))
        .with("coef", Value::F64(data(nf * n_dec, 3)))
        .with("intercept", Value::F64(data(n_dec, 4)))
        .with("proba", i(proba as i64))
        .with("classes_kind", i(3))
        .with(
            "classes",
            Value::StrList((0..n_classes).map(|c| format!("class{c}")).collect()),
        )
}

/// What the pipeline of `scaler` + linear computes, written out plainly.
fn naive_scaled_decision(nf: usize, n_dec: usize, x: &[f64]) -> Vec<f64> {
    let (mean, scale) = (data(nf, 1), data(nf, 2));
    let (coef, b) = (data(nf * n_dec, 3), data(n_dec, 4));
    let mut out = vec![];
    for r in x.chunks(nf) {
        let z: Vec<f64> = (0..nf)
            .map(|j| (r[j] - mean[j]) / (scale[j].abs() + 0.5))
            .collect();
        for c in 0..n_dec {
            out.push((0..nf).map(|j| z[j] * coef[c * nf + j]).sum::<f64>() + b[c]);
        }
    }
    out
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn scaler_logistic_binary_and_multinomial() {
    for &(nf, n_dec, rule) in &[
        (5usize, 1usize, ProbaRule::Logistic),
        (7, 3, ProbaRule::Softmax),
        (1, 4, ProbaRule::Logistic),
        (9, 3, ProbaRule::OvrNormalize),
    ] {
        let m =
            Model::from_bytes(&write(&[meta(nf), scaler(nf), logistic(nf, n_dec, rule)])).unwrap();
        let info = m.info();
        assert_eq!(info.task, ModelTask::Classifier);
        assert_eq!(info.n_decision, n_dec);
        assert!(info.has(Output::PredictProba) && !info.has(Output::Transform));
        assert_eq!(info.labels.text(1).unwrap(), "class1");
        for rows in [0usize, 1, 3, 600] {
            let x = data(rows * nf, 9 + rows as u64);
            let want = naive_scaled_decision(nf, n_dec, &x);
            let mut d = vec![0.0; rows * n_dec];
            m.decision_function(&x, rows, &mut d).unwrap();
            close(&d, &want, 1e-13);
            let cols = info.n_proba;
            let mut p = vec![0.0; rows * cols];
            m.predict_proba(&x, rows, &mut p).unwrap();
            let mut c = vec![0i64; rows];
            m.predict_classes(&x, rows, &mut c).unwrap();
            for r in 0..rows {
                let pr = &p[r * cols..(r + 1) * cols];
                assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                let dr = &want[r * n_dec..(r + 1) * n_dec];
                if n_dec == 1 {
                    close(&[pr[1]], &[1.0 / (1.0 + (-dr[0]).exp())], 1e-13);
                    assert_eq!(c[r], (dr[0] > 0.0) as i64);
                } else {
                    let best = (0..n_dec)
                        .max_by(|&a, &b| dr[a].partial_cmp(&dr[b]).unwrap())
                        .unwrap();
                    assert_eq!(c[r], best as i64);
                }
            }
            // float32 input gives the same within float32 rounding.
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut p32 = vec![0.0f32; rows * cols];
            m.predict_proba(&x32, rows, &mut p32).unwrap();
            let p32: Vec<f64> = p32.iter().map(|&v| v as f64).collect();
            close(&p32, &p, 1e-5);
        }
    }
}

#[test]
fn wrong_shapes_and_outputs_are_errors() {
    let m = Model::from_bytes(&write(&[
        meta(3),
        scaler(3),
        logistic(3, 1, ProbaRule::None),
    ]))
    .unwrap();
    assert_eq!(m.info().n_proba, 0);
    let x = data(6, 1);
    let mut out = vec![0.0; 4];
    assert!(matches!(
        m.predict_proba(&x, 2, &mut out),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        m.predict(&x, 2, &mut out[..2]),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        m.decision_function(&x[..5], 2, &mut out[..2]),
        Err(Error::LengthMismatch(_))
    ));
    assert!(matches!(
        m.decision_function(&x, 2, &mut out[..3]),
        Err(Error::LengthMismatch(_))
    ));
    let mut c = [0i64; 2];
    m.predict_classes(&x, 2, &mut c).unwrap();
}

#[test]
fn nan_follows_scikit_learn() {
    // Scaler passes NaN; the classifier refuses it.
    let m = Model::from_bytes(&write(&[
        meta(2),
        scaler(2),
        logistic(2, 1, ProbaRule::Logistic),
    ]))
    .unwrap();
    let mut out = [0.0; 2];
    let e = m.predict_proba(&[f64::NAN, 1.0], 1, &mut out).unwrap_err();
    assert!(
        matches!(e, Error::NonFinite(ref s) if s.contains("linear_classifier") && s.contains("NaN")),
        "{e:?}"
    );
    let e = m
        .predict_proba(&[f64::INFINITY, 1.0], 1, &mut out)
        .unwrap_err();
    assert!(
        matches!(e, Error::NonFinite(ref s) if s.contains("standardscaler")),
        "{e:?}"
    );
    // A bare scaler pipeline passes NaN through.
    let t = Model::from_bytes(&write(&[meta(2), scaler(2)])).unwrap();
    assert_eq!(t.info().task, ModelTask::Transformer);
    t.transform(&[f64::NAN, 1.0], 1, &mut out).unwrap();
    assert!(out[0].is_nan() && out[1].is_finite());
    // An imputer in front makes NaN fine, and drops a column.
    let imp = Block::new(kind::SIMPLE_IMPUTER)
        .with("n_features", i(3))
        .with("statistics", Value::F64(vec![10.0, f64::NAN, 30.0]))
        .with("missing_values", Value::F64(vec![f64::NAN]))
        .with("keep", Value::I64(vec![0, 2]));
    let m = Model::from_bytes(&write(&[meta(3), imp, scaler(2)])).unwrap();
    assert_eq!(m.info().n_transform, 2);
    m.transform(&[f64::NAN, 5.0, 1.0], 1, &mut out).unwrap();
    let (mean, scale) = (data(2, 1), data(2, 2));
    close(
        &out,
        &[
            (10.0 - mean[0]) / (scale[0].abs() + 0.5),
            (1.0 - mean[1]) / (scale[1].abs() + 0.5),
        ],
        1e-15,
    );
}

pub(super) fn mlp(sizes: &[usize], task: Task) -> Mlp<f64> {
    let layers = sizes
        .windows(2)
        .enumerate()
        .map(|(l, w)| Dense {
            coef: data(w[0] * w[1], 10 + l as u64),
            intercept: data(w[1], 20 + l as u64),
        })
        .collect();
    let n_out = *sizes.last().unwrap();
    let (out, labels) = match task {
        Task::Regressor => (Activation::Identity, Labels::None),
        Task::Classifier if n_out == 1 => (Activation::Sigmoid, Labels::Bool(vec![false, true])),
        Task::Classifier => (
            Activation::Softmax,
            Labels::Int((0..n_out as i64).collect()),
        ),
        Task::Multilabel => (
            Activation::Sigmoid,
            Labels::Int((0..n_out as i64).collect()),
        ),
    };
    Mlp::new(sizes.to_vec(), layers, Activation::Relu, out, task, labels).unwrap()
}

pub(super) fn mlp_block(m: &Mlp<f64>) -> Block {
    let mut b = Block::new(kind::MLP)
        .with(
            "sizes",
            Value::I64(m.sizes().iter().map(|&s| s as i64).collect()),
        )
        .with("hidden", i(m.hidden() as i64))
        .with("output", i(m.output() as i64))
        .with("task", i(m.task() as i64));
    if let Labels::Int(v) = m.labels() {
        b = b
            .with("classes_kind", i(1))
            .with("classes", Value::I64(v.clone()));
    }
    if let Labels::Bool(v) = m.labels() {
        b = b
            .with("classes_kind", i(4))
            .with("classes", Value::I64(v.iter().map(|&x| x as i64).collect()));
    }
    for (l, d) in m.layers().iter().enumerate() {
        b = b
            .with(&format!("coef{l}"), Value::F64(d.coef.clone()))
            .with(&format!("intercept{l}"), Value::F64(d.intercept.clone()));
    }
    b
}

#[test]
fn mlp_head_and_old_mlp_files_match_the_mlp() {
    for (sizes, task) in [
        (vec![4usize, 16, 3], Task::Classifier),
        (vec![4, 8, 1], Task::Classifier),
        (vec![4, 8, 2], Task::Regressor),
        (vec![4, 5, 3], Task::Multilabel),
    ] {
        let net = mlp(&sizes, task);
        let new = Model::from_bytes(&write(&[meta(4), mlp_block(&net)])).unwrap();
        let old = Model::from_bytes(&AnyMlp::F64(net.clone()).to_bytes()).unwrap();
        for m in [&new, &old] {
            for rows in [0usize, 1, 5, 300] {
                let x = data(rows * 4, rows as u64);
                let n_out = net.n_outputs();
                let mut want = vec![0.0; rows * n_out];
                net.forward(&x, rows, 4, &mut want).unwrap();
                if task == Task::Regressor {
                    let mut got = vec![0.0; rows * n_out];
                    m.predict(&x, rows, &mut got).unwrap();
                    assert_eq!(got, want);
                } else {
                    let cols = m.info().n_proba;
                    let mut got = vec![0.0; rows * cols];
                    m.predict_proba(&x, rows, &mut got).unwrap();
                    let mut want_p = vec![0.0; rows * cols];
                    if task == Task::Multilabel {
                        want_p = want.clone();
                    } else {
                        net.predict_proba(&x, rows, 4, &mut want_p).unwrap();
                    }
                    assert_eq!(got, want_p);
                    let mut c = vec![0i64; rows * m.info().n_outputs];
                    let mut wc = c.clone();
                    m.predict_classes(&x, rows, &mut c).unwrap();
                    net.predict_class(&x, rows, 4, &mut wc).unwrap();
                    assert_eq!(c, wc);
                }
            }
        }
    }
    // A float32 MLP file loads too (weights widened exactly).
    let net = mlp(&[3, 4, 2], Task::Classifier);
    let f32net = Mlp::<f32>::new(
        vec![3, 4, 2],
        net.layers()
            .iter()
            .map(|l| Dense {
                coef: l.coef.iter().map(|&v| v as f32).collect(),
                intercept: l.intercept.iter().map(|&v| v as f32).collect(),
            })
            .collect(),
        Activation::Relu,
        Activation::Softmax,
        Task::Classifier,
        net.labels().clone(),
    )
    .unwrap();
    let m = Model::from_bytes(&AnyMlp::F32(f32net).to_bytes()).unwrap();
    assert_eq!(m.info().n_proba, 2);
}

#[test]
fn knn_classifier_votes_like_the_estimator() {
    let (n, d) = (40usize, 3usize);
    let fit = data(n * d, 5);
    let y: Vec<i64> = (0..n as i64).map(|r| r % 3).collect();
    let b = Block::new(kind::KNN_CLASSIFIER)
        .with("n_features", i(d as i64))
        .with("n_samples", i(n as i64))
        .with("fit_x", Value::F64(fit.clone()))
        .with("n_neighbors", i(5))
        .with("metric", i(1))
        .with("weights", i(0))
        .with("classes_kind", i(2))
        .with("classes", Value::F64(vec![0.5, 1.5, 2.5]))
        .with("y", Value::I64(y.clone()));
    let m = Model::from_bytes(&write(&[meta(d), b])).unwrap();
    let q = data(7 * d, 77);
    let mut p = vec![0.0; 7 * 3];
    m.predict_proba(&q, 7, &mut p).unwrap();
    for (r, qr) in q.chunks(d).enumerate() {
        let mut dist: Vec<(f64, usize)> = fit
            .chunks(d)
            .enumerate()
            .map(|(j, x)| {
                (
                    x.iter().zip(qr).map(|(a, b)| (a - b).powi(2)).sum::<f64>(),
                    j,
                )
            })
            .collect();
        dist.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut want = [0.0; 3];
        for &(_, j) in &dist[..5] {
            want[y[j] as usize] += 0.2;
        }
        close(&p[r * 3..r * 3 + 3], &want, 1e-12);
    }
}

#[test]
fn every_truncation_and_bit_flip_is_rejected() {
    let net = mlp(&[3, 4, 2], Task::Classifier);
    let good = write(&[meta(3), scaler(3), mlp_block(&net)]);
    Model::from_bytes(&good).unwrap();
    for n in 0..good.len() {
        let e = Model::from_bytes(&good[..n]).unwrap_err();
        assert!(matches!(e, Error::InvalidFormat(_)), "length {n}: {e:?}");
    }
    for byte in 0..good.len() {
        for bit in 0..8 {
            let mut b = good.clone();
            b[byte] ^= 1 << bit;
            let e = Model::from_bytes(&b).unwrap_err();
            assert!(
                matches!(e, Error::InvalidFormat(_) | Error::UnsupportedVersion(_)),
                "byte {byte} bit {bit}: {e:?}"
            );
        }
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(
        Model::from_bytes(&longer),
        Err(Error::InvalidFormat(_))
    ));
}

#[test]
fn versions_are_named_in_errors() {
    let mut b = write(&[meta(3), scaler(3)]);
    b.truncate(b.len() - 4);
    b[8..12].copy_from_slice(&7u32.to_le_bytes());
    seal(&mut b);
    match Model::from_bytes(&b) {
        Err(Error::UnsupportedVersion(m)) => {
            assert!(m.contains("version 7") && m.contains("1 to 2"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn huge_counts_in_tiny_files_allocate_nothing() {
    // A sealed file whose field claims 2^60 floats, and one claiming 2^40 strings.
    for (code, count) in [(1u8, 1u64 << 60), (5, 1 << 40), (3, u64::MAX)] {
        let mut b = write(&[meta(3)]);
        b.truncate(b.len() - 4);
        // Rewrite the block to one field "x" with the huge count.
        b.truncate(32);
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(1);
        b.push(b'x');
        b.push(code);
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(&[0u8; 16]);
        seal(&mut b);
        let e = parse(&b).unwrap_err();
        assert!(
            matches!(e, Error::InvalidFormat(ref m) if m.contains("truncated") || m.contains("overflow")),
            "{e:?}"
        );
    }
}

#[test]
fn inconsistent_models_are_rejected() {
    // Width chain broken: scaler of 3 after a meta of 4.
    assert!(Model::from_bytes(&write(&[meta(4), scaler(3)])).is_err());
    // Unknown field.
    let b = scaler(3).with("surprise", i(1));
    let e = Model::from_bytes(&write(&[meta(3), b])).unwrap_err();
    assert!(format!("{e}").contains("surprise"));
    // Steps after the estimator.
    let e = Model::from_bytes(&write(&[
        meta(3),
        logistic(3, 1, ProbaRule::Logistic),
        scaler(3),
    ]))
    .unwrap_err();
    assert!(format!("{e}").contains("after the final estimator"));
    // Label count not matching.
    let b = logistic(3, 3, ProbaRule::Softmax).with("last_argmax", i(0));
    let mut b2 = b.clone();
    b2.fields.retain(|f| f.name != "classes");
    b2 = b2.with("classes", Value::StrList(vec!["a".into(), "b".into()]));
    assert!(Model::from_bytes(&write(&[meta(3), b2])).is_err());
    Model::from_bytes(&write(&[meta(3), b])).unwrap();
    // No steps at all.
    assert!(Model::from_bytes(&write(&[meta(3)])).is_err());
}

#[test]
fn concurrent_predictions_agree() {
    let net = mlp(&[6, 32, 3], Task::Classifier);
    let m = std::sync::Arc::new(
        Model::from_bytes(&write(&[meta(6), scaler(6), mlp_block(&net)])).unwrap(),
    );
    let x = data(6 * 50, 3);
    let mut want = vec![0.0; 150];
    m.predict_proba(&x, 50, &mut want).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (m, x, want) = (m.clone(), &x, &want);
            s.spawn(move || {
                for _ in 0..20 {
                    let mut p = vec![0.0; 150];
                    m.predict_proba(x, 50, &mut p).unwrap();
                    assert_eq!(&p, want);
                }
            });
        }
    });
}

#[test]
fn float64_standard_scaler_is_exactly_subtract_then_divide() {
    for (nf, rows) in [(1usize, 1usize), (3, 5), (20, 33)] {
        let m = Model::from_bytes(&write(&[meta(nf), scaler(nf)])).unwrap();
        let x = data(nf * rows, 9);
        let mut out = vec![0.0f64; nf * rows];
        m.transform(&x, rows, &mut out).unwrap();
        let (mean, scale): (Vec<f64>, Vec<f64>) = (
            data(nf, 1),
            data(nf, 2).iter().map(|v| v.abs() + 0.5).collect(),
        );
        for (r, (xr, or)) in x.chunks(nf).zip(out.chunks(nf)).enumerate() {
            for j in 0..nf {
                assert_eq!(or[j], (xr[j] - mean[j]) / scale[j], "row {r} col {j}");
            }
        }
        // float32 input keeps rounding after each operation (the general path).
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut o32 = vec![0.0f32; nf * rows];
        m.transform(&x32, rows, &mut o32).unwrap();
        for (i, (&xv, &ov)) in x32.iter().zip(&o32).enumerate() {
            let j = i % nf;
            let want = (xv - mean[j] as f32) / scale[j] as f32;
            assert_eq!(ov, want, "f32 value {i}");
        }
    }
}
