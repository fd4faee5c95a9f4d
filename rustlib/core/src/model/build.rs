//! From the blocks of a file to a validated [`Model`](super::Model): what each
//! block kind means, which fields it must have, and the consistency rules
//! (widths chain from the input to the final estimator, label counts match).
//! Anything unknown or inconsistent is an `InvalidFormat` error: a model that
//! would predict differently from what was saved is never built.

use super::format::{bad, Block, Value};
use super::heads::{Head, Knn, KnnData, KnnTarget, KnnWeights, Linear, ProbaRule};
use super::steps::{Norm, Step};
use super::text::{SparseMlp, TextPipe};
use super::text_build;
use super::{InputKind, Model, ModelInfo, ModelTask};
use crate::neighbors::Metric;
use crate::nn::mlp::{Dense, Labels, Mlp, Task, MAX_WIDTH};
use crate::nn::Activation;
use crate::Result;

/// Block kind codes (docs/model_format.md).
pub mod kind {
    pub const META: u32 = 0;
    pub const STANDARD_SCALER: u32 = 1;
    pub const MINMAX_SCALER: u32 = 2;
    pub const MAXABS_SCALER: u32 = 3;
    pub const NORMALIZER: u32 = 4;
    pub const SIMPLE_IMPUTER: u32 = 5;
    pub const TEXT_VECTORIZER: u32 = 6;
    pub const TFIDF: u32 = 7;
    pub const LINEAR_REGRESSOR: u32 = 16;
    pub const LINEAR_CLASSIFIER: u32 = 17;
    pub const MLP: u32 = 18;
    pub const KNN_CLASSIFIER: u32 = 19;
    pub const KNN_REGRESSOR: u32 = 20;
    pub const NEAREST_NEIGHBORS: u32 = 21;
}

/// The name of a block kind in messages.
pub fn kind_name(k: u32) -> &'static str {
    match k {
        kind::META => "meta",
        kind::STANDARD_SCALER => "standard_scaler",
        kind::MINMAX_SCALER => "minmax_scaler",
        kind::MAXABS_SCALER => "maxabs_scaler",
        kind::NORMALIZER => "normalizer",
        kind::SIMPLE_IMPUTER => "simple_imputer",
        kind::TEXT_VECTORIZER => "text_vectorizer",
        kind::TFIDF => "tfidf",
        kind::LINEAR_REGRESSOR => "linear_regressor",
        kind::LINEAR_CLASSIFIER => "linear_classifier",
        kind::MLP => "mlp",
        kind::KNN_CLASSIFIER => "knn_classifier",
        kind::KNN_REGRESSOR => "knn_regressor",
        kind::NEAREST_NEIGHBORS => "nearest_neighbors",
        _ => "unknown",
    }
}

/// Field access with errors naming the block. Values are moved out of the
/// block (no copy of large arrays); `finish` rejects fields nobody read.
pub(super) struct Fields {
    pub(super) kind: u32,
    pub(super) who: String,
    fields: Vec<(String, Option<Value>)>,
}

impl Fields {
    pub(super) fn new(block: Block, index: usize) -> Fields {
        let name = block
            .fields
            .iter()
            .find_map(|f| match (&f.name[..], &f.value) {
                ("name", Value::Str(s)) => Some(s.clone()),
                _ => None,
            });
        let who = match name {
            Some(n) => format!("block {index} ({} {n:?})", kind_name(block.kind)),
            None => format!("block {index} ({})", kind_name(block.kind)),
        };
        Fields {
            kind: block.kind,
            who,
            fields: block
                .fields
                .into_iter()
                .map(|f| (f.name, Some(f.value)))
                .collect(),
        }
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, v)| n == name && v.is_some())
    }

    /// Moves the value of field `name` out (None if absent or already taken).
    pub(super) fn get(&mut self, name: &str) -> Option<Value> {
        self.fields
            .iter_mut()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.take())
    }

    pub(super) fn err(&self, msg: String) -> crate::Error {
        bad(format!("{}: {msg}", self.who))
    }

    pub(super) fn need(&mut self, name: &str) -> Result<Value> {
        self.get(name)
            .ok_or_else(|| self.err(format!("field {name:?} is missing")))
    }

    pub(super) fn opt_floats(&mut self, name: &str) -> Result<Option<Vec<f64>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::F64(v)) => Ok(Some(v)),
            Some(Value::F32(v)) => Ok(Some(v.iter().map(|&x| x as f64).collect())),
            Some(v) => Err(self.err(format!(
                "field {name:?} is {}, expected float64 or float32",
                v.type_name()
            ))),
        }
    }

    pub(super) fn floats(&mut self, name: &str, len: Option<usize>) -> Result<Vec<f64>> {
        let v = self
            .opt_floats(name)?
            .ok_or_else(|| self.err(format!("field {name:?} is missing")))?;
        if let Some(n) = len {
            if v.len() != n {
                return Err(self.err(format!(
                    "field {name:?} has {} values, expected {n}",
                    v.len()
                )));
            }
        }
        Ok(v)
    }

    pub(super) fn ints(&mut self, name: &str) -> Result<Vec<i64>> {
        match self.need(name)? {
            Value::I64(v) => Ok(v),
            v => Err(self.err(format!(
                "field {name:?} is {}, expected int64",
                v.type_name()
            ))),
        }
    }

    pub(super) fn int(&mut self, name: &str, lo: i64, hi: i64) -> Result<i64> {
        let v = self.ints(name)?;
        match v[..] {
            [x] if (lo..=hi).contains(&x) => Ok(x),
            [x] => Err(self.err(format!("field {name:?} is {x}, expected {lo}..={hi}"))),
            _ => Err(self.err(format!("field {name:?} has {} values, expected 1", v.len()))),
        }
    }

    pub(super) fn opt_int(&mut self, name: &str, lo: i64, hi: i64) -> Result<Option<i64>> {
        if self.has(name) {
            self.int(name, lo, hi).map(Some)
        } else {
            Ok(None)
        }
    }

    pub(super) fn size(&mut self, name: &str, max: usize) -> Result<usize> {
        Ok(self.int(name, 1, max as i64)? as usize)
    }

    /// `classes` (+ `classes_kind`): the labels of a classifier.
    pub(super) fn labels(&mut self) -> Result<Labels> {
        let k = self.int("classes_kind", 1, 4)?;
        let v = self.need("classes")?;
        let labels = match (k, v) {
            (1, Value::I64(v)) => Labels::Int(v),
            (2, Value::F64(v)) => Labels::Float(v),
            (3, Value::StrList(v)) => Labels::Text(v),
            (4, Value::I64(v)) => Labels::Bool(
                v.iter()
                    .map(|&b| match b {
                        0 => Ok(false),
                        1 => Ok(true),
                        o => Err(self.err(format!("boolean class {o}, expected 0 or 1"))),
                    })
                    .collect::<Result<_>>()?,
            ),
            (k, v) => {
                return Err(self.err(format!(
                    "classes_kind {k} does not match a {} field \"classes\"",
                    v.type_name()
                )))
            }
        };
        if labels.len() < 2 {
            return Err(self.err(format!("{} classes, expected at least 2", labels.len())));
        }
        Ok(labels)
    }

    pub(super) fn finish(self) -> Result<()> {
        for (name, v) in &self.fields {
            if v.is_some() && name != "name" && name != "estimator" {
                return Err(self.err(format!(
                    "unknown field {name:?} (written by a newer ferrokit?)"
                )));
            }
        }
        Ok(())
    }
}

pub(super) fn step(b: Block, i: usize, width: usize) -> Result<(String, Step)> {
    let mut f = Fields::new(b, i);
    let who = f.who.clone();
    let st = match f.kind {
        kind::STANDARD_SCALER => {
            let n = f.size("n_features", MAX_WIDTH)?;
            Step::Affine {
                n,
                sub: f.opt_floats("mean")?,
                div: f.opt_floats("scale")?,
                mul: None,
                add: None,
                clip: None,
                cast: true,
            }
        }
        kind::MINMAX_SCALER => {
            let n = f.size("n_features", MAX_WIDTH)?;
            let mul = Some(f.floats("scale", Some(n))?);
            let add = Some(f.floats("min", Some(n))?);
            let clip = match f.opt_floats("clip")? {
                None => None,
                Some(c) if c.len() == 2 && c[0] <= c[1] => Some((c[0], c[1])),
                Some(c) => return Err(f.err(format!("clip is {c:?}, expected [lo, hi]"))),
            };
            Step::Affine {
                n,
                sub: None,
                div: None,
                mul,
                add,
                clip,
                cast: f.opt_int("cast_params", 0, 1)? == Some(1),
            }
        }
        kind::MAXABS_SCALER => {
            let n = f.size("n_features", MAX_WIDTH)?;
            let div = Some(f.floats("scale", Some(n))?);
            let clip = f.opt_int("clip", 0, 1)? == Some(1);
            Step::Affine {
                n,
                sub: None,
                div,
                mul: None,
                add: None,
                clip: clip.then_some((-1.0, 1.0)),
                cast: f.opt_int("cast_params", 0, 1)? == Some(1),
            }
        }
        kind::NORMALIZER => {
            let n = f.size("n_features", MAX_WIDTH)?;
            let norm = match f.int("norm", 1, 3)? {
                1 => Norm::L1,
                2 => Norm::L2,
                _ => Norm::Max,
            };
            Step::Normalize { n, norm }
        }
        kind::SIMPLE_IMPUTER => {
            let n = f.size("n_features", MAX_WIDTH)?;
            let stats = f.floats("statistics", Some(n))?;
            let missing = f.floats("missing_values", Some(1))?[0];
            if missing.is_infinite() {
                return Err(f.err("missing_values is infinite".into()));
            }
            let keep = match f.get("keep") {
                None => (0..n).collect(),
                Some(Value::I64(k)) => {
                    let ok = !k.is_empty()
                        && k.iter().all(|&j| (0..n as i64).contains(&j))
                        && k.windows(2).all(|w| w[0] < w[1]);
                    if !ok {
                        return Err(f.err(
                            "keep must list increasing column indices below n_features".into(),
                        ));
                    }
                    k.iter().map(|&j| j as usize).collect()
                }
                Some(v) => return Err(f.err(format!("keep is {}, expected int64", v.type_name()))),
            };
            Step::Impute {
                stats,
                missing,
                keep,
            }
        }
        k => {
            return Err(bad(format!(
                "block {i}: kind {k} ({}) is not a preprocessing step this ferrokit knows",
                kind_name(k)
            )))
        }
    };
    if let Step::Affine {
        n,
        sub,
        div,
        mul,
        add,
        ..
    } = &st
    {
        for (name, v) in [
            ("mean/min", sub),
            ("scale", div),
            ("scale", mul),
            ("min", add),
        ] {
            if let Some(v) = v {
                if v.len() != *n {
                    return Err(f.err(format!(
                        "{name} has {} values, expected n_features = {n}",
                        v.len()
                    )));
                }
            }
        }
    }
    if st.n_in() != width {
        return Err(f.err(format!("takes {} columns but receives {width}", st.n_in())));
    }
    f.finish()?;
    Ok((who, st))
}

fn activation(f: &Fields, code: i64, hidden: bool) -> Result<Activation> {
    let a = i32::try_from(code)
        .ok()
        .and_then(Activation::from_code)
        .filter(|a| {
            if hidden {
                *a != Activation::Softmax
            } else {
                matches!(
                    a,
                    Activation::Identity | Activation::Sigmoid | Activation::Softmax
                )
            }
        });
    a.ok_or_else(|| f.err(format!("activation code {code} is not allowed here")))
}

type HeadOut = (String, Head, Labels, bool);

fn head(b: Block, i: usize, width: usize) -> Result<HeadOut> {
    let mut f = Fields::new(b, i);
    let who = f.who.clone();
    let (h, labels, ravel) = match f.kind {
        kind::LINEAR_REGRESSOR | kind::LINEAR_CLASSIFIER => {
            let n_in = f.size("n_features", MAX_WIDTH)?;
            let n_dec = f.size("n_outputs", MAX_WIDTH)?;
            let f32_weights = matches!(
                f.fields.iter().find(|(n, _)| n == "coef"),
                Some((_, Some(Value::F32(_))))
            );
            let coef = f.floats(
                "coef",
                Some(
                    n_in.checked_mul(n_dec)
                        .ok_or_else(|| f.err("size overflows".into()))?,
                ),
            )?;
            let intercept = f.floats("intercept", Some(n_dec))?;
            let (proba, last_argmax) = if f.kind == kind::LINEAR_CLASSIFIER {
                let p = f.int("proba", 0, 4)?;
                let labels = f.labels()?;
                let want = if n_dec == 1 { 2 } else { n_dec };
                if labels.len() != want {
                    return Err(f.err(format!(
                        "{} classes for {n_dec} decision columns (expected {want})",
                        labels.len()
                    )));
                }
                let last = f.opt_int("last_argmax", 0, 1)? == Some(1);
                (Some((ProbaRule::from_code(p).unwrap(), labels)), last)
            } else {
                (None, false)
            };
            let (rule, labels) = match proba {
                Some((r, l)) => (Some(r), l),
                None => (None, Labels::None),
            };
            let ravel = f.opt_int("ravel", 0, 1)? == Some(1);
            if ravel && n_dec != 1 {
                return Err(f.err("ravel needs exactly one output".into()));
            }
            f.finish()?;
            if n_in != width {
                return Err(bad(format!(
                    "{who}: takes {n_in} columns but receives {width}"
                )));
            }
            (
                Head::Linear(Linear {
                    n_in,
                    n_dec,
                    coef,
                    intercept,
                    proba: rule,
                    last_argmax,
                    f32_weights,
                }),
                labels,
                ravel,
            )
        }
        kind::MLP => {
            let sizes: Vec<usize> = f
                .ints("sizes")?
                .iter()
                .map(|&s| {
                    if (1..=MAX_WIDTH as i64).contains(&s) {
                        Ok(s as usize)
                    } else {
                        Err(f.err(format!("layer size {s} out of range 1..={MAX_WIDTH}")))
                    }
                })
                .collect::<Result<_>>()?;
            if sizes.len() < 2 || sizes.len() > crate::nn::mlp::MAX_LAYERS + 1 {
                return Err(f.err(format!("{} layer sizes", sizes.len())));
            }
            let code = f.int("hidden", 0, 16)?;
            let hidden = activation(&f, code, true)?;
            let code = f.int("output", 0, 16)?;
            let output = activation(&f, code, false)?;
            let task = match f.int("task", 0, 2)? {
                0 => Task::Regressor,
                1 => Task::Classifier,
                _ => Task::Multilabel,
            };
            let labels = if task == Task::Regressor {
                Labels::None
            } else {
                f.labels()?
            };
            // Weights stored in float32 (scikit-learn fitted on float32): the
            // network is kept in float32 too (exact: the values are float32).
            let all_f32 = (0..sizes.len() - 1).all(|l| {
                [format!("coef{l}"), format!("intercept{l}")]
                    .iter()
                    .all(|name| {
                        matches!(
                            f.fields.iter().find(|(n, _)| n == name),
                            Some((_, Some(Value::F32(_))))
                        )
                    })
            });
            let mut layers = Vec::with_capacity(sizes.len() - 1);
            for (l, w) in sizes.windows(2).enumerate() {
                let coef = f.floats(&format!("coef{l}"), Some(w[0] * w[1]))?;
                let intercept = f.floats(&format!("intercept{l}"), Some(w[1]))?;
                layers.push(Dense { coef, intercept });
            }
            let ravel = f.opt_int("ravel", 0, 1)? == Some(1);
            f.finish()?;
            let m = Mlp::new(sizes, layers, hidden, output, task, labels)
                .map_err(|e| bad(format!("{who}: {e}")))?;
            if ravel && (task != Task::Regressor || m.n_outputs() != 1) {
                return Err(bad(format!("{who}: ravel needs a one-output regressor")));
            }
            let m32 = if all_f32 {
                Some(Box::new(
                    super::mlp_f32(&m).map_err(|e| bad(format!("{who}: {e}")))?,
                ))
            } else {
                None
            };
            let labels = m.labels().clone();
            (Head::Mlp(m, m32), labels, ravel)
        }
        kind::KNN_CLASSIFIER | kind::KNN_REGRESSOR | kind::NEAREST_NEIGHBORS => {
            let dim = f.size("n_features", MAX_WIDTH)?;
            let n_samples = f.size("n_samples", i64::MAX as usize)?;
            let len = dim
                .checked_mul(n_samples)
                .ok_or_else(|| f.err("size overflows".into()))?;
            let data = match f.need("fit_x")? {
                Value::F32(v) if v.len() == len => KnnData::F32(v),
                Value::F64(v) if v.len() == len => KnnData::F64(v),
                _ => {
                    return Err(f.err(format!(
                        "fit_x must hold n_samples x n_features = {len} float32 or float64 values"
                    )))
                }
            };
            let k = f.size("n_neighbors", n_samples)?;
            let metric = Metric::from_i32(f.int("metric", 0, 3)? as i32)?;
            let weights = match f.opt_int("weights", 0, 1)? {
                Some(1) => KnnWeights::Distance,
                _ => KnnWeights::Uniform,
            };
            let mut labels = Labels::None;
            let mut ravel = false;
            let target = match f.kind {
                kind::KNN_CLASSIFIER => {
                    labels = f.labels()?;
                    let n_classes = labels.len();
                    let y = f.ints("y")?;
                    if y.len() != n_samples || y.iter().any(|&c| c < 0 || c as usize >= n_classes) {
                        return Err(f.err(format!(
                            "y must hold {n_samples} class indices below {n_classes}"
                        )));
                    }
                    KnnTarget::Classes {
                        y: y.iter().map(|&c| c as usize).collect(),
                        n_classes,
                    }
                }
                kind::KNN_REGRESSOR => {
                    let n_targets = f.size("n_targets", MAX_WIDTH)?;
                    let want = n_samples
                        .checked_mul(n_targets)
                        .ok_or_else(|| f.err("size overflows".into()))?;
                    let y = f.floats("y", Some(want))?;
                    ravel = f.opt_int("ravel", 0, 1)? == Some(1);
                    if ravel && n_targets != 1 {
                        return Err(f.err("ravel needs exactly one target".into()));
                    }
                    KnnTarget::Values { y, n_targets }
                }
                _ => KnnTarget::None,
            };
            f.finish()?;
            (
                Head::Knn(Knn {
                    data,
                    n_samples,
                    dim,
                    k,
                    metric,
                    weights,
                    target,
                }),
                labels,
                ravel,
            )
        }
        k => {
            return Err(bad(format!(
                "block {i}: kind {k} ({}) is not an estimator this ferrokit knows",
                kind_name(k)
            )))
        }
    };
    let n_in = h.n_in().unwrap_or(width);
    if n_in != width {
        return Err(bad(format!(
            "{who}: takes {n_in} columns but receives {width}"
        )));
    }
    Ok((who, h, labels, ravel))
}

fn is_step(k: u32) -> bool {
    (1..16).contains(&k)
}

/// Builds a model from parsed blocks.
pub(crate) fn build(blocks: Vec<Block>) -> Result<Model> {
    let mut blocks = blocks.into_iter();
    let Some(meta) = blocks.next() else {
        return Err(bad("no blocks".into()));
    };
    if meta.kind != kind::META {
        return Err(bad(format!(
            "block 0 is kind {} ({}), expected the meta block (0)",
            meta.kind,
            kind_name(meta.kind)
        )));
    }
    let mut f = Fields::new(meta, 0);
    let input = match f.int("input", 0, 1)? {
        0 => InputKind::Numeric,
        _ => InputKind::Text,
    };
    let n_features = f.size("n_features", MAX_WIDTH)?;
    if input == InputKind::Text && n_features != 1 {
        return Err(f.err(format!(
            "a text model takes one document per row: n_features is {n_features}, expected 1"
        )));
    }
    let feature_names = match f.get("feature_names") {
        None => Vec::new(),
        Some(Value::StrList(v)) if v.len() == n_features => v,
        Some(_) => {
            return Err(f.err(format!(
                "feature_names must be a list of n_features = {n_features} strings"
            )))
        }
    };
    let metadata = match f.get("metadata") {
        None => String::new(),
        Some(Value::Str(s)) => s,
        Some(v) => return Err(f.err(format!("metadata is {}, expected a string", v.type_name()))),
    };
    f.finish()?;
    let mut steps = Vec::new();
    let mut width = n_features;
    let mut head_blk: Option<HeadOut> = None;
    let mut text: Option<TextPipe> = None;
    let mut text_names = Vec::new();
    for (j, b) in blocks.enumerate() {
        let i = j + 1;
        if head_blk.is_some() {
            return Err(bad(format!(
                "block {i} ({}) comes after the final estimator",
                kind_name(b.kind)
            )));
        }
        if b.kind == kind::META {
            return Err(bad(format!("block {i}: a second meta block")));
        }
        if input == InputKind::Text && text.is_none() {
            if b.kind != kind::TEXT_VECTORIZER {
                return Err(bad(format!(
                    "block {i} ({}): the first step of a text model must be a text_vectorizer",
                    kind_name(b.kind)
                )));
            }
            let (who, v) = text_build::vectorizer(b, i)?;
            width = v.n_cols;
            text_names.push(who);
            text = Some(TextPipe {
                vectorizer: v,
                steps: Vec::new(),
                mlp: None,
            });
        } else if let (true, Some(t)) = (is_step(b.kind), text.as_mut()) {
            let (who, s) = text_build::sparse_step(b, i, width)?;
            text_names.push(who);
            t.steps.push(s);
        } else if matches!(b.kind, kind::TEXT_VECTORIZER | kind::TFIDF) {
            return Err(bad(format!(
                "block {i} ({}) needs text input (the meta block says numeric)",
                kind_name(b.kind)
            )));
        } else if is_step(b.kind) {
            let s = step(b, i, width)?;
            width = s.1.n_out();
            steps.push(s);
        } else {
            head_blk = Some(head(b, i, width)?);
        }
    }
    if let Some(t) = text.as_mut() {
        match &head_blk {
            Some((who, Head::Knn(_), ..)) => {
                return Err(bad(format!(
                    "{who}: k-nearest neighbours on text input are not supported"
                )))
            }
            Some((who, Head::Mlp(m, _), ..)) => {
                t.mlp = Some(SparseMlp::new(m).map_err(|e| bad(format!("{who}: {e}")))?);
            }
            _ => {}
        }
    }
    let (head_name, head, labels, ravel) = match head_blk {
        Some(h) => h,
        None if !steps.is_empty() || text.is_some() => (
            "transform".to_string(),
            Head::Transform,
            Labels::None,
            false,
        ),
        None => return Err(bad("the model has neither steps nor an estimator".into())),
    };
    let mut m = Model::assemble(
        input,
        n_features,
        feature_names,
        steps,
        head_name,
        head,
        labels,
        ravel,
        width,
    );
    if let Some(t) = text {
        let mut names = text_names;
        names.append(&mut m.info.steps);
        m.info.steps = names;
        m.text = Some(Box::new(t));
    }
    m.info.metadata = metadata;
    Ok(m)
}

/// Wraps a model of the MLP format (docs/mlp_format.md) as a one-step model
/// (`m32`: the same network stored in float32, see [`Head::Mlp`]).
pub(crate) fn from_mlp(m: Mlp<f64>, m32: Option<Mlp<f32>>) -> Model {
    let labels = m.labels().clone();
    let nf = m.n_features();
    let ravel = m.task() == Task::Regressor && m.n_outputs() == 1;
    Model::assemble(
        InputKind::Numeric,
        nf,
        Vec::new(),
        Vec::new(),
        "block 0 (mlp)".to_string(),
        Head::Mlp(m, m32.map(Box::new)),
        labels,
        ravel,
        nf,
    )
}

impl ModelTask {
    pub(crate) fn of(head: &Head) -> ModelTask {
        match head {
            Head::Transform => ModelTask::Transformer,
            Head::Linear(l) if l.proba.is_some() => ModelTask::Classifier,
            Head::Linear(_) => ModelTask::Regressor,
            Head::Mlp(m, _) => match m.task() {
                Task::Regressor => ModelTask::Regressor,
                Task::Classifier => ModelTask::Classifier,
                Task::Multilabel => ModelTask::Multilabel,
            },
            Head::Knn(k) => match k.target {
                KnnTarget::Classes { .. } => ModelTask::Classifier,
                KnnTarget::Values { .. } => ModelTask::Regressor,
                KnnTarget::None => ModelTask::Neighbors,
            },
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn info_of(
    input: InputKind,
    n_features: usize,
    feature_names: Vec<String>,
    head: &Head,
    labels: Labels,
    ravel: bool,
    width: usize,
    step_names: Vec<String>,
) -> ModelInfo {
    let task = ModelTask::of(head);
    let (n_outputs, n_proba, n_decision, n_transform, n_neighbors) = match head {
        Head::Transform => (width, 0, 0, width, 0),
        Head::Linear(l) => match l.proba {
            Some(_) => (1, l.n_proba(), l.n_dec, 0, 0),
            None => (l.n_dec, 0, 0, 0, 0),
        },
        Head::Mlp(m, _) => match m.task() {
            Task::Regressor => (m.n_outputs(), 0, 0, 0, 0),
            Task::Classifier => (1, m.n_proba_columns(), 0, 0, 0),
            Task::Multilabel => (m.n_outputs(), m.n_outputs(), 0, 0, 0),
        },
        Head::Knn(k) => match &k.target {
            KnnTarget::Classes { n_classes, .. } => (1, *n_classes, 0, 0, 0),
            KnnTarget::Values { n_targets, .. } => (*n_targets, 0, 0, 0, 0),
            KnnTarget::None => (k.k, 0, 0, 0, k.k),
        },
    };
    ModelInfo {
        input,
        task,
        n_features,
        n_outputs,
        predict_1d: ravel,
        n_proba,
        n_decision,
        n_transform,
        n_neighbors,
        labels,
        feature_names,
        steps: step_names,
        metadata: String::new(),
    }
}
