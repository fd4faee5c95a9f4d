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
