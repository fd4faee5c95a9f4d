//! Element-wise `out = (x * pre - lo) / d` and `out = x * s` with non-temporal
//! (streaming) stores.
//!
//! For outputs much larger than the caches, ordinary stores first read every
//! destination cache line (read-for-ownership) and then evict useful data;
//! streaming stores write around the cache, saving a third of the memory
//! traffic of a read+write pass. The arithmetic is the same three IEEE
//! operations as the portable loop, so results are bit-identical to it.

/// Outputs at least this large (bytes) are written with streaming stores: they
/// cannot stay in cache anyway, and skipping the read-for-ownership saves a
/// third of the traffic. Smaller outputs keep normal stores, so a caller that
/// reads the result right away finds it in cache.
pub const STREAM_MIN_BYTES: usize = 8 << 20;

/// Defines a public kernel that runs its AVX-512 or AVX2 streaming copy where
/// the CPU has one, else the portable loop (same arithmetic, same bits).
macro_rules! dispatch {
    ($(#[$m:meta])* $name:ident: $t:ty, ($($arg:ident),*), $avx512:ident, $avx2:ident, $portable:ident) => {
        $(#[$m])*
        pub fn $name(x: &[$t], out: &mut [$t], $($arg: $t),*) {
            assert_eq!(x.len(), out.len());
            #[cfg(target_arch = "x86_64")]
            {
                match super::level() {
                    // SAFETY: level() is Avx512 only if the CPU reports avx512f.
                    super::Level::Avx512 => return unsafe { x86::$avx512(x, out, $($arg),*) },
                    // SAFETY: level() is Avx2 only if the CPU reports avx2 (implies avx).
                    super::Level::Avx2 => return unsafe { x86::$avx2(x, out, $($arg),*) },
                    super::Level::Baseline => {}
                }
            }
            $portable(x, out, $($arg),*)
        }
    };
}

dispatch!(
    /// `out[i] = (x[i] * pre - lo) / d`, streaming stores where the CPU has them.
    /// `x` and `out` have equal lengths.
    affine_div_stream_f64: f64, (pre, lo, d), f64_avx512, f64_avx2, scalar
);
dispatch!(
    /// float32 version of [`affine_div_stream_f64`].
    affine_div_stream_f32: f32, (pre, lo, d), f32_avx512, f32_avx2, scalar
);
dispatch!(
    /// `out[i] = x[i] * s`, streaming stores where the CPU has them (softmax's
    /// final pass, one row per call). Bit-identical to the plain loop. No fence:
    /// the caller runs [`store_fence`] once after its last call (a fence per row
    /// would wait for every write-combining buffer each time).
    scale_stream_f64: f64, (s), scale_f64_avx512, scale_f64_avx2, scale_scalar
);
dispatch!(
    /// float32 version of [`scale_stream_f64`].
    scale_stream_f32: f32, (s), scale_f32_avx512, scale_f32_avx2, scale_scalar
);

/// Orders earlier streaming stores before later stores (`sfence`), so results
/// written by [`scale_stream_f32`] / [`scale_stream_f64`] are visible to the
/// thread that joins this one. A no-op where there are no streaming stores.
pub fn store_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: sfence (SSE, baseline on x86_64) only orders stores.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

#[inline(always)]
fn scale_scalar<T: crate::float::Float>(x: &[T], out: &mut [T], s: T) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v * s;
    }
}

#[inline(always)]
fn scalar<T: crate::float::Float>(x: &[T], out: &mut [T], pre: T, lo: T, d: T) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v * pre - lo) / d;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Generates one streaming kernel: scalar head up to the store alignment,
    /// vector body (`$v` loaded unaligned, `$e` stored with an aligned streaming
    /// store), scalar tail; `$fence`: end with `sfence`.
    macro_rules! stream_kernel {
        ($name:ident, $t:ty, $feat:literal, $lanes:expr, $align:expr, $loadu:ident, $stream:ident,
         $portable:ident($($arg:ident),*), |$v:ident| $e:expr, $fence:literal) => {
            /// # Safety
            /// The CPU must support the enabled target features; `x.len() == out.len()`.
            #[target_feature(enable = $feat)]
            pub unsafe fn $name(x: &[$t], out: &mut [$t], $($arg: $t),*) {
                let n = out.len();
                let head = out.as_ptr().align_offset($align).min(n);
                super::$portable(&x[..head], &mut out[..head], $($arg),*);
                let mut i = head;
                let xp = x.as_ptr();
                let op = out.as_mut_ptr();
                while i + $lanes <= n {
                    // SAFETY: i + lanes <= n = x.len() = out.len(), so both accesses are
                    // in bounds; op.add(i) is $align-aligned (head aligned it and every
                    // step advances by exactly $align bytes).
                    unsafe {
                        let $v = $loadu(xp.add(i));
                        $stream(op.add(i), $e);
                    }
                    i += $lanes;
                }
                super::$portable(&x[i..], &mut out[i..], $($arg),*);
                if $fence {
                    // Streaming stores are weakly ordered: fence before other threads read.
                    _mm_sfence();
                }
            }
        };
    }

    /// Both kernels (affine-divide, scale) for one element type and instruction set.
    macro_rules! kernels {
        ($affine:ident, $scale:ident, $t:ty, $feat:literal, $lanes:expr, $align:expr,
         $set1:ident, $loadu:ident, $mul:ident, $sub:ident, $div:ident, $stream:ident) => {
            stream_kernel!(
                $affine,
                $t,
                $feat,
                $lanes,
                $align,
                $loadu,
                $stream,
                scalar(pre, lo, d),
                |v| $div($sub($mul(v, $set1(pre)), $set1(lo)), $set1(d)),
                true
            );
            stream_kernel!(
                $scale,
                $t,
                $feat,
                $lanes,
                $align,
                $loadu,
                $stream,
                scale_scalar(s),
                |v| $mul(v, $set1(s)),
                false
            );
        };
    }

    #[rustfmt::skip]
    kernels!(f64_avx512, scale_f64_avx512, f64, "avx512f", 8, 64,
        _mm512_set1_pd, _mm512_loadu_pd, _mm512_mul_pd, _mm512_sub_pd, _mm512_div_pd, _mm512_stream_pd);
    #[rustfmt::skip]
    kernels!(f64_avx2, scale_f64_avx2, f64, "avx2", 4, 32,
        _mm256_set1_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_sub_pd, _mm256_div_pd, _mm256_stream_pd);
    #[rustfmt::skip]
    kernels!(f32_avx512, scale_f32_avx512, f32, "avx512f", 16, 64,
        _mm512_set1_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_sub_ps, _mm512_div_ps, _mm512_stream_ps);
    #[rustfmt::skip]
    kernels!(f32_avx2, scale_f32_avx2, f32, "avx2", 8, 32,
        _mm256_set1_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_sub_ps, _mm256_div_ps, _mm256_stream_ps);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{set_max_level, Level};

    #[test]
    fn matches_scalar_bit_for_bit_at_every_level_and_offset() {
        let _level = crate::simd::test_level_lock();
        let x: Vec<f64> = (0..1037)
            .map(|i| (i as f64 * 0.731).sin() * 100.0)
            .collect();
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        for cap in [Level::Baseline, Level::Avx2, Level::Avx512] {
            set_max_level(Some(cap));
            for off in 0..9 {
                let mut want = vec![0.0; x.len() - off];
                scalar(&x[off..], &mut want, 1.0, -3.5, 7.25);
                let mut got = vec![0.0; x.len() + 16];
                // Misalign the output start on purpose.
                let o = &mut got[off..off + x.len() - off];
                affine_div_stream_f64(&x[off..], o, 1.0, -3.5, 7.25);
                assert_eq!(o, &want[..], "{cap:?} off {off}");

                let mut wantf = vec![0.0f32; xf.len() - off];
                scalar(&xf[off..], &mut wantf, 0.5, 1.5, 3.0);
                let mut gotf = vec![0.0f32; xf.len() - off];
                affine_div_stream_f32(&xf[off..], &mut gotf, 0.5, 1.5, 3.0);
                assert_eq!(gotf, wantf, "{cap:?} off {off}");
            }
        }
        set_max_level(None);
    }

    #[test]
    fn scale_matches_plain_loop_bit_for_bit_at_every_level_and_offset() {
        let _level = crate::simd::test_level_lock();
        let x: Vec<f64> = (0..1037).map(|i| (i as f64 * 0.377).cos() * 9.0).collect();
        let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        for cap in [Level::Baseline, Level::Avx2, Level::Avx512] {
            set_max_level(Some(cap));
            for off in 0..17 {
                let want: Vec<f64> = x[off..].iter().map(|&v| v * 0.3).collect();
                let mut got = vec![0.0; x.len() + 16];
                let o = &mut got[off..x.len()];
                scale_stream_f64(&x[off..], o, 0.3);
                assert_eq!(o, &want[..], "{cap:?} off {off}");
                let wantf: Vec<f32> = xf[off..].iter().map(|&v| v * 0.3f32).collect();
                let mut gotf = vec![0.0f32; xf.len() - off];
                scale_stream_f32(&xf[off..], &mut gotf, 0.3);
                assert_eq!(gotf, wantf, "{cap:?} off {off}");
            }
        }
        set_max_level(None);
    }
}
