//! Every pool kernel gives the same bits for 1, 2 and 3 threads, and with a
//! pool worker slowed down artificially (so the calling thread claims most
//! tasks and the split between threads changes from run to run).
//!
//! One test function: the thread count and the slow-down hook are global.

use ferrokit_core::matrix::{Layout, MatRef};
use ferrokit_core::neighbors::{knn_search, pairwise_distances, Metric};
use ferrokit_core::nn::linear::linear;
use ferrokit_core::nn::topk::topk;
use ferrokit_core::nn::{activation_into, rows_into, Activation, RowOp};
use ferrokit_core::simd::gemm::WeightLayout;
use ferrokit_core::stats::transform::{affine, normalize_rows, Affine, Norm};
use ferrokit_core::{dot, minmax, normalize, pool, sched, stats};

/// Deterministic pseudo-random values in [-1, 1).
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

fn bits64(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn bits32(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Runs every kernel once; returns a fingerprint of all outputs.
fn run_all() -> Vec<String> {
    let mut out = Vec::new();
    // Seed kernels: dot (f64, f32), normalize, min/max (odd sizes, not a
    // multiple of the block).
    let n = 300_007;
    let x = data(n, 1);
    let y = data(n, 2);
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let yf: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    out.push(format!("{:x}", dot::dot_f64(&x, &y).unwrap().to_bits()));
    out.push(format!("{:x}", dot::dot_f32(&xf, &yf).unwrap().to_bits()));
    let mut o = vec![0.0; n];
    normalize::normalize_into(&x, &mut o).unwrap();
    out.push(format!(
        "{:?}",
        bits64(&o).iter().fold(0u64, |a, b| a.rotate_left(5) ^ b)
    ));
    out.push(format!("{:?}", minmax::nan_minmax(&x)));

    // Stats and scalers: column statistics, affine transform, row norms.
    let (rows, cols) = (12_001, 33);
    let m = data(rows * cols, 3);
    let st =
        stats::col_stats(MatRef::new(&m, rows, cols, Layout::RowMajor).unwrap(), None).unwrap();
    out.push(format!("{st:?}"));
    out.push(format!("{:?}", stats::vec_stats(&m, None).unwrap()));
    let (sub, scale, add) = (data(cols, 4), data(cols, 5), data(cols, 6));
    let p = Affine {
        sub: &sub,
        scale: &scale,
        add: &add,
        divide: false,
        clip: None,
        check_inf: true,
    };
    for layout in [Layout::RowMajor, Layout::ColMajor] {
        let mut t = vec![0.0; rows * cols];
        let inf = affine(&mut t, Some(&m), rows, cols, layout, &p).unwrap();
        out.push(format!(
            "{inf} {:?}",
            bits64(&t).iter().fold(0u64, |a, b| a.rotate_left(3) ^ b)
        ));
        let bad = normalize_rows(&mut t, None, rows, cols, layout, Norm::L2).unwrap();
        out.push(format!(
            "{bad} {:?}",
            bits64(&t).iter().fold(0u64, |a, b| a.rotate_left(3) ^ b)
        ));
    }

    // nn: activation, softmax rows, top-k, linear layer.
    let a: Vec<f32> = data(400_009, 7).iter().map(|&v| v as f32 * 4.0).collect();
    let mut ao = vec![0.0f32; a.len()];
    activation_into(Activation::Gelu, &a, &mut ao).unwrap();
    out.push(format!(
        "{:?}",
        bits32(&ao).iter().fold(0u32, |a, b| a.rotate_left(3) ^ b)
    ));
    let (r, c) = (1001, 300);
    rows_into(RowOp::Softmax, &a[..r * c], r, c, &mut ao[..r * c]).unwrap();
    out.push(format!(
        "{:?}",
        bits32(&ao[..r * c])
            .iter()
            .fold(0u32, |a, b| a.rotate_left(3) ^ b)
    ));
    let (mut tv, mut ti) = (vec![0.0f32; r * 5], vec![0i64; r * 5]);
    topk(&a[..r * c], r, c, 5, true, true, &mut tv, &mut ti).unwrap();
    out.push(format!("{:?} {:?}", bits32(&tv), ti));
    let (lm, lk, ln) = (517, 129, 255);
    let w: Vec<f32> = data(ln * lk, 8).iter().map(|&v| v as f32).collect();
    let bias: Vec<f32> = data(ln, 9).iter().map(|&v| v as f32).collect();
    let mut lo = vec![0.0f32; lm * ln];
    linear(
        &a[..lm * lk],
        lm,
        lk,
        &w,
        ln,
        WeightLayout::OutIn,
        Some(&bias),
        Activation::Relu,
        &mut lo,
    )
    .unwrap();
    out.push(format!("{:?}", bits32(&lo)));

    // neighbors: batch search, few-query search, pairwise distances.
    let dim = 32;
    let db: Vec<f32> = data(8_009 * dim, 10).iter().map(|&v| v as f32).collect();
    let q: Vec<f32> = data(300 * dim, 11).iter().map(|&v| v as f32).collect();
    for (nq, metric) in [(300, Metric::SqEuclidean), (3, Metric::InnerProduct)] {
        let (mut d, mut i) = (vec![0.0f32; nq * 10], vec![0i64; nq * 10]);
        knn_search(&q[..nq * dim], &db, dim, 10, metric, &mut d, &mut i).unwrap();
        out.push(format!("{:?} {:?}", bits32(&d), i));
    }
    let mut pd = vec![0.0f32; 300 * 1000];
    pairwise_distances(&q, &db[..1000 * dim], dim, Metric::Euclidean, &mut pd).unwrap();
    out.push(format!(
        "{:?}",
        bits32(&pd).iter().fold(0u32, |a, b| a.rotate_left(3) ^ b)
    ));
    out
}

#[test]
fn results_do_not_depend_on_threads_or_timing() {
    // Helpers always take part (no back-off), so the slow helper below is used.
    sched::backoff::set_disabled(true);
    pool::set_num_threads(1);
    let want = run_all();
    for threads in [2, 3] {
        pool::set_num_threads(threads);
        let got = run_all();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "output {i} differs at {threads} threads");
        }
    }
    // A helper that sleeps before each task it claims: the caller does most of
    // the work, in a different split on every run.
    for (threads, delay_us) in [(2, 300), (3, 50)] {
        pool::set_num_threads(threads);
        sched::slow::set_helper_delay_us(delay_us);
        let got = run_all();
        sched::slow::set_helper_delay_us(0);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g, w,
                "output {i} differs with a slow helper ({threads} threads)"
            );
        }
    }
    pool::set_num_threads(0);
}
