//! Bounded per-query top-k selection under a total order.
//!
//! Entries are `(score, index)`; smaller scores are better, NaN scores sort
//! after every number, and equal scores are ordered by the lower index. That is
//! a total order, so the k best entries of a set are unique: splitting the
//! database into chunks and merging the chunk winners gives the same answer as
//! one scan, whatever the number of threads.

use crate::float::Float;
use std::cmp::Ordering;

/// `true` for NaN (without needing a `is_nan` method on the trait).
#[inline(always)]
#[allow(clippy::eq_op)]
pub(crate) fn is_nan<T: PartialEq + Copy>(v: T) -> bool {
    v != v
}

/// The total order of `(score, index)` entries: numbers ascending, then NaN;
/// ties by index.
#[inline]
pub(crate) fn cmp_entry<T: PartialOrd + Copy>(a: &(T, usize), b: &(T, usize)) -> Ordering {
    match (is_nan(a.0), is_nan(b.0)) {
        (false, false) => {
            a.0.partial_cmp(&b.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        }
        (true, true) => a.1.cmp(&b.1),
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// Keeps the k best entries offered to it.
///
/// Entries may be offered in any order (the database may be scanned forwards,
/// backwards or in chunks claimed by several threads): the kept set is always
/// the k best under [`cmp_entry`], so the answer never depends on the order.
/// Candidates better than the threshold (the k-th best kept so far, compared
/// by score then index) are appended to a buffer of up to `2k` entries; a full
/// buffer is cut back to the k best (`select_nth_unstable`), which sets the
/// threshold. Amortized O(1) per offer; memory O(k).
pub struct TopK<T> {
    k: usize,
    cap: usize,
    buf: Vec<(T, usize)>,
    /// Set once `buf` has been cut to k entries: then `thr` is the k-th best.
    full: bool,
    thr: T,
    thr_idx: usize,
    thr_nan: bool,
}

impl<T: Float> TopK<T> {
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            cap: (2 * k).max(k + 32),
            buf: Vec::new(),
            full: false,
            thr: T::INFINITY,
            thr_idx: usize::MAX,
            thr_nan: false,
        }
    }

    /// A score a candidate must be at most to have a chance (below it: kept;
    /// equal to it: kept if its index is lower than the k-th best's), when that
    /// is a plain comparison (the k-th best so far is a number). `None`: every
    /// candidate must be offered.
    #[inline(always)]
    pub fn threshold(&self) -> Option<T> {
        if self.full && !self.thr_nan {
            Some(self.thr)
        } else {
            None
        }
    }

    /// [`TopK::threshold`] made as tight as the kept entries allow (cut back
    /// to the k best whenever more are kept): for callers that skip costly
    /// work by the threshold, where the cut costs less than what it saves.
    pub fn tight_threshold(&mut self) -> Option<T> {
        if self.buf.len() > self.k || (!self.full && self.buf.len() == self.k) {
            self.compact();
        }
        self.threshold()
    }

    #[inline(always)]
    pub fn offer(&mut self, v: T, idx: usize) {
        if self.full {
            if self.thr_nan {
                // The k-th best is NaN: any number beats it, a NaN only with a lower index.
                if is_nan(v) && idx > self.thr_idx {
                    return;
                }
            } else {
                match v.partial_cmp(&self.thr) {
                    Some(Ordering::Less) => {}
                    Some(Ordering::Equal) if idx < self.thr_idx => {}
                    _ => return, // worse, a tie with a higher index, or NaN
                }
            }
        }
        self.buf.push((v, idx));
        if self.buf.len() >= self.cap {
            self.compact();
        }
    }

    #[cold]
    fn compact(&mut self) {
        let k = self.k;
        self.buf.select_nth_unstable_by(k - 1, cmp_entry);
        self.buf.truncate(k);
        let worst = self.buf[k - 1];
        self.full = true;
        self.thr = worst.0;
        self.thr_idx = worst.1;
        self.thr_nan = is_nan(worst.0);
    }

    /// The kept candidates (at most `2k`, unordered; a superset of the k best).
    pub fn candidates(&self) -> &[(T, usize)] {
        &self.buf
    }
}

/// Keeps the `k` best of `v` (by [`cmp_entry`]) and sorts them.
pub(crate) fn select_sorted<T: PartialOrd + Copy>(v: &mut Vec<(T, usize)>, k: usize) {
    if v.len() > k && k > 0 {
        v.select_nth_unstable_by(k - 1, cmp_entry);
        v.truncate(k);
    }
    v.truncate(k);
    v.sort_unstable_by(cmp_entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(scores: &[f32], k: usize) -> Vec<(f32, usize)> {
        let mut v: Vec<(f32, usize)> = scores.iter().copied().zip(0..).collect();
        v.sort_by(cmp_entry);
        v.truncate(k);
        v
    }

    #[test]
    fn matches_full_sort_with_ties_and_nan() {
        let mut s = 12345u64;
        for n in [1usize, 5, 40, 100, 1000] {
            for k in [1usize, 2, 7, 33, n] {
                if k > n {
                    continue;
                }
                let scores: Vec<f32> = (0..n)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                        let r = (s >> 33) % 13;
                        if r == 0 {
                            f32::NAN
                        } else {
                            (r % 5) as f32 // many ties
                        }
                    })
                    .collect();
                let want = brute(&scores, k);
                let key =
                    |v: &[(f32, usize)]| v.iter().map(|e| (e.0.to_bits(), e.1)).collect::<Vec<_>>();
                // Forwards, backwards and interleaved from both ends: same set.
                let fwd: Vec<usize> = (0..n).collect();
                let bwd: Vec<usize> = (0..n).rev().collect();
                let ends: Vec<usize> = (0..n)
                    .map(|i| if i % 2 == 0 { i / 2 } else { n - 1 - i / 2 })
                    .collect();
                for order in [fwd, bwd, ends] {
                    let mut t = TopK::new(k);
                    for &i in &order {
                        t.offer(scores[i], i);
                    }
                    let mut got = t.candidates().to_vec();
                    select_sorted(&mut got, k);
                    assert_eq!(key(&got), key(&want), "n={n} k={k}");
                }
            }
        }
    }
}
