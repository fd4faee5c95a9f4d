use super::*;

/// Deterministic values in [-1, 1) (also used by `prefilter_tests`).
pub(super) use crate::test_data::uniform as data;

fn exact_value(q: &[f64], x: &[f64], metric: Metric) -> f64 {
    let dot: f64 = q.iter().zip(x).map(|(a, b)| a * b).sum();
    let sq: f64 = q.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum();
    let nq = q.iter().map(|a| a * a).sum::<f64>().sqrt();
    let nx = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    match metric {
        Metric::SqEuclidean => sq,
        Metric::Euclidean => sq.sqrt(),
        Metric::InnerProduct => dot,
        Metric::Cosine => {
            let s = if nq > 0.0 && nx > 0.0 {
                dot / (nq * nx)
            } else {
                0.0
            };
            (1.0 - s).clamp(0.0, 2.0)
        }
    }
}

/// Brute force: all (score, index) sorted by the total order.
fn brute(q: &[f64], db: &[f64], dim: usize, k: usize, metric: Metric) -> Vec<(f64, usize)> {
    let mut all: Vec<(f64, usize)> = db
        .chunks(dim)
        .enumerate()
        .map(|(j, x)| {
            let v = exact_value(q, x, metric);
            (
                if metric == Metric::InnerProduct {
                    -v
                } else {
                    v
                },
                j,
            )
        })
        .collect();
    all.sort_by(cmp_entry);
    all.truncate(k);
    all
}

/// `nd` rows of `dim` values that cycle through 7 distinct vectors (many
/// exact ties; returned as `base`, 7 rows), with zero rows, a NaN row, an
/// infinite row, an overflowing row and one NaN value sprinkled in (needs
/// `nd > 4000`): `(base, rows)`.
pub(super) fn tie_rows(nd: usize, dim: usize) -> (Vec<f64>, Vec<f64>) {
    let base = data(7 * dim, 21);
    let mut x: Vec<f64> = (0..nd * dim)
        .map(|e| base[(e / dim % 7) * dim + e % dim])
        .collect();
    for (row, v) in [
        (11usize, 0.0),
        (4000, 0.0),
        (17, f64::NAN),
        (2500, f64::INFINITY),
        (333, 1e300),
    ] {
        x[row * dim..(row + 1) * dim].fill(v);
    }
    x[1234 * dim + 3] = f64::NAN;
    (base, x)
}

pub(super) const METRICS: [Metric; 4] = [
    Metric::SqEuclidean,
    Metric::Euclidean,
    Metric::Cosine,
    Metric::InnerProduct,
];

fn check<T: KnnFloat>(nq: usize, nd: usize, dim: usize, k: usize, metric: Metric, tol: f64) {
    let q64 = data(nq * dim, 7 + nq as u64);
    let x64 = data(nd * dim, 11 + nd as u64);
    let q: Vec<T> = q64.iter().map(|&v| T::from_f64(v)).collect();
    let x: Vec<T> = x64.iter().map(|&v| T::from_f64(v)).collect();
    let qr: Vec<f64> = q.iter().map(|v| v.to_f64()).collect();
    let xr: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
    let mut d = vec![T::ZERO; nq * k];
    let mut ix = vec![0i64; nq * k];
    knn_search(&q, &x, dim, k, metric, &mut d, &mut ix).unwrap();
    for i in 0..nq {
        let want = brute(&qr[i * dim..(i + 1) * dim], &xr, dim, k + 1, metric);
        for r in 0..k {
            let wv = if metric == Metric::InnerProduct {
                -want[r].0
            } else {
                want[r].0
            };
            let got = d[i * k + r].to_f64();
            assert!(
                (got - wv).abs() <= tol * (1.0 + wv.abs()),
                "{metric:?} nq={nq} nd={nd} dim={dim} k={k} q={i} r={r}: {got} vs {wv}"
            );
            // Indices must agree where the distances are separated.
            let sep = |a: f64, b: f64| (a - b).abs() > 4.0 * tol * (1.0 + a.abs());
            let prev_ok = r == 0 || sep(want[r].0, want[r - 1].0);
            let next_ok = r + 1 >= want.len() || sep(want[r].0, want[r + 1].0);
            if prev_ok && next_ok {
                assert_eq!(ix[i * k + r] as usize, want[r].1, "{metric:?} q={i} r={r}");
            }
        }
    }
}

#[test]
fn matches_brute_force_all_metrics_and_shapes() {
    for metric in METRICS {
        for &(nq, nd, dim, k) in &[
            (1usize, 1usize, 1usize, 1usize),
            (1, 50, 3, 50),
            (3, 9000, 7, 5),  // direct kernel, several database chunks
            (20, 9000, 5, 4), // GEMM, several chunks
            (9, 1500, 5, 1),
            (260, 600, 33, 3),  // two query blocks
            (5, 4200, 16, 600), // k above the chunking limit
        ] {
            check::<f64>(nq, nd, dim, k, metric, 1e-9);
            check::<f32>(nq, nd, dim, k, metric, 2e-5);
        }
    }
}

#[test]
fn same_bits_for_any_thread_count() {
    let dim = 24;
    let q: Vec<f32> = data(300 * dim, 1).iter().map(|&v| v as f32).collect();
    let x: Vec<f32> = data(20_000 * dim, 2).iter().map(|&v| v as f32).collect();
    for metric in METRICS {
        let mut runs = Vec::new();
        for threads in [1usize, 2, 3] {
            pool::set_num_threads(threads);
            let mut d = vec![0.0f32; 300 * 10];
            let mut i = vec![0i64; 300 * 10];
            knn_search(&q, &x, dim, 10, metric, &mut d, &mut i).unwrap();
            runs.push((d.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), i));
        }
        pool::set_num_threads(0);
        assert!(runs.windows(2).all(|w| w[0] == w[1]), "{metric:?}");
    }
}

/// One direct search with the scan direction chosen by the test (a full
/// scan: no codes; also `prefilter_tests`' reference).
pub(super) fn search_dir<T: KnnFloat>(
    q: &[T],
    x: &[T],
    dim: usize,
    k: usize,
    metric: Metric,
    backward: bool,
) -> (Vec<u64>, Vec<i64>) {
    let nq = q.len() / dim;
    let xaux = row_aux(x, dim, metric);
    let mut d = vec![T::ZERO; nq * k];
    let mut i = vec![0i64; nq * k];
    search_impl(
        Search {
            queries: q,
            database: x,
            xaux: &xaux,
            dim,
            nq,
            nd: x.len() / dim,
            k,
            metric,
            backward,
        },
        None,
        &mut d,
        &mut i,
    );
    (d.iter().map(|v| v.to_f64().to_bits()).collect(), i)
}

#[test]
fn scan_direction_and_thread_count_never_change_results() {
    // The few-query path (shared scan, alternating direction) on a database
    // whose second half repeats the first (every score is tied with another
    // row's: the lower index must win in both directions) plus NaN rows.
    let dim = 128;
    let half = 20_000;
    let mut x64 = data(half * dim, 21);
    x64.extend_from_within(..);
    for j in [5usize, 777, half + 3] {
        x64[j * dim + 1] = f64::NAN;
    }
    let nd = 2 * half;
    // Query 0 equals row 10 (and so row half + 10); queries 1, 2 random.
    let mut q64 = x64[10 * dim..11 * dim].to_vec();
    q64.extend(data(2 * dim, 22));
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    let q32: Vec<f32> = q64.iter().map(|&v| v as f32).collect();
    for metric in METRICS {
        for nq in [1usize, 2, 3] {
            for k in [1usize, 7, 40] {
                let mut runs32 = Vec::new();
                let mut runs64 = Vec::new();
                for threads in [1usize, 2, 3] {
                    pool::set_num_threads(threads);
                    for backward in [false, true] {
                        runs32.push(search_dir(&q32[..nq * dim], &x32, dim, k, metric, backward));
                        runs64.push(search_dir(&q64[..nq * dim], &x64, dim, k, metric, backward));
                    }
                }
                pool::set_num_threads(0);
                for runs in [&runs32, &runs64] {
                    assert!(
                        runs.windows(2).all(|w| w[0] == w[1]),
                        "{metric:?} nq={nq} k={k}"
                    );
                    // Tied pairs (j, half + j): the lower one always comes first.
                    let ids = &runs[0].1;
                    for r in 0..nq {
                        let row = &ids[r * k..(r + 1) * k];
                        for (a, &j) in row.iter().enumerate() {
                            let j = j as usize;
                            assert!(j < nd);
                            // (rows 5 and 777 were made NaN, their twins were not)
                            if j >= half && j != half + 5 && j != half + 777 {
                                assert!(
                                    row[..a].contains(&((j - half) as i64)),
                                    "{metric:?} {row:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // The index alternates directions by itself: consecutive searches agree.
    for metric in METRICS {
        let mut idx = KnnIndex::new(dim, metric).unwrap();
        idx.add(&x32).unwrap();
        let first = {
            let (mut d, mut i) = (vec![0.0f32; 30], vec![0i64; 30]);
            idx.search(&q32, 10, &mut d, &mut i).unwrap();
            (d, i)
        };
        for _ in 0..3 {
            let (mut d, mut i) = (vec![0.0f32; 30], vec![0i64; 30]);
            idx.search(&q32, 10, &mut d, &mut i).unwrap();
            assert_eq!(i, first.1);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&d), bits(&first.0));
        }
    }
}

#[test]
fn nan_sorts_last_and_ties_by_index() {
    // Rows 0 and 2 are equal (tie), row 1 holds NaN.
    let db = [1.0f64, 1.0, f64::NAN, 0.0, 1.0, 1.0, 5.0, 5.0];
    let mut d = [0.0; 4];
    let mut i = [0i64; 4];
    knn_search(&[1.0, 1.0], &db, 2, 4, Metric::Euclidean, &mut d, &mut i).unwrap();
    assert_eq!(i, [0, 2, 3, 1]);
    assert!(d[3].is_nan());
    // A NaN query: everything NaN, in index order.
    knn_search(
        &[f64::NAN, 1.0],
        &db,
        2,
        4,
        Metric::SqEuclidean,
        &mut d,
        &mut i,
    )
    .unwrap();
    assert_eq!(i, [0, 1, 2, 3]);
    assert!(d.iter().all(|v| v.is_nan()));
}

#[test]
fn inner_product_largest_first_and_cosine_zero_vector() {
    let db = [1.0f32, 0.0, 3.0, 0.0, 0.0, 0.0];
    let mut d = [0.0f32; 3];
    let mut i = [0i64; 3];
    knn_search(&[1.0, 0.0], &db, 2, 3, Metric::InnerProduct, &mut d, &mut i).unwrap();
    assert_eq!(i, [1, 0, 2]);
    assert_eq!(d, [3.0, 1.0, 0.0]);
    knn_search(&[1.0, 0.0], &db, 2, 3, Metric::Cosine, &mut d, &mut i).unwrap();
    assert_eq!(i, [0, 1, 2]);
    assert_eq!(d, [0.0, 0.0, 1.0]);
}

#[test]
fn bad_input_is_an_error_and_writes_nothing() {
    let db = [1.0f64, 2.0, 3.0, 4.0];
    let mut d = [-7.0; 2];
    let mut i = [-7i64; 2];
    let e = |r: Result<()>| r.unwrap_err();
    assert!(matches!(
        e(knn_search(
            &[1.0, 2.0],
            &db,
            0,
            1,
            Metric::Euclidean,
            &mut d[..1],
            &mut i[..1]
        )),
        Error::InvalidArgument(_)
    ));
    assert!(matches!(
        e(knn_search(
            &[1.0, 2.0, 3.0],
            &db,
            2,
            1,
            Metric::Euclidean,
            &mut d[..1],
            &mut i[..1]
        )),
        Error::LengthMismatch(_)
    ));
    assert!(matches!(
        e(knn_search(
            &[1.0, 2.0],
            &db,
            2,
            0,
            Metric::Euclidean,
            &mut d[..0],
            &mut i[..0]
        )),
        Error::InvalidArgument(_)
    ));
    assert!(matches!(
        e(knn_search(
            &[1.0, 2.0],
            &db,
            2,
            3,
            Metric::Euclidean,
            &mut d,
            &mut i
        )),
        Error::InvalidArgument(_)
    ));
    assert!(matches!(
        e(knn_search(
            &[1.0, 2.0],
            &[],
            2,
            1,
            Metric::Euclidean,
            &mut d[..1],
            &mut i[..1]
        )),
        Error::InvalidArgument(_)
    ));
    assert!(matches!(
        e(knn_search(
            &[1.0, 2.0],
            &db,
            2,
            1,
            Metric::Euclidean,
            &mut d,
            &mut i
        )),
        Error::LengthMismatch(_)
    ));
    assert_eq!(d, [-7.0; 2]);
    assert_eq!(i, [-7; 2]);
    assert!(Metric::from_i32(4).is_err());
    assert!(Metric::from_i32(-1).is_err());
    let idx = KnnIndex::<f32>::new(3, Metric::Cosine).unwrap();
    let mut d1 = [0.0f32; 1];
    assert!(matches!(
        idx.search(&[1.0, 2.0, 3.0], 1, &mut d1, &mut i[..1])
            .unwrap_err(),
        Error::InvalidState(_)
    ));
}

#[test]
fn index_equals_one_shot_search() {
    let dim = 9;
    let q: Vec<f32> = data(40 * dim, 5).iter().map(|&v| v as f32).collect();
    let x: Vec<f32> = data(3000 * dim, 6).iter().map(|&v| v as f32).collect();
    for metric in METRICS {
        let mut idx = KnnIndex::new(dim, metric).unwrap();
        idx.add(&x[..1000 * dim]).unwrap();
        idx.add(&x[1000 * dim..]).unwrap();
        assert!(idx.add(&x[..5]).is_err());
        assert_eq!(idx.len(), 3000);
        let (mut d1, mut i1) = (vec![0.0f32; 40 * 4], vec![0i64; 40 * 4]);
        let (mut d2, mut i2) = (d1.clone(), i1.clone());
        idx.search(&q, 4, &mut d1, &mut i1).unwrap();
        knn_search(&q, &x, dim, 4, metric, &mut d2, &mut i2).unwrap();
        assert_eq!(i1, i2);
        assert_eq!(d1, d2);
    }
}

#[test]
fn pairwise_matches_exact() {
    for metric in METRICS {
        for &(nx, ny, dim) in &[(1usize, 1usize, 1usize), (7, 3, 5), (300, 1100, 17)] {
            let x = data(nx * dim, 3);
            let y = data(ny * dim, 4);
            let mut out = vec![0.0f64; nx * ny];
            pairwise_distances(&x, &y, dim, metric, &mut out).unwrap();
            let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let yf: Vec<f32> = y.iter().map(|&v| v as f32).collect();
            let mut outf = vec![0.0f32; nx * ny];
            pairwise_distances(&xf, &yf, dim, metric, &mut outf).unwrap();
            for i in 0..nx {
                for j in 0..ny {
                    let w = exact_value(
                        &x[i * dim..(i + 1) * dim],
                        &y[j * dim..(j + 1) * dim],
                        metric,
                    );
                    let g = out[i * ny + j];
                    assert!(
                        (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                        "{metric:?} {g} {w}"
                    );
                    let xr: Vec<f64> = xf[i * dim..(i + 1) * dim]
                        .iter()
                        .map(|&v| v as f64)
                        .collect();
                    let yr: Vec<f64> = yf[j * dim..(j + 1) * dim]
                        .iter()
                        .map(|&v| v as f64)
                        .collect();
                    let wf = exact_value(&xr, &yr, metric);
                    let gf = outf[i * ny + j] as f64;
                    assert!(
                        (gf - wf).abs() <= 1e-6 * (1e-6 + wf.abs()),
                        "{metric:?} f32 {gf} {wf}"
                    );
                }
            }
        }
    }
    // A point against itself is exactly 0 (the difference path).
    let x = [1e8f64, 1.0, -3.0];
    let mut out = [1.0; 1];
    pairwise_distances(&x, &x, 3, Metric::Euclidean, &mut out).unwrap();
    assert_eq!(out[0], 0.0);
}
