//! The pre-scan of int8 codes (`prefilter`) must give exactly the full scan's
//! result — the same indices and the same distance bits — on any data, and
//! must actually skip rows on ordinary data.

use super::prefilter::{Passes, PIECE_ROWS};
use super::quant::{column_means, Codes};
use super::tests::{data as uniform, search_dir, tie_rows, METRICS};
use super::*;

type Bits = (Vec<u64>, Vec<i64>);

fn search_of<'a, T: KnnFloat>(
    q: &'a [T],
    x: &'a [T],
    xaux: &'a [T],
    dim: usize,
    k: usize,
    metric: Metric,
) -> Search<'a, T> {
    Search {
        queries: q,
        database: x,
        xaux,
        dim,
        nq: q.len() / dim,
        nd: x.len() / dim,
        k,
        metric,
        backward: false,
    }
}

fn bits<T: KnnFloat>(d: &[T], i: Vec<i64>) -> Bits {
    (d.iter().map(|v| v.to_f64().to_bits()).collect(), i)
}

/// The pre-scan's result and the rows it scored, or `None` if it declined.
fn pre<T: KnnFloat>(
    q: &[T],
    x: &[T],
    dim: usize,
    k: usize,
    metric: Metric,
    passes: Passes,
) -> Option<(Bits, usize)> {
    let xaux = row_aux(x, dim, metric);
    let mut codes = Codes::new(dim, metric);
    codes.append(x, &xaux);
    let s = search_of(q, x, &xaux, dim, k, metric);
    let qaux = row_aux(q, dim, metric);
    let (tops, scored) = prefilter::candidates(&s, &qaux, &codes, passes)?;
    let mut d = vec![T::ZERO; s.nq * k];
    let mut i = vec![0i64; s.nq * k];
    let cands = |qi: usize, c: &mut Vec<(T, usize)>| {
        for t in &tops {
            c.extend_from_slice(t[qi].candidates());
        }
    };
    finish(&s, 0, cands, &mut d, &mut i);
    Some((bits(&d, i), scored))
}

/// Same result as the full scan whenever a pre-scan runs (each pass alone and
/// both in turn); returns the rows the int8 pass scored (`None`: it declined).
fn agree<T: KnnFloat>(q: &[f64], x: &[f64], dim: usize, k: usize, metric: Metric) -> Option<usize> {
    agree_passes::<T>(q, x, dim, k, metric)[0]
}

/// [`agree`], returning the rows scored by the int8 pass, the 4-bit pass and
/// both in turn (`None` where one declined).
fn agree_passes<T: KnnFloat>(
    q: &[f64],
    x: &[f64],
    dim: usize,
    k: usize,
    metric: Metric,
) -> [Option<usize>; 3] {
    let q: Vec<T> = q.iter().map(|&v| T::from_f64(v)).collect();
    let x: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
    let want = search_dir(&q, &x, dim, k, metric, false);
    [Passes::Int8, Passes::Nibble, Passes::Both].map(|passes| {
        let got = pre(&q, &x, dim, k, metric, passes)?;
        assert_eq!(got.0, want, "dim={dim} k={k} {metric:?} {passes:?}");
        Some(got.1)
    })
}

#[test]
fn random_data_same_result_and_few_rows_scored() {
    let nd = 6000;
    for dim in [1usize, 3, 7, 16, 128, 130] {
        let x = uniform(nd * dim, 3 + dim as u64);
        for nq in [1usize, 3] {
            let q = uniform(nq * dim, 5 + dim as u64);
            for metric in METRICS {
                for k in [1usize, 10, 50] {
                    let f32_run = agree::<f32>(&q, &x, dim, k, metric);
                    let f64_run = agree::<f64>(&q, &x, dim, k, metric);
                    if dim >= 16 {
                        // Ordinary data: the pre-scan runs and skips most rows.
                        for scored in [f32_run, f64_run] {
                            let scored = scored.expect("the pre-scan declined random data");
                            assert!(
                                scored < nq * (k + 200),
                                "dim={dim} k={k} {metric:?}: scored {scored}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn nibble_pass_runs_on_random_data_and_scores_few_rows() {
    // Needs AVX2 (the pass is off without its kernel).
    if !crate::simd::nibble_dots::fast() {
        return;
    }
    let nd = 3 * PIECE_ROWS + 77;
    for dim in [16usize, 61, 128] {
        let x = uniform(nd * dim, 13 + dim as u64);
        let q = uniform(dim, 17 + dim as u64);
        for metric in METRICS {
            for k in [1usize, 10] {
                for ran in [
                    agree_passes::<f32>(&q, &x, dim, k, metric),
                    agree_passes::<f64>(&q, &x, dim, k, metric),
                ] {
                    let scored = ran[1].expect("the 4-bit pass declined random data");
                    // 35–210 rows of 12 365 here (the int8 pass: 1–24).
                    assert!(scored < 30 * k + 120, "dim={dim} k={k} {metric:?}: {ran:?}");
                }
            }
        }
    }
}

#[test]
fn offset_and_scaled_data() {
    // Far from the origin (cancellation in ‖q‖² + ‖x‖² − 2q·x), tiny and huge
    // magnitudes: the bounds must still hold.
    let (nd, dim) = (3000, 32);
    for (shift, scale) in [
        (1000.0, 1e-3),
        (5.0, 1.0),
        (0.0, 1e-10),
        (0.0, 1e-17), // products of code steps below the float32 normal range
        (0.0, 1e-20),
        (0.0, 1e15),
    ] {
        let x: Vec<f64> = uniform(nd * dim, 9)
            .iter()
            .map(|v| shift + v * scale)
            .collect();
        let q: Vec<f64> = uniform(dim, 10).iter().map(|v| shift + v * scale).collect();
        // Where the float32 scan's own rounding (offset 1000) or underflow
        // (1e-20) swamps the differences, the pre-scan may decline; elsewhere
        // it must run (the centre removes the offset 5).
        let must_run = shift != 1000.0 && scale != 1e-20;
        for metric in METRICS {
            let ran = [
                agree::<f32>(&q, &x, dim, 10, metric),
                agree::<f64>(&q, &x, dim, 10, metric),
            ];
            if must_run {
                assert!(
                    ran.iter().all(|r| r.is_some_and(|n| n < 40)),
                    "{shift} {scale} {metric:?} {ran:?}"
                );
            }
        }
    }
}

#[test]
fn ties_duplicates_zero_rows_and_non_finite_rows() {
    let (nd, dim) = (5000, 16);
    let (base, x) = tie_rows(nd, dim);
    let queries = [
        base[..dim].to_vec(), // equal to every 7th row
        vec![0.0; dim],       // the zero query
        uniform(dim, 22),
    ];
    for q in &queries {
        for metric in METRICS {
            for k in [1usize, 10, 70] {
                agree::<f32>(q, &x, dim, k, metric);
                agree::<f64>(q, &x, dim, k, metric);
            }
        }
    }
}

#[test]
fn non_finite_query_declines() {
    let dim = 8;
    let x = uniform(5000 * dim, 1);
    let mut q = uniform(dim, 2);
    q[3] = f64::NAN;
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let qf: Vec<f32> = q.iter().map(|&v| v as f32).collect();
    for passes in [Passes::Int8, Passes::Nibble, Passes::Both] {
        assert!(pre(&qf, &xf, dim, 5, Metric::SqEuclidean, passes).is_none());
    }
}

#[test]
fn codes_appended_in_pieces_equal_codes_of_the_whole() {
    for dim in [5usize, 16, 33] {
        let x: Vec<f32> = uniform(100 * dim, 4).iter().map(|&v| v as f32).collect();
        let aux = row_aux(&x, dim, Metric::SqEuclidean);
        let mut parts = Codes::new(dim, Metric::SqEuclidean);
        for (a, b) in [(0usize, 7usize), (7, 16), (16, 51), (51, 100)] {
            parts.append(&x[a * dim..b * dim], &aux[a..b]);
        }
        // The centre comes from the first rows added: give the whole the same.
        let mut whole = Codes::new(dim, Metric::SqEuclidean);
        whole.mu = parts.mu.clone();
        (whole.mu_norm, whole.mu_sq) = (parts.mu_norm, parts.mu_sq);
        whole.append(&x, &aux);
        assert_ne!(parts.mu, column_means(&x, dim));
        assert_eq!(whole.bytes, parts.bytes);
        assert_eq!(whole.nibble_bytes, parts.nibble_bytes);
        assert_eq!(whole.err, parts.err);
        assert_eq!(whole.err4, parts.err4);
        assert_eq!(whole.aux, parts.aux);
        assert_eq!(whole.shift, parts.shift);
        assert_eq!(whole.mag, parts.mag);
    }
}

#[test]
fn index_one_query_equals_one_shot_search() {
    // Through the public API: an index (codes, when this CPU has AVX2) and the
    // one-shot search (never codes) agree bit for bit.
    let (nd, dim) = (20_000, 64);
    let x: Vec<f32> = uniform(nd * dim, 31).iter().map(|&v| v as f32).collect();
    for metric in METRICS {
        let mut ix = KnnIndex::<f32>::new(dim, metric).unwrap();
        ix.add(&x[..7777 * dim]).unwrap();
        ix.add(&x[7777 * dim..]).unwrap();
        for s in 0..5u64 {
            let q: Vec<f32> = uniform(dim, 40 + s).iter().map(|&v| v as f32).collect();
            let (mut d1, mut i1) = (vec![0.0f32; 10], vec![0i64; 10]);
            let (mut d2, mut i2) = (vec![0.0f32; 10], vec![0i64; 10]);
            ix.search(&q, 10, &mut d1, &mut i1).unwrap();
            knn_search(&q, &x, dim, 10, metric, &mut d2, &mut i2).unwrap();
            assert_eq!(i1, i2, "{metric:?}");
            assert_eq!(
                d1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                d2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn many_small_random_cases() {
    // Random shapes and value kinds (continuous, few distinct values for ties,
    // clusters around a shared offset), every metric, both types.
    let mut states = crate::test_data::states(usize::MAX, 77);
    let mut next = |m: u64| (states.next().expect("endless") >> 33) % m;
    for case in 0..300u64 {
        let nd = 16 + next(400) as usize;
        let dim = 1 + next(40) as usize;
        let nq = 1 + next(3) as usize;
        let k = 1 + next(nd.min(20) as u64) as usize;
        let kind = next(3);
        let offset = next(5) as f64;
        let mut vals = uniform((nd + nq) * dim, 1000 + case);
        for v in vals.iter_mut() {
            *v = match kind {
                0 => *v,
                1 => (*v * 3.0).round(), // values in {-3..3}: many exact ties
                _ => offset + *v * 0.1,
            };
        }
        let (x, q) = vals.split_at(nd * dim);
        let metric = METRICS[next(4) as usize];
        agree::<f32>(q, x, dim, k, metric);
        agree::<f64>(q, x, dim, k, metric);
    }
}

#[test]
fn overflowing_terms_decline_instead_of_dropping_rows() {
    // Found in review: rows and query near 2e19 and nearly parallel make q·μ
    // and the margin overflow float32 (every row lo = -inf, hi = NaN); the
    // k-th upper bound was NaN and no row was scored.
    let (nd, dim, k) = (6000, 16, 5);
    let x: Vec<f64> = uniform(nd * dim, 3)
        .iter()
        .map(|v| 1e19 * (2.0 + 0.01 * v))
        .collect();
    let q: Vec<f64> = uniform(dim, 4)
        .iter()
        .map(|v| 1e19 * (2.0 + 0.01 * v))
        .collect();
    for metric in [Metric::InnerProduct, Metric::Cosine] {
        agree::<f64>(&q, &x, dim, k, metric);
        agree::<f32>(&q, &x, dim, k, metric);
        let mut ix = KnnIndex::<f64>::new(dim, metric).unwrap();
        ix.add(&x).unwrap();
        let (mut d1, mut i1) = (vec![-1.0; k], vec![-1i64; k]);
        let (mut d2, mut i2) = (vec![-1.0; k], vec![-1i64; k]);
        ix.search(&q, k, &mut d1, &mut i1).unwrap();
        knn_search(&q, &x, dim, k, metric, &mut d2, &mut i2).unwrap();
        assert_eq!(i1, i2, "{metric:?}");
    }
}

#[test]
fn an_empty_first_add_does_not_fix_the_centre() {
    let dim = 4;
    let x: Vec<f32> = uniform(64 * dim, 8)
        .iter()
        .map(|&v| 5.0 + v as f32)
        .collect();
    let aux = row_aux(&x, dim, Metric::SqEuclidean);
    let mut codes = Codes::new(dim, Metric::SqEuclidean);
    codes.append::<f32>(&[], &[]);
    codes.append(&x, &aux);
    assert_eq!(codes.mu, column_means(&x, dim));
}

#[test]
fn index_pieces_in_both_directions_and_any_thread_count() {
    // The pre-scan reads its pieces forwards and backwards on alternate
    // searches and splits them between threads: consecutive one- and
    // three-query searches of an index (codes where the CPU has AVX2 or VNNI)
    // equal the float scan bit for bit at 1, 2 and 3 threads, on ordinary
    // data, on ties / duplicates / zero / non-finite rows, and on float32
    // extremes (tiny and huge rows next to ordinary ones).
    let (nd, dim) = (3 * PIECE_ROWS + 1000, 16);
    let ordinary = uniform(nd * dim, 61);
    let (base, ties) = tie_rows(nd, dim);
    let mut extremes = uniform(nd * dim, 62);
    for (r, row) in extremes.chunks_exact_mut(dim).enumerate() {
        let scale = match r % 5 {
            0 => 1e-38,
            1 => 3e18,
            2 => f32::MIN_POSITIVE as f64,
            _ => 1.0,
        };
        row.iter_mut().for_each(|v| *v *= scale);
    }
    let mut queries = uniform(3 * dim, 63);
    queries[dim..2 * dim].copy_from_slice(&base[..dim]); // equal to every 7th tie row
    queries[2 * dim..].fill(0.0);
    for x in [&ordinary, &ties, &extremes] {
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let q: Vec<f32> = queries.iter().map(|&v| v as f32).collect();
        for metric in METRICS {
            let mut ix = KnnIndex::<f32>::new(dim, metric).unwrap();
            ix.add(&x).unwrap();
            for k in [1usize, 10] {
                for nq in [1usize, 3] {
                    let q = &q[..nq * dim];
                    let want = search_dir(q, &x, dim, k, metric, false);
                    for threads in [1usize, 2, 3] {
                        pool::set_num_threads(threads);
                        // Two searches: one forwards, one backwards.
                        for _ in 0..2 {
                            let (mut d, mut i) = (vec![0.0f32; nq * k], vec![0i64; nq * k]);
                            ix.search(q, k, &mut d, &mut i).unwrap();
                            assert_eq!(
                                bits(&d, i),
                                want,
                                "{metric:?} k={k} nq={nq} threads={threads}"
                            );
                        }
                        pool::set_num_threads(0);
                    }
                }
            }
        }
    }
}

#[test]
fn the_fused_lower_bound_is_the_bounds_lower_bound() {
    // `prefilter::reaching` multiplies the lower bound of `bounds` out into
    // one sum: the same number up to float32 rounding. With t the median
    // bound, a row clearly below t must stay, a row clearly above must go.
    // Both copies: fused multiply-adds (AVX2) and separate ones (portable).
    use super::prefilter::{bounds, query_code, reaching, RowsBounds};
    use crate::simd::{at_levels, Level};
    let _level = crate::simd::test_level_lock();
    at_levels(&[Level::Baseline, Level::Avx2], |cap| {
        for (dim, offset) in [(16usize, 0.0), (61, 3.0), (128, 0.0)] {
            let nd = 2000;
            let x: Vec<f32> = uniform(nd * dim, 51 + dim as u64)
                .iter()
                .map(|&v| (v + offset) as f32)
                .collect();
            for metric in METRICS {
                let xaux = row_aux(&x, dim, metric);
                let mut codes = Codes::new(dim, metric);
                codes.append(&x, &xaux);
                let q: Vec<f32> = uniform(dim, 53)
                    .iter()
                    .map(|&v| (v + offset) as f32)
                    .collect();
                let qaux = row_aux(&q, dim, metric);
                let (g, qb) = query_code(&codes, &q, qaux[0], metric).unwrap();
                let dots: Vec<i32> = (0..nd)
                    .map(|j| {
                        let (b, r) = (j / 16, j % 16);
                        let blk = &codes.bytes[b * codes.block_bytes()..];
                        (0..4 * codes.d4())
                            .map(|e| {
                                let byte = blk[(e / 4) * 64 + 4 * r + e % 4];
                                i32::from(byte) * i32::from(g[e])
                            })
                            .sum()
                    })
                    .collect();
                let rows = RowsBounds::piece(&codes, &dots, 0, nd);
                let (mut lo, mut hi) = (vec![0.0f32; nd], vec![0.0f32; nd]);
                bounds(metric, &qb, &rows, &mut lo, &mut hi);
                let mut sorted = lo.clone();
                sorted.sort_by(f32::total_cmp);
                let t = sorted[nd / 2];
                let (mut cands, mut nan) = (Vec::new(), Vec::new());
                reaching(metric, &qb, &rows, t, 0, &mut cands, &mut nan);
                assert!(nan.is_empty(), "{metric:?}");
                let kept: std::collections::HashSet<usize> = cands.iter().map(|c| c.1).collect();
                let slack = 1e-5 * sorted.iter().map(|v| v.abs()).fold(0.0, f32::max);
                for (j, &l) in lo.iter().enumerate() {
                    if l < t - slack {
                        assert!(
                            kept.contains(&j),
                            "{metric:?} dim={dim}: row {j} ({l} < {t}) dropped"
                        );
                    }
                    if l > t + slack {
                        assert!(
                            !kept.contains(&j),
                            "{metric:?} dim={dim}: row {j} ({l} > {t}) kept"
                        );
                    }
                }
                for &(v, j) in &cands {
                    assert!(
                        (v - lo[j]).abs() <= slack,
                        "{metric:?} {cap:?}: {v} vs {}",
                        lo[j]
                    );
                }
            }
        }
    });
}
