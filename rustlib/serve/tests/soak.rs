//! Soak: the real `ferrokit-serve` process answers many requests on
//! keep-alive connections (good JSON, binary tensor data, 400s and 404s mixed)
//! and its resident memory (VmRSS) stays flat after a warm-up.
//!
//! 10^6 requests by default (about 20 s on the 2-core test machine, so it
//! runs in `make test`); `FERROKIT_SERVE_SOAK_REQUESTS` sets another count.
//! The load generator is a small hyper client: `CONNECTIONS` keep-alive
//! connections, each sending its requests one after another, every answer
//! checked. A leak of 100 bytes per request fails it (tried: +9.5 MiB over
//! 9 * 10^4 requests).

#![cfg(all(feature = "server", target_os = "linux"))]

use bytes::Bytes;
use ferrokit_core::model::format::{write, Block, Value};
use ferrokit_core::model::kind;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 8;
/// Share of the requests that warm the server up before RSS is watched.
const WARM_UP_SHARE: usize = 10;
/// Largest growth of VmRSS allowed after the warm-up.
const MAX_GROWTH_KIB: u64 = 4096;
const N_FEATURES: usize = 8;

/// A StandardScaler + 4-class LogisticRegression model file.
fn model_file(dir: &Path) -> std::path::PathBuf {
    let i = |v: i64| Value::I64(vec![v]);
    let coef: Vec<f64> = (0..4 * N_FEATURES)
        .map(|k| ((k * 37 % 11) as f64 - 5.0) / 7.0)
        .collect();
    let bytes = write(&[
        Block::new(kind::META)
            .with("input", i(0))
            .with("n_features", i(N_FEATURES as i64)),
        Block::new(kind::STANDARD_SCALER)
            .with("n_features", i(N_FEATURES as i64))
            .with("mean", Value::F64(vec![0.5; N_FEATURES]))
            .with("scale", Value::F64(vec![2.0; N_FEATURES])),
        Block::new(kind::LINEAR_CLASSIFIER)
            .with("n_features", i(N_FEATURES as i64))
            .with("n_outputs", i(4))
            .with("coef", Value::F64(coef))
            .with("intercept", Value::F64(vec![0.1, -0.2, 0.3, 0.0]))
            .with("proba", i(ferrokit_core::model::ProbaRule::Softmax as i64))
            .with("classes_kind", i(1))
            .with("classes", Value::I64(vec![3, 5, 7, 9])),
    ]);
    let path = dir.join("soak.fk");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Starts the server on a free port; returns the process and its address.
fn start(model: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokit-serve"))
        .arg(model)
        .args([
            "--port",
            "0",
            "--log-level",
            "info",
            "--request-log-level",
            "off",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ferrokit-serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if line.contains("\"listening\"") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            break v["address"].as_str().unwrap().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The k-th request of a connection and the status it must get.
fn request(addr: &str, k: usize) -> (Request<Full<Bytes>>, u16) {
    let row: Vec<f64> = (0..N_FEATURES)
        .map(|j| ((k + j) % 13) as f64 - 6.0)
        .collect();
    let json = |model: &str, body: String| {
        Request::post(format!("http://{addr}/v2/models/{model}/infer"))
            .header("host", addr)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let good = format!(
        r#"{{"id":"r{k}","inputs":[{{"name":"x","shape":[1,{N_FEATURES}],"datatype":"FP64","data":{row:?}}}],"outputs":[{{"name":"predict_proba"}},{{"name":"predict"}}]}}"#
    );
    match k % 10 {
        7 => {
            let head = format!(
                r#"{{"inputs":[{{"name":"x","shape":[1,{N_FEATURES}],"datatype":"FP64","parameters":{{"binary_data_size":{}}}}}],"outputs":[{{"name":"predict_proba","parameters":{{"binary_data":true}}}}]}}"#,
                8 * N_FEATURES
            );
            let mut body = head.clone().into_bytes();
            row.iter()
                .for_each(|x| body.extend_from_slice(&x.to_le_bytes()));
            let req = Request::post(format!("http://{addr}/v2/models/soak/infer"))
                .header("host", addr)
                .header("inference-header-content-length", head.len())
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            (req, 200)
        }
        8 => (json("soak", good.replace("[1,8]", "[2,8]")), 400),
        9 => (json("nope", good), 404),
        _ => (json("soak", good), 200),
    }
}

/// One keep-alive connection sending `n` requests in turn.
async fn client(addr: String, n: usize, done: Arc<AtomicUsize>) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).unwrap();
    let (mut send, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    for k in 0..n {
        let (req, want) = request(&addr, k);
        let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if status != want {
            return Err(format!(
                "request {k}: status {status}, expected {want}: {body:?}"
            ));
        }
        if want == 200 && k % 10 != 7 {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let p: Vec<f64> = serde_json::from_value(v["outputs"][0]["data"].clone()).unwrap();
            if v["id"] != format!("r{k}")
                || p.len() != 4
                || (p.iter().sum::<f64>() - 1.0).abs() > 1e-12
            {
                return Err(format!("request {k}: wrong answer {v}"));
            }
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

#[test]
fn rss_stays_flat_over_many_requests() {
    let total: usize = std::env::var("FERROKIT_SERVE_SOAK_REQUESTS")
        .ok()
        .map(|s| s.parse().expect("FERROKIT_SERVE_SOAK_REQUESTS: a number"))
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("ferrokit-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut child, addr) = start(&model_file(&dir));
    let pid = child.id();
    let done = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start_time = Instant::now();
    let per = total.div_ceil(CONNECTIONS);
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| rt.spawn(client(addr.clone(), per, done.clone())))
        .collect();
    // Sample RSS while the clients run: (requests answered, KiB).
    let mut samples = Vec::new();
    let warm = per * CONNECTIONS / WARM_UP_SHARE;
    while !clients.iter().all(|c| c.is_finished()) {
        samples.push((done.load(Ordering::Relaxed), rss_kib(pid)));
        std::thread::sleep(Duration::from_millis(50));
    }
    samples.push((done.load(Ordering::Relaxed), rss_kib(pid)));
    let results: Vec<_> = clients.into_iter().map(|c| rt.block_on(c)).collect();
    let secs = start_time.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    for r in results {
        r.expect("client task").expect("client");
    }
    let answered = done.load(Ordering::Relaxed);
    assert_eq!(answered, per * CONNECTIONS);
    let after: Vec<(usize, u64)> = samples.into_iter().filter(|s| s.0 >= warm).collect();
    assert!(after.len() >= 2, "too few RSS samples after the warm-up");
    let base = after[0].1;
    let peak = after.iter().map(|s| s.1).max().unwrap();
    let last = after.last().unwrap().1;
    eprintln!(
        "soak: {answered} requests in {secs:.1} s ({:.0} req/s) over {CONNECTIONS} connections; \
         VmRSS after warm-up ({warm} requests): {base} KiB, peak {peak} KiB, last {last} KiB \
         ({} samples: {:?})",
        answered as f64 / secs,
        after.len(),
        after
            .iter()
            .step_by(after.len().div_ceil(12))
            .collect::<Vec<_>>()
    );
    assert!(
        peak <= base + MAX_GROWTH_KIB,
        "VmRSS grew by {} KiB after the warm-up (limit {MAX_GROWTH_KIB} KiB)",
        peak - base
    );
}
