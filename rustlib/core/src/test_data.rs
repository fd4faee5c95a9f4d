//! Deterministic pseudo-random data for the unit tests: one linear
//! congruential generator (Knuth's MMIX constants) that every test module
//! maps to the values it needs.

/// The generator's first `n` states after `seed`.
pub fn states(n: usize, seed: u64) -> impl Iterator<Item = u64> {
    let mut s = seed;
    (0..n).map(move |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s
    })
}

/// `n` values in `[-1, 1)` (53 random bits each).
pub fn uniform(n: usize, seed: u64) -> Vec<f64> {
    states(n, seed)
        .map(|s| ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0)
        .collect()
}
