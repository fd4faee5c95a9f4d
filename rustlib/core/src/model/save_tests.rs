//! Streaming loads and writing a loaded model back (`Model::to_bytes`).

use super::format::{parse, seal, write, Block, Value};
use super::tests::{data, i, logistic, meta, mlp, mlp_block, scaler};
use super::*;
use crate::nn::mlp::{AnyMlp, Task};

/// A reader that hands out at most `step` bytes per call (short reads).
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn knn(n: usize, d: usize, f32_x: bool, k: u32) -> Block {
    let fit = data(n * d, 5);
    let x = if f32_x {
        Value::F32(fit.iter().map(|&v| v as f32).collect())
    } else {
        Value::F64(fit)
    };
    let b = Block::new(k)
        .with("name", Value::Str("knn".into()))
        .with("n_features", i(d as i64))
        .with("n_samples", i(n as i64))
        .with("fit_x", x)
        .with("n_neighbors", i(n.min(3) as i64))
        .with("metric", i(0));
    match k {
        kind::KNN_CLASSIFIER => b
            .with("classes_kind", i(1))
            .with("classes", Value::I64(vec![4, 7]))
            .with("y", Value::I64((0..n as i64).map(|r| r % 2).collect())),
        kind::KNN_REGRESSOR => b
            .with("n_targets", i(1))
            .with("y", Value::F32((0..n).map(|r| r as f32 * 0.5).collect()))
            .with("ravel", i(1)),
        _ => b,
    }
}

fn f32_linear(nf: usize) -> Block {
    Block::new(kind::LINEAR_REGRESSOR)
        .with("n_features", i(nf as i64))
        .with("n_outputs", i(2))
        .with(
            "coef",
            Value::F32(data(2 * nf, 8).iter().map(|&v| v as f32).collect()),
        )
        .with("intercept", Value::F32(vec![0.25, -1.5]))
}

fn f32_mlp_block() -> Block {
    let mut b = mlp_block(&mlp(&[3, 5, 2], Task::Classifier));
    for f in &mut b.fields {
        if let Value::F64(v) = &f.value {
            if f.name.starts_with("coef") || f.name.starts_with("intercept") {
                f.value = Value::F32(v.iter().map(|&x| x as f32).collect());
            }
        }
    }
    b.with("estimator", Value::Str("MLPClassifier".into()))
}

fn files() -> Vec<Vec<u8>> {
    vec![
        write(&[meta(3), scaler(3), logistic(3, 1, ProbaRule::Logistic)]),
        write(&[meta(4), scaler(4), logistic(4, 3, ProbaRule::Softmax)]),
        write(&[meta(5), f32_linear(5)]),
        write(&[meta(3), mlp_block(&mlp(&[3, 7, 4], Task::Classifier))]),
        write(&[meta(3), f32_mlp_block()]),
        write(&[meta(3), scaler(3)]),
        write(&[meta(3), knn(1, 3, false, kind::KNN_CLASSIFIER)]),
        write(&[meta(3), knn(9, 3, true, kind::KNN_REGRESSOR)]),
        // Larger than one 64 KiB chunk, with arrays straddling chunk borders.
        write(&[meta(7), knn(3001, 7, false, kind::NEAREST_NEIGHBORS)]),
        write(&[meta(7), knn(5003, 7, true, kind::KNN_CLASSIFIER)]),
    ]
}

#[test]
fn to_bytes_is_byte_identical_to_the_loaded_file() {
    for (n, f) in files().iter().enumerate() {
        let m = Model::from_bytes(f).unwrap();
        assert_eq!(&m.to_bytes().unwrap(), f, "file {n}");
        assert_eq!(m.saved_len().unwrap(), f.len(), "file {n}");
        let mut into = vec![7u8; f.len()];
        m.save_into(&mut into).unwrap();
        assert_eq!(&into, f, "file {n}");
        assert!(matches!(
            m.save_into(&mut vec![0u8; f.len() + 1]),
            Err(Error::LengthMismatch(_))
        ));
        // And it loads to the same predictions.
        let again = Model::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(again.to_bytes().unwrap(), *f);
    }
}

#[test]
fn a_header_version_above_what_the_blocks_need_is_kept() {
    let mut f = write(&[meta(3), scaler(3)]);
    f.truncate(f.len() - 4);
    f[8..12].copy_from_slice(&2u32.to_le_bytes());
    seal(&mut f);
    assert_eq!(Model::from_bytes(&f).unwrap().to_bytes().unwrap(), f);
}

#[test]
fn old_mlp_files_write_back_as_loaded() {
    for f in [
        AnyMlp::F64(mlp(&[3, 4, 2], Task::Classifier)).to_bytes(),
        AnyMlp::F32(
            crate::nn::mlp::Mlp::<f32>::new(
                vec![2, 1],
                vec![crate::nn::mlp::Dense {
                    coef: vec![0.5, -1.0],
                    intercept: vec![0.25],
                }],
                crate::nn::Activation::Relu,
                crate::nn::Activation::Identity,
                Task::Regressor,
                Labels::None,
            )
            .unwrap(),
        )
        .to_bytes(),
    ] {
        assert_eq!(Model::from_bytes(&f).unwrap().to_bytes().unwrap(), f);
    }
}

#[test]
fn short_reads_parse_like_one_buffer() {
    for f in files() {
        let want = parse(&f).unwrap();
        for step in [1usize, 3, 4096, 70_000] {
            let (got, v) = format::parse_from(Trickle { data: &f, step }, f.len() as u64).unwrap();
            assert_eq!(got, want);
            assert_eq!(v, format::header_version(&f));
        }
    }
}

#[test]
fn load_from_a_path_streams_the_same_model() {
    let dir = std::env::temp_dir().join(format!("fk-save-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (n, f) in files().iter().enumerate() {
        let p = dir.join(format!("m{n}.fk"));
        std::fs::write(&p, f).unwrap();
        assert_eq!(&Model::load(&p).unwrap().to_bytes().unwrap(), f);
    }
    // Old MLP files load from a path too.
    let old = AnyMlp::F64(mlp(&[3, 4, 2], Task::Classifier)).to_bytes();
    let p = dir.join("old.fkmlp");
    std::fs::write(&p, &old).unwrap();
    assert_eq!(Model::load(&p).unwrap().to_bytes().unwrap(), old);
    // Empty, short, missing.
    for (name, bytes) in [("empty", &b""[..]), ("short", &b"FKMO"[..])] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let e = Model::load(&p).unwrap_err();
        assert!(matches!(e, Error::InvalidFormat(_)), "{name}: {e:?}");
    }
    assert!(matches!(
        Model::load(&dir.join("missing")),
        Err(Error::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn large_files_reject_truncation_and_flipped_bits_anywhere() {
    let f = write(&[meta(7), knn(5003, 7, false, kind::NEAREST_NEIGHBORS)]);
    assert!(f.len() > 3 * 65536);
    let n = f.len();
    let cuts = [
        0,
        5,
        12,
        31,
        36,
        65535,
        65536,
        65537,
        n / 2,
        n - 5,
        n - 4,
        n - 1,
    ];
    for &c in &cuts {
        let e = Model::from_bytes(&f[..c]).unwrap_err();
        assert!(matches!(e, Error::InvalidFormat(_)), "cut at {c}: {e:?}");
    }
    for &at in &[
        16usize,
        24,
        40,
        65535,
        65536,
        n / 2,
        n - 6,
        n - 5,
        n - 4,
        n - 1,
    ] {
        for bit in [0u8, 7] {
            let mut b = f.clone();
            b[at] ^= 1 << bit;
            let e = Model::from_bytes(&b).unwrap_err();
            assert!(
                matches!(e, Error::InvalidFormat(_)),
                "byte {at} bit {bit}: {e:?}"
            );
        }
    }
    // A flipped bit inside an array (the structure still parses) is named as
    // a checksum mismatch.
    let mut b = f.clone();
    b[n / 2] ^= 1;
    let e = Model::from_bytes(&b).unwrap_err().to_string();
    assert!(e.contains("checksum mismatch"), "{e}");
    // A corrupted count that makes the structure fail is named as a checksum
    // mismatch too (the rest of the file is checksummed after the error).
    let mut b = f.clone();
    b[44] ^= 0x40; // inside the first field's header
    let e = Model::from_bytes(&b).unwrap_err().to_string();
    assert!(e.contains("checksum mismatch"), "{e}");
}

#[test]
fn a_claimed_length_beyond_the_data_allocates_nothing() {
    // 100 bytes that claim a 2^40-element float64 array: rejected before any
    // allocation (the count is checked against the bytes that remain).
    let mut b = write(&[meta(3)]);
    b.truncate(32);
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&[1, b'x', 1, 0, 0]);
    b.extend_from_slice(&(1u64 << 40).to_le_bytes());
    b.resize(96, 0);
    seal(&mut b);
    assert_eq!(b.len(), 100);
    let e = Model::from_bytes(&b).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
}
