//! Prometheus metrics: requests by model and status, latency and batch-size
//! histograms, queue depth and requests in flight, in the text exposition
//! format (`GET /metrics`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Upper bounds of the batch-size histogram's buckets (rows).
pub const BATCH_BUCKETS: [f64; 12] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];

/// A histogram with fixed buckets (counts kept per bucket, cumulated when rendered).
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micro: AtomicU64,
}

impl Histogram {
    /// A histogram over `bounds` (plus +Inf).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micro: AtomicU64::new(0),
        }
    }
    /// Records one value.
    pub fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|&b| v <= b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_micro
            .fetch_add((v * 1e6).round().max(0.0) as u64, Ordering::Relaxed);
    }
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut acc = 0;
        for (i, c) in self.counts.iter().enumerate() {
            acc += c.load(Ordering::Relaxed);
            let le = match self.bounds.get(i) {
                Some(b) => format!("{b}"),
                None => "+Inf".into(),
            };
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {acc}");
        }
        let sum = self.sum_micro.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {acc}");
    }
}

/// The counters of one model (kept across reloads).
pub struct ModelStats {
    statuses: Mutex<BTreeMap<u16, u64>>,
    pub latency: Histogram,
    pub batch_rows: Histogram,
    pub batch_requests: AtomicU64,
    /// Jobs waiting in the batch queue (shared with the batcher).
    pub queue: Arc<AtomicUsize>,
}

impl ModelStats {
    fn new() -> ModelStats {
        ModelStats {
            statuses: Mutex::new(BTreeMap::new()),
            latency: Histogram::new(&LATENCY_BUCKETS),
            batch_rows: Histogram::new(&BATCH_BUCKETS),
            batch_requests: AtomicU64::new(0),
            queue: Arc::new(AtomicUsize::new(0)),
        }
    }
    /// Counts one answered inference request.
    pub fn request(&self, status: u16, seconds: f64) {
        *self
            .statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_insert(0) += 1;
        self.latency.observe(seconds);
    }
}

impl crate::batching::BatchObserver for ModelStats {
    fn batch(&self, rows: usize, jobs: usize) {
        self.batch_rows.observe(rows as f64);
        self.batch_requests
            .fetch_add(jobs as u64, Ordering::Relaxed);
    }
}

/// Every metric of the server.
#[derive(Default)]
pub struct Metrics {
    models: Mutex<BTreeMap<String, Arc<ModelStats>>>,
    /// Requests being answered now (any endpoint).
    pub inflight: AtomicI64,
    /// Answers to requests that named no loaded model or no route, by status.
    other: Mutex<BTreeMap<u16, u64>>,
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// The stats of `model`, created on first use.
    pub fn model(&self, model: &str) -> Arc<ModelStats> {
        let mut m = self.models.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = m.get(model) {
            return s.clone();
        }
        let s = Arc::new(ModelStats::new());
        m.insert(model.to_string(), s.clone());
        s
    }
    /// Counts an answer that belongs to no model.
    pub fn other(&self, status: u16) {
        *self
            .other
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_insert(0) += 1;
    }
    /// The text exposition format.
    ///
    /// ```
    /// let m = ferrokit_serve::metrics::Metrics::default();
    /// m.model("iris").request(200, 0.0004);
    /// assert!(m.render().contains("ferrokit_serve_requests_total{model=\"iris\",status=\"200\"} 1"));
    /// ```
    pub fn render(&self) -> String {
        let models = self
            .models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut o = String::with_capacity(4096);
        o.push_str("# HELP ferrokit_serve_requests_total Inference requests answered, by model and HTTP status.\n");
        o.push_str("# TYPE ferrokit_serve_requests_total counter\n");
        for (name, s) in &models {
            for (st, n) in s.statuses.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                let _ = writeln!(
                    o,
                    "ferrokit_serve_requests_total{{model=\"{}\",status=\"{st}\"}} {n}",
                    esc(name)
                );
            }
        }
        o.push_str("# HELP ferrokit_serve_other_responses_total Answers to requests for no loaded model or no route, by status.\n");
        o.push_str("# TYPE ferrokit_serve_other_responses_total counter\n");
        for (st, n) in self.other.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                o,
                "ferrokit_serve_other_responses_total{{status=\"{st}\"}} {n}"
            );
        }
        o.push_str("# HELP ferrokit_serve_request_duration_seconds Inference request latency (body read to answer).\n");
        o.push_str("# TYPE ferrokit_serve_request_duration_seconds histogram\n");
        for (name, s) in &models {
            let l = format!("model=\"{}\"", esc(name));
            s.latency
                .render(&mut o, "ferrokit_serve_request_duration_seconds", &l);
        }
        o.push_str(
            "# HELP ferrokit_serve_batch_rows Rows per kernel call of the adaptive batcher.\n",
        );
        o.push_str("# TYPE ferrokit_serve_batch_rows histogram\n");
        for (name, s) in &models {
            let l = format!("model=\"{}\"", esc(name));
            s.batch_rows.render(&mut o, "ferrokit_serve_batch_rows", &l);
        }
        o.push_str(
            "# HELP ferrokit_serve_batched_requests_total Requests answered through the batcher.\n",
        );
        o.push_str("# TYPE ferrokit_serve_batched_requests_total counter\n");
        for (name, s) in &models {
            let _ = writeln!(
                o,
                "ferrokit_serve_batched_requests_total{{model=\"{}\"}} {}",
                esc(name),
                s.batch_requests.load(Ordering::Relaxed)
            );
        }
        o.push_str(
            "# HELP ferrokit_serve_queue_depth Requests waiting in the model's batch queue.\n",
        );
        o.push_str("# TYPE ferrokit_serve_queue_depth gauge\n");
        for (name, s) in &models {
            let _ = writeln!(
                o,
                "ferrokit_serve_queue_depth{{model=\"{}\"}} {}",
                esc(name),
                s.queue.load(Ordering::Relaxed)
            );
        }
        o.push_str("# HELP ferrokit_serve_inflight_requests Requests being answered now.\n");
        o.push_str("# TYPE ferrokit_serve_inflight_requests gauge\n");
        let _ = writeln!(
            o,
            "ferrokit_serve_inflight_requests {}",
            self.inflight.load(Ordering::Relaxed)
        );
        o
    }
}
