//! gRPC: the protocol's `inference.GRPCInferenceService` over HTTP/2 (hyper),
//! on its own port (`--grpc-port`). Messages are the prost structs of
//! [`crate::pb`]; unary calls only, no compression.

use crate::engine::infer;
use crate::fields;
use crate::grpc_codec::{infer_request_from_pb, infer_response_to_pb};
use crate::http::{authorized, read_body, State};
use crate::log;
use crate::pb;
use crate::protocol::{ApiError, ErrorKind};
use crate::repository::MODEL_VERSION;
use bytes::Bytes;
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response};
use prost::Message;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

const PREFIX: &str = "/inference.GRPCInferenceService/";

/// A gRPC response body: one message frame (or none), then the trailers.
pub struct GrpcBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl hyper::body::Body for GrpcBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let me = self.get_mut();
        if let Some(d) = me.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if let Some(t) = me.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(t))));
        }
        Poll::Ready(None)
    }
    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// The gRPC status code of an error kind.
pub fn grpc_code(k: ErrorKind) -> u32 {
    match k {
        ErrorKind::BadRequest => 3,
        ErrorKind::Timeout | ErrorKind::RequestTimeout => 4,
        ErrorKind::NotFound => 5,
        ErrorKind::PayloadTooLarge => 8,
        ErrorKind::MethodNotAllowed => 12,
        ErrorKind::Internal => 13,
        ErrorKind::Unavailable => 14,
        ErrorKind::Unauthorized => 16,
    }
}

/// Percent-encodes a grpc-message (everything outside printable ASCII, and '%').
fn pct(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn response(data: Option<Bytes>, code: u32, message: &str) -> Response<GrpcBody> {
    let mut t = HeaderMap::new();
    t.insert("grpc-status", HeaderValue::from(code));
    if !message.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&pct(message)) {
            t.insert("grpc-message", v);
        }
    }
    let mut r = Response::new(GrpcBody {
        data,
        trailers: Some(t),
    });
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    r
}

fn frame<M: Message>(m: &M) -> Bytes {
    let len = m.encoded_len();
    let mut b = Vec::with_capacity(5 + len);
    b.push(0);
    b.extend_from_slice(&(len as u32).to_be_bytes());
    m.encode(&mut b).expect("a Vec grows as needed");
    Bytes::from(b)
}

fn unframe<M: Message + Default>(body: &[u8]) -> Result<M, ApiError> {
    if body.len() < 5 {
        return Err(ApiError::bad("gRPC message frame shorter than 5 bytes"));
    }
    if body[0] != 0 {
        return Err(ApiError::new(
            ErrorKind::MethodNotAllowed,
            "compressed gRPC messages are not supported",
        ));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() - 5 != len {
        return Err(ApiError::bad(format!(
            "gRPC frame claims {len} bytes, {} present (one unary message expected)",
            body.len() - 5
        )));
    }
    M::decode(&body[5..]).map_err(|e| ApiError::bad(format!("invalid protobuf message: {e}")))
}

/// Answers one gRPC call and logs it.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<GrpcBody>, Infallible> {
    let start = Instant::now();
    state.metrics.inflight.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().to_string();
    let mut model: Option<String> = None;
    let mut stats = None;
    let result = dispatch(&state, &path, req, &mut model, &mut stats).await;
    state.metrics.inflight.fetch_sub(1, Ordering::Relaxed);
    let (resp, code, status, err) = match result {
        Ok(b) => (response(Some(b), 0, ""), 0, 200, None),
        Err(e) => (
            response(None, grpc_code(e.kind), &e.message),
            grpc_code(e.kind),
            e.kind.http_status(),
            Some(e.message),
        ),
    };
    let secs = start.elapsed().as_secs_f64();
    match &stats {
        Some(s) => crate::metrics::ModelStats::request(s, status, secs),
        None => state.metrics.other(status),
    }
    if log::enabled(state.request_level) {
        let mut f = fields! {"grpc_method" => path, "grpc_status" => code, "duration_us" => (secs * 1e6).round() as u64};
        if let Some(m) = model {
            f.insert("model".into(), m.into());
        }
        if let Some(e) = err {
            f.insert("error".into(), e.into());
        }
        log::log(state.request_level, "request", f);
    }
    Ok(resp)
}

async fn dispatch(
    state: &Arc<State>,
    path: &str,
    req: Request<Incoming>,
    model: &mut Option<String>,
    stats: &mut Option<Arc<crate::metrics::ModelStats>>,
) -> Result<Bytes, ApiError> {
    let method = path.strip_prefix(PREFIX).unwrap_or("");
    if !matches!(method, "ServerLive" | "ServerReady") && !authorized(state, &req) {
        return Err(ApiError::new(
            ErrorKind::Unauthorized,
            "missing or wrong bearer token (authorization: Bearer <token>)",
        ));
    }
    let known = [
        "ServerLive",
        "ServerReady",
        "ModelReady",
        "ServerMetadata",
        "ModelMetadata",
        "ModelInfer",
        "RepositoryIndex",
        "RepositoryModelLoad",
        "RepositoryModelUnload",
    ];
    if !known.contains(&method) {
        return Err(ApiError::new(
            ErrorKind::MethodNotAllowed,
            format!("unknown method {path}"),
        ));
    }
    let body = read_body(state, req).await?;
    let check_version = |name: &str, v: &str| {
        if !v.is_empty() && v != MODEL_VERSION {
            return Err(ApiError::not_found(format!(
                "model '{name}' has no version '{v}' (only '{MODEL_VERSION}')"
            )));
        }
        Ok(())
    };
    Ok(match method {
        "ServerLive" => frame(&pb::ServerLiveResponse { live: true }),
        "ServerReady" => frame(&pb::ServerReadyResponse {
            ready: state.ready.load(Ordering::Relaxed),
        }),
        "ServerMetadata" => frame(&pb::ServerMetadataResponse {
            name: "ferrokit-serve".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            extensions: vec!["model_repository".into(), "metrics".into()],
        }),
        "ModelReady" => {
            let r: pb::ModelRef = unframe(&body)?;
            check_version(&r.name, &r.version)?;
            let ready = state.repo.get(&r.name).is_some();
            if !ready && !state.repo.index().iter().any(|x| x.name == r.name) {
                return Err(ApiError::not_found(format!("unknown model '{}'", r.name)));
            }
            frame(&pb::ModelReadyResponse { ready })
        }
        "ModelMetadata" => {
            let r: pb::ModelRef = unframe(&body)?;
            check_version(&r.name, &r.version)?;
            let e = state
                .repo
                .get(&r.name)
                .ok_or_else(|| ApiError::not_found(format!("model '{}' is not loaded", r.name)))?;
            let info = e.model.info();
            let t = |s: &crate::model::TensorSpec| pb::TensorMetadata {
                name: s.name.clone(),
                datatype: s.datatype.name().into(),
                shape: s.shape.clone(),
            };
            frame(&pb::ModelMetadataResponse {
                name: r.name.clone(),
                versions: vec![MODEL_VERSION.into()],
                platform: info.platform.clone(),
                inputs: vec![t(&info.input)],
                outputs: info.outputs.iter().map(|(_, s)| t(s)).collect(),
            })
        }
        "ModelInfer" => {
            let r: pb::ModelInferRequest = unframe(&body)?;
            drop(body);
            check_version(&r.model_name, &r.model_version)?;
            let entry = state.repo.get(&r.model_name).ok_or_else(|| {
                ApiError::not_found(format!("model '{}' is not loaded", r.model_name))
            })?;
            *model = Some(r.model_name.clone());
            *stats = Some(entry.stats.clone());
            let (req, raw) = infer_request_from_pb(r)?;
            let t = Duration::from_millis(state.cfg.request_timeout_ms);
            let resp = tokio::time::timeout(t, infer(state, &entry, req))
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
            frame(&infer_response_to_pb(resp, raw))
        }
        "RepositoryIndex" => {
            let r: pb::RepositoryIndexRequest = unframe(&body)?;
            frame(&pb::RepositoryIndexResponse {
                models: state
                    .repo
                    .index()
                    .into_iter()
                    .filter(|m| m.ready || !r.ready)
                    .map(|m| pb::ModelIndex {
                        name: m.name,
                        version: MODEL_VERSION.into(),
                        state: if m.ready { "READY" } else { "UNAVAILABLE" }.into(),
                        reason: m.reason,
                    })
                    .collect(),
            })
        }
        _ => {
            let r: pb::RepositoryModelRequest = unframe(&body)?;
            let st = state.clone();
            let load = method == "RepositoryModelLoad";
            tokio::task::spawn_blocking(move || {
                if load {
                    st.repo.load(&r.model_name)
                } else {
                    st.repo.unload(&r.model_name)
                }
            })
            .await
            .map_err(|e| {
                ApiError::new(ErrorKind::Internal, format!("repository task failed: {e}"))
            })??;
            frame(&pb::Empty {})
        }
    })
}
