//! Times vtext 0.2.0's `HashingVectorizer::transform` (one thread, its
//! default `RegexpTokenizer` with scikit-learn's pattern `\b\w\w+\b`) on the
//! documents of a file, and prints one JSON line:
//! `{"bytes": B, "docs": N, "seconds": [..]}` (every repeat, in order).
//!
//! Usage: `vtext-bench CORPUS REPEATS`, where CORPUS holds the documents as
//! UTF-8 separated by NUL bytes. vtext is not a drop-in for scikit-learn (it
//! lowercases ASCII only and hashes with seahash), so this is context, not a
//! like-for-like comparison.

use std::time::Instant;
use vtext::tokenize::RegexpTokenizerParams;
use vtext::vectorize::HashingVectorizerParams;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: vtext-bench CORPUS REPEATS");
    let repeats: usize = args.next().map_or(5, |r| r.parse().expect("REPEATS"));
    let text = std::fs::read_to_string(&path).expect("a UTF-8 corpus file");
    let docs: Vec<String> = text.split('\0').map(String::from).collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let tokenizer = RegexpTokenizerParams::default().build().expect("tokenizer");
    let hv = HashingVectorizerParams::default()
        .tokenizer(tokenizer)
        .n_jobs(1)
        .build()
        .expect("vectorizer");
    let mut seconds = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        let x = hv.transform(&docs);
        seconds.push(t.elapsed().as_secs_f64());
        std::hint::black_box(x);
    }
    let list: Vec<String> = seconds.iter().map(|s| format!("{s:.6}")).collect();
    println!(
        "{{\"bytes\": {bytes}, \"docs\": {}, \"seconds\": [{}]}}",
        docs.len(),
        list.join(", ")
    );
}
