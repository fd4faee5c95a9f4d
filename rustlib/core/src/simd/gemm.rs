//! Safe wrapper over the `gemm` crate (sarah-ek/gemm): a BLAS-class packed
//! matrix multiply with run-time CPU dispatch. ferrokit calls it single-threaded
//! (`Parallelism::None`, and the crate is built without its `rayon` feature), on
//! fixed row blocks that the caller fans out over the library pool, so no thread
//! outside the pool is ever created and results do not depend on the thread count.

/// How a weight matrix of a `k -> n` layer is stored (row-major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightLayout {
    /// `(n, k)`: one row per output (PyTorch `nn.Linear`); the product is `x @ W.T`.
    OutIn,
    /// `(k, n)`: one row per input (scikit-learn `coefs_`); the product is `x @ W`.
    InOut,
}

/// `out (m×n) = [out +] x (m×k) · W`, all row-major; `W` as `layout` says.
/// With `accumulate` the product is added to what `out` holds.
///
/// Panics if a slice length does not match its shape (callers validate first).
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: Copy + 'static>(
    x: &[T],
    m: usize,
    k: usize,
    w: &[T],
    n: usize,
    layout: WeightLayout,
    out: &mut [T],
    accumulate: bool,
    zero: T,
    one: T,
) {
    assert_eq!(x.len(), m * k, "matmul: x length");
    assert_eq!(w.len(), n * k, "matmul: w length");
    assert_eq!(out.len(), m * n, "matmul: out length");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(zero);
        }
        return;
    }
    let (rhs_cs, rhs_rs) = match layout {
        WeightLayout::OutIn => (k as isize, 1isize),
        WeightLayout::InOut => (1isize, n as isize),
    };
    // SAFETY: the three slices hold exactly m*k, n*k and m*n elements (asserted
    // above) and every offset gemm forms is i*rs + j*cs inside those shapes; the
    // lengths come from Rust slices, so they fit isize. `out` is borrowed mutably
    // and cannot alias `x` or `w`. T is f32 or f64 at every call site (gemm
    // dispatches on the type and falls back to a generic kernel otherwise).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            rhs_cs,
            rhs_rs,
            one,
            one,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A pointer to the output of [`matmul_tiles`], shared by the tasks that write
/// its disjoint tiles.
struct TilePtr<T>(*mut T);
// SAFETY: the pointer is only dereferenced for tiles that no other task touches
// (see `matmul_tiles`), and T: Send, so handing it to pool workers is sound.
unsafe impl<T: Send> Send for TilePtr<T> {}
// SAFETY: as above; shared references only copy the address.
unsafe impl<T: Send> Sync for TilePtr<T> {}

/// `out (m×n) = x (m×k) · W` (row-major, `W` as `layout` says), computed in
/// tiles of `rb` rows × `cb` columns, each one single-threaded gemm call
/// followed at once (while the tile is in cache) by `epilogue(seg, c0, width)`:
/// `seg` holds the tile's rows `width` (= tile columns) elements each, starting
/// at column `c0` -- the whole tile at once when it spans full rows (`cb >= n`),
/// else one row at a time. Tiles are tasks of `team` (handed out dynamically
/// when it is parallel); each output element is computed by the same code
/// whichever thread runs its tile, so results depend on `rb`/`cb`, never on the
/// thread count.
///
/// Panics if a slice length does not match its shape or `rb`/`cb` is 0.
#[allow(clippy::too_many_arguments)]
pub fn matmul_tiles<T: Copy + Send + Sync + 'static>(
    x: &[T],
    m: usize,
    k: usize,
    w: &[T],
    n: usize,
    layout: WeightLayout,
    out: &mut [T],
    rb: usize,
    cb: usize,
    team: &crate::sched::Team,
    zero: T,
    one: T,
    epilogue: &(dyn Fn(&mut [T], usize, usize) + Sync),
) {
    assert_eq!(x.len(), m * k, "matmul_tiles: x length");
    assert_eq!(w.len(), n * k, "matmul_tiles: w length");
    assert_eq!(out.len(), m * n, "matmul_tiles: out length");
    assert!(rb > 0 && cb > 0, "matmul_tiles: empty tiles");
    if m == 0 || n == 0 {
        return;
    }
    let (tiles_r, tiles_c) = (m.div_ceil(rb), n.div_ceil(cb));
    let base = TilePtr(out.as_mut_ptr());
    let base = &base;
    let tile = |t: usize| {
        let (r0, c0) = ((t / tiles_c) * rb, (t % tiles_c) * cb);
        let (r1, c1) = ((r0 + rb).min(m), (c0 + cb).min(n));
        let (rows, cols) = (r1 - r0, c1 - c0);
        let (w_off, rhs_cs, rhs_rs) = match layout {
            WeightLayout::OutIn => (c0 * k, k as isize, 1isize),
            WeightLayout::InOut => (c0, 1isize, n as isize),
        };
        if cols == n {
            // Full rows: the tile is the contiguous range of rows r0..r1.
            // SAFETY: rows r0..r1 of `out` (r1 <= m, so inside its m*n elements)
            // belong to this tile only: tiles partition the output and `out` is
            // borrowed mutably for the whole call, so nothing else accesses them.
            let seg = unsafe { std::slice::from_raw_parts_mut(base.0.add(r0 * n), rows * n) };
            if k == 0 {
                seg.fill(zero);
            } else {
                matmul(
                    &x[r0 * k..r1 * k],
                    rows,
                    k,
                    w,
                    n,
                    layout,
                    seg,
                    false,
                    zero,
                    one,
                );
            }
            epilogue(seg, 0, n);
            return;
        }
        if k > 0 {
            let xs = &x[r0 * k..r1 * k];
            // SAFETY: gemm writes dst[i*n + j] for i < rows, j < cols at
            // out + r0*n + c0, i.e. elements (r0+i, c0+j) with r0+i < m and
            // c0+j < n: inside `out` and inside this tile only (tiles partition
            // the output; `out` is borrowed mutably for the whole call). It reads
            // xs[i*k + l] (xs holds rows*k elements) and W elements
            // w_off + j*rhs_cs + l*rhs_rs: for OutIn (c0+j)*k + l < n*k, for
            // InOut c0 + j + l*n < n*k, both inside `w`. W and x are shared
            // borrows that cannot alias the mutably borrowed `out`. Offsets fit
            // isize (they come from slice lengths). T is f32 or f64 at every call
            // site. Parallelism::None: no threads are started.
            unsafe {
                gemm::gemm(
                    rows,
                    cols,
                    k,
                    base.0.add(r0 * n + c0),
                    1,
                    n as isize,
                    false,
                    xs.as_ptr(),
                    1,
                    k as isize,
                    w.as_ptr().add(w_off),
                    rhs_cs,
                    rhs_rs,
                    one,
                    one,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
        for r in r0..r1 {
            // SAFETY: elements (r, c0..c1) of `out`: inside it and owned by this
            // tile (see above); the gemm call that wrote them has returned.
            let seg = unsafe { std::slice::from_raw_parts_mut(base.0.add(r * n + c0), cols) };
            if k == 0 {
                seg.fill(zero);
            }
            epilogue(seg, c0, cols);
        }
    };
    team.for_each(tiles_r * tiles_c, tile);
}

// ----------------------------------------------------------------- A · Bᵀ (neighbour search)

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element types `gemm_abt` supports (f32 and f64 only).
pub trait GemmElement: sealed::Sealed + Copy + Default + 'static {
    /// The multiplicative identity (the `beta` factor of the product).
    const ONE: Self;
    /// `a · b + c` with one rounding.
    fn fused(a: Self, b: Self, c: Self) -> Self;
    /// The nearest value of the type.
    fn of_f64(v: f64) -> Self;
    /// The bits (widened).
    fn bits(self) -> u64;
    /// [`chain_dot`] for this type.
    fn chain(a: &[Self], b: &[Self]) -> Self;
    /// [`chain_dots`] for this type.
    fn chains(a: &[&[Self]], b: &[&[Self]], out: &mut [Self]);
}
impl GemmElement for f32 {
    const ONE: Self = 1.0;
    #[inline(always)]
    fn fused(a: Self, b: Self, c: Self) -> Self {
        a.mul_add(b, c)
    }
    fn of_f64(v: f64) -> Self {
        v as f32
    }
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn chain(a: &[Self], b: &[Self]) -> Self {
        chain_f32(a, b)
    }
    fn chains(a: &[&[Self]], b: &[&[Self]], out: &mut [Self]) {
        super::chains::chains_f32(a, b, out)
    }
}
impl GemmElement for f64 {
    const ONE: Self = 1.0;
    #[inline(always)]
    fn fused(a: Self, b: Self, c: Self) -> Self {
        a.mul_add(b, c)
    }
    fn of_f64(v: f64) -> Self {
        v
    }
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn chain(a: &[Self], b: &[Self]) -> Self {
        chain_f64(a, b)
    }
    fn chains(a: &[&[Self]], b: &[&[Self]], out: &mut [Self]) {
        super::chains::chains_f64(a, b, out)
    }
}

/// Depth up to which [`gemm_abt`] multiplies in one pass (the `gemm` crate
/// splits longer dot products into blocks of at most 512 and adds the partial
/// results).
pub const CHAIN_MAX_DEPTH: usize = 512;

/// One entry of a [`gemm_abt`] product the way its micro-kernel computes it:
/// one fused multiply-add per element, in order, from zero. Valid for depths up
/// to [`CHAIN_MAX_DEPTH`] and blocks that take the packed micro-kernel (see
/// [`takes_microkernel`]); [`chain_matches_gemm`] checks it on the running CPU.
#[inline]
pub fn chain_dot<T: GemmElement>(a: &[T], b: &[T]) -> T {
    T::chain(a, b)
}

/// The portable definition of [`chain_dot`] (`mul_add` is one rounding on
/// every CPU; the vector copies below turn it into the FMA instruction).
#[inline(always)]
fn chain_body<T: GemmElement>(a: &[T], b: &[T]) -> T {
    a.iter()
        .zip(b)
        .fold(T::default(), |acc, (&x, &y)| T::fused(x, y, acc))
}

crate::multiversion! {
    fn chain_f32(a: &[f32], b: &[f32]) -> f32 = chain_body::<f32>;
}
crate::multiversion! {
    fn chain_f64(a: &[f64], b: &[f64]) -> f64 = chain_body::<f64>;
}

pub use super::chains::{chain_dots, CHAIN_ROWS};

/// `true` when `gemm` computes an `m × n` block of depth `k` with its packed
/// micro-kernel, whose entries are [`chain_dot`]s (smaller blocks go to
/// horizontal dot-product kernels, one-row/one-column blocks to gemv kernels,
/// depths of 1 or 2 to an outer-product loop: other summation orders).
pub fn takes_microkernel(m: usize, n: usize, k: usize) -> bool {
    m >= 2 && n >= 2 && m * n > 256 && (3..=CHAIN_MAX_DEPTH).contains(&k)
}

/// [`gemm_abt`] for blocks that [`takes_microkernel`] and [`chain_dot`] for
/// every entry of the others, so that every entry of the product is a
/// [`chain_dot`] whenever [`chain_matches_gemm`] holds (and `k` ≤
/// [`CHAIN_MAX_DEPTH`]).
#[allow(clippy::too_many_arguments)]
pub fn gemm_abt_chained<T: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    ldb: usize,
    dst: &mut [T],
    ldd: usize,
) {
    if takes_microkernel(m, n, k) || k > CHAIN_MAX_DEPTH {
        gemm_abt(m, n, k, a, lda, b, ldb, dst, ldd);
        return;
    }
    for i in 0..m {
        for j in 0..n {
            dst[i * ldd + j] = chain_dot(&a[i * lda..i * lda + k], &b[j * ldb..j * ldb + k]);
        }
    }
}

/// Whether [`gemm_abt`]'s micro-kernel computes [`chain_dot`]s on this CPU:
/// checked once per type on pseudo-random data, one block of each shape the
/// neighbour search uses (the `gemm` crate picks its kernel from the CPU, so
/// this is what guarantees that a search scoring single pairs by
/// [`chain_dot`] agrees bit for bit with one scoring them by [`gemm_abt`]).
pub fn chain_matches_gemm<T: GemmElement>() -> bool {
    use std::sync::OnceLock;
    static F32: OnceLock<bool> = OnceLock::new();
    static F64: OnceLock<bool> = OnceLock::new();
    let cell = if std::mem::size_of::<T>() == 4 {
        &F32
    } else {
        &F64
    };
    *cell.get_or_init(|| {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Uniform in [-1, 1): products and sums round, so the order shows.
            T::of_f64(((s >> 11) as f64 / (1u64 << 52) as f64) - 1.0)
        };
        [(8, 40, 37), (256, 67, 128), (5, 1024, 130), (17, 33, 512)]
            .into_iter()
            .all(|(m, n, k)| {
                let a: Vec<T> = (0..m * k).map(|_| next()).collect();
                let b: Vec<T> = (0..n * k).map(|_| next()).collect();
                let mut d = vec![T::default(); m * n];
                gemm_abt(m, n, k, &a, k, &b, k, &mut d, n);
                (0..m * n).all(|e| {
                    let (i, j) = (e / n, e % n);
                    chain_dot(&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]).bits() == d[e].bits()
                })
            })
    })
}

/// (`gemm` picks its micro-kernel from the CPU itself, ignoring `simd::set_max_level`.)
///
/// `dst[i * ldd + j] = Σ_l a[i * lda + l] * b[j * ldb + l]` for `i < m`, `j < n`,
/// `l < k`: the product `A · Bᵀ` of two row-major matrices (rows of `A` and of `B`
/// are vectors of length `k`), written into a row-major `m × n` block of `dst`.
///
/// Panics if a slice is too short for the given shape and strides.
#[allow(clippy::too_many_arguments)]
pub fn gemm_abt<T: GemmElement>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    ldb: usize,
    dst: &mut [T],
    ldd: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            dst[i * ldd..i * ldd + n].fill(T::default());
        }
        return;
    }
    assert!(
        lda >= k && ldb >= k && ldd >= n,
        "gemm_abt: bad leading dimensions"
    );
    assert!(a.len() >= (m - 1) * lda + k, "gemm_abt: a too short");
    assert!(b.len() >= (n - 1) * ldb + k, "gemm_abt: b too short");
    assert!(dst.len() >= (m - 1) * ldd + n, "gemm_abt: dst too short");
    assert!(
        lda <= isize::MAX as usize && ldb <= isize::MAX as usize && ldd <= isize::MAX as usize,
        "gemm_abt: stride too large"
    );
    // SAFETY: the asserts above prove every element gemm reads (a[i*lda + l],
    // b[j*ldb + l]) and writes (dst[i*ldd + j]) lies inside its slice; `dst` is
    // borrowed mutably, so it cannot alias `a` or `b`. T is f32 or f64 (sealed),
    // the types gemm dispatches on. Parallelism::None: no threads are started.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            ldd as isize,
            false,
            a.as_ptr(),
            1,
            lda as isize,
            b.as_ptr(),
            ldb as isize,
            1,
            T::default(),
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive_product_with_strides() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f64> = (0..m * 4).map(|i| i as f64 * 0.5 - 3.0).collect();
        let b: Vec<f64> = (0..n * 5).map(|i| (i % 7) as f64 - 2.0).collect();
        let mut dst = vec![-1.0f64; m * 9];
        gemm_abt(m, n, k, &a, 4, &b, 5, &mut dst, 9);
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|l| a[i * 4 + l] * b[j * 5 + l]).sum();
                assert_eq!(dst[i * 9 + j], want);
            }
            for j in n..9 {
                assert_eq!(dst[i * 9 + j], -1.0, "untouched padding");
            }
        }
    }

    #[test]
    fn chained_product_is_chain_dots_for_every_shape() {
        assert!(
            chain_matches_gemm::<f32>(),
            "gemm's f32 micro-kernel is not a fused chain here"
        );
        assert!(
            chain_matches_gemm::<f64>(),
            "gemm's f64 micro-kernel is not a fused chain here"
        );
        let mut s = 7u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 11) as f64 / (1u64 << 53) as f64) as f32 - 0.5
        };
        for (m, n, k) in [
            (256, 1024, 128),
            (4, 1024, 128),
            (4, 64, 128),
            (4, 65, 128),
            (200, 1, 128),
            (7, 3, 2),
            (9, 100, 1),
            (16, 16, 3),
            (33, 300, 512),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| next()).collect();
            let b: Vec<f32> = (0..n * k).map(|_| next()).collect();
            let mut d = vec![0.0f32; m * n];
            gemm_abt_chained(m, n, k, &a, k, &b, k, &mut d, n);
            for i in 0..m {
                for j in 0..n {
                    let c = chain_dot(&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]);
                    assert_eq!(
                        c.to_bits(),
                        d[i * n + j].to_bits(),
                        "{m}x{n}x{k} at {i},{j}"
                    );
                }
            }
            // The portable copy (libm's fused multiply-add) gives the same bits.
            let _level = crate::simd::test_level_lock();
            crate::simd::set_max_level(Some(crate::simd::Level::Baseline));
            let c = chain_dot(&a[..k], &b[(n - 1) * k..]);
            crate::simd::set_max_level(None);
            assert_eq!(c.to_bits(), d[n - 1].to_bits(), "portable {m}x{n}x{k}");
        }
    }

    #[test]
    fn chain_dots_are_chain_dot_at_every_level() {
        let _level = crate::simd::test_level_lock();
        let mut s = 11u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for d in [0usize, 1, 3, 17, 128, 130] {
            let a: Vec<f64> = (0..d).map(|_| next()).collect();
            let rows: Vec<Vec<f64>> = (0..CHAIN_ROWS)
                .map(|_| (0..d).map(|_| next()).collect())
                .collect();
            let af: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let rf: Vec<Vec<f32>> = rows
                .iter()
                .map(|r| r.iter().map(|&v| v as f32).collect())
                .collect();
            for n in 0..=CHAIN_ROWS {
                let r64: Vec<&[f64]> = rows[..n].iter().map(|r| &r[..]).collect();
                let r32: Vec<&[f32]> = rf[..n].iter().map(|r| &r[..]).collect();
                // Each row against the query, and against the next row.
                let (a64, a32): (Vec<&[f64]>, Vec<&[f32]>) = (0..n)
                    .map(|r| {
                        if r % 2 == 0 {
                            (&a[..], &af[..])
                        } else {
                            (r64[r - 1], r32[r - 1])
                        }
                    })
                    .unzip();
                crate::simd::at_levels(
                    &[
                        crate::simd::Level::Baseline,
                        crate::simd::Level::Avx2,
                        crate::simd::Level::Avx512,
                    ],
                    |cap| {
                        let (mut o64, mut o32) = (vec![0.0f64; n], vec![0.0f32; n]);
                        chain_dots(&a64, &r64, &mut o64);
                        chain_dots(&a32, &r32, &mut o32);
                        for r in 0..n {
                            let (w64, w32) = (chain_dot(a64[r], r64[r]), chain_dot(a32[r], r32[r]));
                            assert_eq!(o64[r].to_bits(), w64.to_bits(), "d={d} n={n} {cap:?}");
                            assert_eq!(o32[r].to_bits(), w32.to_bits(), "d={d} n={n} {cap:?}");
                        }
                    },
                );
            }
        }
    }
}
