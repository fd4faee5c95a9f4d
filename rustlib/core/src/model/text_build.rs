//! The blocks of a text pipeline (`text_vectorizer`, `tfidf`, and the scalers
//! and normalizer applied to sparse rows), validated like every other block:
//! anything inconsistent is an `InvalidFormat` error naming the block.

use super::build::{kind, step, Fields};
use super::format::{Block, Value};
use super::steps::Step;
use super::text::{CharMap, Columns, SparseStep, Vectorizer};
use crate::nn::mlp::MAX_WIDTH;
use crate::text::{Analyzer, AnalyzerKind, CharTables, FittedVocab, Strings};
use crate::Result;
use std::sync::Arc;

const MAX_CP: i64 = 0x10_FFFF;

/// Inclusive code point ranges stored flat (`[a0, b0, a1, b1, …]`), strictly
/// increasing and disjoint (so building the bitmap costs at most one pass
/// over the code points, whatever the file says).
fn ranges(f: &mut Fields, name: &str) -> Result<Vec<(u32, u32)>> {
    let v = f.ints(name)?;
    if v.len() % 2 != 0 {
        return Err(f.err(format!("{name} has {} values, expected pairs", v.len())));
    }
    let mut out = Vec::with_capacity(v.len() / 2);
    let mut prev = -1i64;
    for p in v.chunks_exact(2) {
        let (a, b) = (p[0], p[1]);
        if a <= prev || b < a || b > MAX_CP {
            return Err(f.err(format!(
                "{name}: range [{a}, {b}] is not increasing, disjoint and within 0..=0x10FFFF"
            )));
        }
        prev = b;
        out.push((a as u32, b as u32));
    }
    Ok(out)
}

/// Code points (strictly increasing, non-ASCII when `non_ascii`) and their strings.
fn char_map(f: &mut Fields, cps: &str, to: &str, non_ascii: bool) -> Result<Vec<(u32, String)>> {
    let c = f.ints(cps)?;
    let s = match f.need(to)? {
        Value::StrList(s) => s,
        v => return Err(f.err(format!("{to} is {}, expected a string list", v.type_name()))),
    };
    if c.len() != s.len() {
        return Err(f.err(format!(
            "{cps} has {} code points but {to} {} strings",
            c.len(),
            s.len()
        )));
    }
    let lo = if non_ascii { 128 } else { 0 };
    let mut prev = -1i64;
    for &cp in &c {
        let ok = cp > prev && (lo..=MAX_CP).contains(&cp) && char::from_u32(cp as u32).is_some();
        if !ok {
            return Err(f.err(format!(
                "{cps}: code point {cp} is not an increasing valid character"
            )));
        }
        prev = cp;
    }
    Ok(c.into_iter().map(|v| v as u32).zip(s).collect())
}

fn flag(f: &mut Fields, name: &str) -> Result<bool> {
    Ok(f.int(name, 0, 1)? == 1)
}

/// A `text_vectorizer` block (the first step of a text model).
pub(super) fn vectorizer(b: Block, i: usize) -> Result<(String, Vectorizer)> {
    let mut f = Fields::new(b, i);
    let who = f.who.clone();
    let kind_ = match f.int("analyzer", 0, 2)? {
        0 => AnalyzerKind::Word,
        1 => AnalyzerKind::Char,
        _ => AnalyzerKind::CharWb,
    };
    let ng = f.ints("ngram_range")?;
    let (lo, hi) = match ng[..] {
        [a, b] if 1 <= a && a <= b && b <= 1024 => (a as usize, b as usize),
        _ => {
            return Err(f.err(format!(
                "ngram_range {ng:?}, expected [lo, hi] with 1 <= lo <= hi <= 1024"
            )))
        }
    };
    let lowercase = flag(&mut f, "lowercase")?;
    let strip = f.int("strip_accents", 0, 2)?;
    let stop_words = match f.get("stop_words") {
        None => None,
        Some(Value::StrList(v)) => Some(v),
        Some(v) => {
            return Err(f.err(format!(
                "stop_words is {}, expected a string list",
                v.type_name()
            )))
        }
    };
    let binary = flag(&mut f, "binary")?;
    let f32 = match f.int("dtype", 1, 4)? {
        2 => true,
        _ => false, // float64, int64, int32: exact integers / float64 from here on
    };
    let n_cols = f.size("n_features", i32::MAX as usize)?;
    let word = ranges(&mut f, "word")?;
    let space = ranges(&mut f, "space")?;
    let ignorable = ranges(&mut f, "case_ignorable")?;
    let cased = ranges(&mut f, "cased")?;
    let lower = char_map(&mut f, "lower_cp", "lower_to", false)?;
    let tables = Arc::new(CharTables::from_parts(
        &word, &space, &ignorable, &cased, &lower,
    ));
    let pre = if strip == 0 {
        None
    } else {
        let map = char_map(&mut f, "accent_cp", "accent_to", true)?
            .into_iter()
            .map(|(c, s)| (c, s.into_boxed_str()))
            .collect();
        Some((
            tables.clone(),
            lowercase,
            CharMap {
                map,
                drop_unmapped: strip == 1,
            },
        ))
    };
    let analyzer = Analyzer::new(
        tables,
        kind_,
        (lo, hi),
        lowercase && pre.is_none(),
        stop_words,
    )
    .map_err(|e| f.err(e.to_string()))?;
    let columns = match f.get("vocabulary") {
        Some(Value::StrList(terms)) => {
            if terms.len() != n_cols {
                return Err(f.err(format!(
                    "vocabulary has {} terms, expected n_features = {n_cols}",
                    terms.len()
                )));
            }
            let refs: Vec<&str> = terms.iter().map(|s| &s[..]).collect();
            let (buf, off) = crate::text::pack(&refs);
            let ids: Vec<u32> = (0..n_cols as u32).collect();
            let v = FittedVocab::from_terms(&Strings::new(&buf, &off)?, &ids, n_cols)
                .map_err(|e| f.err(format!("vocabulary: {e}")))?;
            Columns::Vocabulary(v)
        }
        Some(v) => {
            return Err(f.err(format!(
                "vocabulary is {}, expected a string list",
                v.type_name()
            )))
        }
        None => Columns::Hashing {
            n_features: n_cols as u32,
            alternate_sign: flag(&mut f, "alternate_sign")?,
        },
    };
    f.finish()?;
    Ok((
        who,
        Vectorizer {
            analyzer,
            pre,
            columns,
            binary,
            f32,
            n_cols,
        },
    ))
}

/// A step after the vectorizer: `tfidf`, or a normalizer / column scaler as
/// scikit-learn applies it to a sparse matrix. Centering, min-max scaling,
/// clipping and imputing are refused (scikit-learn refuses them on sparse
/// input too).
pub(super) fn sparse_step(b: Block, i: usize, width: usize) -> Result<(String, SparseStep)> {
    if b.kind == kind::TFIDF {
        let mut f = Fields::new(b, i);
        let who = f.who.clone();
        let n = f.size("n_features", i32::MAX as usize)?;
        if n != width {
            return Err(f.err(format!("takes {n} columns but receives {width}")));
        }
        let sublinear = flag(&mut f, "sublinear_tf")?;
        let idf = match f.has("idf") {
            true => Some(f.floats("idf", Some(n))?),
            false => None,
        };
        f.finish()?;
        return Ok((who, SparseStep::Tfidf { sublinear, idf }));
    }
    if b.kind == kind::TEXT_VECTORIZER {
        return Err(super::format::bad(format!(
            "block {i}: a second text_vectorizer"
        )));
    }
    if width > MAX_WIDTH {
        return Err(super::format::bad(format!(
            "block {i}: {width} columns, at most {MAX_WIDTH} can be scaled or normalized"
        )));
    }
    let (who, st) = step(b, i, width)?;
    let s = match st {
        Step::Normalize { norm, .. } => SparseStep::Normalize(norm),
        Step::Affine {
            sub: None,
            div: Some(d),
            mul: None,
            add: None,
            clip: None,
            ..
        } => SparseStep::Scale(d.iter().map(|&v| 1.0 / v).collect()),
        Step::Affine {
            sub: None,
            div: None,
            mul: None,
            add: None,
            clip: None,
            ..
        } => SparseStep::Scale(vec![1.0; width]),
        _ => {
            return Err(super::format::bad(format!(
                "{who}: only tfidf, normalizer, maxabs_scaler and standard_scaler without \
                 mean or clipping apply to the sparse rows of a text model"
            )))
        }
    };
    Ok((who, s))
}
