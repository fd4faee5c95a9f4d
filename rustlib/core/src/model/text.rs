//! Text pipelines: documents to sparse features (a vectorizer of
//! [`crate::text`]) and the steps that scikit-learn applies to sparse rows
//! (tf-idf, row normalization, column scaling), then the final estimator on
//! the sparse rows (a sparse dot for linear models, a sparse gather for the
//! first layer of an MLP).
//!
//! Everything that decides tokens is stored in the file (the character tables
//! of the Python that exported it, the accent-stripping map, stop words, the
//! vocabulary), so a model tokenizes exactly like that Python without one.

use super::heads::Linear;
use super::steps::Norm;
use crate::nn::mlp::Mlp;
use crate::text::{hash_documents, pack, Analyzer, Csr, FittedVocab, Input, Strings};
use crate::Result;

/// What `strip_accents` does, as a per-code-point map of non-ASCII characters.
///
/// scikit-learn's `strip_accents_unicode` (NFKD, then drop combining
/// characters) and `strip_accents_ascii` (NFKD, then drop non-ASCII) work
/// character by character: NFKD only reorders combining characters among
/// themselves, and both functions drop every one of them. So each is a map
/// from a code point to its replacement, computed once by the exporter from
/// its Python's `unicodedata`.
#[derive(Debug, Clone)]
pub(crate) struct CharMap {
    /// `(code point, replacement)`, sorted by code point, non-ASCII only.
    pub map: Vec<(u32, Box<str>)>,
    /// Non-ASCII characters not in `map` are dropped (ascii) or kept (unicode).
    pub drop_unmapped: bool,
}

impl CharMap {
    fn apply(&self, s: &str, out: &mut String) {
        out.clear();
        if s.is_ascii() {
            out.push_str(s);
            return;
        }
        for c in s.chars() {
            if (c as u32) < 128 {
                out.push(c);
                continue;
            }
            match self.map.binary_search_by_key(&(c as u32), |e| e.0) {
                Ok(i) => out.push_str(&self.map[i].1),
                Err(_) if self.drop_unmapped => {}
                Err(_) => out.push(c),
            }
        }
    }
}

/// How documents become columns.
#[derive(Debug, Clone)]
pub(crate) enum Columns {
    /// HashingVectorizer.
    Hashing {
        n_features: u32,
        alternate_sign: bool,
    },
    /// CountVectorizer / TfidfVectorizer: the fitted vocabulary.
    Vocabulary(FittedVocab),
}

/// A fitted vectorizer (before tf-idf and normalization).
#[derive(Debug, Clone)]
pub(crate) struct Vectorizer {
    pub analyzer: Analyzer,
    /// `lowercase=True` together with `strip_accents`: lowercased here with
    /// these tables (scikit-learn lowercases first, then strips accents).
    pub pre: Option<(std::sync::Arc<crate::text::CharTables>, bool, CharMap)>,
    pub columns: Columns,
    pub binary: bool,
    /// `dtype=float32`: values are float32 from here on.
    pub f32: bool,
    pub n_cols: usize,
}

/// A step on sparse rows.
#[derive(Debug, Clone)]
pub(crate) enum SparseStep {
    /// TfidfTransformer: `log(v) + 1` when sublinear, times `idf[col]`.
    Tfidf {
        sublinear: bool,
        idf: Option<Vec<f64>>,
    },
    /// `sklearn.preprocessing.normalize` of a CSR matrix.
    Normalize(Norm),
    /// MaxAbsScaler / StandardScaler(with_mean=False): `v *= (1 / scale)[col]`.
    Scale(Vec<f64>),
}

/// Sparse rows while a text pipeline runs: float64 values (rounded to float32
/// after every operation when the vectorizer's dtype is float32).
#[derive(Debug, Clone)]
pub(crate) struct SparseWork {
    pub n_rows: usize,
    pub n_cols: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub data: Vec<f64>,
    pub f32: bool,
}

impl SparseWork {
    fn row(&self, r: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// The rows as a dense row-major `n_rows × n_cols` matrix.
    pub fn to_dense(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_rows * self.n_cols];
        for r in 0..self.n_rows {
            let (idx, val) = self.row(r);
            let o = &mut out[r * self.n_cols..(r + 1) * self.n_cols];
            for (&j, &v) in idx.iter().zip(val) {
                o[j as usize] = v;
            }
        }
        out
    }

    /// The rows as a [`Csr`].
    pub fn into_csr(self) -> Csr<f64> {
        Csr {
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            indptr: self.indptr.iter().map(|&p| p as u64).collect(),
            indices: self.indices,
            data: self.data,
        }
    }
}

impl Vectorizer {
    /// The document-term matrix of `docs` (scikit-learn's vectorizer
    /// `transform` before tf-idf): counts or hashed sums, `binary` applied,
    /// in the vectorizer's dtype.
    pub fn transform(&self, docs: &Strings<'_>) -> Result<SparseWork> {
        let pre_buf;
        let input = match &self.pre {
            None => Input::Text(*docs),
            Some((tables, lowercase, map)) => {
                let mut all: Vec<String> = Vec::with_capacity(docs.len());
                let (mut low, mut out) = (String::new(), String::new());
                for i in 0..docs.len() {
                    let d = docs.get_str(i)?;
                    let d = if *lowercase {
                        tables.lowercase_into(d, &mut low);
                        &low[..]
                    } else {
                        d
                    };
                    map.apply(d, &mut out);
                    all.push(out.clone());
                }
                let refs: Vec<&str> = all.iter().map(|s| &s[..]).collect();
                pre_buf = pack(&refs);
                Input::Text(Strings::new(&pre_buf.0, &pre_buf.1)?)
            }
        };
        let m: Csr<i32> = match &self.columns {
            Columns::Hashing {
                n_features,
                alternate_sign,
            } => hash_documents(&input, Some(&self.analyzer), *n_features, *alternate_sign)?,
            Columns::Vocabulary(v) => v.transform(&input, Some(&self.analyzer))?,
        };
        let f32 = self.f32;
        let data = m
            .data
            .iter()
            .map(|&v| {
                let v = if self.binary { 1.0 } else { v as f64 };
                if f32 {
                    v as f32 as f64
                } else {
                    v
                }
            })
            .collect();
        Ok(SparseWork {
            n_rows: m.n_rows,
            n_cols: self.n_cols,
            indptr: m.indptr.iter().map(|&p| p as usize).collect(),
            indices: m.indices,
            data,
            f32,
        })
    }
}

impl SparseStep {
    /// Applies the step in place, as scikit-learn does on a CSR matrix.
    pub fn apply(&self, w: &mut SparseWork) {
        let f32 = w.f32;
        let r = |v: f64| if f32 { v as f32 as f64 } else { v };
        match self {
            SparseStep::Tfidf { sublinear, idf } => {
                if *sublinear {
                    for v in w.data.iter_mut() {
                        // np.log(X.data, X.data); X.data += 1.0 (in X's dtype).
                        let l = if f32 { (*v as f32).ln() as f64 } else { v.ln() };
                        *v = r(l + 1.0);
                    }
                }
                if let Some(idf) = idf {
                    for (v, &j) in w.data.iter_mut().zip(&w.indices) {
                        *v = r(*v * idf[j as usize]);
                    }
                }
            }
            SparseStep::Scale(inv) => {
                for (v, &j) in w.data.iter_mut().zip(&w.indices) {
                    *v = r(*v * inv[j as usize]);
                }
            }
            SparseStep::Normalize(norm) => {
                for i in 0..w.n_rows {
                    let (a, b) = (w.indptr[i], w.indptr[i + 1]);
                    let row = &mut w.data[a..b];
                    // scikit-learn's inplace_csr_row_normalize_l1/l2 (a double
                    // accumulator; for float32 data the squares are float32)
                    // and, for max, X.data /= max(|row|) in X's dtype.
                    let s = match norm {
                        Norm::L1 => row.iter().fold(0.0f64, |s, v| s + v.abs()),
                        Norm::L2 => {
                            let s = row.iter().fold(0.0f64, |s, &v| s + r(v * v));
                            s.sqrt()
                        }
                        Norm::Max => row.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                    };
                    if s == 0.0 {
                        continue;
                    }
                    for v in row.iter_mut() {
                        *v = r(*v / s);
                    }
                }
            }
        }
    }
}

impl Linear {
    /// `X · coefᵀ + intercept` for sparse rows: per row and output, the
    /// products summed in the row's stored order from 0, then the intercept
    /// added (scipy's `csr_matvecs`, which scikit-learn's `safe_sparse_dot` runs).
    pub(crate) fn decision_sparse(&self, w: &SparseWork, out: &mut [f64]) {
        let (n_in, n_dec) = (self.n_in, self.n_dec);
        for (r, o) in out.chunks_exact_mut(n_dec).enumerate().take(w.n_rows) {
            let (idx, val) = w.row(r);
            for (j, oj) in o.iter_mut().enumerate() {
                let c = &self.coef[j * n_in..(j + 1) * n_in];
                if self.f32_weights && w.f32 {
                    let mut s = 0.0f32;
                    for (&k, &v) in idx.iter().zip(val) {
                        s += v as f32 * c[k as usize] as f32;
                    }
                    *oj = (s + self.intercept[j] as f32) as f64;
                    continue;
                }
                let mut s = 0.0f64;
                for (&k, &v) in idx.iter().zip(val) {
                    s += v * c[k as usize];
                }
                *oj = s + self.intercept[j];
            }
        }
    }
}

/// An MLP on sparse rows: the first layer as a sparse gather of weight rows,
/// the rest of the network (`tail`) on the dense hidden activations.
#[derive(Debug, Clone)]
pub(crate) struct SparseMlp {
    /// `n_in × n_hidden`, row-major (scikit-learn's `coefs_[0]`).
    pub coef: Vec<f64>,
    pub intercept: Vec<f64>,
    pub hidden: crate::nn::Activation,
    pub tail: Mlp<f64>,
}

impl SparseMlp {
    /// Splits `m` (at least one hidden layer) at its first layer.
    pub fn new(m: &Mlp<f64>) -> std::result::Result<SparseMlp, String> {
        let sizes = m.sizes();
        if sizes.len() < 3 {
            return Err("an MLP on text input needs at least one hidden layer".into());
        }
        let layers = m.layers();
        let tail = Mlp::new(
            sizes[1..].to_vec(),
            layers[1..].to_vec(),
            m.hidden(),
            m.output(),
            m.task(),
            m.labels().clone(),
        )
        .map_err(|e| e.to_string())?;
        Ok(SparseMlp {
            coef: layers[0].coef.clone(),
            intercept: layers[0].intercept.clone(),
            hidden: m.hidden(),
            tail,
        })
    }

    /// The first hidden layer's activations, `n_rows × n_hidden` (scipy's
    /// `csr_matvecs` order: each stored entry's weight row added in turn).
    pub fn hidden(&self, w: &SparseWork) -> Result<Vec<f64>> {
        let nh = self.intercept.len();
        let mut h = vec![0.0f64; w.n_rows * nh];
        for (r, o) in h.chunks_exact_mut(nh).enumerate() {
            let (idx, val) = w.row(r);
            for (&k, &v) in idx.iter().zip(val) {
                let row = &self.coef[k as usize * nh..(k as usize + 1) * nh];
                for (oj, &c) in o.iter_mut().zip(row) {
                    *oj += v * c;
                }
            }
            for (oj, &b) in o.iter_mut().zip(&self.intercept) {
                *oj += b;
            }
        }
        crate::nn::activation_inplace(self.hidden, &mut h)?;
        Ok(h)
    }
}

/// The text half of a model: vectorizer, sparse steps, the MLP's sparse form.
#[derive(Debug, Clone)]
pub(crate) struct TextPipe {
    pub vectorizer: Vectorizer,
    pub steps: Vec<SparseStep>,
    pub mlp: Option<SparseMlp>,
}

impl TextPipe {
    /// The documents through the vectorizer and every sparse step.
    pub fn run(&self, docs: &Strings<'_>) -> Result<SparseWork> {
        let mut w = self.vectorizer.transform(docs)?;
        for s in &self.steps {
            s.apply(&mut w);
        }
        Ok(w)
    }
}
