//! Vocabularies and counting: `CountVectorizer`'s `_count_vocab`,
//! `_limit_features` (document-frequency bounds) and `_sort_features`.
//!
//! Terms are numbered in order of first occurrence in the corpus (as
//! scikit-learn's `defaultdict` does). With several threads each range of
//! documents builds its own vocabulary; merging them in document order gives
//! exactly the sequential numbering, so results never depend on the thread
//! count or on how documents were split.

use super::analyze::{wb_pad, Analyzer, AnalyzerKind, Scratch};
use super::csr::{Csr, CsrBlocks};
use super::hashing::{doc_features, par_ranges};
use super::input::{split, Input};
use super::row_sort::sort_row;
use super::short_table::{self, ShortTable};
use crate::{pool, Error, Result};
use hashbrown::HashTable;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A fast, non-cryptographic hash of a term (only affects speed, never results).
#[inline]
fn term_hash(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = 0x243F_6A88_85A3_08D3 ^ (b.len() as u64);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = fold(h ^ w, K);
    }
    if !chunks.remainder().is_empty() {
        h = fold(h ^ le_bytes(chunks.remainder()), K);
    }
    fold(h, 0xFF51_AFD7_ED55_8CCD)
}

/// The little-endian integer of the 8 bytes at `b[i..]`.
#[inline(always)]
fn read8(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes([
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
    ])
}

/// The 0..=8 bytes `b` zero-padded to a little-endian integer, from a few
/// overlapping loads (copying them to a zeroed buffer first was a `memcpy`
/// call whose bytes the next 8-byte load could not forward: a stall).
#[inline(always)]
fn le_bytes(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        // Overlapping bytes are written twice with the same value.
        lo | (hi << (8 * (n - 4)))
    } else if n > 0 {
        (b[0] as u64) | ((b[n / 2] as u64) << (8 * (n / 2))) | ((b[n - 1] as u64) << (8 * (n - 1)))
    } else {
        0
    }
}

/// A term of at most 15 bytes as one integer: its bytes, and its length in the
/// top byte (so terms that differ only by trailing NULs stay distinct).
#[inline(always)]
fn short_key(b: &[u8]) -> Option<[u64; 2]> {
    let n = b.len();
    if n > 15 {
        return None;
    }
    // Two u64 halves, not a u128: table entries of 24 bytes instead of 32
    // (u128 is 16-byte aligned).
    let (lo, hi) = if n > 8 {
        // The last 8 bytes shifted down leave bytes 8..n at the bottom.
        (read8(b, 0), read8(b, n - 8) >> (8 * (16 - n)))
    } else {
        (le_bytes(b), 0)
    };
    Some([lo, hi | ((n as u64) << 56)])
}

/// A term's key and hash, computed once: to prefetch its slot
/// ([`Vocab::prefetch`]) and then look it up ([`Vocab::get_probed`]).
#[derive(Clone, Copy)]
pub(crate) struct Probe {
    /// The term's [`short_key`], if short.
    key: Option<[u64; 2]>,
    hash: u64,
}

impl Probe {
    #[inline(always)]
    pub(crate) fn of(term: &[u8]) -> Probe {
        match short_key(term) {
            Some(k) => Probe {
                key: Some(k),
                hash: short_table::hash(k),
            },
            None => Probe {
                key: None,
                hash: term_hash(term),
            },
        }
    }
}

/// Terms numbered 0, 1, … in insertion order, stored in one byte arena.
/// Terms of up to 15 bytes (most words and character n-grams) are found by
/// one integer comparison in `short`; longer ones through `table` and the arena.
#[derive(Clone, Default)]
pub struct Vocab {
    arena: Vec<u8>,
    ends: Vec<u64>,
    table: HashTable<(u64, u32)>,
    short: ShortTable,
}

impl std::fmt::Debug for Vocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vocab({} terms)", self.len())
    }
}

impl Vocab {
    /// Number of terms.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of term `id`.
    #[inline]
    pub fn term(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.arena[start..self.ends[id] as usize]
    }

    /// The id of `term`, if present.
    #[inline]
    pub fn get(&self, term: &[u8]) -> Option<u32> {
        self.get_probed(term, Probe::of(term))
    }

    /// Asks for the memory that looking up the term of `p` will read first
    /// (short terms only; a hint, results never depend on it).
    #[inline(always)]
    pub(crate) fn prefetch(&self, p: Probe) {
        if p.key.is_some() {
            self.short.prefetch(p.hash);
        }
    }

    /// [`Vocab::get`] with the term's probe computed already.
    #[inline]
    pub(crate) fn get_probed(&self, term: &[u8], p: Probe) -> Option<u32> {
        if let Some(k) = p.key {
            return self.short.get(k, p.hash);
        }
        let h = p.hash;
        self.table
            .find(h, |&(hh, id)| hh == h && self.term(id) == term)
            .map(|e| e.1)
    }

    /// The id of `term`, inserting it as the next id if new.
    #[inline]
    pub fn get_or_insert(&mut self, term: &[u8]) -> u32 {
        self.get_or_insert_probed(term, Probe::of(term))
    }

    /// [`Vocab::get_or_insert`] with the term's probe computed already.
    #[inline]
    pub(crate) fn get_or_insert_probed(&mut self, term: &[u8], p: Probe) -> u32 {
        if let Some(k) = p.key {
            let (arena, ends) = (&mut self.arena, &mut self.ends);
            return self
                .short
                .get_or_insert(k, p.hash, || push_term(arena, ends, term));
        }
        let h = p.hash;
        let (arena, ends) = (&self.arena, &self.ends);
        let term_of = |id: u32| {
            let id = id as usize;
            let start = if id == 0 { 0 } else { ends[id - 1] as usize };
            &arena[start..ends[id] as usize]
        };
        if let Some(&(_, id)) = self
            .table
            .find(h, |&(hh, id)| hh == h && term_of(id) == term)
        {
            return id;
        }
        let id = push_term(&mut self.arena, &mut self.ends, term);
        self.table.insert_unique(h, (h, id), |e| e.0);
        id
    }

    /// Makes room for `additional` more terms (in the tables) without resizing.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.short.reserve(additional);
        self.ends.reserve(additional);
    }

    /// Removes every term (keeps the allocated capacity).
    pub fn clear(&mut self) {
        self.arena.clear();
        self.ends.clear();
        self.table.clear();
        self.short.clear();
    }

    /// All terms as one buffer plus `len + 1` offsets (Arrow layout), in id order.
    pub fn to_strings(&self) -> (&[u8], Vec<u64>) {
        let mut off = Vec::with_capacity(self.len() + 1);
        off.push(0);
        off.extend_from_slice(&self.ends);
        (&self.arena, off)
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.ends.capacity() * 8
            + self.table.capacity() * 16
            + self.short.heap_bytes()
    }
}

/// Appends `term` to a vocabulary's arena; its id.
#[inline]
fn push_term(arena: &mut Vec<u8>, ends: &mut Vec<u64>, term: &[u8]) -> u32 {
    let id = ends.len() as u32;
    arena.extend_from_slice(term);
    ends.push(arena.len() as u64);
    id
}

/// Per-document first-occurrence counting (scikit-learn's `feature_counter`):
/// a small table from id to the entry's position in the current row. It holds
/// only the current document's distinct features, so it stays in L1/L2 cache
/// (a per-id array over the whole vocabulary missed the cache on every feature).
///
/// Open addressing with linear probing; an entry belongs to the current
/// document only if its stamp is the document's, so starting a document
/// costs nothing (no clearing) and a new id is found and inserted in one probe.
#[derive(Default)]
struct RowCounter {
    slots: Vec<RowSlot>,
    stamp: u32,
    len: usize,
}

#[derive(Clone, Copy, Default)]
struct RowSlot {
    stamp: u32,
    id: u32,
    pos: u32,
}

impl RowCounter {
    fn start_doc(&mut self) {
        if self.slots.len() > 1 << 16 {
            // A huge document's table is not kept for the next, small ones.
            self.slots = Vec::new();
        }
        self.len = 0;
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // Every 2**32 documents: stamps would repeat, start afresh.
            self.slots.fill(RowSlot::default());
            self.stamp = 1;
        }
        if self.slots.is_empty() {
            self.slots = vec![RowSlot::default(); 256];
        }
    }

    #[inline(always)]
    fn home(id: u32, mask: usize) -> usize {
        ((id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask
    }

    #[inline]
    fn count(&mut self, id: u32, row_start: usize, indices: &mut Vec<u32>, data: &mut Vec<i32>) {
        let mask = self.slots.len() - 1;
        let mut i = Self::home(id, mask);
        loop {
            let s = self.slots[i];
            if s.stamp != self.stamp {
                break;
            }
            if s.id == id {
                data[row_start + s.pos as usize] += 1;
                return;
            }
            i = (i + 1) & mask;
        }
        let pos = (indices.len() - row_start) as u32;
        self.slots[i] = RowSlot {
            stamp: self.stamp,
            id,
            pos,
        };
        indices.push(id);
        data.push(1);
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow(&indices[row_start..]);
        }
    }

    /// Doubles the table and re-inserts the current row's ids (`row[k]` at `k`).
    #[cold]
    fn grow(&mut self, row: &[u32]) {
        self.slots = vec![RowSlot::default(); self.slots.len() * 2];
        let mask = self.slots.len() - 1;
        for (pos, &id) in row.iter().enumerate() {
            let mut i = Self::home(id, mask);
            while self.slots[i].stamp == self.stamp {
                i = (i + 1) & mask;
            }
            self.slots[i] = RowSlot {
                stamp: self.stamp,
                id,
                pos: pos as u32,
            };
        }
    }
}

/// Counts the features of documents `a..b` into `vocab` (growing it) and
/// appends their rows (first-occurrence order) to `out`.
fn count_range(
    input: &Input,
    analyzer: Option<&Analyzer>,
    a: usize,
    b: usize,
    vocab: &mut Vocab,
    out: &mut Csr<i32>,
) -> Result<()> {
    let mut cache = WordCache::default();
    count_range_with(input, analyzer, a, b, None, vocab, out, &mut cache)
}

/// As [`count_range`]; with `shared`, a term found there is counted under its
/// shared id and only other terms go to `vocab`, under `id | LOCAL`.
#[allow(clippy::too_many_arguments)]
fn count_range_with(
    input: &Input,
    analyzer: Option<&Analyzer>,
    a: usize,
    b: usize,
    shared: Option<&Vocab>,
    vocab: &mut Vocab,
    out: &mut Csr<i32>,
    cache: &mut WordCache,
) -> Result<()> {
    let mut scratch = Scratch::default();
    let mut rc = RowCounter::default();
    // The id of a feature (inserting it if new).
    let id_of = |vocab: &mut Vocab, f: &[u8]| match shared {
        None => vocab.get_or_insert(f),
        Some(g) => match g.get(f) {
            Some(id) => id,
            None => vocab.get_or_insert(f) | LOCAL,
        },
    };
    if let (Input::Text(strings), Some(an)) = (input, analyzer) {
        if an.kind() == AnalyzerKind::CharWb {
            return count_range_wb(strings, an, (a, b), shared, vocab, out, cache);
        }
    }
    for i in a..b {
        rc.start_doc();
        let start = out.indices.len();
        let (indices, data) = (&mut out.indices, &mut out.data);
        doc_features(input, analyzer, i, &mut scratch, |f| {
            let id = id_of(vocab, f);
            rc.count(id, start, indices, data);
        })?;
        out.indptr.push(out.indices.len() as u64);
        out.n_rows += 1;
    }
    Ok(())
}

/// [`count_range_with`] for `char_wb`: a document's features are the n-grams
/// of its words, one word after another, and words repeat far more than
/// they are new, so the ids of a word's n-grams are remembered per word and
/// a known word costs one lookup instead of one per n-gram. A remembered
/// `LOCAL` id stays valid for the rest of the round (the thread's own
/// vocabulary only grows during a round; the shared one does not change), and
/// [`WordCache::resolve`] turns it into its shared id when the round is
/// merged. Every id is the one the plain loop would give: a hit only skips
/// lookups of terms that are already in a vocabulary.
///
/// A word not remembered has its n-grams' slots prefetched (all of them,
/// then the lookups): the vocabulary is far larger than the cache, so each
/// lookup is a memory access, and this way they overlap.
fn count_range_wb(
    strings: &super::input::Strings,
    an: &Analyzer,
    (a, b): (usize, usize),
    shared: Option<&Vocab>,
    vocab: &mut Vocab,
    out: &mut Csr<i32>,
    cache: &mut WordCache,
) -> Result<()> {
    let mut scratch = Scratch::default();
    let mut rc = RowCounter::default();
    let (mut word, mut bounds, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    let mut grams: Vec<(u32, u32, Probe)> = Vec::new();
    for i in a..b {
        rc.start_doc();
        let start = out.indices.len();
        let (indices, data) = (&mut out.indices, &mut out.data);
        let done = an.wb_words(strings.get(i), &mut scratch, |w| {
            if let Some(known) = cache.get(w.as_bytes()) {
                for &id in known {
                    rc.count(id, start, indices, data);
                }
                return;
            }
            wb_pad(w, &mut word, &mut bounds);
            grams.clear();
            an.wb_ranges(&bounds, |s, e| {
                let p = Probe::of(&word[s..e]);
                shared.unwrap_or(&*vocab).prefetch(p);
                grams.push((s as u32, e as u32, p));
            });
            ids.clear();
            let mut local = false;
            for &(s, e, p) in &grams {
                let f = &word[s as usize..e as usize];
                let id = match shared {
                    None => vocab.get_or_insert_probed(f, p),
                    Some(g) => match g.get_probed(f, p) {
                        Some(id) => id,
                        None => {
                            local = true;
                            vocab.get_or_insert(f) | LOCAL
                        }
                    },
                };
                rc.count(id, start, indices, data);
                ids.push(id);
            }
            cache.insert(w.as_bytes(), &ids, local);
        });
        if done.is_err() {
            strings.get_str(i)?;
            return Err(Error::InvalidArgument(format!(
                "document {i} is not valid UTF-8"
            )));
        }
        out.indptr.push(out.indices.len() as u64);
        out.n_rows += 1;
    }
    Ok(())
}

/// Words (of at most [`WordCache::MAX_WORD`] bytes) and the ids of their
/// `char_wb` n-grams; emptied when it holds [`WordCache::MAX_WORDS`] words.
#[derive(Default)]
struct WordCache {
    /// (hash, word start, word end, ids start, ids end)
    table: HashTable<(u64, u32, u32, u32, u32)>,
    words: Vec<u8>,
    ids: Vec<u32>,
    /// The `ids` ranges that may hold `LOCAL` ids (of the current round).
    pending: Vec<(u32, u32)>,
}

impl WordCache {
    const MAX_WORD: usize = 64;
    const MAX_WORDS: usize = 1 << 17;

    #[inline]
    fn get(&self, w: &[u8]) -> Option<&[u32]> {
        if w.len() > Self::MAX_WORD || self.table.is_empty() {
            return None;
        }
        let h = term_hash(w);
        self.table
            .find(h, |e| {
                e.0 == h && &self.words[e.1 as usize..e.2 as usize] == w
            })
            .map(|e| &self.ids[e.3 as usize..e.4 as usize])
    }

    /// Remembers the ids of `w`'s n-grams; `local`: some are `LOCAL` ids,
    /// to be resolved when the round is merged.
    fn insert(&mut self, w: &[u8], ids: &[u32], local: bool) {
        if w.len() > Self::MAX_WORD {
            return;
        }
        if self.table.len() >= Self::MAX_WORDS {
            self.table.clear();
            self.words.clear();
            self.ids.clear();
            self.pending.clear();
        }
        if local {
            let at = self.ids.len() as u32;
            self.pending.push((at, at + ids.len() as u32));
        }
        let e = (
            term_hash(w),
            self.words.len() as u32,
            (self.words.len() + w.len()) as u32,
            self.ids.len() as u32,
            (self.ids.len() + ids.len()) as u32,
        );
        self.words.extend_from_slice(w);
        self.ids.extend_from_slice(ids);
        self.table.insert_unique(e.0, e, |e| e.0);
    }

    /// Renumbers every remembered `LOCAL` id into the shared vocabulary
    /// (see [`unlocal`]) once the round is merged.
    fn resolve(&mut self, map: &[u32]) {
        for (a, b) in self.pending.drain(..) {
            unlocal(&mut self.ids[a as usize..b as usize], map);
        }
    }
}

/// One thread's state in a round of a parallel fit: its own vocabulary (the
/// terms of its chunks that the shared one lacks, numbered in the order it met
/// them), its word cache (kept across rounds) and the chunks it counted.
#[derive(Default)]
struct Lane {
    vocab: Vocab,
    cache: WordCache,
    /// (chunk, the chunk's new ids `start..end` of `vocab`, its rows).
    done: Vec<(usize, u32, u32, Csr<i32>)>,
    /// The first chunk that failed, and why.
    failed: Option<(usize, Error)>,
    /// Entries per document byte of the last chunk (a capacity guess).
    density: f64,
}

impl Lane {
    /// Counts chunks claimed from `next` (in increasing order) until none is
    /// left or a chunk failed (this lane's or another's: `stop`).
    fn run(
        &mut self,
        input: &Input,
        analyzer: Option<&Analyzer>,
        chunks: &[(usize, usize)],
        shared: &Vocab,
        next: &AtomicUsize,
        stop: &AtomicBool,
    ) {
        while !stop.load(Ordering::Relaxed) {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(a, b)) = chunks.get(k) else {
                break;
            };
            let bytes = input.weight(a, b) as f64;
            let cap = (bytes * self.density * 1.125) as usize;
            let mut rows = Csr {
                n_rows: 0,
                n_cols: 0,
                indptr: Vec::with_capacity(b - a + 1),
                indices: Vec::with_capacity(cap),
                data: Vec::with_capacity(cap),
            };
            rows.indptr.push(0);
            let start = self.vocab.len() as u32;
            let r = count_range_with(
                input,
                analyzer,
                a,
                b,
                Some(shared),
                &mut self.vocab,
                &mut rows,
                &mut self.cache,
            );
            if let Err(e) = r {
                self.failed = Some((k, e));
                stop.store(true, Ordering::Relaxed);
                break;
            }
            self.density = rows.nnz() as f64 / bytes.max(1.0);
            rows.indices.shrink_to_fit();
            rows.data.shrink_to_fit();
            self.done.push((k, start, self.vocab.len() as u32, rows));
        }
    }
}

/// Streaming `CountVectorizer` fit: add batches of documents, then finish.
///
/// ```
/// use ferrokit_core::text::{Analyzer, AnalyzerKind, CharTables, CountBuilder, Input, Strings};
/// use std::sync::Arc;
/// let a = Analyzer::new(Arc::new(CharTables::ascii_std()), AnalyzerKind::Word, (1, 1), true, None).unwrap();
/// let mut b = CountBuilder::new();
/// b.add(&Input::Text(Strings::new(b"bb aa bb", &[0, 8]).unwrap()), Some(&a)).unwrap();
/// let fit = b.finish(f64::INFINITY, 1.0, true);
/// let m = fit.matrix.into_csr();
/// assert_eq!(m.indices, vec![1, 0]); // "bb" first (first occurrence), column 1 (sorted)
/// assert_eq!(m.data, vec![2, 1]);
/// assert_eq!(fit.vocabulary.ids, vec![1, 0]);
/// ```
#[derive(Debug)]
pub struct CountBuilder {
    vocab: Vocab,
    /// The rows so far, in blocks: a block with a non-empty map is a range's
    /// rows whose `LOCAL` ids the map renumbers (applied when the blocks are
    /// joined in [`CountBuilder::finish`], on the pool; blocks of one
    /// thread's chunks in a round share its map).
    parts: Vec<(Csr<i32>, Arc<[u32]>)>,
    n_docs: usize,
}

/// A fitted vocabulary: `vocab` holds terms in first-occurrence order and
/// `ids[k]` is the column of term `k` (`u32::MAX`: not a column).
#[derive(Debug, Clone, Default)]
pub struct FittedVocab {
    /// The terms.
    pub vocab: Vocab,
    /// Column of each term.
    pub ids: Vec<u32>,
    /// Number of columns.
    pub n_cols: usize,
}

/// The result of [`CountBuilder::finish`].
#[derive(Debug)]
pub struct CountFit {
    /// Document-term counts, rows in scikit-learn's `fit_transform` order,
    /// in the blocks they were counted in.
    pub matrix: CsrBlocks<i32>,
    /// The fitted vocabulary (removed terms are gone).
    pub vocabulary: FittedVocab,
}

impl Default for CountBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CountBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        CountBuilder {
            vocab: Vocab::default(),
            parts: Vec::new(),
            n_docs: 0,
        }
    }

    /// Number of documents added so far.
    pub fn n_docs(&self) -> usize {
        self.n_docs
    }

    /// Counts documents `a..b` on this thread into the last block of rows
    /// (a new one if that block still needs renumbering).
    fn add_sequential(
        &mut self,
        input: &Input,
        analyzer: Option<&Analyzer>,
        a: usize,
        b: usize,
    ) -> Result<()> {
        let rows = match self.parts.last_mut() {
            Some((rows, map)) if map.is_empty() => rows,
            _ => {
                self.parts.push((Csr::empty(0), Arc::from(Vec::new())));
                &mut self.parts.last_mut().expect("a block was just pushed").0
            }
        };
        let before = rows.n_rows;
        let r = count_range(input, analyzer, a, b, &mut self.vocab, rows);
        self.n_docs += rows.n_rows - before;
        r
    }

    /// Number of distinct terms so far.
    pub fn n_terms(&self) -> usize {
        self.vocab.len()
    }

    /// Counts a batch of documents (on the pool when large enough).
    pub fn add(&mut self, input: &Input, analyzer: Option<&Analyzer>) -> Result<()> {
        let n = input.len();
        let bytes = if n == 0 {
            0
        } else {
            input.weight(0, n) as usize
        };
        let threads = pool::num_threads();
        if threads <= 1 || bytes < super::hashing::MIN_PARALLEL_BYTES {
            return self.add_sequential(input, analyzer, 0, n);
        }
        if self.vocab.len() >= LOCAL as usize {
            // Ids would collide with the LOCAL tag: count sequentially.
            return self.add_sequential(input, analyzer, 0, n);
        }
        // Rounds of chunks of documents, taken in order by the pool threads
        // as they become free (a thread's chunks are in document order). A
        // chunk counts terms already in the shared vocabulary under their ids
        // (read-only lookups, in parallel) and others into its thread's own
        // small vocabulary; after each round, those are numbered serially in
        // document order, so the numbering is exactly the sequential one.
        // Chunks of about 64 KiB keep the threads busy until the end of a
        // round (ranges of a round cost unequal times: languages differ);
        // rounds of about 512 KiB per thread bound the per-thread state.
        let chunks = split(input, (threads * 64).max(bytes >> 16));
        let per_round = threads * 8;
        pool::run(bytes, super::hashing::MIN_PARALLEL_BYTES, |par| {
            let mut lanes: Vec<Lane> = (0..threads).map(|_| Lane::default()).collect();
            for round in chunks.chunks(per_round) {
                let shared = &self.vocab;
                let (next, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
                let work = |lane: &mut Lane| lane.run(input, analyzer, round, shared, &next, &stop);
                if par {
                    lanes.par_iter_mut().for_each(work);
                } else {
                    lanes.iter_mut().for_each(work);
                }
                // Every chunk before a failed one was counted: the first
                // failure is the sequential fit's error.
                let failed = lanes
                    .iter_mut()
                    .filter_map(|l| l.failed.take())
                    .min_by_key(|f| f.0);
                if let Some((_, e)) = failed {
                    return Err(e);
                }
                self.merge(&mut lanes);
                if self.vocab.len() >= LOCAL as usize {
                    let done = round.last().map_or(0, |r| r.1);
                    return self.add_sequential(input, analyzer, done, n);
                }
            }
            Ok(())
        })
    }

    /// Appends a round's counts in document order: the new terms of each
    /// chunk (its thread's own terms first met there) get their shared ids,
    /// new ones the next ids, serially; the rows are kept as they are, with
    /// their thread's map (renumbered when joined, in parallel). Empties the
    /// lanes' vocabularies for the next round.
    fn merge(&mut self, lanes: &mut [Lane]) {
        let mut chunks: Vec<(usize, usize, u32, u32, Csr<i32>)> = Vec::new();
        for (l, lane) in lanes.iter_mut().enumerate() {
            chunks.extend(
                lane.done
                    .drain(..)
                    .map(|(k, s, e, rows)| (k, l, s, e, rows)),
            );
        }
        chunks.sort_unstable_by_key(|c| c.0);
        let mut maps: Vec<Vec<u32>> = lanes
            .iter()
            .map(|lane| Vec::with_capacity(lane.vocab.len()))
            .collect();
        // Serial, over terms mostly new to a vocabulary far larger than the
        // cache: each term's slot is asked for a few terms ahead, so the
        // memory accesses overlap (room is made first: no resize moves them).
        const AHEAD: u32 = 8;
        self.vocab
            .reserve(lanes.iter().map(|lane| lane.vocab.len()).sum());
        for &(_, l, s, e, _) in &chunks {
            let v = &lanes[l].vocab;
            for id in s..(s + AHEAD).min(e) {
                self.vocab.prefetch(Probe::of(v.term(id)));
            }
            for id in s..e {
                if id + AHEAD < e {
                    self.vocab.prefetch(Probe::of(v.term(id + AHEAD)));
                }
                let t = v.term(id);
                maps[l].push(self.vocab.get_or_insert_probed(t, Probe::of(t)));
            }
        }
        let maps: Vec<Arc<[u32]>> = maps.into_iter().map(Arc::from).collect();
        for (lane, map) in lanes.iter_mut().zip(&maps) {
            lane.cache.resolve(map);
        }
        for (_, l, _, _, rows) in chunks {
            self.n_docs += rows.n_rows;
            self.parts.push((rows, maps[l].clone()));
        }
        for lane in lanes {
            lane.vocab.clear();
        }
    }

    /// Finishes the fit like scikit-learn's `CountVectorizer.fit_transform`.
    ///
    /// Rows are sorted by first-occurrence id (`X.sort_indices()`). With
    /// `sort_features` false that is all (`_count_vocab`'s result: columns are
    /// first-occurrence ids, `high`/`low` unused). With `sort_features` true,
    /// terms whose document frequency is not in `[low, high]` are dropped
    /// (`_limit_features`) and the kept ones numbered in byte order of their
    /// UTF-8 (= Python's code point order; `_sort_features`); rows keep their
    /// first-occurrence order, so their columns are not sorted.
    ///
    /// The rows stay in the blocks they were counted in (each renumbered,
    /// sorted and filtered in place, on the pool): joining them would write
    /// every entry once more into fresh memory, only for the caller to copy
    /// them out again (for `char_wb` (2, 4) over 20 MB of text, 227 MB).
    pub fn finish(self, high: f64, low: f64, sort_features: bool) -> CountFit {
        let CountBuilder { vocab, parts, .. } = self;
        let n_terms = vocab.len();
        let mut blocks = apply_maps(parts);
        sort_rows(&mut blocks);
        if !sort_features {
            let ids = (0..n_terms as u32).collect();
            return CountFit {
                matrix: with_cols(blocks, n_terms),
                vocabulary: FittedVocab {
                    vocab,
                    ids,
                    n_cols: n_terms,
                },
            };
        }
        let df = document_frequencies(&blocks, n_terms);
        let kept: Vec<u32> = (0..n_terms as u32)
            .filter(|&i| {
                let d = df[i as usize] as f64;
                d <= high && d >= low
            })
            .collect();
        // Sort by the first 8 bytes (big-endian, zero-padded: the same order as
        // the bytes), comparing whole terms only on equal prefixes.
        let mut keyed: Vec<(u64, u32)> =
            kept.iter().map(|&t| (prefix8(vocab.term(t)), t)).collect();
        drop(kept);
        keyed.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| vocab.term(a.1).cmp(vocab.term(b.1)))
        });
        let mut ids = vec![u32::MAX; n_terms];
        for (rank, &(_, t)) in keyed.iter().enumerate() {
            ids[t as usize] = rank as u32;
        }
        let n_cols = keyed.len();
        drop(keyed);
        let dropped = n_cols != n_terms;
        let nnz: usize = blocks.iter().map(|b| b.nnz()).sum();
        for_each_block(&mut blocks, nnz, |b| {
            if dropped {
                drop_entries(b, &ids);
            }
            for i in b.indices.iter_mut() {
                *i = ids[*i as usize];
            }
        });
        CountFit {
            matrix: with_cols(blocks, n_cols),
            vocabulary: FittedVocab { vocab, ids, n_cols },
        }
    }
}

/// Runs `f` on every block, on the pool when there are `work` entries or more
/// than [`MIN_PARALLEL_BLOCK_WORK`] (a block's result never depends on which
/// thread ran it).
fn for_each_block(blocks: &mut [Csr<i32>], work: usize, f: impl Fn(&mut Csr<i32>) + Sync) {
    pool::run(work, MIN_PARALLEL_BLOCK_WORK, |par| {
        if par {
            blocks.par_iter_mut().for_each(&f);
        } else {
            blocks.iter_mut().for_each(&f);
        }
    })
}

/// Entries below which the per-block passes of [`CountBuilder::finish`] stay
/// on the calling thread.
const MIN_PARALLEL_BLOCK_WORK: usize = 1 << 16;

/// Tags an id of a range's own vocabulary (vs. an id of the shared one).
pub(crate) const LOCAL: u32 = 1 << 31;

/// Replaces each id `c` tagged [`LOCAL`] by `map[c & !LOCAL]` (a range's own
/// id renumbered into the shared vocabulary's); other ids stay.
#[inline]
fn unlocal(ids: &mut [u32], map: &[u32]) {
    for c in ids {
        if *c & LOCAL != 0 {
            *c = map[(*c & !LOCAL) as usize];
        }
    }
}

/// The blocks with each column `c` tagged [`LOCAL`] replaced by
/// `map[c & !LOCAL]` (a range's own ids renumbered into the shared
/// vocabulary's); blocks with an empty map are left as they are.
fn apply_maps(mut parts: Vec<(Csr<i32>, Arc<[u32]>)>) -> Vec<Csr<i32>> {
    let nnz: usize = parts.iter().map(|p| p.0.nnz()).sum();
    pool::run(nnz, MIN_PARALLEL_BLOCK_WORK, |par| {
        let apply = |(b, map): &mut (Csr<i32>, Arc<[u32]>)| {
            if !map.is_empty() {
                unlocal(&mut b.indices, map);
            }
        };
        if par {
            parts.par_iter_mut().for_each(apply);
        } else {
            parts.iter_mut().for_each(apply);
        }
    });
    parts.into_iter().map(|(b, _)| b).collect()
}

/// The blocks as one matrix of `n_cols` columns (an empty one if none).
fn with_cols(mut blocks: Vec<Csr<i32>>, n_cols: usize) -> CsrBlocks<i32> {
    if blocks.is_empty() {
        blocks.push(Csr::empty(n_cols));
    }
    for b in blocks.iter_mut() {
        b.n_cols = n_cols;
    }
    CsrBlocks { n_cols, blocks }
}

/// Removes the entries of `b` whose term has no column (`ids[t] == u32::MAX`),
/// keeping the order of rows and of entries within them.
fn drop_entries(b: &mut Csr<i32>, ids: &[u32]) {
    let first = b.indptr[0];
    let mut w = 0usize;
    let mut start = 0usize;
    for r in 0..b.n_rows {
        let end = (b.indptr[r + 1] - first) as usize;
        for k in start..end {
            if ids[b.indices[k] as usize] != u32::MAX {
                b.indices[w] = b.indices[k];
                b.data[w] = b.data[k];
                w += 1;
            }
        }
        start = end;
        b.indptr[r + 1] = first + w as u64;
    }
    b.indices.truncate(w);
    b.data.truncate(w);
}

/// How many entries of the blocks' `indices` (all below `n_terms`) hold each
/// id: one histogram per pool thread over its share of the entries, then
/// summed (integers: the same counts for any thread count).
fn document_frequencies(blocks: &[Csr<i32>], n_terms: usize) -> Vec<u64> {
    let count = |pieces: &[&[u32]]| {
        let mut df = vec![0u64; n_terms];
        for ids in pieces {
            for &i in *ids {
                df[i as usize] += 1;
            }
        }
        df
    };
    let all: Vec<&[u32]> = blocks.iter().map(|b| &b.indices[..]).collect();
    let nnz: usize = all.iter().map(|s| s.len()).sum();
    let threads = pool::num_threads();
    // Each extra histogram is n_terms zeroed counters: worth it only when
    // the entries far outnumber the terms.
    if threads <= 1 || nnz < 8 * n_terms.max(1 << 16) {
        return count(&all);
    }
    let shares = split_pieces(&all, nnz.div_ceil(threads));
    pool::run(nnz, 1 << 16, |par| {
        let hists: Vec<Vec<u64>> = if par {
            shares.par_iter().map(|s| count(s)).collect()
        } else {
            shares.iter().map(|s| count(s)).collect()
        };
        let mut it = hists.into_iter();
        let mut df = it.next().unwrap_or_else(|| vec![0u64; n_terms]);
        for h in it {
            for (d, x) in df.iter_mut().zip(h) {
                *d += x;
            }
        }
        df
    })
}

/// `pieces` (read one after the other) cut into shares of `per` entries (the
/// last may be shorter), each a list of sub-slices.
fn split_pieces<'a>(pieces: &[&'a [u32]], per: usize) -> Vec<Vec<&'a [u32]>> {
    let per = per.max(1);
    let mut shares = vec![Vec::new()];
    let mut room = per;
    for &p in pieces {
        let mut rest = p;
        while !rest.is_empty() {
            if room == 0 {
                shares.push(Vec::new());
                room = per;
            }
            let (a, b) = rest.split_at(rest.len().min(room));
            shares.last_mut().expect("never empty").push(a);
            room -= a.len();
            rest = b;
        }
    }
    shares
}

/// The first 8 bytes of `b` as a big-endian integer (zero-padded): comparing
/// these compares the terms' byte order up to ties.
#[inline]
fn prefix8(b: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = b.len().min(8);
    buf[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(buf)
}

/// Sorts the entries of every row of every block by column.
fn sort_rows(blocks: &mut [Csr<i32>]) {
    let nnz: usize = blocks.iter().map(|b| b.nnz()).sum();
    let n_rows: usize = blocks.iter().map(|b| b.n_rows).sum();
    let mut pairs: Vec<(&mut [u32], &mut [i32])> = Vec::with_capacity(n_rows);
    for b in blocks.iter_mut() {
        let indptr = &b.indptr;
        let (mut ind, mut dat) = (&mut b.indices[..], &mut b.data[..]);
        for r in 0..b.n_rows {
            let len = (indptr[r + 1] - indptr[r]) as usize;
            let (x, rest_i) = ind.split_at_mut(len);
            let (y, rest_d) = dat.split_at_mut(len);
            pairs.push((x, y));
            ind = rest_i;
            dat = rest_d;
        }
    }
    let work = |(keys, tmp): &mut (Vec<u64>, Vec<u64>), (i, d): &mut (&mut [u32], &mut [i32])| {
        sort_row(i, d, keys, tmp)
    };
    pool::run(nnz, 1 << 16, |par| {
        if par {
            pairs.par_iter_mut().for_each_init(Default::default, work);
        } else {
            let mut scratch = Default::default();
            pairs.iter_mut().for_each(|p| work(&mut scratch, p));
        }
    });
}

impl FittedVocab {
    /// A vocabulary from terms and their columns (e.g. a user's `vocabulary`
    /// mapping); `n_cols` must exceed every id, terms must be distinct.
    pub fn from_terms(terms: &super::input::Strings, ids: &[u32], n_cols: usize) -> Result<Self> {
        if terms.len() != ids.len() {
            return Err(Error::LengthMismatch(format!(
                "{} terms but {} ids",
                terms.len(),
                ids.len()
            )));
        }
        let mut vocab = Vocab::default();
        for (i, &id) in ids.iter().enumerate() {
            if id as usize >= n_cols {
                return Err(Error::InvalidArgument(format!(
                    "id {id} of term {i} is not below n_cols = {n_cols}"
                )));
            }
            if vocab.get_or_insert(terms.get(i)) as usize != i {
                return Err(Error::InvalidArgument(format!("term {i} is a duplicate")));
            }
        }
        Ok(FittedVocab {
            vocab,
            ids: ids.to_vec(),
            n_cols,
        })
    }

    /// Counts the features of each document that are in the vocabulary:
    /// scikit-learn's `transform` (rows sorted by column).
    pub fn transform(&self, input: &Input, analyzer: Option<&Analyzer>) -> Result<Csr<i32>> {
        Ok(self.transform_blocks(input, analyzer)?.into_csr())
    }

    /// As [`FittedVocab::transform`], the rows left in the blocks they were
    /// counted in (for a copy-out that needs no joined copy).
    pub fn transform_blocks(
        &self,
        input: &Input,
        analyzer: Option<&Analyzer>,
    ) -> Result<CsrBlocks<i32>> {
        let parts = par_ranges(input, |a, b| {
            let mut scratch = Scratch::default();
            let mut rc = RowCounter::default();
            let mut out = Csr::empty(self.n_cols);
            for i in a..b {
                rc.start_doc();
                let start = out.indices.len();
                let (indices, data) = (&mut out.indices, &mut out.data);
                doc_features(input, analyzer, i, &mut scratch, |f| {
                    if let Some(k) = self.vocab.get(f) {
                        let id = self.ids[k as usize];
                        if id != u32::MAX {
                            rc.count(id, start, indices, data);
                        }
                    }
                })?;
                out.indptr.push(out.indices.len() as u64);
                out.n_rows += 1;
            }
            Ok(out)
        })?;
        let mut blocks = parts;
        sort_rows(&mut blocks);
        Ok(with_cols(blocks, self.n_cols))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Strings;

    #[test]
    fn rounds_of_ranges_give_the_sequential_fit() {
        use crate::text::{AnalyzerKind, CharTables};
        use std::sync::Arc;
        // About 2.5 MB: several 512 KiB ranges per thread, several rounds.
        let mut docs = Vec::new();
        let mut x: u64 = 7;
        for d in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(d % 40) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(&format!("w{} ", (x >> 33) % (1 + d as u64 * 3)));
            }
            docs.push(s);
        }
        let refs: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
        let (buf, off) = crate::text::pack(&refs);
        let a = Analyzer::new(
            Arc::new(CharTables::ascii_std()),
            AnalyzerKind::Word,
            (1, 2),
            true,
            None,
        )
        .unwrap();
        let fit = |threads: usize| {
            crate::pool::set_num_threads(threads);
            let mut b = CountBuilder::new();
            b.add(&Input::Text(Strings::new(&buf, &off).unwrap()), Some(&a))
                .unwrap();
            crate::pool::set_num_threads(0);
            let f = b.finish(f64::INFINITY, 1.0, true);
            (
                f.matrix.into_csr(),
                f.vocabulary.ids,
                f.vocabulary.vocab.to_strings().0.to_vec(),
            )
        };
        let one = fit(1);
        assert!(one.0.nnz() > 100_000);
        assert!(fit(3) == one);
        assert!(fit(2) == one);
        // Batches that alternate between the sequential path (small) and
        // parallel rounds (large) keep the rows in document order.
        crate::pool::set_num_threads(2);
        let mut b = CountBuilder::new();
        let mut start = 0;
        for (k, step) in [3usize, 9000, 1, 7000, 5, 3991].into_iter().enumerate() {
            let end = (start + step).min(refs.len());
            let (bb, oo) = crate::text::pack(&refs[start..end]);
            b.add(&Input::Text(Strings::new(&bb, &oo).unwrap()), Some(&a))
                .unwrap();
            assert_eq!(b.n_docs(), end, "batch {k}");
            start = end;
        }
        crate::pool::set_num_threads(0);
        assert_eq!(start, refs.len());
        let f = b.finish(f64::INFINITY, 1.0, true);
        assert!(f.matrix.into_csr() == one.0);
        assert!(f.vocabulary.ids == one.1);
    }

    #[test]
    fn document_frequencies_on_any_thread_count() {
        let mut x = 3u64;
        let n_terms = 1000;
        let ids: Vec<u32> = (0..700_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((x >> 33) % n_terms as u64) as u32
            })
            .collect();
        let mut want = vec![0u64; n_terms];
        for &i in &ids {
            want[i as usize] += 1;
        }
        // Blocks of uneven sizes (and an empty one): shares cross their ends.
        let block = |ids: &[u32]| Csr::<i32> {
            n_rows: 1,
            n_cols: n_terms,
            indptr: vec![0, ids.len() as u64],
            indices: ids.to_vec(),
            data: vec![1; ids.len()],
        };
        let cuts = [0, 1, 70_001, 70_001, 333_333, 700_000];
        let blocks: Vec<Csr<i32>> = cuts.windows(2).map(|w| block(&ids[w[0]..w[1]])).collect();
        for threads in [1, 2, 3] {
            crate::pool::set_num_threads(threads);
            let got = document_frequencies(&blocks, n_terms);
            crate::pool::set_num_threads(0);
            assert_eq!(got, want, "{threads} threads");
        }
        assert_eq!(document_frequencies(&[], 0), Vec::<u64>::new());
        assert_eq!(document_frequencies(&[block(&[1, 1])], 3), vec![0, 2, 0]);
    }

    #[test]
    fn apply_maps_renumbers_local_ids_and_keeps_row_order() {
        let block = |rows: &[&[u32]]| {
            let mut m = Csr::<i32>::empty(0);
            for r in rows {
                m.indices.extend_from_slice(r);
                m.data.extend(r.iter().map(|&c| (c & 0xFF) as i32 + 1));
                m.indptr.push(m.indices.len() as u64);
                m.n_rows += 1;
            }
            m
        };
        let map = |ids: &[u32]| -> Arc<[u32]> { Arc::from(ids) };
        let parts = vec![
            (block(&[&[0, 1], &[]]), map(&[])),
            (block(&[&[LOCAL, 1, LOCAL | 1]]), map(&[7, 5])),
            (block(&[]), map(&[])),
            (block(&[&[2], &[LOCAL]]), map(&[9])),
        ];
        let m = with_cols(apply_maps(parts), 10).into_csr();
        assert_eq!((m.n_rows, m.n_cols), (5, 10));
        assert_eq!(m.indptr, vec![0, 2, 2, 5, 6, 7]);
        assert_eq!(m.indices, vec![0, 1, 7, 1, 5, 2, 9]);
        assert_eq!(m.data, vec![1, 2, 1, 2, 2, 3, 1]);
    }

    #[test]
    fn split_pieces_cuts_across_piece_ends() {
        let (a, b, c) = ([1u32, 2, 3], [4u32], [5u32, 6, 7, 8, 9]);
        let shares = split_pieces(&[&a, &[], &b, &c], 4);
        let flat: Vec<Vec<u32>> = shares.iter().map(|s| s.concat()).collect();
        assert_eq!(flat, vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9]]);
        assert_eq!(split_pieces(&[], 3).len(), 1);
    }

    #[test]
    fn sorted_features_follow_byte_order_beyond_the_prefix() {
        let terms: [&[u8]; 7] = [
            b"abcdefghij2",
            b"abcdefghij1",
            b"ab\0",
            b"ab",
            b"b",
            b"abcdefgh",
            "\u{e9}t\u{e9}".as_bytes(),
        ];
        let mut buf = Vec::new();
        let mut off = vec![0u64];
        for t in terms {
            buf.extend_from_slice(t);
            off.push(buf.len() as u64);
        }
        let doc_ptr = [0u64, terms.len() as u64];
        let input = Input::features(Strings::new(&buf, &off).unwrap(), &doc_ptr).unwrap();
        let mut b = CountBuilder::new();
        b.add(&input, None).unwrap();
        let fit = b.finish(f64::INFINITY, 0.0, true);
        let mut sorted = terms.to_vec();
        sorted.sort();
        for (k, t) in terms.iter().enumerate() {
            let rank = sorted.iter().position(|s| s == t).unwrap() as u32;
            assert_eq!(fit.vocabulary.ids[k], rank, "{t:?}");
        }
    }

    #[test]
    fn short_keys_are_the_zero_padded_bytes_and_length() {
        let bytes: Vec<u8> = (1..=40u8).map(|b| b.wrapping_mul(37)).collect();
        for start in 0..8 {
            for n in 0..=16 {
                let b = &bytes[start..start + n];
                let mut buf = [0u8; 16];
                if n <= 15 {
                    buf[..n].copy_from_slice(b);
                    buf[15] = n as u8;
                    let k = u128::from_le_bytes(buf);
                    assert_eq!(short_key(b), Some([k as u64, (k >> 64) as u64]), "{b:?}");
                } else {
                    assert_eq!(short_key(b), None);
                }
                if n <= 8 {
                    let mut w = [0u8; 8];
                    w[..n].copy_from_slice(b);
                    assert_eq!(le_bytes(b), u64::from_le_bytes(w), "{b:?}");
                }
            }
        }
    }

    #[test]
    fn row_counter_counts_first_occurrence_through_growth_and_stamp_wrap() {
        let mut rc = RowCounter::default();
        let (mut indices, mut data) = (vec![7u32], vec![1i32]);
        rc.stamp = u32::MAX - 2;
        for doc in 0..5u32 {
            rc.start_doc();
            let start = indices.len();
            // 1000 distinct ids (the table grows from 256), each seen 1..=3 times.
            for rep in 0..3u32 {
                for k in 0..1000u32 {
                    if k % 3 >= rep {
                        rc.count(k * 7919 + doc, start, &mut indices, &mut data);
                    }
                }
            }
            let want: Vec<u32> = (0..1000).map(|k| k * 7919 + doc).collect();
            assert_eq!(&indices[start..], &want[..]);
            let counts: Vec<i32> = (0..1000).map(|k| k % 3 + 1).collect();
            assert_eq!(&data[start..], &counts[..]);
        }
        assert!(rc.stamp >= 1 && rc.stamp < 5);
    }

    #[test]
    fn word_cache_resolves_local_ids_and_forgets_them_when_emptied() {
        let mut c = WordCache::default();
        c.insert(b"ab", &[3, 1 | LOCAL, LOCAL], true);
        c.insert(b"cd", &[5, 6], false);
        c.resolve(&[70, 71]);
        assert_eq!(c.get(b"ab"), Some(&[3, 71, 70][..]));
        assert_eq!(c.get(b"cd"), Some(&[5, 6][..]));
        // A pending word forgotten when the cache is emptied leaves no range
        // behind: resolving afterwards touches only the words still there.
        c.insert(b"ef", &[2 | LOCAL], true);
        for i in 0..WordCache::MAX_WORDS as u32 {
            c.insert(&i.to_le_bytes(), &[i], false);
        }
        assert_eq!(c.get(b"ef"), None);
        c.insert(b"gh", &[LOCAL, 9], true);
        c.resolve(&[40]);
        assert_eq!(c.get(b"gh"), Some(&[40, 9][..]));
        let last = WordCache::MAX_WORDS as u32 - 1;
        assert_eq!(c.get(&last.to_le_bytes()), Some(&[last][..]));
    }

    #[test]
    fn char_wb_word_cache_gives_the_plain_fit() {
        use crate::text::{AnalyzerKind, CharTables};
        use std::sync::Arc;
        // About 1.5 MB of repeated and new words (several rounds of ranges),
        // mixed case and non-ASCII, long words beyond the cache's limit.
        let words = ["Ab", "été", "x", "ÉTÉ", "日本語", "abcdefghij", "Σx", "  "];
        let mut docs = Vec::new();
        let mut x: u64 = 3;
        for d in 0..12_000u64 {
            let mut s = String::new();
            for _ in 0..(d % 23) {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let r = (x >> 33) as usize;
                s.push_str(words[r % words.len()]);
                s.push_str(&format!("{} ", r % (d as usize + 2)));
            }
            s.push_str(&"long".repeat((d % 40) as usize));
            docs.push(s);
        }
        let refs: Vec<&str> = docs.iter().map(|s| s.as_str()).collect();
        let (buf, off) = crate::text::pack(&refs);
        let a = Analyzer::new(
            Arc::new(CharTables::ascii_std()),
            AnalyzerKind::CharWb,
            (2, 4),
            true,
            None,
        )
        .unwrap();
        // The same features given ready-made: counted without the word cache.
        let (mut fbuf, mut foff, mut doc_ptr) = (Vec::new(), vec![0u64], vec![0u64]);
        for d in &refs {
            a.for_each(d, &mut Scratch::default(), |f| {
                fbuf.extend_from_slice(f);
                foff.push(fbuf.len() as u64);
            });
            doc_ptr.push(foff.len() as u64 - 1);
        }
        let fit = |threads: usize, text: bool| {
            crate::pool::set_num_threads(threads);
            let mut b = CountBuilder::new();
            if text {
                b.add(&Input::Text(Strings::new(&buf, &off).unwrap()), Some(&a))
            } else {
                let f = Strings::new(&fbuf, &foff).unwrap();
                b.add(&Input::features(f, &doc_ptr).unwrap(), None)
            }
            .unwrap();
            crate::pool::set_num_threads(0);
            let f = b.finish(f64::INFINITY, 1.0, true);
            (
                f.matrix.into_csr(),
                f.vocabulary.ids,
                f.vocabulary.vocab.to_strings().0.to_vec(),
            )
        };
        let want = fit(1, false);
        assert!(want.0.nnz() > 100_000);
        assert!(fit(1, true) == want);
        assert!(fit(2, true) == want);
        assert!(fit(3, true) == want);
        // Invalid UTF-8 names the document.
        let bad = Strings::new(b"ok\xff", &[0, 1, 3]).unwrap();
        let err = CountBuilder::new()
            .add(&Input::Text(bad), Some(&a))
            .unwrap_err();
        assert!(err.to_string().contains("document 1"), "{err}");
    }

    #[test]
    fn parallel_fit_reports_the_first_invalid_document() {
        use crate::text::{AnalyzerKind, CharTables};
        use std::sync::Arc;
        // About 1 MB of equal documents: 128 chunks at 2 threads, whose first
        // two the two threads start together. Invalid UTF-8 at the end of
        // the first chunk and at the start of the second (found first, by
        // the other thread) and in a later round: the first one is named.
        let docs: Vec<Vec<u8>> = (0..12_000u32)
            .map(|d| format!("doc {d:05} has words {:02} and more words ", d % 97).repeat(2))
            .map(String::into_bytes)
            .collect();
        let pack = |bad: &[usize]| {
            let mut buf = Vec::new();
            let mut off = vec![0u64];
            for (i, d) in docs.iter().enumerate() {
                buf.extend_from_slice(d);
                if bad.contains(&i) {
                    *buf.last_mut().unwrap() = 0xFF;
                }
                off.push(buf.len() as u64);
            }
            (buf, off)
        };
        let (buf, off) = pack(&[]);
        let chunks = split(&Input::Text(Strings::new(&buf, &off).unwrap()), 128);
        let first_end = chunks[0].1;
        let (buf, off) = pack(&[first_end - 1, first_end, 9000]);
        for kind in [AnalyzerKind::Word, AnalyzerKind::CharWb] {
            let a = Analyzer::new(Arc::new(CharTables::ascii_std()), kind, (1, 2), true, None);
            let a = a.unwrap();
            for threads in [1, 2, 3] {
                crate::pool::set_num_threads(threads);
                let err = CountBuilder::new()
                    .add(&Input::Text(Strings::new(&buf, &off).unwrap()), Some(&a))
                    .unwrap_err();
                crate::pool::set_num_threads(0);
                let want = format!("document {} ", first_end - 1);
                assert!(err.to_string().contains(&want), "{err}");
            }
        }
    }
}
