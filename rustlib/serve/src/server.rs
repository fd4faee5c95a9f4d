//! The listening side: accept loop, signals (SIGTERM/SIGINT graceful
//! shutdown, SIGHUP reload) and the runtime.

use crate::batching::BatchConfig;
use crate::config::Config;
use crate::fields;
use crate::http::{handle, State};
use crate::log::{self, Level};
use crate::metrics::Metrics;
use crate::repository::Repository;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;

/// Accepts on `l`, or never when there is no listener.
async fn accept_opt(
    l: &Option<TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs the server until SIGTERM/SIGINT; returns the process exit code.
pub fn run(cfg: Config) -> i32 {
    let Some(level) = Level::parse(&cfg.log_level) else {
        eprintln!(
            "ferrokit-serve: --log-level must be off, error, warn, info or debug, not '{}'",
            cfg.log_level
        );
        return 2;
    };
    let Some(request_level) = Level::parse(&cfg.request_log_level) else {
        eprintln!(
            "ferrokit-serve: --request-log-level must be off, error, warn, info or debug, not '{}'",
            cfg.request_log_level
        );
        return 2;
    };
    log::set_level(level);
    if !cfg.path.exists() {
        log::log(
            Level::Error,
            "model path does not exist",
            fields! {"path" => cfg.path.display().to_string()},
        );
        return 2;
    }
    if !(cfg.max_batch_delay_ms >= 0.0 && cfg.max_batch_delay_ms <= 60_000.0) {
        eprintln!("ferrokit-serve: --max-batch-delay-ms must be within 0..=60000");
        return 2;
    }
    let workers = if cfg.workers == 0 {
        cpus()
    } else {
        cfg.workers
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("ferrokit-serve")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::log(
                Level::Error,
                "cannot start the runtime",
                fields! {"error" => e.to_string()},
            );
            return 1;
        }
    };
    rt.block_on(serve(cfg, request_level))
}

async fn serve(cfg: Config, request_level: Level) -> i32 {
    let metrics = Arc::new(Metrics::default());
    let batch = (cfg.max_batch_size > 1).then(|| BatchConfig {
        max_batch_size: cfg.max_batch_size,
        max_batch_delay: Duration::from_secs_f64(cfg.max_batch_delay_ms / 1000.0),
        queue_capacity: cfg.max_queue.max(1),
    });
    let repo = Repository::new(cfg.path.clone(), batch, metrics.clone());
    for e in repo.reload_all() {
        log::log(Level::Error, "model not loaded", fields! {"error" => e});
    }
    let loaded: Vec<String> = repo.loaded().keys().cloned().collect();
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            log::log(
                Level::Error,
                "cannot listen",
                fields! {"address" => addr, "error" => e.to_string()},
            );
            return 1;
        }
    };
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or(addr);
    let grpc_listener = match cfg.grpc_port {
        None => None,
        Some(p) => {
            let gaddr = format!("{}:{p}", cfg.host);
            match TcpListener::bind(&gaddr).await {
                Ok(l) => Some(l),
                Err(e) => {
                    log::log(
                        Level::Error,
                        "cannot listen (gRPC)",
                        fields! {"address" => gaddr, "error" => e.to_string()},
                    );
                    return 1;
                }
            }
        }
    };
    let grpc_local = grpc_listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.to_string());
    let slots = if cfg.max_concurrency == 0 {
        cpus()
    } else {
        cfg.max_concurrency
    };
    let shutdown_ms = cfg.shutdown_timeout_ms;
    let read_timeout = Duration::from_millis(cfg.read_timeout_ms.max(1));
    let state = Arc::new(State {
        cfg,
        repo,
        metrics,
        slots: Semaphore::new(slots),
        waiting: AtomicUsize::new(0),
        ready: AtomicBool::new(true),
        request_level,
    });
    let mut f =
        fields! {"address" => local, "models" => loaded, "version" => env!("CARGO_PKG_VERSION")};
    if let Some(g) = grpc_local {
        f.insert("grpc_address".into(), g.into());
    }
    log::log(Level::Info, "listening", f);
    let (mut term, mut int, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        _ => {
            log::log(Level::Error, "cannot install signal handlers", fields! {});
            return 1;
        }
    };
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout)
        .keep_alive(true);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(60)))
        .max_concurrent_streams(1024);
    let why = loop {
        tokio::select! {
            conn = listener.accept() => match conn {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let st = state.clone();
                    let conn = builder.serve_connection(
                        TokioIo::new(stream),
                        service_fn(move |req| handle(st.clone(), req)),
                    );
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    log::log(Level::Warn, "accept failed", fields! {"error" => e.to_string()});
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            conn = accept_opt(&grpc_listener) => match conn {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let st = state.clone();
                    let conn = h2.serve_connection(
                        TokioIo::new(stream),
                        service_fn(move |req| crate::grpc::handle(st.clone(), req)),
                    );
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Err(e) => {
                    log::log(Level::Warn, "accept failed (gRPC)", fields! {"error" => e.to_string()});
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = hup.recv() => {
                let st = state.clone();
                tokio::task::spawn_blocking(move || {
                    let errors = st.repo.reload_all();
                    let models: Vec<String> = st.repo.loaded().keys().cloned().collect();
                    for e in &errors {
                        log::log(Level::Error, "model not reloaded (the old version keeps serving)", fields! {"error" => e.clone()});
                    }
                    log::log(Level::Info, "reloaded", fields! {"models" => models});
                });
            }
        }
    };
    state.ready.store(false, Ordering::Relaxed);
    drop(listener);
    drop(grpc_listener);
    log::log(
        Level::Info,
        "shutting down: finishing in-flight requests",
        fields! {"signal" => why, "deadline_ms" => shutdown_ms},
    );
    tokio::select! {
        _ = graceful.shutdown() => {
            log::log(Level::Info, "stopped", fields! {});
        }
        _ = tokio::time::sleep(Duration::from_millis(shutdown_ms)) => {
            log::log(Level::Warn, "shutdown deadline passed; exiting with requests unfinished", fields! {});
        }
    }
    0
}
