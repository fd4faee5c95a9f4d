//! Writing a loaded model back to a file image ([`Model::to_bytes`]).
//!
//! A model keeps the skeleton of the file it was loaded from: every block
//! and field in file order with its small values, and for the large arrays
//! of the final estimator (linear `coef`/`intercept`, MLP `coef<i>` /
//! `intercept<i>`, k-NN `fit_x`/`y`) only their type code, since the
//! estimator owns those arrays. Writing fetches them back from the
//! estimator, converted back to the stored type (every conversion the loader
//! made is exact), so the image is byte-identical to the loaded file and the
//! model does not hold its file a second time.

use super::format::{image_len, write_refs, write_refs_into, Block, BlockRef, ValRef, Value};
use super::heads::{Head, KnnData, KnnTarget};
use super::{kind, Model};
use crate::{Error, Result};

/// A field of the skeleton.
#[derive(Debug, Clone)]
pub(crate) enum Saved {
    /// Kept as loaded.
    Kept(Value),
    /// Owned by the final estimator; the type code it was stored with.
    Taken(u8),
}

/// What a model was loaded from, to write it back.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A model file: header version and blocks.
    Model {
        version: u32,
        blocks: Vec<(u32, Vec<(String, Saved)>)>,
    },
    /// A file of the MLP format (small; kept as loaded).
    MlpFile(Vec<u8>),
}

/// Whether field `name` of a block of `kind` is held by the estimator only.
fn taken(k: u32, name: &str) -> bool {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
    };
    match k {
        kind::LINEAR_REGRESSOR | kind::LINEAR_CLASSIFIER => matches!(name, "coef" | "intercept"),
        kind::MLP => numbered("coef") || numbered("intercept"),
        kind::KNN_CLASSIFIER | kind::KNN_REGRESSOR | kind::NEAREST_NEIGHBORS => {
            matches!(name, "fit_x" | "y")
        }
        _ => false,
    }
}

/// The skeleton of `blocks` (call before they are consumed by the build).
pub(crate) fn skeleton(version: u32, blocks: &[Block]) -> Source {
    Source::Model {
        version,
        blocks: blocks
            .iter()
            .map(|b| {
                let fields = b
                    .fields
                    .iter()
                    .map(|f| {
                        let s = if taken(b.kind, &f.name) {
                            Saved::Taken(f.value.code())
                        } else {
                            Saved::Kept(f.value.clone())
                        };
                        (f.name.clone(), s)
                    })
                    .collect();
                (b.kind, fields)
            })
            .collect(),
    }
}

fn floats(v: &[f64], code: u8) -> ValRef<'_> {
    if code == 2 {
        ValRef::F64AsF32(v)
    } else {
        ValRef::F64(v)
    }
}

impl Model {
    /// An array the final estimator owns, in the type it was stored with.
    fn held(&self, name: &str, code: u8) -> Option<ValRef<'_>> {
        match (&self.head, name) {
            (Head::Linear(l), "coef") => Some(floats(&l.coef, code)),
            (Head::Linear(l), "intercept") => Some(floats(&l.intercept, code)),
            (Head::Mlp(m, _), _) => {
                let (layer, coef) = match name.strip_prefix("coef") {
                    Some(d) => (d, true),
                    None => (name.strip_prefix("intercept")?, false),
                };
                let d = m.layers().get(layer.parse::<usize>().ok()?)?;
                Some(floats(if coef { &d.coef } else { &d.intercept }, code))
            }
            (Head::Knn(k), "fit_x") => Some(match &k.data {
                KnnData::F32(v) => ValRef::F32(v),
                KnnData::F64(v) => ValRef::F64(v),
            }),
            (Head::Knn(k), "y") => match &k.target {
                KnnTarget::Classes { y, .. } => Some(ValRef::UsizeAsI64(y)),
                KnnTarget::Values { y, .. } => Some(floats(y, code)),
                KnnTarget::None => None,
            },
            _ => None,
        }
    }

    /// The model as a file image: byte-identical to the file it was loaded
    /// from (which loads to the same predictions), without the model having
    /// kept that file. Errors: `InvalidState` if an array the skeleton
    /// refers to is missing (a bug; never expected).
    ///
    /// ```
    /// use ferrokit_core::model::format::{write, Block, Value};
    /// use ferrokit_core::model::{kind, Model};
    /// let bytes = write(&[
    ///     Block::new(kind::META)
    ///         .with("input", Value::I64(vec![0]))
    ///         .with("n_features", Value::I64(vec![1])),
    ///     Block::new(kind::LINEAR_REGRESSOR)
    ///         .with("n_features", Value::I64(vec![1]))
    ///         .with("n_outputs", Value::I64(vec![1]))
    ///         .with("coef", Value::F32(vec![0.25]))
    ///         .with("intercept", Value::F64(vec![1.0])),
    /// ]);
    /// assert_eq!(Model::from_bytes(&bytes).unwrap().to_bytes().unwrap(), bytes);
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(match &self.source {
            Source::MlpFile(b) => b.clone(),
            Source::Model { version, .. } => write_refs(*version, &self.refs()?),
        })
    }

    /// Writes [`Model::to_bytes`]'s image into `out`, which must hold
    /// exactly [`Model::saved_len`] bytes (no intermediate copy). Errors:
    /// `LengthMismatch` for another size, `InvalidState` as `to_bytes`.
    pub fn save_into(&self, out: &mut [u8]) -> Result<()> {
        let need = self.saved_len()?;
        if out.len() != need {
            return Err(Error::LengthMismatch(format!(
                "model_save_bytes: buffer of {} bytes, the image has {need}",
                out.len()
            )));
        }
        match &self.source {
            Source::MlpFile(b) => out.copy_from_slice(b),
            Source::Model { version, .. } => write_refs_into(*version, &self.refs()?, out),
        }
        Ok(())
    }

    /// The length of [`Model::to_bytes`]'s image, without writing it.
    pub fn saved_len(&self) -> Result<usize> {
        Ok(match &self.source {
            Source::MlpFile(b) => b.len(),
            Source::Model { .. } => image_len(&self.refs()?),
        })
    }

    fn refs(&self) -> Result<Vec<BlockRef<'_>>> {
        let Source::Model { blocks, .. } = &self.source else {
            return Ok(Vec::new());
        };
        let mut refs: Vec<BlockRef<'_>> = Vec::with_capacity(blocks.len());
        for (k, fields) in blocks {
            let mut out = Vec::with_capacity(fields.len());
            for (name, s) in fields {
                let v = match s {
                    Saved::Kept(v) => v.as_ref(),
                    Saved::Taken(code) => self.held(name, *code).ok_or_else(|| {
                        Error::InvalidState(format!(
                            "model_save_bytes: the estimator does not hold field {name:?}"
                        ))
                    })?,
                };
                out.push((&name[..], v));
            }
            refs.push((*k, out));
        }
        Ok(refs)
    }
}
