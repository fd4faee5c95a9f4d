//! Run-time SIMD dispatch.
//!
//! Kernels are written as plain loops over fixed-width lane arrays, which LLVM
//! vectorizes. `multiversion!` compiles such a loop once per instruction set and
//! picks the best one the running CPU supports, so a binary built for baseline
//! x86_64 still uses AVX2 / AVX-512 and never requires a newer CPU than it runs on.
//!
//! Because the lane structure is explicit in the source (e.g. 16 independent
//! accumulators), every `multiversion!` variant performs the same IEEE
//! operations in the same order: results are bit-identical whichever variant
//! runs. `multiversion_fma!` is the exception by design: its AVX2 / AVX-512
//! copies are instantiated with `FMA = true` and may fuse multiply-adds, so
//! their results can differ in the last bit from the baseline copy. The
//! library's rule is bit-identity across thread counts (and runs on one CPU),
//! which both macros keep: the variant depends only on the CPU (and the
//! `set_max_level` cap), never on how work is split.

use std::sync::atomic::{AtomicU8, Ordering};

/// The instruction-set level a kernel variant is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Portable code (SSE2 on x86_64).
    Baseline = 1,
    /// AVX2 + FMA.
    Avx2 = 2,
    /// AVX-512 F/VL/BW/DQ.
    Avx512 = 3,
}

impl Level {
    /// A short name for reports (`show_config`, benchmarks).
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => {
                if cfg!(target_arch = "x86_64") {
                    "sse2"
                } else {
                    "baseline"
                }
            }
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }
}

static DETECTED: AtomicU8 = AtomicU8::new(0);
static OVERRIDE: AtomicU8 = AtomicU8::new(0);

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

fn from_u8(v: u8) -> Level {
    match v {
        3 => Level::Avx512,
        2 => Level::Avx2,
        _ => Level::Baseline,
    }
}

/// The best level this CPU supports (cached after the first call).
pub fn detected_level() -> Level {
    let v = DETECTED.load(Ordering::Relaxed);
    if v != 0 {
        return from_u8(v);
    }
    let l = detect();
    DETECTED.store(l as u8, Ordering::Relaxed);
    l
}

/// The level kernels use now: the detected one, or a lower one if capped.
#[inline]
pub fn level() -> Level {
    let cap = OVERRIDE.load(Ordering::Relaxed);
    let d = detected_level();
    if cap != 0 && cap < d as u8 {
        from_u8(cap)
    } else {
        d
    }
}

/// Caps the level kernels may use (`None` removes the cap). A cap above what the
/// CPU supports has no effect, so this can never enable unsupported code.
/// Used by tests to compare the variants.
pub fn set_max_level(cap: Option<Level>) {
    OVERRIDE.store(cap.map_or(0, |l| l as u8), Ordering::Relaxed);
}

/// Serializes the tests that cap the level (a process-wide setting) with the
/// tests whose comparisons need the level to stay fixed while they run (results
/// of `multiversion_fma!` kernels may differ between levels).
#[cfg(test)]
pub(crate) fn test_level_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f(level)` with the dispatch capped at each of `levels` in turn
/// (callers hold [`test_level_lock`]), then lifts the cap: the check that every
/// kernel variant gives the same result.
#[cfg(test)]
pub(crate) fn at_levels(levels: &[Level], mut f: impl FnMut(Level)) {
    for &level in levels {
        set_max_level(Some(level));
        f(level);
    }
    set_max_level(None);
}

/// Defines `pub fn $name(args) -> ret` that dispatches at run time to copies of
/// `$body` (an `#[inline(always)]` function) compiled for AVX-512, AVX2 and baseline.
#[macro_export]
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $body:path;) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                fn v_avx512($($arg: $ty),*) -> $ret { $body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                fn v_avx2($($arg: $ty),*) -> $ret { $body($($arg),*) }
                match $crate::simd::level() {
                    // SAFETY: level() returns Avx512 only when the running CPU reports
                    // avx512f/vl/bw/dq (is_x86_feature_detected), so the code is supported.
                    $crate::simd::Level::Avx512 => return unsafe { v_avx512($($arg),*) },
                    // SAFETY: level() returns Avx2 only when the CPU reports avx2 and fma.
                    $crate::simd::Level::Avx2 => return unsafe { v_avx2($($arg),*) },
                    $crate::simd::Level::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}

/// Like [`multiversion!`], but an AVX-512 CPU runs the AVX2 copy: for
/// memory-bound streaming loops (a dot product over arrays far larger than the
/// caches), where 512-bit loads gain nothing and every one of them crosses a
/// cache line when the data is not 64-byte aligned (numpy's large arrays start
/// 16 bytes into a page). Measured on a 2-core AMD EPYC (Zen 4), 1e7 float64
/// dot on one thread, same-process minimum of 41 calls: 512-bit loads 3.62 ms,
/// 256-bit loads 3.46 ms (OpenBLAS `ddot` 3.38 ms). Same lane structure, so the
/// same bits as every other copy.
///
/// A second form, `= fast, baseline;`, runs `fast` in the AVX2 copy and
/// `baseline` in the portable one: for a body generic over `const FMA: bool`
/// (`body::<T, true>, body::<T, false>`), whose AVX2 copy may fuse
/// multiply-adds (one instruction there, a libm call in the baseline copy), so
/// the copies may round differently, as with [`multiversion_fma!`].
#[macro_export]
macro_rules! multiversion_256 {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $body:path;) => {
        $crate::multiversion_256! {
            $(#[$meta])* $vis fn $name($($arg: $ty),*) -> $ret = $body, $body;
        }
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $fast:path, $body:path;) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn v_avx2($($arg: $ty),*) -> $ret { $fast($($arg),*) }
                match $crate::simd::level() {
                    // SAFETY: level() returns Avx2 only when the CPU reports avx2
                    // and fma, and Avx512 only on CPUs with AVX-512 F/VL/BW/DQ,
                    // all of which have AVX2 and FMA (multiversion!'s AVX-512
                    // copy relies on the same).
                    $crate::simd::Level::Avx512 | $crate::simd::Level::Avx2 => {
                        return unsafe { v_avx2($($arg),*) }
                    }
                    $crate::simd::Level::Baseline => {}
                }
            }
            $body($($arg),*)
        }
    };
}

/// Like [`multiversion!`] for a body generic over `const FMA: bool` as its last
/// generic parameter: `= body::<T>;` calls `body::<T, true>` in the AVX-512 and
/// AVX2 copies (compiled with the `fma` feature, so `mul_add` is one
/// instruction) and `body::<T, false>` in the baseline copy (where `mul_add`
/// would be a libm call). The copies may round differently (see the module doc).
#[macro_export]
macro_rules! multiversion_fma {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $body:ident::<$($g:ty),*>;) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                fn v_avx512($($arg: $ty),*) -> $ret { $body::<$($g,)* true>($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                fn v_avx2($($arg: $ty),*) -> $ret { $body::<$($g,)* true>($($arg),*) }
                match $crate::simd::level() {
                    // SAFETY: level() returns Avx512 only when the running CPU reports
                    // avx512f/vl/bw/dq (is_x86_feature_detected), so the code is supported.
                    $crate::simd::Level::Avx512 => return unsafe { v_avx512($($arg),*) },
                    // SAFETY: level() returns Avx2 only when the CPU reports avx2 and fma.
                    $crate::simd::Level::Avx2 => return unsafe { v_avx2($($arg),*) },
                    $crate::simd::Level::Baseline => {}
                }
            }
            $body::<$($g,)* false>($($arg),*)
        }
    };
}

pub mod block_pairs;
pub mod bytes;
pub mod chains;
pub mod cpu;
pub mod dots;
pub mod gemm;
pub mod int8_dots;
pub mod lower_bounds;
pub mod mem;
pub mod nibble_dots;
pub mod row_code;
pub mod softmax_exp;
pub mod stream;
