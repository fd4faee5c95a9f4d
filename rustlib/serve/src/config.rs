//! The command line (every flag also from a `FERROKIT_SERVE_*` environment variable).

use clap::Parser;
use std::path::PathBuf;

/// ferrokit-serve: an Open Inference Protocol (KServe V2) server for ferrokit
/// model files.
///
/// REST endpoints: /v2/health/live, /v2/health/ready, /v2, /v2/models/{name}[/versions/1],
/// /v2/models/{name}/ready, POST /v2/models/{name}/infer (JSON, or Triton binary tensor
/// data with Inference-Header-Content-Length), /v2/repository/index,
/// /v2/repository/models/{name}/load|unload, /metrics (Prometheus).
/// SIGTERM / SIGINT: stop accepting, finish in-flight requests, exit 0.
/// SIGHUP: reload every model file without dropping requests.
/// gRPC (with --grpc-port): inference.GRPCInferenceService, typed contents or
/// raw_input_contents / raw_output_contents.
#[derive(Debug, Clone, Parser)]
#[command(name = "ferrokit-serve", version, about, long_about)]
pub struct Config {
    /// A model file, or a folder of them (*.fk, *.fkmlp, *.fkmodel; model name = file stem).
    #[arg(env = "FERROKIT_SERVE_MODEL_PATH", value_name = "PATH")]
    pub path: PathBuf,

    /// Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).
    #[arg(long, env = "FERROKIT_SERVE_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// HTTP port (0: any free port, printed in the "listening" log line).
    #[arg(long, env = "FERROKIT_SERVE_PORT", default_value_t = 8080)]
    pub port: u16,

    /// gRPC port (inference.GRPCInferenceService over HTTP/2; 0: any free
    /// port, logged). No gRPC listener unless set.
    #[arg(long, env = "FERROKIT_SERVE_GRPC_PORT")]
    pub grpc_port: Option<u16>,

    /// Runtime worker threads (0: one per CPU).
    #[arg(long, env = "FERROKIT_SERVE_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Adaptive batching: most rows per kernel call (1: batching off).
    #[arg(long, env = "FERROKIT_SERVE_MAX_BATCH_SIZE", default_value_t = 1)]
    pub max_batch_size: usize,

    /// Adaptive batching: how long (ms) a request waits for others to join its batch.
    #[arg(long, env = "FERROKIT_SERVE_MAX_BATCH_DELAY_MS", default_value_t = 2.0)]
    pub max_batch_delay_ms: f64,

    /// Inference requests computed at the same time (0: one per CPU).
    #[arg(long, env = "FERROKIT_SERVE_MAX_CONCURRENCY", default_value_t = 0)]
    pub max_concurrency: usize,

    /// Inference requests that may wait (for a free slot, or per model in the
    /// batch queue); more are answered 503 with Retry-After.
    #[arg(long, env = "FERROKIT_SERVE_MAX_QUEUE", default_value_t = 1024)]
    pub max_queue: usize,

    /// Largest request body in bytes; larger ones are answered 413.
    #[arg(long, env = "FERROKIT_SERVE_MAX_BODY_BYTES", default_value_t = 16 << 20)]
    pub max_body_bytes: usize,

    /// Time (ms) to receive a request's headers and body; slower clients get 408
    /// (or the connection closed while headers are incomplete).
    #[arg(long, env = "FERROKIT_SERVE_READ_TIMEOUT_MS", default_value_t = 30_000)]
    pub read_timeout_ms: u64,

    /// Time (ms) an inference may wait and compute before it is answered 504.
    #[arg(
        long,
        env = "FERROKIT_SERVE_REQUEST_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub request_timeout_ms: u64,

    /// On SIGTERM/SIGINT, time (ms) given to in-flight requests before exiting.
    #[arg(
        long,
        env = "FERROKIT_SERVE_SHUTDOWN_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub shutdown_timeout_ms: u64,

    /// Most verbose log level written to stderr (off, error, warn, info, debug).
    #[arg(long, env = "FERROKIT_SERVE_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Level of the one line logged per request (off, error, warn, info, debug).
    #[arg(long, env = "FERROKIT_SERVE_REQUEST_LOG_LEVEL", default_value = "info")]
    pub request_log_level: String,

    /// Require `Authorization: Bearer <TOKEN>` on every endpoint except
    /// /v2/health/live and /v2/health/ready. Prefer the environment variable
    /// (a flag is visible in the process list).
    #[arg(long, env = "FERROKIT_SERVE_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: Option<String>,
}
