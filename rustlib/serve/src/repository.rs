//! The model repository: a model file or a folder of them (model name = file
//! stem), loaded models looked up by name, load / unload / reload.
//!
//! Lookups take a snapshot (`Arc`) of the current table, so a request keeps
//! the model it started with while a reload swaps in new ones.

use crate::batching::{BatchConfig, Batcher};
use crate::metrics::{Metrics, ModelStats};
use crate::model::{model_from_bytes, ServeModel};
use crate::protocol::ApiError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// File extensions a folder's model files carry.
pub const MODEL_EXTENSIONS: [&str; 3] = ["fk", "fkmlp", "fkmodel"];

/// The version every model answers to.
pub const MODEL_VERSION: &str = "1";

/// A loaded model.
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub model: Arc<dyn ServeModel>,
    pub batcher: Option<Batcher>,
    pub stats: Arc<ModelStats>,
}

/// One row of the repository index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    pub name: String,
    pub ready: bool,
    pub reason: String,
}

type Table = BTreeMap<String, Arc<Entry>>;

/// The models the server knows.
pub struct Repository {
    root: PathBuf,
    is_dir: bool,
    batch: Option<BatchConfig>,
    metrics: Arc<Metrics>,
    table: RwLock<Arc<Table>>,
    /// Why a model is not loaded (failed load, unloaded).
    reasons: Mutex<BTreeMap<String, String>>,
    /// Serializes load / unload / reload.
    changing: Mutex<()>,
}

/// The model name of a file: its stem.
pub fn model_name(path: &Path) -> Option<String> {
    path.file_stem()?.to_str().map(str::to_string)
}

impl Repository {
    /// A repository over `root` (a model file or a folder). Nothing is loaded yet.
    pub fn new(root: PathBuf, batch: Option<BatchConfig>, metrics: Arc<Metrics>) -> Repository {
        let is_dir = root.is_dir();
        Repository {
            root,
            is_dir,
            batch,
            metrics,
            table: RwLock::new(Arc::new(Table::new())),
            reasons: Mutex::new(BTreeMap::new()),
            changing: Mutex::new(()),
        }
    }

    /// The model files present now, by name (a folder's files with a model
    /// extension; hidden files skipped).
    pub fn files(&self) -> Result<BTreeMap<String, PathBuf>, String> {
        let mut out = BTreeMap::new();
        if !self.is_dir {
            if let Some(n) = model_name(&self.root) {
                out.insert(n, self.root.clone());
            }
            return Ok(out);
        }
        let dir = std::fs::read_dir(&self.root)
            .map_err(|e| format!("cannot read model folder {}: {e}", self.root.display()))?;
        for ent in dir.flatten() {
            let p = ent.path();
            let hidden = p
                .file_name()
                .and_then(|f| f.to_str())
                .is_none_or(|f| f.starts_with('.'));
            let ext_ok = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| MODEL_EXTENSIONS.contains(&e));
            if hidden || !ext_ok || !p.is_file() {
                continue;
            }
            if let Some(n) = model_name(&p) {
                // Two files with one stem: the first in name order wins.
                if let Some(prev) = out.get(&n) {
                    if prev < &p {
                        continue;
                    }
                }
                out.insert(n, p);
            }
        }
        Ok(out)
    }

    fn open(&self, name: &str, path: &Path) -> Result<Entry, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let model: Arc<dyn ServeModel> =
            Arc::from(model_from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?);
        let stats = self.metrics.model(name);
        let batcher = match self.batch {
            Some(cfg) => Some(
                Batcher::start(name, model.clone(), cfg, stats.queue.clone(), stats.clone())
                    .map_err(|e| format!("cannot start the batch worker: {e}"))?,
            ),
            None => None,
        };
        Ok(Entry {
            name: name.to_string(),
            path: path.to_path_buf(),
            model,
            batcher,
            stats,
        })
    }

    fn swap(&self, f: impl FnOnce(&mut Table)) {
        let mut guard = self.table.write().unwrap_or_else(|p| p.into_inner());
        let mut t: Table = (**guard).clone();
        f(&mut t);
        *guard = Arc::new(t);
    }

    /// The loaded model `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Entry>> {
        self.table
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Every loaded model.
    pub fn loaded(&self) -> Arc<Table> {
        self.table.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Loads (or reloads) every model file; a model whose file fails to load
    /// keeps its old version if it had one. Models whose file is gone are
    /// unloaded. Returns the errors.
    pub fn reload_all(&self) -> Vec<String> {
        let _g = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        let files = match self.files() {
            Ok(f) => f,
            Err(e) => return vec![e],
        };
        let mut errors = Vec::new();
        let mut fresh = Vec::new();
        for (name, path) in &files {
            match self.open(name, path) {
                Ok(e) => fresh.push(e),
                Err(e) => {
                    self.set_reason(name, Some(e.clone()));
                    errors.push(e);
                }
            }
        }
        for e in &fresh {
            self.set_reason(&e.name, None);
        }
        self.swap(|t| {
            t.retain(|n, _| files.contains_key(n));
            for e in fresh {
                t.insert(e.name.clone(), Arc::new(e));
            }
        });
        errors
    }

    /// Loads (or reloads) the model `name` from its file.
    pub fn load(&self, name: &str) -> Result<(), ApiError> {
        let _g = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        let files = self
            .files()
            .map_err(|e| ApiError::new(crate::protocol::ErrorKind::Internal, e))?;
        let path = files.get(name).ok_or_else(|| {
            ApiError::not_found(format!("no model file for '{name}' in the repository"))
        })?;
        match self.open(name, path) {
            Ok(e) => {
                self.set_reason(name, None);
                self.swap(|t| {
                    t.insert(name.to_string(), Arc::new(e));
                });
                Ok(())
            }
            Err(e) => {
                self.set_reason(name, Some(e.clone()));
                Err(ApiError::bad(format!("failed to load model '{name}': {e}")))
            }
        }
    }

    /// Unloads the model `name` (requests already running on it finish).
    pub fn unload(&self, name: &str) -> Result<(), ApiError> {
        let _g = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        if self.get(name).is_none() {
            return Err(ApiError::not_found(format!("model '{name}' is not loaded")));
        }
        self.swap(|t| {
            t.remove(name);
        });
        self.set_reason(name, Some("unloaded".into()));
        Ok(())
    }

    fn set_reason(&self, name: &str, reason: Option<String>) {
        let mut r = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
        match reason {
            Some(s) => r.insert(name.to_string(), s),
            None => r.remove(name),
        };
    }

    /// Every model of the repository (files present or models loaded).
    pub fn index(&self) -> Vec<IndexRow> {
        let files = self.files().unwrap_or_default();
        let loaded = self.loaded();
        let reasons = self
            .reasons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut names: Vec<&String> = files.keys().chain(loaded.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| IndexRow {
                name: n.clone(),
                ready: loaded.contains_key(n),
                reason: if loaded.contains_key(n) {
                    String::new()
                } else {
                    reasons
                        .get(n)
                        .cloned()
                        .unwrap_or_else(|| "not loaded".into())
                },
            })
            .collect()
    }
}
