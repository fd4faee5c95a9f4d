//! Analyzers: one document in, its features (tokens / n-grams) out, in
//! exactly the order scikit-learn's `build_analyzer()` produces them.

use super::tables::CharTables;
#[cfg(test)]
use super::tables::{BYTE_MULTI, BYTE_OTHER, BYTE_WORD};
use super::words::{split_words, InvalidUtf8};
use crate::{Error, Result};
use std::collections::HashSet;
use std::sync::Arc;

/// What an analyzer produces from a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyzerKind {
    /// Word n-grams of the default token pattern `(?u)\b\w\w+\b`.
    Word,
    /// Character n-grams over whitespace-normalized text.
    Char,
    /// Character n-grams inside words padded with one space.
    CharWb,
}

/// A built-in scikit-learn analyzer: lowercase, tokenize, drop stop words,
/// n-grams. Cheap to clone (the tables are shared).
///
/// ```
/// use ferrokit_core::text::{Analyzer, AnalyzerKind, CharTables};
/// use std::sync::Arc;
/// let a = Analyzer::new(Arc::new(CharTables::ascii_std()), AnalyzerKind::Word, (1, 2), true, None).unwrap();
/// assert_eq!(a.analyze("The cat sat"), vec!["the", "cat", "sat", "the cat", "cat sat"]);
/// ```
#[derive(Debug, Clone)]
pub struct Analyzer {
    tables: Arc<CharTables>,
    kind: AnalyzerKind,
    min_n: usize,
    max_n: usize,
    lowercase: bool,
    stop_words: Option<Arc<HashSet<Box<[u8]>>>>,
}

/// Reusable per-thread buffers of an analyzer.
#[derive(Default)]
pub struct Scratch {
    text: String,
    norm: String,
    tokens: Vec<(u32, u32)>,
    bounds: Vec<u32>,
    join: Vec<u8>,
    words: Vec<u8>,
    mask: Vec<u64>,
}

impl Analyzer {
    /// An analyzer; `ngram_range` is `(min_n, max_n)` with `1 <= min_n <= max_n`;
    /// `stop_words` only applies to [`AnalyzerKind::Word`].
    pub fn new(
        tables: Arc<CharTables>,
        kind: AnalyzerKind,
        ngram_range: (usize, usize),
        lowercase: bool,
        stop_words: Option<Vec<String>>,
    ) -> Result<Self> {
        let (min_n, max_n) = ngram_range;
        if min_n == 0 || min_n > max_n {
            return Err(Error::InvalidArgument(format!(
                "ngram_range ({min_n}, {max_n}) must satisfy 1 <= min_n <= max_n"
            )));
        }
        let stop_words = stop_words.map(|v| {
            Arc::new(
                v.into_iter()
                    .map(|s| s.into_bytes().into_boxed_slice())
                    .collect::<HashSet<_>>(),
            )
        });
        Ok(Analyzer {
            tables,
            kind,
            min_n,
            max_n,
            lowercase,
            stop_words,
        })
    }

    /// The analyzer kind.
    pub fn kind(&self) -> AnalyzerKind {
        self.kind
    }

    /// The features of `doc` as strings (convenience for tests and callers
    /// that want them; the kernels use [`Analyzer::for_each`]).
    pub fn analyze(&self, doc: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each(doc, &mut Scratch::default(), |f| {
            out.push(String::from_utf8_lossy(f).into_owned())
        });
        out
    }

    /// Calls `f` with the UTF-8 bytes of every feature of `doc`, in order.
    pub fn for_each(&self, doc: &str, s: &mut Scratch, f: impl FnMut(&[u8])) {
        // A &str is valid UTF-8: the only error of `for_each_bytes` cannot occur.
        let _ = self.for_each_bytes(doc.as_bytes(), s, f);
    }

    /// As [`Analyzer::for_each`] for a document given as bytes, validated as
    /// UTF-8 on the way (word analyzers in the same pass); on invalid UTF-8,
    /// `Err` (some features may have been passed to `f` already).
    pub(crate) fn for_each_bytes(
        &self,
        doc: &[u8],
        s: &mut Scratch,
        mut f: impl FnMut(&[u8]),
    ) -> std::result::Result<(), InvalidUtf8> {
        if self.kind == AnalyzerKind::Word {
            return self.word(doc, s, &mut f);
        }
        let doc = std::str::from_utf8(doc).map_err(|_| InvalidUtf8)?;
        let Scratch {
            text,
            norm,
            bounds,
            join,
            ..
        } = s;
        let doc: &str = if self.lowercase {
            self.tables.lowercase_into(doc, text);
            text
        } else {
            doc
        };
        match self.kind {
            AnalyzerKind::Char => {
                normalize_spaces(&self.tables, doc, norm);
                self.char_ngrams(norm, bounds, &mut f)
            }
            _ => self.char_wb(doc, join, bounds, &mut f),
        }
        Ok(())
    }

    fn word(
        &self,
        doc: &[u8],
        s: &mut Scratch,
        f: &mut impl FnMut(&[u8]),
    ) -> std::result::Result<(), InvalidUtf8> {
        let Scratch {
            text,
            tokens,
            words,
            mask,
            join,
            ..
        } = s;
        let t = &self.tables;
        let simple = if self.lowercase {
            split_words::<true>(t, doc, words, mask, tokens)?
        } else {
            split_words::<false>(t, doc, words, mask, tokens)?
        };
        let b: &[u8] = if !simple {
            // A character whose lowercase changes the tokens (e.g. U+0130) or
            // depends on its context (U+03A3): lowercase the whole document.
            let doc = std::str::from_utf8(doc).map_err(|_| InvalidUtf8)?;
            t.lowercase_into(doc, text);
            split_words::<false>(t, text.as_bytes(), words, mask, tokens)?;
            text.as_bytes()
        } else if self.lowercase {
            &words[..doc.len()]
        } else {
            doc
        };
        if let Some(stop) = &self.stop_words {
            tokens.retain(|&(s, e)| !stop.contains(&b[s as usize..e as usize]));
        }
        let mut min_n = self.min_n;
        if min_n == 1 {
            for &(s, e) in tokens.iter() {
                f(&b[s as usize..e as usize]);
            }
            min_n = 2;
        }
        let n_tok = tokens.len();
        if self.max_n < min_n || n_tok < min_n {
            return Ok(());
        }
        // The tokens joined by single spaces: every n-gram is a slice of it.
        join.clear();
        for tok in tokens.iter_mut() {
            let start = join.len() as u32;
            join.extend_from_slice(&b[tok.0 as usize..tok.1 as usize]);
            *tok = (start, join.len() as u32);
            join.push(b' ');
        }
        for n in min_n..=self.max_n.min(n_tok) {
            for i in 0..=n_tok - n {
                f(&join[tokens[i].0 as usize..tokens[i + n - 1].1 as usize]);
            }
        }
        Ok(())
    }

    fn char_ngrams(&self, text: &str, bounds: &mut Vec<u32>, f: &mut impl FnMut(&[u8])) {
        char_bounds(text.as_bytes(), bounds);
        let b = text.as_bytes();
        let len = bounds.len() - 1;
        let mut min_n = self.min_n;
        if min_n == 1 {
            for i in 0..len {
                f(&b[bounds[i] as usize..bounds[i + 1] as usize]);
            }
            min_n = 2;
        }
        for n in min_n..=self.max_n.min(len) {
            for i in 0..=len - n {
                f(&b[bounds[i] as usize..bounds[i + n] as usize]);
            }
        }
    }

    fn char_wb(
        &self,
        doc: &str,
        word: &mut Vec<u8>,
        bounds: &mut Vec<u32>,
        f: &mut impl FnMut(&[u8]),
    ) {
        for w in split_whitespace(&self.tables, doc) {
            self.wb_word_ngrams(w, word, bounds, f);
        }
    }

    /// `char_wb` only: calls `g` with every word of `doc` (lowercased when the
    /// analyzer lowercases), in order; the document's features are the
    /// [`Analyzer::wb_word_ngrams`] of each, so a caller may remember them per
    /// word. `Err` if `doc` is not UTF-8 (before any call of `g`).
    pub(crate) fn wb_words(
        &self,
        doc: &[u8],
        s: &mut Scratch,
        mut g: impl FnMut(&str),
    ) -> std::result::Result<(), InvalidUtf8> {
        let doc = std::str::from_utf8(doc).map_err(|_| InvalidUtf8)?;
        let doc: &str = if self.lowercase {
            self.tables.lowercase_into(doc, &mut s.text);
            &s.text
        } else {
            doc
        };
        for w in split_whitespace(&self.tables, doc) {
            g(w);
        }
        Ok(())
    }

    /// The `char_wb` n-grams of one word (`w` padded with a space on each
    /// side), in scikit-learn's order; `word` and `bounds` are scratch.
    pub(crate) fn wb_word_ngrams(
        &self,
        w: &str,
        word: &mut Vec<u8>,
        bounds: &mut Vec<u32>,
        f: &mut impl FnMut(&[u8]),
    ) {
        wb_pad(w, word, bounds);
        self.wb_ranges(bounds, |a, b| f(&word[a..b]));
    }

    /// [`Analyzer::wb_word_ngrams`] of the word that [`wb_pad`] put in `word`
    /// (with its `bounds`), as byte ranges of `word`.
    pub(crate) fn wb_ranges(&self, bounds: &[u32], mut f: impl FnMut(usize, usize)) {
        let w_len = bounds.len() - 1;
        for n in self.min_n..=self.max_n {
            let end = |i: usize| bounds[(i + n).min(w_len)] as usize;
            let mut offset = 0;
            f(0, end(0));
            while offset + n < w_len {
                offset += 1;
                f(bounds[offset] as usize, end(offset));
            }
            if offset == 0 {
                break;
            }
        }
    }
}

/// `w` padded with a space on each side into `word`, and the byte offsets of
/// its characters (plus its length) into `bounds`: what `char_wb` slices.
pub(crate) fn wb_pad(w: &str, word: &mut Vec<u8>, bounds: &mut Vec<u32>) {
    word.clear();
    word.push(b' ');
    word.extend_from_slice(w.as_bytes());
    word.push(b' ');
    char_bounds(word, bounds);
}

/// Byte offsets of the characters of the UTF-8 text `s` (its bytes that are
/// not continuation bytes), plus `s.len()` at the end.
fn char_bounds(s: &[u8], bounds: &mut Vec<u32>) {
    bounds.clear();
    if s.is_ascii() {
        bounds.extend(0..=s.len() as u32);
    } else {
        bounds.extend(
            s.iter()
                .enumerate()
                .filter(|&(_, &b)| b & 0xC0 != 0x80)
                .map(|(i, _)| i as u32),
        );
        bounds.push(s.len() as u32);
    }
}

/// The maximal runs of two or more word characters (`(?u)\b\w\w+\b`), as
/// byte ranges: the straightforward tokenizer, a reference for the fused one.
#[cfg(test)]
pub(crate) fn find_tokens(t: &CharTables, doc: &str, out: &mut Vec<(u32, u32)>) {
    let b = doc.as_bytes();
    let cls = &t.byte_class;
    let n = b.len();
    // (is a word character, its byte length) of the character at byte `i`.
    let classify = |i: usize| -> (bool, usize) {
        match cls[b[i] as usize] {
            BYTE_WORD => (true, 1),
            BYTE_OTHER => (false, 1),
            _ => {
                let c = doc[i..].chars().next().unwrap_or('\0');
                (t.is_word(c), c.len_utf8())
            }
        }
    };
    let mut i = 0;
    while i < n {
        // Skip ASCII non-word characters in a tight loop, then classify one character.
        while i < n && cls[b[i] as usize] == BYTE_OTHER {
            i += 1;
        }
        if i >= n {
            break;
        }
        let (is_w, first) = classify(i);
        let start = i;
        i += first;
        if !is_w {
            continue;
        }
        loop {
            while i < n && cls[b[i] as usize] == BYTE_WORD {
                i += 1;
            }
            if i < n && cls[b[i] as usize] == BYTE_MULTI {
                let (is_w, w) = classify(i);
                if is_w {
                    i += w;
                    continue;
                }
            }
            break;
        }
        // Two or more characters: more bytes than the first character's.
        if i - start > first {
            out.push((start as u32, i as u32));
        }
    }
}

/// `re.sub(r"\s\s+", " ", s)`: runs of two or more whitespace characters become one space.
pub(crate) fn normalize_spaces(t: &CharTables, s: &str, out: &mut String) {
    out.clear();
    out.reserve(s.len());
    let mut it = s.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        if t.is_space(c) && it.peek().is_some_and(|&(_, d)| t.is_space(d)) {
            while it.peek().is_some_and(|&(_, d)| t.is_space(d)) {
                it.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
}

/// Python's `str.split()`: the maximal runs of non-whitespace characters.
pub(crate) fn split_whitespace<'a>(t: &'a CharTables, s: &'a str) -> impl Iterator<Item = &'a str> {
    s.split(move |c: char| t.is_space(c))
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an(kind: AnalyzerKind, r: (usize, usize)) -> Analyzer {
        Analyzer::new(Arc::new(CharTables::ascii_std()), kind, r, true, None).unwrap()
    }

    #[test]
    fn word_ngrams_like_sklearn() {
        let a = an(AnalyzerKind::Word, (1, 3));
        assert_eq!(
            a.analyze("A bc, de_f x gh!"),
            vec!["bc", "de_f", "gh", "bc de_f", "de_f gh", "bc de_f gh"]
        );
        assert!(an(AnalyzerKind::Word, (2, 2)).analyze("one").is_empty());
        let s = Analyzer::new(
            Arc::new(CharTables::ascii_std()),
            AnalyzerKind::Word,
            (1, 2),
            true,
            Some(vec!["the".into()]),
        )
        .unwrap();
        assert_eq!(s.analyze("the cat the dog"), vec!["cat", "dog", "cat dog"]);
        assert!(Analyzer::new(
            Arc::new(CharTables::ascii_std()),
            AnalyzerKind::Word,
            (2, 1),
            true,
            None
        )
        .is_err());
    }

    #[test]
    fn char_and_char_wb_like_sklearn() {
        // sklearn: CountVectorizer(analyzer='char', ngram_range=(1, 2)).build_analyzer()("ab  c\n")
        assert_eq!(
            an(AnalyzerKind::Char, (1, 2)).analyze("ab  c\n"),
            vec!["a", "b", " ", "c", "\n", "ab", "b ", " c", "c\n"]
        );
        // CountVectorizer(analyzer='char_wb', ngram_range=(2, 3)).build_analyzer()("ab c")
        assert_eq!(
            an(AnalyzerKind::CharWb, (2, 3)).analyze("ab c"),
            vec![" a", "ab", "b ", " ab", "ab ", " c", "c ", " c "]
        );
        assert_eq!(an(AnalyzerKind::CharWb, (5, 6)).analyze("é"), vec![" é "]);
    }

    #[test]
    fn fused_word_tokens_equal_lowercase_then_split() {
        // Random documents over characters that stress the fused path: ASCII
        // word/non-word, multi-byte word characters, marks, U+001C, NBSP,
        // İ, Σ, the Kelvin sign, a 4-byte character, CJK.
        let alphabet: Vec<char> =
            "aZ_9 -.,\n\u{1c}\u{1f}\u{a0}éÉßİıΣσςΟ\u{301}\u{307}²Ⓐ\u{212a}日本\u{10400}\u{1d400}x"
                .chars()
                .collect();
        let t = Arc::new(CharTables::ascii_std());
        let mut x: u64 = 12345;
        let mut scratch = Scratch::default();
        for d in 0..3000 {
            let len = (d * 7) % 150;
            let doc: String = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(x >> 33) as usize % alphabet.len()]
                })
                .collect();
            for lower in [true, false] {
                for r in [(1, 1), (1, 3), (2, 2)] {
                    let a = Analyzer::new(t.clone(), AnalyzerKind::Word, r, lower, None).unwrap();
                    let text = if lower {
                        t.lowercase(&doc)
                    } else {
                        doc.clone()
                    };
                    let mut toks = Vec::new();
                    find_tokens(&t, &text, &mut toks);
                    let toks: Vec<&str> = toks
                        .iter()
                        .map(|&(s, e)| &text[s as usize..e as usize])
                        .collect();
                    let mut want: Vec<String> = Vec::new();
                    for n in r.0..=r.1 {
                        for w in toks.windows(n) {
                            want.push(w.join(" "));
                        }
                    }
                    let mut got = Vec::new();
                    a.for_each(&doc, &mut scratch, |f| {
                        got.push(String::from_utf8(f.to_vec()).unwrap())
                    });
                    assert_eq!(got, want, "{doc:?} lower={lower} {r:?}");
                }
            }
        }
    }
}
