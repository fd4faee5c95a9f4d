//! The sparse result of the vectorizers.

use crate::pool;
use rayon::prelude::*;

/// A CSR matrix: row `r` has the entries `indptr[r]..indptr[r + 1]` of
/// `indices` (columns) and `data`, in the order scikit-learn produces them.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr<T> {
    /// Number of rows (documents).
    pub n_rows: usize,
    /// Number of columns (features).
    pub n_cols: usize,
    /// `n_rows + 1` row starts.
    pub indptr: Vec<u64>,
    /// Column of each entry.
    pub indices: Vec<u32>,
    /// Value of each entry.
    pub data: Vec<T>,
}

impl<T> Csr<T> {
    /// An empty matrix of `n_cols` columns and no rows.
    pub fn empty(n_cols: usize) -> Self {
        Csr {
            n_rows: 0,
            n_cols,
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
        }
    }

    /// Removes every row (keeps the allocated capacity).
    pub fn clear(&mut self) {
        self.n_rows = 0;
        self.indptr.clear();
        self.indptr.push(0);
        self.indices.clear();
        self.data.clear();
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Appends the rows of `other` (same column count).
    pub fn append(&mut self, other: Csr<T>) {
        let base = *self.indptr.last().unwrap_or(&0);
        self.indptr
            .extend(other.indptr.iter().skip(1).map(|p| p + base));
        self.indices.extend(other.indices);
        self.data.extend(other.data);
        self.n_rows += other.n_rows;
    }

    /// Concatenates row blocks in order (on the pool when large: each block
    /// is copied into its place by one task).
    pub(crate) fn concat(n_cols: usize, mut parts: Vec<Csr<T>>) -> Self
    where
        T: Copy + Default + Send + Sync,
    {
        if parts.len() == 1 {
            if let Some(mut m) = parts.pop() {
                m.n_cols = n_cols;
                return m;
            }
        }
        let nnz: usize = parts.iter().map(|p| p.nnz()).sum();
        let rows: usize = parts.iter().map(|p| p.n_rows).sum();
        // Zeroed allocations of this size are fresh pages (no memset): the
        // copies below fault them in, in parallel.
        let mut indices = vec![0u32; nnz];
        let mut data = vec![T::default(); nnz];
        let mut indptr = vec![0u64; rows + 1];
        let mut jobs = Vec::with_capacity(parts.len());
        let (mut ri, mut rd, mut rp) = (&mut indices[..], &mut data[..], &mut indptr[1..]);
        let mut base = 0u64;
        for p in &parts {
            let (i, rest_i) = std::mem::take(&mut ri).split_at_mut(p.nnz());
            let (d, rest_d) = std::mem::take(&mut rd).split_at_mut(p.nnz());
            let (r, rest_p) = std::mem::take(&mut rp).split_at_mut(p.n_rows);
            (ri, rd, rp) = (rest_i, rest_d, rest_p);
            jobs.push(ConcatJob {
                src: p,
                indices: i,
                data: d,
                indptr: r,
                base,
            });
            base += p.nnz() as u64;
        }
        let copy = |job: ConcatJob<T>| {
            let ConcatJob {
                src: p,
                indices: i,
                data: d,
                indptr: r,
                base,
            } = job;
            i.copy_from_slice(&p.indices);
            d.copy_from_slice(&p.data);
            let first = p.indptr[0];
            for (o, &q) in r.iter_mut().zip(&p.indptr[1..]) {
                *o = q - first + base;
            }
        };
        pool::run(nnz + rows, MIN_PARALLEL_ENTRIES, |par| {
            if par {
                jobs.into_par_iter().for_each(copy);
            } else {
                jobs.into_iter().for_each(copy);
            }
        });
        drop(parts);
        Csr {
            n_rows: rows,
            n_cols,
            indptr,
            indices,
            data,
        }
    }
}

/// A CSR matrix kept as row blocks (e.g. one per task of a parallel kernel),
/// read out in parallel without joining the blocks first.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrBlocks<T> {
    /// Number of columns.
    pub n_cols: usize,
    /// The rows, block after block.
    pub blocks: Vec<Csr<T>>,
}

impl<T: Copy + Sync> CsrBlocks<T> {
    /// One block.
    pub fn one(m: Csr<T>) -> Self {
        CsrBlocks {
            n_cols: m.n_cols,
            blocks: vec![m],
        }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.blocks.iter().map(|b| b.n_rows).sum()
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.blocks.iter().map(|b| b.nnz()).sum()
    }

    /// The blocks joined into one matrix.
    pub fn into_csr(self) -> Csr<T>
    where
        T: Default + Send,
    {
        Csr::concat(self.n_cols, self.blocks)
    }

    /// Writes the `n_rows + 1` row starts converted by `conv` into `out`
    /// (false, `out` partly written, if `conv` fails or the length differs).
    ///
    /// ```
    /// use ferrokit_core::text::{Csr, CsrBlocks};
    /// let mut a = Csr::<i32>::empty(4);
    /// a.indices.push(1);
    /// a.data.push(5);
    /// a.indptr.push(1);
    /// a.n_rows = 1;
    /// let m = CsrBlocks { n_cols: 4, blocks: vec![a.clone(), a] };
    /// let mut p = [0i32; 3];
    /// assert!(m.indptr_into(&mut p, |v| i32::try_from(v).ok()));
    /// assert_eq!(p, [0, 1, 2]);
    /// ```
    pub fn indptr_into<D: Send>(
        &self,
        out: &mut [D],
        conv: impl Fn(u64) -> Option<D> + Sync,
    ) -> bool {
        if out.len() != self.n_rows() + 1 {
            return false;
        }
        let Some(zero) = conv(0) else {
            return false;
        };
        out[0] = zero;
        let mut jobs = Vec::new();
        let mut rest = &mut out[1..];
        let mut base = 0u64;
        for b in &self.blocks {
            let (o, r) = std::mem::take(&mut rest).split_at_mut(b.n_rows);
            rest = r;
            let shift = base.wrapping_sub(b.indptr[0]);
            for (s, d) in b.indptr[1..]
                .chunks(CONVERT_CHUNK)
                .zip(o.chunks_mut(CONVERT_CHUNK))
            {
                jobs.push((s, d, shift));
            }
            base += b.nnz() as u64;
        }
        run_jobs(self.n_rows(), jobs, |v, shift| conv(v.wrapping_add(shift)))
    }

    /// Writes the `nnz` column indices converted by `conv` into `out` (as
    /// [`CsrBlocks::indptr_into`]).
    pub fn indices_into<D: Send>(
        &self,
        out: &mut [D],
        conv: impl Fn(u32) -> Option<D> + Sync,
    ) -> bool {
        self.entries_into(|b| &b.indices, out, conv)
    }

    /// Writes the `nnz` values converted by `conv` into `out` (as
    /// [`CsrBlocks::indptr_into`]).
    pub fn data_into<D: Send>(&self, out: &mut [D], conv: impl Fn(T) -> Option<D> + Sync) -> bool {
        self.entries_into(|b| &b.data, out, conv)
    }

    fn entries_into<S: Copy + Sync, D: Send>(
        &self,
        field: impl Fn(&Csr<T>) -> &[S],
        out: &mut [D],
        conv: impl Fn(S) -> Option<D> + Sync,
    ) -> bool {
        let nnz = self.nnz();
        if out.len() != nnz {
            return false;
        }
        let mut jobs = Vec::new();
        let mut rest = out;
        for b in &self.blocks {
            let src = field(b);
            let (o, r) = std::mem::take(&mut rest).split_at_mut(src.len());
            rest = r;
            for (s, d) in src.chunks(CONVERT_CHUNK).zip(o.chunks_mut(CONVERT_CHUNK)) {
                jobs.push((s, d, ()));
            }
        }
        run_jobs(nnz, jobs, |v, ()| conv(v))
    }
}

/// Runs `(src, dst, extra)` conversion jobs, on the pool when `n` is large.
fn run_jobs<S: Copy + Sync, D: Send, E: Copy + Send + Sync>(
    n: usize,
    jobs: Vec<(&[S], &mut [D], E)>,
    conv: impl Fn(S, E) -> Option<D> + Sync,
) -> bool {
    let run = |(s, d, e): (&[S], &mut [D], E)| {
        for (o, &v) in d.iter_mut().zip(s) {
            match conv(v, e) {
                Some(x) => *o = x,
                None => return false,
            }
        }
        true
    };
    pool::run(n, MIN_PARALLEL_ENTRIES * 4, |par| {
        if par {
            jobs.into_par_iter().all(run)
        } else {
            jobs.into_iter().all(run)
        }
    })
}

/// Writes `conv(src[k])` to `dst[k]` for every `k` (on the pool when large:
/// the output is usually fresh memory, and faulting it in is most of the
/// cost). Returns false, with `dst` partly written, if `conv` gave `None`
/// for some element or the lengths differ.
///
/// ```
/// let mut out = [0i32; 3];
/// assert!(ferrokit_core::text::convert_into(&[1u32, 2, 3], &mut out, |v| i32::try_from(v).ok()));
/// assert_eq!(out, [1, 2, 3]);
/// assert!(!ferrokit_core::text::convert_into(&[u32::MAX], &mut out[..1], |v| i32::try_from(v).ok()));
/// ```
pub fn convert_into<S, D>(src: &[S], dst: &mut [D], conv: impl Fn(S) -> Option<D> + Sync) -> bool
where
    S: Copy + Sync,
    D: Send,
{
    if src.len() != dst.len() {
        return false;
    }
    let jobs = src
        .chunks(CONVERT_CHUNK)
        .zip(dst.chunks_mut(CONVERT_CHUNK))
        .map(|(s, d)| (s, d, ()))
        .collect();
    run_jobs(src.len(), jobs, |v, ()| conv(v))
}

/// Elements per task of a conversion.
const CONVERT_CHUNK: usize = 1 << 16;

/// One block's copy in [`Csr::concat`]: the block and where its entries and
/// row ends go.
struct ConcatJob<'a, T> {
    src: &'a Csr<T>,
    indices: &'a mut [u32],
    data: &'a mut [T],
    indptr: &'a mut [u64],
    base: u64,
}

/// Entries below which a concatenation stays on the calling thread.
const MIN_PARALLEL_ENTRIES: usize = 1 << 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_of_large_blocks_on_any_thread_count() {
        let mut x = 1u64;
        let parts: Vec<Csr<i32>> = (0..13)
            .map(|p| {
                let mut m = Csr::empty(0);
                for _ in 0..(p * 997 % 5000) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let n = (x >> 60) as usize;
                    m.indices
                        .extend((0..n).map(|k| (x >> 20) as u32 % 1000 + k as u32));
                    m.data.extend((0..n).map(|k| k as i32 - 3));
                    m.indptr.push(m.indices.len() as u64);
                    m.n_rows += 1;
                }
                m
            })
            .collect();
        let mut want = Csr::empty(2000);
        for p in &parts {
            want.append(p.clone());
        }
        assert!(want.nnz() > MIN_PARALLEL_ENTRIES);
        for threads in [1, 2, 3] {
            crate::pool::set_num_threads(threads);
            let got = Csr::concat(2000, parts.clone());
            crate::pool::set_num_threads(0);
            assert!(got == want, "{threads} threads");
        }
        let one = Csr::concat(5, vec![parts[3].clone()]);
        assert_eq!((one.n_cols, &one.indices), (5, &parts[3].indices));
        let none: Csr<i32> = Csr::concat(4, Vec::new());
        assert_eq!(
            (none.n_rows, none.indptr.clone(), none.nnz()),
            (0, vec![0], 0)
        );
    }
}
