//! REST routing and handlers of the Open Inference Protocol.

use crate::config::Config;
use crate::decode::decode_request;
use crate::encode::encode_response;
use crate::engine::infer;
use crate::fields;
use crate::log::{self, Level};
use crate::metrics::Metrics;
use crate::protocol::{ApiError, ErrorKind};
use crate::repository::{Repository, MODEL_VERSION};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method as HttpMethod, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Everything a request handler reads.
pub struct State {
    pub cfg: Config,
    pub repo: Repository,
    pub metrics: Arc<Metrics>,
    /// Inference computations allowed at once.
    pub slots: Semaphore,
    /// Inferences waiting for a slot.
    pub waiting: AtomicUsize,
    /// False once shutdown began (readiness then answers 503).
    pub ready: AtomicBool,
    pub request_level: Level,
}

type Resp = Response<Full<Bytes>>;

const BINARY_HEADER: &str = "inference-header-content-length";

fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_resp(status: u16, v: &Value) -> Resp {
    respond(
        status,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

fn error_resp(e: &ApiError) -> Resp {
    let mut r = respond(e.kind.http_status(), "application/json", e.to_json());
    if e.kind == ErrorKind::Unavailable {
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
    }
    if e.kind == ErrorKind::Unauthorized {
        r.headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    }
    r
}

/// Compares without an early exit (the token's bytes do not leak through timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

pub(crate) fn authorized(state: &State, req: &Request<Incoming>) -> bool {
    let Some(token) = &state.cfg.auth_token else {
        return true;
    };
    let Some(h) = req.headers().get(hyper::header::AUTHORIZATION) else {
        return false;
    };
    let h = h.as_bytes();
    h.len() > 7 && h[..7].eq_ignore_ascii_case(b"bearer ") && same(&h[7..], token.as_bytes())
}

/// Answers one HTTP request and logs it.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Resp, std::convert::Infallible> {
    let start = Instant::now();
    state.metrics.inflight.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut info = ReqLog::default();
    let resp = match route(&state, req, &mut info).await {
        Ok(r) => r,
        Err(e) => {
            info.error = Some(e.message.clone());
            error_resp(&e)
        }
    };
    state.metrics.inflight.fetch_sub(1, Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    match &info.stats {
        Some(s) => s.request(status, secs),
        None => state.metrics.other(status),
    }
    if log::enabled(state.request_level) {
        let mut f = fields! {
            "method" => method.as_str(),
            "path" => path,
            "status" => status,
            "duration_us" => (secs * 1e6).round() as u64,
        };
        if let Some(m) = info.model {
            f.insert("model".into(), m.into());
        }
        if let Some(id) = info.id {
            f.insert("id".into(), id.into());
        }
        if let Some(e) = info.error {
            f.insert("error".into(), e.into());
        }
        log::log(state.request_level, "request", f);
    }
    Ok(resp)
}

/// What the request log line and the metrics learn from a handler.
#[derive(Default)]
struct ReqLog {
    model: Option<String>,
    id: Option<String>,
    error: Option<String>,
    stats: Option<Arc<crate::metrics::ModelStats>>,
}

async fn route(
    state: &Arc<State>,
    req: Request<Incoming>,
    info: &mut ReqLog,
) -> Result<Resp, ApiError> {
    let path = req.uri().path().to_string();
    let seg: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let m = req.method().clone();
    let get = m == HttpMethod::GET || m == HttpMethod::HEAD;
    let post = m == HttpMethod::POST;
    let wrong = || {
        ApiError::new(
            ErrorKind::MethodNotAllowed,
            format!("{m} is not allowed on {path}"),
        )
    };
    // Health probes never need the token (orchestrators do not send one).
    match seg[..] {
        ["v2", "health", "live"] if get => return Ok(json_resp(200, &json!({"live": true}))),
        ["v2", "health", "ready"] if get => {
            let ready = state.ready.load(Ordering::Relaxed);
            return Ok(json_resp(
                if ready { 200 } else { 503 },
                &json!({ "ready": ready }),
            ));
        }
        ["v2", "health", "live" | "ready"] => return Err(wrong()),
        _ => {}
    }
    if !authorized(state, &req) {
        return Err(ApiError::new(
            ErrorKind::Unauthorized,
            "missing or wrong bearer token (Authorization: Bearer <token>)",
        ));
    }
    match seg[..] {
        ["v2"] if get => Ok(json_resp(
            200,
            &json!({
                "name": "ferrokit-serve",
                "version": env!("CARGO_PKG_VERSION"),
                "extensions": ["binary_tensor_data", "model_repository", "metrics"],
            }),
        )),
        ["metrics"] if get => Ok(respond(
            200,
            "text/plain; version=0.0.4",
            state.metrics.render().into_bytes(),
        )),
        ["v2", "models", name] | ["v2", "models", name, "versions", _] if get => {
            check_version(&seg)?;
            model_metadata(state, name)
        }
        ["v2", "models", name, "ready"] | ["v2", "models", name, "versions", _, "ready"] if get => {
            check_version(&seg)?;
            let known = state.repo.index().iter().any(|r| r.name == name);
            match state.repo.get(name) {
                Some(_) => Ok(json_resp(200, &json!({"name": name, "ready": true}))),
                None if known => Ok(json_resp(503, &json!({"name": name, "ready": false}))),
                None => Err(ApiError::not_found(format!("unknown model '{name}'"))),
            }
        }
        ["v2", "models", name, "infer"] | ["v2", "models", name, "versions", _, "infer"]
            if post =>
        {
            check_version(&seg)?;
            infer_http(state, name.to_string(), req, info).await
        }
        ["v2", "repository", "index"] if post || get => {
            let body = read_body(state, req).await?;
            let only_ready = if body.iter().all(u8::is_ascii_whitespace) {
                false
            } else {
                let v: Value = serde_json::from_slice(&body)
                    .map_err(|e| ApiError::bad(format!("invalid repository index JSON: {e}")))?;
                v.get("ready").and_then(Value::as_bool).unwrap_or(false)
            };
            let rows: Vec<Value> = state
                .repo
                .index()
                .into_iter()
                .filter(|r| r.ready || !only_ready)
                .map(|r| {
                    let mut o = json!({"name": r.name, "version": MODEL_VERSION,
                                       "state": if r.ready { "READY" } else { "UNAVAILABLE" }});
                    if !r.reason.is_empty() {
                        o["reason"] = r.reason.into();
                    }
                    o
                })
                .collect();
            Ok(json_resp(200, &Value::Array(rows)))
        }
        ["v2", "repository", "models", name, op @ ("load" | "unload")] if post => {
            let name = name.to_string();
            let st = state.clone();
            let load = op == "load";
            let r = tokio::task::spawn_blocking(move || {
                if load {
                    st.repo.load(&name)
                } else {
                    st.repo.unload(&name)
                }
            })
            .await
            .map_err(|e| {
                ApiError::new(ErrorKind::Internal, format!("repository task failed: {e}"))
            })?;
            r?;
            Ok(respond(200, "application/json", b"{}".to_vec()))
        }
        ["v2", "models", ..] | ["v2", "repository", ..] | ["v2"] | ["metrics"] => {
            if (get || post) && !matches!(seg[..], ["v2"] | ["metrics"]) {
                Err(ApiError::not_found(format!("no endpoint {path}")))
            } else {
                Err(wrong())
            }
        }
        _ => Err(ApiError::not_found(format!("no endpoint {path}"))),
    }
}

fn check_version(seg: &[&str]) -> Result<(), ApiError> {
    if seg.len() >= 5 && seg[3] == "versions" && seg[4] != MODEL_VERSION {
        return Err(ApiError::not_found(format!(
            "model '{}' has no version '{}' (only '{MODEL_VERSION}')",
            seg[2], seg[4]
        )));
    }
    Ok(())
}

fn model_metadata(state: &State, name: &str) -> Result<Resp, ApiError> {
    let e = state
        .repo
        .get(name)
        .ok_or_else(|| ApiError::not_found(format!("model '{name}' is not loaded")))?;
    let info = e.model.info();
    let t = |s: &crate::model::TensorSpec| json!({"name": s.name, "datatype": s.datatype.name(), "shape": s.shape});
    Ok(json_resp(
        200,
        &json!({
            "name": name,
            "versions": [MODEL_VERSION],
            "platform": info.platform,
            "inputs": [t(&info.input)],
            "outputs": info.outputs.iter().map(|(_, s)| t(s)).collect::<Vec<_>>(),
        }),
    ))
}

pub(crate) async fn read_body(state: &State, req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let max = state.cfg.max_body_bytes;
    let too_big = || {
        ApiError::new(
            ErrorKind::PayloadTooLarge,
            format!("request body over the limit of {max} bytes (--max-body-bytes)"),
        )
    };
    if let Some(len) = req.headers().get(CONTENT_LENGTH) {
        match len.to_str().ok().and_then(|s| s.parse::<u64>().ok()) {
            Some(n) if n > max as u64 => return Err(too_big()),
            Some(_) => {}
            None => return Err(ApiError::bad("invalid Content-Length")),
        }
    }
    let body = Limited::new(req.into_body(), max);
    let t = Duration::from_millis(state.cfg.read_timeout_ms);
    match tokio::time::timeout(t, body.collect()).await {
        Err(_) => Err(ApiError::new(
            ErrorKind::RequestTimeout,
            format!(
                "the request body did not arrive within {} ms",
                state.cfg.read_timeout_ms
            ),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_big()),
        Ok(Err(e)) => Err(ApiError::bad(format!(
            "error reading the request body: {e}"
        ))),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// Bodies larger than this are decoded on a blocking thread.
const INLINE_DECODE_BYTES: usize = 256 << 10;

async fn infer_http(
    state: &Arc<State>,
    name: String,
    req: Request<Incoming>,
    info: &mut ReqLog,
) -> Result<Resp, ApiError> {
    let entry = state
        .repo
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("model '{name}' is not loaded")))?;
    info.model = Some(name.clone());
    info.stats = Some(entry.stats.clone());
    let header_len = match req.headers().get(BINARY_HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .ok_or_else(|| ApiError::bad("invalid Inference-Header-Content-Length"))?,
        ),
    };
    let body = read_body(state, req).await?;
    let decoded = if body.len() <= INLINE_DECODE_BYTES {
        decode_request(&body, header_len)
    } else {
        tokio::task::spawn_blocking(move || decode_request(&body, header_len))
            .await
            .map_err(|e| ApiError::new(ErrorKind::Internal, format!("decode task failed: {e}")))?
    }?;
    info.id = decoded.id.clone();
    let t = Duration::from_millis(state.cfg.request_timeout_ms);
    let resp = tokio::time::timeout(t, infer(state, &entry, decoded))
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorKind::Timeout,
                format!(
                    "inference did not finish within {} ms",
                    state.cfg.request_timeout_ms
                ),
            )
        })??;
    let (body, header) = encode_response(&resp);
    Ok(match header {
        None => respond(200, "application/json", body),
        Some(h) => {
            let mut r = respond(200, "application/octet-stream", body);
            r.headers_mut().insert(BINARY_HEADER, HeaderValue::from(h));
            r
        }
    })
}
