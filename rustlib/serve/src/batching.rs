//! Adaptive batching: concurrent requests for one model are queued, and a
//! worker thread concatenates the rows of those that arrive within
//! `max_batch_delay` (up to `max_batch_size` rows) into one kernel call per
//! method, then splits the answers.

use crate::model::{Method, MethodOutput, Rows, ServeModel};
use crate::protocol::ApiError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The answer to one job: one output per requested method, or an error.
pub type JobResult = Result<Vec<MethodOutput>, ApiError>;

/// One request's work.
pub struct Job {
    pub rows: Rows,
    pub n: usize,
    pub methods: Vec<Method>,
    pub reply: oneshot::Sender<JobResult>,
}

/// Batching settings of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Most rows in one kernel call (a single larger request runs alone).
    pub max_batch_size: usize,
    /// How long the first request of a batch waits for company.
    pub max_batch_delay: Duration,
    /// Jobs waiting beyond this are refused (503).
    pub queue_capacity: usize,
}

/// Observes the batches (for metrics).
pub trait BatchObserver: Send + Sync {
    /// A batch of `rows` rows from `jobs` requests ran.
    fn batch(&self, rows: usize, jobs: usize);
}

/// The sending side of a model's batch queue. Dropping every clone ends the
/// worker after it has answered what is queued.
#[derive(Clone)]
pub struct Batcher {
    tx: SyncSender<Job>,
    depth: Arc<AtomicUsize>,
    cap: usize,
}

/// Why a job was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is at capacity.
    Full,
    /// The worker is gone.
    Closed,
}

impl Batcher {
    /// Starts the worker thread of `model`. `depth` counts queued jobs.
    pub fn start(
        name: &str,
        model: Arc<dyn ServeModel>,
        cfg: BatchConfig,
        depth: Arc<AtomicUsize>,
        observer: Arc<dyn BatchObserver>,
    ) -> std::io::Result<Batcher> {
        let cap = cfg.queue_capacity.max(1);
        let (tx, rx) = sync_channel(cap);
        let d = depth.clone();
        std::thread::Builder::new()
            .name(format!("batch-{name}"))
            .spawn(move || worker(model, cfg, rx, d, observer))?;
        Ok(Batcher { tx, depth, cap })
    }

    /// Queues a job without waiting. A job counts against the capacity
    /// from here until it is answered (waiting, collecting or computing).
    pub fn submit(&self, job: Job) -> Result<(), SubmitError> {
        if self.depth.fetch_add(1, Ordering::AcqRel) >= self.cap {
            self.depth.fetch_sub(1, Ordering::AcqRel);
            return Err(SubmitError::Full);
        }
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::Relaxed);
                Err(match e {
                    TrySendError::Full(_) => SubmitError::Full,
                    TrySendError::Disconnected(_) => SubmitError::Closed,
                })
            }
        }
    }

    /// Jobs accepted and not yet answered.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

/// Runs each method on `n` rows.
pub fn run_methods(model: &dyn ServeModel, rows: &Rows, n: usize, methods: &[Method]) -> JobResult {
    methods.iter().map(|&m| model.run(m, rows, n)).collect()
}

fn worker(
    model: Arc<dyn ServeModel>,
    cfg: BatchConfig,
    rx: Receiver<Job>,
    depth: Arc<AtomicUsize>,
    observer: Arc<dyn BatchObserver>,
) {
    let done = |k: usize| {
        depth.fetch_sub(k, Ordering::AcqRel);
    };
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut rows: usize = jobs[0].n;
        let deadline = Instant::now() + cfg.max_batch_delay;
        while rows < cfg.max_batch_size {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = if left.is_zero() {
                rx.try_recv().map_err(|_| RecvTimeoutError::Timeout)
            } else {
                rx.recv_timeout(left)
            };
            match next {
                Ok(j) => {
                    rows += j.n;
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        // Requests whose client gave up (timeout) are not computed.
        let before = jobs.len();
        jobs.retain(|j| !j.reply.is_closed());
        done(before - jobs.len());
        while !jobs.is_empty() {
            // One kernel call per group of jobs asking for the same methods
            // with rows of the same element type.
            let key = (
                jobs[0].methods.clone(),
                std::mem::discriminant(&jobs[0].rows),
            );
            let (group, rest): (Vec<Job>, Vec<Job>) = jobs
                .into_iter()
                .partition(|j| j.methods == key.0 && std::mem::discriminant(&j.rows) == key.1);
            jobs = rest;
            run_group(&*model, group, &*observer, &depth);
        }
    }
}

/// Answers a job; it stops counting against the queue first (so a client
/// that sends again as soon as it has its answer finds its place free).
fn reply(j: Job, r: JobResult, depth: &AtomicUsize) {
    depth.fetch_sub(1, Ordering::AcqRel);
    let _ = j.reply.send(r);
}

fn run_group(
    model: &dyn ServeModel,
    group: Vec<Job>,
    observer: &dyn BatchObserver,
    depth: &AtomicUsize,
) {
    let methods = group[0].methods.clone();
    if group.len() == 1 {
        let j = group.into_iter().next().expect("one job");
        observer.batch(j.n, 1);
        let r = run_methods(model, &j.rows, j.n, &methods);
        reply(j, r, depth);
        return;
    }
    let total: usize = group.iter().map(|j| j.n).sum();
    let elems: usize = group.iter().map(|j| j.rows.len()).sum();
    let mut rows = group[0].rows.empty_like(elems);
    for j in &group {
        rows.extend(&j.rows);
    }
    observer.batch(total, group.len());
    match run_methods(model, &rows, total, &methods) {
        Ok(outs) => {
            let mut r0 = 0;
            for j in group {
                let r1 = r0 + j.n;
                let mine = outs.iter().map(|o| o.rows(r0, r1)).collect();
                reply(j, Ok(mine), depth);
                r0 = r1;
            }
        }
        Err(_) => {
            // One request's rows can fail the whole batch (a value a step
            // refuses): answer each on its own, so only that one gets the error.
            for j in group {
                let r = run_methods(model, &j.rows, j.n, &methods);
                reply(j, r, depth);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InputKind, ModelInfo, Native, TensorSpec};
    use crate::protocol::{DataType, OutputData};
    use std::sync::Mutex;

    /// Doubles each number; records the batch sizes it saw.
    struct Doubler {
        info: ModelInfo,
        calls: Mutex<Vec<usize>>,
    }
    impl ServeModel for Doubler {
        fn info(&self) -> &ModelInfo {
            &self.info
        }
        fn run(&self, _m: Method, rows: &Rows, n: usize) -> Result<MethodOutput, ApiError> {
            self.calls.lock().unwrap().push(n);
            let Rows::F64(v) = rows else {
                return Err(ApiError::bad("f64 only"));
            };
            if v.iter().any(|x| x.is_nan()) {
                return Err(ApiError::bad("NaN"));
            }
            Ok(MethodOutput {
                data: OutputData::F64(v.iter().map(|x| 2.0 * x).collect()),
                cols: Some(2),
            })
        }
    }
    struct NoObs;
    impl BatchObserver for NoObs {
        fn batch(&self, _: usize, _: usize) {}
    }

    #[test]
    fn concurrent_jobs_share_a_kernel_call_and_get_their_own_rows() {
        let spec = TensorSpec {
            name: "x".into(),
            datatype: DataType::F64,
            shape: vec![-1, 2],
        };
        let model = Arc::new(Doubler {
            info: ModelInfo {
                platform: "t".into(),
                input_kind: InputKind::Numeric {
                    n_features: 2,
                    dtype: Native::F64,
                },
                input: spec.clone(),
                outputs: vec![(Method::Predict, spec)],
                default_method: Method::Predict,
            },
            calls: Mutex::new(vec![]),
        });
        let cfg = BatchConfig {
            max_batch_size: 64,
            max_batch_delay: Duration::from_millis(200),
            queue_capacity: 16,
        };
        let depth = Arc::new(AtomicUsize::new(0));
        let b = Batcher::start("t", model.clone(), cfg, depth, Arc::new(NoObs)).unwrap();
        let mut rxs = vec![];
        for i in 0..5 {
            let (tx, rx) = oneshot::channel();
            let n = i % 3;
            let rows = Rows::F64((0..2 * n).map(|k| (100 * i + k) as f64).collect());
            b.submit(Job {
                rows,
                n,
                methods: vec![Method::Predict],
                reply: tx,
            })
            .unwrap();
            rxs.push((i, n, rx));
        }
        for (i, n, rx) in rxs {
            let out = rx.blocking_recv().unwrap().unwrap();
            let want: Vec<f64> = (0..2 * n).map(|k| 2.0 * (100 * i + k) as f64).collect();
            assert_eq!(out[0].data, OutputData::F64(want));
        }
        // 0 + 1 + 2 + 0 + 1 rows in one call.
        assert_eq!(*model.calls.lock().unwrap(), vec![4]);
        // A job the model refuses fails alone; its batch mates are answered.
        let mut rxs = vec![];
        for bad in [false, true, false] {
            let (tx, rx) = oneshot::channel();
            let v = if bad { f64::NAN } else { 1.0 };
            b.submit(Job {
                rows: Rows::F64(vec![v, v]),
                n: 1,
                methods: vec![Method::Predict],
                reply: tx,
            })
            .unwrap();
            rxs.push((bad, rx));
        }
        for (bad, rx) in rxs {
            let r = rx.blocking_recv().unwrap();
            assert_eq!(r.is_err(), bad);
        }
        assert_eq!(b.depth(), 0);
        drop(b);
    }
}
