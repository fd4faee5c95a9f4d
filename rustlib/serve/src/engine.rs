//! Runs a decoded inference request on a model (transport-independent):
//! checks the input against the model, picks the outputs, computes them
//! through the batcher or directly under the concurrency limit.

use crate::batching::{run_methods, Job, SubmitError};
use crate::http::State;
use crate::model::{internal, prepare_rows, Method, MethodOutput};
use crate::protocol::{ApiError, InferRequest, InferResponse, OutputTensor};
use crate::repository::{Entry, MODEL_VERSION};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Requests with more input elements (or bytes of text) than this compute on a blocking thread
/// (smaller ones inline: a thread hop costs more than their kernel).
const INLINE_ELEMENTS: usize = 1 << 16;

/// Answers `req` with the model of `entry`.
pub async fn infer(
    state: &Arc<State>,
    entry: &Arc<Entry>,
    req: InferRequest,
) -> Result<InferResponse, ApiError> {
    let info = entry.model.info();
    if req.inputs.len() != 1 {
        return Err(ApiError::bad(format!(
            "model '{}' takes 1 input ({}), the request has {}",
            entry.name,
            info.input.name,
            req.inputs.len()
        )));
    }
    let (rows, n) = prepare_rows(info, &req.inputs[0])?;
    let mut methods = Vec::new();
    let mut binary = Vec::new();
    if req.outputs.is_empty() {
        methods.push(info.default_method);
        binary.push(req.binary_output);
    }
    for o in &req.outputs {
        let m = Method::parse(&o.name)
            .filter(|m| info.methods().any(|x| x == *m))
            .ok_or_else(|| {
                let names: Vec<&str> = info.methods().map(Method::name).collect();
                ApiError::bad(format!(
                    "model '{}' has no output '{}' (it has: {})",
                    entry.name,
                    o.name,
                    names.join(", ")
                ))
            })?;
        methods.push(m);
        binary.push(o.binary);
    }
    let outs = compute(state, entry, rows, n, methods.clone()).await?;
    let outputs = outs
        .into_iter()
        .zip(methods.iter().zip(binary))
        .map(|(o, (m, b))| OutputTensor {
            name: m.name().to_string(),
            shape: o.shape(n),
            data: o.data,
            binary: b,
        })
        .collect();
    Ok(InferResponse {
        model_name: entry.name.clone(),
        model_version: MODEL_VERSION.to_string(),
        id: req.id,
        parameters: req.parameters,
        outputs,
    })
}

/// Releases a waiting place when dropped (also when the request times out).
struct Waiting<'a>(&'a State);
impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn compute(
    state: &Arc<State>,
    entry: &Arc<Entry>,
    rows: crate::model::Rows,
    n: usize,
    methods: Vec<Method>,
) -> Result<Vec<MethodOutput>, ApiError> {
    if let Some(b) = &entry.batcher {
        let (tx, rx) = oneshot::channel();
        b.submit(Job {
            rows,
            n,
            methods,
            reply: tx,
        })
        .map_err(|e| match e {
            SubmitError::Full => ApiError::unavailable(format!(
                "the queue of model '{}' is full ({} requests); retry later",
                entry.name, state.cfg.max_queue
            )),
            SubmitError::Closed => {
                ApiError::unavailable(format!("model '{}' is being unloaded", entry.name))
            }
        })?;
        return rx
            .await
            .map_err(|_| internal("the batch worker stopped".into()))?;
    }
    let permit = match state.slots.try_acquire() {
        Ok(p) => p,
        Err(_) => {
            if state.waiting.fetch_add(1, Ordering::AcqRel) >= state.cfg.max_queue {
                state.waiting.fetch_sub(1, Ordering::AcqRel);
                return Err(ApiError::unavailable(format!(
                    "server busy: {} requests already waiting; retry later",
                    state.cfg.max_queue
                )));
            }
            let _w = Waiting(state);
            state
                .slots
                .acquire()
                .await
                .map_err(|_| ApiError::unavailable("server shutting down"))?
        }
    };
    let r = if rows.cost() <= INLINE_ELEMENTS {
        run_methods(&*entry.model, &rows, n, &methods)
    } else {
        let model = entry.model.clone();
        tokio::task::spawn_blocking(move || run_methods(&*model, &rows, n, &methods))
            .await
            .map_err(|e| internal(format!("compute task failed: {e}")))?
    };
    drop(permit);
    r
}
