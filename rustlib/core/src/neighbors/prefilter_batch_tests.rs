//! The batch pre-scans (`prefilter_batch`, `prefilter_batch_nibble`) must
//! give exactly the float scan's result — the same indices and the same
//! distance bits — on any data, for any thread count, and must actually run on
//! ordinary data where the CPU has their kernels.

use super::quant::Codes;
use super::tests::{data as uniform, search_dir, tie_rows, METRICS};
use super::*;

type Bits = (Vec<u64>, Vec<i64>);

fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    pool::set_num_threads(threads);
    let r = f();
    pool::set_num_threads(0);
    r
}

/// Which batch pre-scan a test runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pass {
    Int8,
    Nibble,
}

/// The result of the batch pre-scan `pass` and the rows it scored in float
/// per query (the 4-bit pass; 0 for int8), or `None` if it declined.
fn pre<T: KnnFloat>(
    q: &[T],
    x: &[T],
    dim: usize,
    k: usize,
    metric: Metric,
    pass: Pass,
) -> Option<(Bits, f64)> {
    let xaux = row_aux(x, dim, metric);
    let mut codes = Codes::new(dim, metric);
    codes.append(x, &xaux);
    let s = Search {
        queries: q,
        database: x,
        xaux: &xaux,
        dim,
        nq: q.len() / dim,
        nd: x.len() / dim,
        k,
        metric,
        backward: false,
    };
    let qaux = row_aux(q, dim, metric);
    let team = sched::team(1, 0);
    let (tops, scored): (Vec<Vec<TopK<T>>>, usize) = match pass {
        Pass::Int8 => {
            let tops = prefilter_batch::candidates(&s, &qaux, &codes, &team)?;
            (tops.into_iter().map(|t| vec![t]).collect(), 0)
        }
        Pass::Nibble => prefilter_batch_nibble::candidates(&s, &qaux, &codes, &team)?,
    };
    assert_eq!(tops.len(), s.nq);
    let mut d = vec![T::ZERO; s.nq * k];
    let mut i = vec![0i64; s.nq * k];
    let cands = |qi: usize, c: &mut Vec<(T, usize)>| {
        for t in &tops[qi] {
            c.extend_from_slice(t.candidates());
        }
    };
    finish(&s, 0, cands, &mut d, &mut i);
    let bits = d.iter().map(|v| v.to_f64().to_bits()).collect();
    Some(((bits, i), scored as f64 / s.nq as f64))
}

/// Same result as the float scan whenever a batch pre-scan runs; returns
/// whether the int8 pass ran, and the rows the 4-bit pass scored per query if
/// it ran.
fn agree<T: KnnFloat>(
    q: &[f64],
    x: &[f64],
    dim: usize,
    k: usize,
    metric: Metric,
) -> (bool, Option<f64>) {
    let q: Vec<T> = q.iter().map(|&v| T::from_f64(v)).collect();
    let x: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
    let want = search_dir(&q, &x, dim, k, metric, false);
    let ran = |pass| {
        let (got, scored) = pre(&q, &x, dim, k, metric, pass)?;
        assert_eq!(got, want, "dim={dim} k={k} {metric:?} {pass:?}");
        Some(scored)
    };
    (ran(Pass::Int8).is_some(), ran(Pass::Nibble))
}

fn vnni() -> bool {
    crate::simd::int8_dots::fast_multi()
}

fn avx2() -> bool {
    crate::simd::nibble_dots::fast()
}

#[test]
fn random_batches_same_result_as_the_float_scan() {
    // 4 queries (the smallest batch), 5 (a partial kernel group), 257 (a last
    // GEMM block of one query, scored by small_dots), odd database sizes.
    for (nd, dim) in [(4096usize, 128usize), (5001, 16), (6007, 130), (4099, 3)] {
        let x = uniform(nd * dim, 3 + dim as u64);
        for nq in [4usize, 5, 257] {
            let q = uniform(nq * dim, 5 + nq as u64);
            for metric in METRICS {
                for k in [1usize, 10, 50] {
                    let (a, b) = (
                        agree::<f32>(&q, &x, dim, k, metric),
                        agree::<f64>(&q, &x, dim, k, metric),
                    );
                    let what = format!("{nd}x{dim} nq={nq} k={k} {metric:?}");
                    if vnni() && dim >= 16 {
                        assert!(a.0 && b.0, "int8 declined random data: {what}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_4_bit_pass_runs_on_random_data_and_scores_few_rows() {
    // Needs AVX2 (the pass is off without its kernel). On small databases
    // (the sizes above) it may decline: each run of rows a task scans scores
    // a few hundred rows before its threshold settles.
    if !avx2() {
        return;
    }
    let nd = 20_011;
    for dim in [16usize, 61, 128] {
        let x = uniform(nd * dim, 7 + dim as u64);
        for nq in [4usize, 70] {
            let q = uniform(nq * dim, 9 + nq as u64);
            for metric in METRICS {
                for k in [1usize, 10] {
                    for ran in [
                        agree::<f32>(&q, &x, dim, k, metric).1,
                        agree::<f64>(&q, &x, dim, k, metric).1,
                    ] {
                        let what = format!("dim={dim} nq={nq} k={k} {metric:?}");
                        let scored = ran.unwrap_or_else(|| panic!("declined: {what}"));
                        // Most rows are skipped (per query, over all tasks).
                        assert!(scored < nd as f64 / 10.0, "{what}: {scored} rows scored");
                    }
                }
            }
        }
    }
}

#[test]
fn ties_duplicates_and_non_finite_values() {
    let (nd, dim) = (5000, 16);
    let (base, x) = tie_rows(nd, dim);
    // Queries: equal to every 7th row, zero, random, and integer-valued
    // (exact ties in float).
    let mut q = base[..dim].to_vec();
    q.extend(vec![0.0; dim]);
    q.extend(uniform(dim, 22));
    q.extend(uniform(dim, 23).iter().map(|v| (v * 3.0).round()));
    for metric in METRICS {
        for k in [1usize, 10, 70] {
            agree::<f32>(&q, &x, dim, k, metric);
            agree::<f64>(&q, &x, dim, k, metric);
        }
    }
    // Integer-valued database: many exactly equal distances.
    let xi: Vec<f64> = uniform(nd * dim, 24)
        .iter()
        .map(|v| (v * 3.0).round())
        .collect();
    for metric in METRICS {
        agree::<f32>(&q, &xi, dim, 10, metric);
    }
}

#[test]
fn a_non_finite_query_declines() {
    let dim = 16;
    let x: Vec<f32> = uniform(5000 * dim, 1).iter().map(|&v| v as f32).collect();
    let mut q: Vec<f32> = uniform(6 * dim, 2).iter().map(|&v| v as f32).collect();
    q[2 * dim + 3] = f32::NAN;
    for pass in [Pass::Int8, Pass::Nibble] {
        assert!(pre(&q, &x, dim, 5, Metric::SqEuclidean, pass).is_none());
    }
}

#[test]
fn index_and_one_shot_batches_equal_the_float_scan_for_any_thread_count() {
    // Through the public API: an index (codes when this CPU has AVX2 or VNNI)
    // and the one-shot search (which codes the database for 64 queries or
    // more) agree
    // bit for bit with the float scan, at 1, 2 and 3 threads, also with a
    // slowed pool worker.
    let (nd, dim, k, nq) = (20_001, 64, 10, 300);
    let x: Vec<f32> = uniform(nd * dim, 31).iter().map(|&v| v as f32).collect();
    let q: Vec<f32> = uniform(nq * dim, 32).iter().map(|&v| v as f32).collect();
    for metric in METRICS {
        let want = search_dir(&q, &x, dim, k, metric, false);
        let mut ix = KnnIndex::<f32>::new(dim, metric).unwrap();
        ix.add(&x[..7777 * dim]).unwrap();
        ix.add(&x[7777 * dim..]).unwrap();
        for (threads, delay) in [(1, 0), (2, 0), (3, 0), (2, 300)] {
            sched::slow::set_helper_delay_us(delay);
            let (mut d1, mut i1) = (vec![0.0f32; nq * k], vec![0i64; nq * k]);
            let (mut d2, mut i2) = (vec![0.0f32; nq * k], vec![0i64; nq * k]);
            with_threads(threads, || {
                ix.search(&q, k, &mut d1, &mut i1).unwrap();
                knn_search(&q, &x, dim, k, metric, &mut d2, &mut i2).unwrap();
            });
            sched::slow::set_helper_delay_us(0);
            for (d, i) in [(d1, i1), (d2, i2)] {
                let bits: Vec<u64> = d.iter().map(|v| f64::from(*v).to_bits()).collect();
                assert_eq!((bits, i), want, "{metric:?} threads={threads}");
            }
        }
    }
}

#[test]
fn many_small_random_cases() {
    let mut states = crate::test_data::states(usize::MAX, 91);
    let mut next = |m: u64| (states.next().expect("endless") >> 33) % m;
    for case in 0..40u64 {
        let nd = 4096 + next(3000) as usize;
        let dim = 1 + next(40) as usize;
        let nq = 4 + next(20) as usize;
        let k = 1 + next(60) as usize;
        let kind = next(3);
        let offset = next(5) as f64;
        let mut vals = uniform((nd + nq) * dim, 2000 + case);
        for v in vals.iter_mut() {
            *v = match kind {
                0 => *v,
                1 => (*v * 3.0).round(),
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
fn rows_tied_up_to_rounding_pick_the_float_scans_rows() {
    // 300 rows are permutations of one vector near the constant query: their
    // exact distances (and inner products) are all equal, and which k of them
    // the float scan selects depends only on how its dot products round. The
    // batch pre-scan must pick the same ones (it scores them the same way).
    let (nd, dim) = (5000, 32);
    let mut x = uniform(nd * dim, 41);
    let base: Vec<f64> = uniform(dim, 42).iter().map(|v| 0.7 + 0.01 * v).collect();
    let mut s = 5u64;
    let mut next = |m: usize| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as usize % m
    };
    for r in 0..300 {
        let row = r * nd / 300 + 3;
        let mut p = base.clone();
        for i in (1..dim).rev() {
            p.swap(i, next(i + 1));
        }
        x[row * dim..(row + 1) * dim].copy_from_slice(&p);
    }
    let mut q = Vec::new();
    for c in [0.7, 0.7001, 0.69, 1.3, 0.3] {
        q.extend(vec![c; dim]);
    }
    for metric in METRICS {
        for k in [5usize, 20] {
            let ran = agree::<f32>(&q, &x, dim, k, metric);
            assert!(ran.0 || !vnni(), "{metric:?} k={k} int8 declined");
            assert!(
                ran.1.is_some() || !avx2(),
                "{metric:?} k={k} 4-bit declined"
            );
        }
    }
}
