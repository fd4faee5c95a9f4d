use super::*;
use crate::neighbors::topk::cmp_entry;

/// Deterministic values on a coarse grid (many exact ties) in [-2, 2].
fn grid(n: usize, seed: u64) -> Vec<f64> {
    crate::test_data::states(n, seed)
        .map(|s| ((s >> 40) % 17) as f64 / 4.0 - 2.0)
        .collect()
}

fn naive(q: &[f64], x: &[f64], m: LpMetric) -> f64 {
    let d = q.iter().zip(x).map(|(a, b)| (a - b).abs());
    match m {
        LpMetric::Manhattan => d.sum(),
        LpMetric::Chebyshev => d.fold(0.0, |a: f64, v| {
            if v.is_nan() || a.is_nan() {
                f64::NAN
            } else {
                a.max(v)
            }
        }),
        LpMetric::Minkowski(p) => d.map(|v| v.powf(p)).sum::<f64>().powf(1.0 / p),
    }
}

const METRICS: [LpMetric; 6] = [
    LpMetric::Manhattan,
    LpMetric::Chebyshev,
    LpMetric::Minkowski(1.0),
    LpMetric::Minkowski(0.5),
    LpMetric::Minkowski(2.0),
    LpMetric::Minkowski(3.0),
];

fn to<T: LpReduce + From<f32>>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&a| T::from(a as f32)).collect()
}

fn check<T: LpReduce + From<f32>>(nq: usize, nd: usize, dim: usize, k: usize) {
    let q64 = grid(nq * dim, 3 + nq as u64);
    let x64 = grid(nd * dim, 5 + nd as u64);
    let (q, x): (Vec<T>, Vec<T>) = (to(&q64), to(&x64));
    for m in METRICS {
        let mut d = vec![0.0; nq * k];
        let mut ix = vec![0i64; nq * k];
        lp_knn_search(&q, &x, dim, k, m, &mut d, &mut ix).unwrap();
        let mut pw = vec![0.0; nq * nd];
        lp_pairwise_distances(&q, &x, dim, m, &mut pw).unwrap();
        for i in 0..nq {
            let qi = &q64[i * dim..(i + 1) * dim];
            let mut all: Vec<(f64, usize)> = x64
                .chunks(dim)
                .enumerate()
                .map(|(j, r)| (naive(qi, r, m), j))
                .collect();
            for (j, e) in all.iter().enumerate() {
                let got = pw[i * nd + j];
                assert!(
                    (got - e.0).abs() <= 1e-12 * e.0.abs().max(1.0),
                    "{m:?} pairwise {got} vs {}",
                    e.0
                );
            }
            all.sort_by(cmp_entry);
            for r in 0..k {
                // Grid data: ties are exact, so the indices must match exactly.
                assert_eq!(
                    ix[i * k + r],
                    all[r].1 as i64,
                    "{m:?} nq={nq} nd={nd} dim={dim} k={k}"
                );
                assert!((d[i * k + r] - all[r].0).abs() <= 1e-12 * all[r].0.max(1.0));
            }
        }
    }
}

#[test]
fn matches_naive_for_edge_sizes_and_both_types() {
    for (nq, nd, dim, k) in [
        (0, 1, 1, 1),
        (1, 1, 1, 1),
        (3, 7, 5, 7),
        (9, 33, 17, 4),
        (17, 130, 8, 10),
        (2, 1000, 3, 1),
        (3, 9001, 4, 5), // few queries: database chunks
        (1, 8193, 3, 7), // a last chunk of one row
    ] {
        check::<f64>(nq, nd, dim, k);
        check::<f32>(nq, nd, dim, k);
    }
}

#[test]
fn float32_differences_are_exact() {
    // 1 + 2^-23 and 1 differ by one float32 ulp: the difference must survive.
    let q = [1.0f32 + f32::EPSILON, 0.0];
    let x = [1.0f32, 0.0];
    let mut out = [0.0; 1];
    lp_pairwise_distances(&q, &x, 2, LpMetric::Manhattan, &mut out).unwrap();
    assert_eq!(out[0], f32::EPSILON as f64);
}

#[test]
fn nan_and_infinity() {
    let x = [0.0f64, 0.0, f64::NAN, 0.0, f64::INFINITY, 0.0, 1.0, 1.0];
    let q = [0.0f64, 0.0];
    for m in METRICS {
        let mut pw = [0.0; 4];
        lp_pairwise_distances(&q, &x, 2, m, &mut pw).unwrap();
        assert_eq!(pw[0], 0.0);
        assert!(pw[1].is_nan(), "{m:?}");
        assert_eq!(pw[2], f64::INFINITY, "{m:?}");
        let mut d = [0.0; 4];
        let mut ix = [0i64; 4];
        lp_knn_search(&q, &x, 2, 4, m, &mut d, &mut ix).unwrap();
        assert_eq!(ix, [0, 3, 2, 1], "{m:?}: NaN last");
    }
}

#[test]
fn bit_identical_for_any_thread_count() {
    for (nq, nd, dim, k) in [(61, 3001, 13, 9), (3, 9001, 40, 300)] {
        thread_counts_agree(nq, nd, dim, k);
    }
}

fn thread_counts_agree(nq: usize, nd: usize, dim: usize, k: usize) {
    let q = grid(nq * dim, 1);
    let x: Vec<f64> = grid(nd * dim, 2).iter().map(|v| v * 1.37 + 0.01).collect();
    let before = crate::pool::num_threads();
    let mut runs = Vec::new();
    for t in [1, 2, 3] {
        crate::pool::set_num_threads(t);
        for m in METRICS {
            let mut d = vec![0.0; nq * k];
            let mut ix = vec![0i64; nq * k];
            lp_knn_search(&q, &x, dim, k, m, &mut d, &mut ix).unwrap();
            let mut pw = vec![0.0; nq * nd];
            lp_pairwise_distances(&q, &x, dim, m, &mut pw).unwrap();
            let bits: Vec<u64> = d.iter().chain(&pw).map(|v| v.to_bits()).collect();
            runs.push((t, m, bits, ix));
        }
    }
    crate::pool::set_num_threads(before);
    let n = METRICS.len();
    for r in n..runs.len() {
        assert_eq!(runs[r].2, runs[r % n].2, "threads {} vs 1", runs[r].0);
        assert_eq!(runs[r].3, runs[r % n].3);
    }
}

#[test]
fn bad_arguments() {
    let x = [0.0f64; 6];
    let mut d = [0.0; 2];
    let mut ix = [0i64; 2];
    let m = LpMetric::Manhattan;
    assert!(lp_knn_search(&x, &x, 0, 1, m, &mut d, &mut ix).is_err()); // dim 0
    assert!(lp_knn_search(&x, &x, 4, 1, m, &mut d, &mut ix).is_err()); // not a multiple
    assert!(lp_knn_search(&x, &x, 3, 0, m, &mut d, &mut ix).is_err()); // k 0
    assert!(lp_knn_search(&x, &x, 3, 3, m, &mut d, &mut ix).is_err()); // k > n
    assert!(lp_knn_search(&x, &x[..0], 3, 1, m, &mut d, &mut ix).is_err()); // empty db
    assert!(lp_knn_search(&x, &x, 3, 1, m, &mut d[..1], &mut ix).is_err()); // out length
    let mut pw = [0.0; 3];
    assert!(lp_pairwise_distances(&x, &x, 3, m, &mut pw).is_err());
    for p in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(LpMetric::from_parts(2, p).is_err(), "p = {p}");
    }
    assert!(LpMetric::from_parts(3, 1.0).is_err());
    assert_eq!(
        LpMetric::from_parts(2, 1.5).unwrap(),
        LpMetric::Minkowski(1.5)
    );
    assert_eq!(
        LpMetric::from_parts(1, f64::NAN).unwrap(),
        LpMetric::Chebyshev
    );
}
