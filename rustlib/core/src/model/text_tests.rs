//! Text models: hand-checked predictions, the sparse paths against the dense
//! ones, and the loader's refusals.

use super::format::{write, Block, Value};
use super::*;
use crate::nn::mlp::{Dense, Mlp, Task};
use crate::nn::Activation;
use crate::text::pack;

fn ints(v: &[i64]) -> Value {
    Value::I64(v.to_vec())
}

fn strs(v: &[&str]) -> Value {
    Value::StrList(v.iter().map(|s| s.to_string()).collect())
}

fn meta() -> Block {
    Block::new(kind::META)
        .with("input", ints(&[1]))
        .with("n_features", ints(&[1]))
}

/// Python's tables restricted to ASCII plus é/É (enough for these tests).
fn vectorizer(vocab: Option<&[&str]>, n: usize) -> Block {
    let mut b = Block::new(kind::TEXT_VECTORIZER)
        .with("analyzer", ints(&[0]))
        .with("ngram_range", ints(&[1, 2]))
        .with("lowercase", ints(&[1]))
        .with("strip_accents", ints(&[0]))
        .with("binary", ints(&[0]))
        .with("dtype", ints(&[1]))
        .with("n_features", ints(&[n as i64]))
        .with(
            "word",
            ints(&[48, 57, 65, 90, 95, 95, 97, 122, 0xC9, 0xC9, 0xE9, 0xE9]),
        )
        .with("space", ints(&[9, 13, 28, 32]))
        .with("case_ignorable", ints(&[39, 39]))
        .with("cased", ints(&[65, 90, 97, 122, 0xC9, 0xC9, 0xE9, 0xE9]))
        .with("lower_cp", ints(&[0xC9]))
        .with("lower_to", strs(&["é"]));
    b = match vocab {
        Some(v) => b.with("vocabulary", strs(v)),
        None => b.with("alternate_sign", ints(&[1])),
    };
    b
}

fn tfidf(n: usize) -> Block {
    Block::new(kind::TFIDF)
        .with("n_features", ints(&[n as i64]))
        .with("sublinear_tf", ints(&[1]))
        .with(
            "idf",
            Value::F64((0..n).map(|j| 1.0 + j as f64 / 7.0).collect()),
        )
}

fn normalizer(n: usize, norm: i64) -> Block {
    Block::new(kind::NORMALIZER)
        .with("n_features", ints(&[n as i64]))
        .with("norm", ints(&[norm]))
}

fn linear(n: usize, n_dec: usize) -> Block {
    Block::new(kind::LINEAR_CLASSIFIER)
        .with("n_features", ints(&[n as i64]))
        .with("n_outputs", ints(&[n_dec as i64]))
        .with(
            "coef",
            Value::F64((0..n * n_dec).map(|j| (j as f64 * 0.37).sin()).collect()),
        )
        .with(
            "intercept",
            Value::F64((0..n_dec).map(|j| j as f64 * 0.1 - 0.05).collect()),
        )
        .with("proba", ints(&[if n_dec == 1 { 1 } else { 2 }]))
        .with("classes_kind", ints(&[1]))
        .with("classes", Value::I64((0..n_dec.max(2) as i64).collect()))
}

const VOCAB: [&str; 5] = ["cat", "cat sat", "dog", "sat", "été"];
const DOCS: [&str; 6] = [
    "The cat sat",
    "",
    "ÉTÉ dog dog, cat sat sat!",
    "x",
    "dog été cat",
    "sat",
];

fn run<F: FnOnce(&Strings<'_>) -> R, R>(docs: &[&str], f: F) -> R {
    let (buf, off) = pack(docs);
    f(&Strings::new(&buf, &off).unwrap())
}

#[test]
fn count_tfidf_l2_logistic_by_hand() {
    let n = VOCAB.len();
    let m = Model::from_bytes(&write(&[
        meta(),
        vectorizer(Some(&VOCAB), n),
        tfidf(n),
        normalizer(n, 2),
        linear(n, 3),
    ]))
    .unwrap();
    assert_eq!(m.info().input, InputKind::Text);
    assert_eq!(m.info().steps.len(), 4);
    let mut p = vec![0.0f64; DOCS.len() * 3];
    run(&DOCS, |d| m.predict_proba_text(d, &mut p)).unwrap();
    let mut dec = vec![0.0f64; DOCS.len() * 3];
    run(&DOCS, |d| m.decision_function_text(d, &mut dec)).unwrap();
    // Doc 2: "été" 1 (lowercased É), dog 2, cat 1, sat 2, "cat sat" 1.
    let counts = [(0usize, 1.0f64), (1, 1.0), (2, 2.0), (3, 2.0), (4, 1.0)];
    let w: Vec<(usize, f64)> = counts
        .iter()
        .map(|&(j, c)| (j, (c.ln() + 1.0) * (1.0 + j as f64 / 7.0)))
        .collect();
    let norm = w.iter().map(|(_, v)| v * v).fold(0.0, |a, b| a + b).sqrt();
    for k in 0..3 {
        let mut s = 0.0;
        for &(j, v) in &w {
            s += (v / norm) * ((j + k * n) as f64 * 0.37).sin();
        }
        let want = s + (k as f64 * 0.1 - 0.05);
        assert!((dec[2 * 3 + k] - want).abs() < 1e-14, "{k}");
    }
    // The empty document and "x" have no features: decision = intercept.
    for r in [1, 3] {
        for k in 0..3 {
            assert_eq!(dec[r * 3 + k], k as f64 * 0.1 - 0.05);
        }
    }
    for r in p.chunks(3) {
        assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }
    let mut cls = vec![0i64; DOCS.len()];
    run(&DOCS, |d| m.predict_classes_text(d, &mut cls)).unwrap();
    for (r, &c) in cls.iter().enumerate() {
        assert_eq!(c as usize, heads::argmax(&dec[r * 3..r * 3 + 3], false));
    }
    // float32 output is the float64 result rounded.
    let mut p32 = vec![0.0f32; DOCS.len() * 3];
    run(&DOCS, |d| m.predict_proba_text(d, &mut p32)).unwrap();
    assert!(p32.iter().zip(&p).all(|(a, b)| *a == *b as f32));
    // Zero documents: nothing to compute, no error.
    run(&[], |d| m.predict_proba_text(d, &mut [0.0f64; 0])).unwrap();
}

#[test]
fn hashing_transform_matches_the_text_module() {
    let n = 16;
    let m = Model::from_bytes(&write(&[meta(), vectorizer(None, n), normalizer(n, 1)])).unwrap();
    assert_eq!(m.info().task, ModelTask::Transformer);
    assert_eq!(m.info().n_transform, n);
    let sp = run(&DOCS, |d| m.transform_text_sparse(d)).unwrap();
    let mut dense = vec![0.0f64; DOCS.len() * n];
    run(&DOCS, |d| m.transform_text(d, &mut dense)).unwrap();
    let a = crate::text::Analyzer::new(
        std::sync::Arc::new(crate::text::CharTables::ascii_std()),
        crate::text::AnalyzerKind::Word,
        (1, 2),
        true,
        None,
    )
    .unwrap();
    let (buf, off) = pack(&DOCS);
    let h = crate::text::hash_documents(
        &crate::text::Input::Text(Strings::new(&buf, &off).unwrap()),
        Some(&a),
        n as u32,
        true,
    )
    .unwrap();
    assert_eq!(sp.indptr, h.indptr);
    assert_eq!(sp.indices, h.indices);
    for r in 0..DOCS.len() {
        let (s, e) = (h.indptr[r] as usize, h.indptr[r + 1] as usize);
        let l1: f64 = h.data[s..e].iter().map(|&v| (v as f64).abs()).sum();
        for k in s..e {
            let want = if l1 == 0.0 {
                h.data[k] as f64
            } else {
                h.data[k] as f64 / l1
            };
            assert_eq!(sp.data[k], want);
            assert_eq!(dense[r * n + h.indices[k] as usize], want);
        }
    }
}

fn net(sizes: &[usize]) -> Mlp<f64> {
    let layers = sizes
        .windows(2)
        .enumerate()
        .map(|(l, w)| Dense {
            coef: (0..w[0] * w[1])
                .map(|j| ((j + 3 * l) as f64 * 0.61).cos())
                .collect(),
            intercept: (0..w[1]).map(|j| j as f64 * 0.01).collect(),
        })
        .collect();
    let k = *sizes.last().unwrap();
    Mlp::new(
        sizes.to_vec(),
        layers,
        Activation::Tanh,
        Activation::Softmax,
        Task::Classifier,
        crate::nn::mlp::Labels::Int((0..k as i64).collect()),
    )
    .unwrap()
}

fn mlp_block(m: &Mlp<f64>) -> Block {
    let mut b = Block::new(kind::MLP)
        .with(
            "sizes",
            Value::I64(m.sizes().iter().map(|&s| s as i64).collect()),
        )
        .with("hidden", ints(&[m.hidden() as i64]))
        .with("output", ints(&[m.output() as i64]))
        .with("task", ints(&[1]))
        .with("classes_kind", ints(&[1]))
        .with(
            "classes",
            Value::I64((0..*m.sizes().last().unwrap() as i64).collect()),
        );
    for (l, d) in m.layers().iter().enumerate() {
        b = b
            .with(&format!("coef{l}"), Value::F64(d.coef.clone()))
            .with(&format!("intercept{l}"), Value::F64(d.intercept.clone()));
    }
    b
}

#[test]
fn sparse_mlp_equals_the_dense_mlp_on_the_same_features() {
    let n = VOCAB.len();
    let nn = net(&[n, 7, 4]);
    let text = Model::from_bytes(&write(&[
        meta(),
        vectorizer(Some(&VOCAB), n),
        tfidf(n),
        mlp_block(&nn),
    ]))
    .unwrap();
    let feats =
        Model::from_bytes(&write(&[meta(), vectorizer(Some(&VOCAB), n), tfidf(n)])).unwrap();
    let mut x = vec![0.0f64; DOCS.len() * n];
    run(&DOCS, |d| feats.transform_text(d, &mut x)).unwrap();
    let mut want = vec![0.0f64; DOCS.len() * 4];
    nn.predict_proba(&x, DOCS.len(), n, &mut want).unwrap();
    let mut got = vec![0.0f64; DOCS.len() * 4];
    run(&DOCS, |d| text.predict_proba_text(d, &mut got)).unwrap();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-13 * b.abs().max(1e-300), "{a} {b}");
    }
    // A network without hidden layers has no sparse form: refused at load.
    let flat = Mlp::new(
        vec![n, 3],
        vec![Dense {
            coef: vec![0.5; n * 3],
            intercept: vec![0.0; 3],
        }],
        Activation::Relu,
        Activation::Softmax,
        Task::Classifier,
        crate::nn::mlp::Labels::Int(vec![0, 1, 2]),
    )
    .unwrap();
    let e = Model::from_bytes(&write(&[
        meta(),
        vectorizer(Some(&VOCAB), n),
        mlp_block(&flat),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("hidden layer"), "{e}");
}

#[test]
fn strip_accents_and_dtype_float32() {
    let n = 3;
    let v = vectorizer(Some(&["ete", "cafe", "the"]), n)
        .with("accent_cp", ints(&[0xE9]))
        .with("accent_to", strs(&["e"]));
    let mut v2 = v.clone();
    for f in v2.fields.iter_mut() {
        if f.name == "strip_accents" {
            f.value = ints(&[1]);
        }
        if f.name == "dtype" {
            f.value = ints(&[2]);
        }
    }
    let m = Model::from_bytes(&write(&[meta(), v2, normalizer(n, 2)])).unwrap();
    let mut out = vec![0.0f64; 2 * n];
    run(&["ÉTÉ café thé ☃", "the"], |d| {
        m.transform_text(d, &mut out)
    })
    .unwrap();
    let third = (1.0f32 / 3.0f32.sqrt()) as f64;
    let r = (1.0f64 / 3.0f64.sqrt()) as f32 as f64;
    assert_eq!(third, r);
    assert_eq!(&out[..3], &[r, r, r]);
    assert_eq!(&out[3..], &[0.0, 0.0, 1.0]);
}

#[test]
fn wrong_kinds_of_input_and_bad_blocks_are_errors() {
    let n = VOCAB.len();
    let text =
        Model::from_bytes(&write(&[meta(), vectorizer(Some(&VOCAB), n), linear(n, 1)])).unwrap();
    let e = text.predict_proba(&[1.0f64], 1, &mut [0.0; 2]).unwrap_err();
    assert!(e.to_string().contains("takes text"), "{e}");
    let numeric = Model::from_bytes(&write(&[
        Block::new(kind::META)
            .with("input", ints(&[0]))
            .with("n_features", ints(&[n as i64])),
        linear(n, 1),
    ]))
    .unwrap();
    let e = run(&["a"], |d| numeric.predict_proba_text(d, &mut [0.0f64; 2])).unwrap_err();
    assert!(e.to_string().contains("not text"), "{e}");
    let e = run(&["a", "b"], |d| {
        text.predict_proba_text(d, &mut [0.0f64; 2])
    })
    .unwrap_err();
    assert!(matches!(e, Error::LengthMismatch(_)), "{e}");
    // Invalid UTF-8 in a document.
    let off = [0u64, 2];
    let e = text
        .predict_proba_text(
            &Strings::new(&[0xC3, 0x28], &off).unwrap(),
            &mut [0.0f64; 2],
        )
        .unwrap_err();
    assert!(e.to_string().contains("UTF-8"), "{e}");
    let bad = |blocks: &[Block], want: &str| {
        let e = Model::from_bytes(&write(blocks)).unwrap_err();
        assert!(matches!(e, Error::InvalidFormat(_)), "{e:?}");
        assert!(e.to_string().contains(want), "{e} lacks {want}");
    };
    let numeric_meta = Block::new(kind::META)
        .with("input", ints(&[0]))
        .with("n_features", ints(&[n as i64]));
    bad(&[numeric_meta, tfidf(n)], "needs text input");
    bad(&[meta(), tfidf(n)], "must be a text_vectorizer");
    bad(
        &[meta(), vectorizer(Some(&VOCAB), n + 1)],
        "vocabulary has 5 terms",
    );
    bad(&[meta(), vectorizer(Some(&["a", "a"]), 2)], "duplicate");
    bad(
        &[meta(), vectorizer(Some(&VOCAB), n), tfidf(n + 1)],
        "takes 6 columns",
    );
    let mut v = vectorizer(Some(&VOCAB), n);
    v.fields.retain(|f| f.name != "word");
    v = v.with("word", ints(&[10, 20, 15, 30]));
    bad(&[meta(), v], "increasing");
    let mut v = vectorizer(Some(&VOCAB), n);
    v.fields.retain(|f| f.name != "word");
    v = v.with("word", ints(&[0, 0x11_0000]));
    bad(&[meta(), v], "0x10FFFF");
    let scaled = Block::new(kind::STANDARD_SCALER)
        .with("n_features", ints(&[n as i64]))
        .with("mean", Value::F64(vec![0.0; n]))
        .with("scale", Value::F64(vec![1.0; n]));
    bad(
        &[meta(), vectorizer(Some(&VOCAB), n), scaled],
        "sparse rows",
    );
    // A text model whose header claims version 1.
    let mut b = write(&[meta(), vectorizer(Some(&VOCAB), n)]);
    assert_eq!(format::header_version(&b), 2);
    b.truncate(b.len() - 4);
    b[8..12].copy_from_slice(&1u32.to_le_bytes());
    format::seal(&mut b);
    let e = Model::from_bytes(&b).unwrap_err();
    assert!(e.to_string().contains("needs format version 2"), "{e}");
    // Numeric files stay version 1.
    assert_eq!(
        format::header_version(&write(&[meta_numeric(), linear(2, 1)])),
        1
    );
}

fn meta_numeric() -> Block {
    Block::new(kind::META)
        .with("input", ints(&[0]))
        .with("n_features", ints(&[2]))
}

#[test]
fn every_truncation_of_a_text_model_is_rejected() {
    let n = VOCAB.len();
    let good = write(&[meta(), vectorizer(Some(&VOCAB), n), tfidf(n), linear(n, 1)]);
    Model::from_bytes(&good).unwrap();
    for len in 0..good.len() {
        assert!(matches!(
            Model::from_bytes(&good[..len]),
            Err(Error::InvalidFormat(_))
        ));
    }
}
