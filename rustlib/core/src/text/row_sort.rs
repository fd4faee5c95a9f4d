//! Sorting the entries of CSR rows by column (scikit-learn's `sort_indices`).
//!
//! Rows of `char_wb` and n-gram counts hold hundreds of distinct columns, and a
//! comparison sort of each row was a fifth of a `char_wb` fit's instructions.
//! A least-significant-digit radix sort on the column needs only as many
//! passes as the row's largest column has bytes (three for a vocabulary of
//! millions of terms), each a count and a scatter within the L1 cache.

/// Rows shorter than this use the standard library's sort (its sorting
/// network beats the radix sort's fixed cost of clearing its counters).
const RADIX_MIN: usize = 96;

/// Sorts the entries of one row (`cols` distinct) by column, permuting `vals`
/// alike; `keys` and `tmp` are scratch.
pub(crate) fn sort_row(
    cols: &mut [u32],
    vals: &mut [i32],
    keys: &mut Vec<u64>,
    tmp: &mut Vec<u64>,
) {
    if cols.windows(2).all(|w| w[0] <= w[1]) {
        return;
    }
    let all = cols.iter().fold(0u32, |a, &c| a | c);
    keys.clear();
    keys.extend(
        cols.iter()
            .zip(vals.iter())
            .map(|(&c, &v)| ((c as u64) << 32) | v as u32 as u64),
    );
    // Columns are distinct, so ordering the keys orders the columns.
    if keys.len() < RADIX_MIN {
        keys.sort_unstable();
    } else {
        radix_sort_high(keys, tmp, 32 - all.leading_zeros());
    }
    for (k, &x) in keys.iter().enumerate() {
        cols[k] = (x >> 32) as u32;
        vals[k] = x as u32 as i32;
    }
}

/// Sorts `keys` by their high 32 bits, of which only the low `bits` may be
/// non-zero (stable, so equal high halves keep their order): as few passes of
/// at most 8 bits as cover them, the bits shared out evenly (21 bits: three
/// passes of 7, with 128 counters each to clear and sum, not 256).
fn radix_sort_high(keys: &mut Vec<u64>, tmp: &mut Vec<u64>, bits: u32) {
    let n = keys.len();
    let passes = bits.div_ceil(8).max(1) as usize;
    let width = bits.div_ceil(passes as u32).max(1);
    let mask = (1u64 << width) - 1;
    let buckets = 1usize << width;
    let mut counts = [[0u32; 256]; 4];
    for &k in keys.iter() {
        let c = k >> 32;
        for (p, count) in counts.iter_mut().enumerate().take(passes) {
            count[((c >> (width as usize * p)) & mask) as usize] += 1;
        }
    }
    tmp.clear();
    tmp.resize(n, 0);
    for (p, count) in counts.iter().enumerate().take(passes) {
        let shift = 32 + width as usize * p;
        if count[((keys[0] >> shift) & mask) as usize] as usize == n {
            continue; // every key has the same digit here
        }
        let mut next = [0u32; 256];
        let mut sum = 0u32;
        for (d, &c) in count[..buckets].iter().enumerate() {
            next[d] = sum;
            sum += c;
        }
        for &k in keys.iter() {
            let d = ((k >> shift) & mask) as usize;
            tmp[next[d] as usize] = k;
            next[d] += 1;
        }
        std::mem::swap(keys, tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cols: Vec<u32>) {
        let vals: Vec<i32> = cols
            .iter()
            .map(|&c| (c as i32).wrapping_mul(7) - 3)
            .collect();
        let mut want: Vec<(u32, i32)> = cols.iter().copied().zip(vals.iter().copied()).collect();
        want.sort_unstable();
        let (mut c, mut v) = (cols.clone(), vals.clone());
        sort_row(&mut c, &mut v, &mut Vec::new(), &mut Vec::new());
        let got: Vec<(u32, i32)> = c.into_iter().zip(v).collect();
        assert_eq!(got, want, "{} entries", cols.len());
    }

    #[test]
    fn rows_of_every_size_and_column_width_sort_like_the_standard_sort() {
        let mut x: u64 = 11;
        let mut rand = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        for n in [0, 1, 2, 3, 95, 96, 97, 300, 1000, 5000] {
            for max in [2u32, 255, 256, 70_000, 1 << 24, u32::MAX] {
                let mut cols: Vec<u32> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while cols.len() < n.min(max as usize) {
                    let c = rand() % max;
                    if seen.insert(c) {
                        cols.push(c);
                    }
                }
                check(cols.clone());
                cols.sort_unstable();
                check(cols.clone());
                cols.reverse();
                check(cols);
            }
        }
        // Negative and extreme counts travel with their column.
        let mut c: Vec<u32> = (0..200u32).rev().map(|i| i * 1000 + 7).collect();
        let mut v: Vec<i32> = (0..200)
            .map(|i| {
                if i % 2 == 0 {
                    i32::MIN + i
                } else {
                    i32::MAX - i
                }
            })
            .collect();
        let want: Vec<(u32, i32)> = {
            let mut w: Vec<(u32, i32)> = c.iter().copied().zip(v.iter().copied()).collect();
            w.sort_unstable();
            w
        };
        sort_row(&mut c, &mut v, &mut Vec::new(), &mut Vec::new());
        assert_eq!(c.into_iter().zip(v).collect::<Vec<_>>(), want);
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test --release -p ferrokit-core row_sort_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing comparison for a person to read, not a check: run by hand"]
    fn row_sort_timing() {
        let mut x: u64 = 5;
        let mut rows: Vec<Vec<u32>> = Vec::new();
        for _ in 0..25_000 {
            let n = 200 + (x % 200) as usize;
            let mut r = Vec::with_capacity(n);
            let mut seen = std::collections::HashSet::new();
            while r.len() < n {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let c = ((x >> 33) as u32) % 1_500_000;
                if seen.insert(c) {
                    r.push(c);
                }
            }
            rows.push(r);
        }
        let mut std_t = Vec::new();
        let mut rad_t = Vec::new();
        let (mut keys, mut tmp) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            let mut a = rows.clone();
            let mut va: Vec<Vec<i32>> = a.iter().map(|r| vec![1; r.len()]).collect();
            let t = std::time::Instant::now();
            for (c, v) in a.iter_mut().zip(va.iter_mut()) {
                keys.clear();
                keys.extend(
                    c.iter()
                        .zip(v.iter())
                        .map(|(&c, &v)| ((c as u64) << 32) | v as u32 as u64),
                );
                keys.sort_unstable();
                for (k, &x) in keys.iter().enumerate() {
                    c[k] = (x >> 32) as u32;
                    v[k] = x as u32 as i32;
                }
            }
            std_t.push(t.elapsed().as_secs_f64());
            let mut b = rows.clone();
            let mut vb: Vec<Vec<i32>> = b.iter().map(|r| vec![1; r.len()]).collect();
            let t = std::time::Instant::now();
            for (c, v) in b.iter_mut().zip(vb.iter_mut()) {
                sort_row(c, v, &mut keys, &mut tmp);
            }
            rad_t.push(t.elapsed().as_secs_f64());
            assert!(a == b);
        }
        std_t.sort_by(f64::total_cmp);
        rad_t.sort_by(f64::total_cmp);
        eprintln!("std {:?}\nradix {:?}", std_t, rad_t);
    }
}
