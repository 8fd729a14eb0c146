//! The load driver: a fixed number of workers, each sending one request after another for a
//! warm-up and then a measured window, with latencies in an HDR histogram (microseconds, three
//! significant digits).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::error::Result;
use crate::scenarios::{Done, Scenario, Shared, Worker};

/// How hard and how long to drive a scenario.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one scenario measured on one server.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Measurement {
    /// Requests completed in the measured window, failed ones included.
    pub requests: u64,
    pub errors: u64,
    /// The measured window: shorter than asked when the scenario ran out of rows.
    pub seconds: f64,
    /// Successful requests per second.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The first few failures, for the report.
    pub error_samples: Vec<String>,
    pub exhausted: bool,
}

struct WorkerResult {
    histogram: Histogram<u64>,
    ok: u64,
    errors: u64,
    samples: Vec<String>,
    finished: Instant,
    exhausted: bool,
}

const KEPT_ERROR_SAMPLES: usize = 5;

fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 120_000_000, 3)?)
}

async fn work(
    shared: Arc<Shared>,
    scenario: Scenario,
    mut worker: Worker,
    measure_from: Instant,
    until: Instant,
) -> Result<WorkerResult> {
    let mut result = WorkerResult {
        histogram: histogram()?,
        ok: 0,
        errors: 0,
        samples: Vec::new(),
        finished: until,
        exhausted: false,
    };
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let done = shared.one(scenario, &mut worker).await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let measured = started >= measure_from;
        match done {
            Done::Exhausted => {
                result.exhausted = true;
                result.finished = started;
                break;
            }
            Done::Ok if measured => {
                result.histogram.saturating_record(micros);
                result.ok += 1;
            }
            Done::Failed(message) if measured => {
                result.histogram.saturating_record(micros);
                result.errors += 1;
                if result.samples.len() < KEPT_ERROR_SAMPLES {
                    result.samples.push(message);
                }
            }
            Done::Ok | Done::Failed(_) => {}
        }
    }
    Ok(result)
}

fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Runs `scenario` against `shared.target` with `load`.
pub async fn drive(shared: Arc<Shared>, scenario: Scenario, load: Load, seed: u64) -> Result<Measurement> {
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let until = measure_from + load.duration;
    let mut tasks = Vec::with_capacity(load.concurrency);
    for index in 0..load.concurrency {
        let worker = Worker::new(index, load.concurrency, scenario, &shared.fixture, seed);
        tasks.push(tokio::spawn(work(shared.clone(), scenario, worker, measure_from, until)));
    }
    let mut total = histogram()?;
    let (mut ok, mut errors, mut samples, mut exhausted) = (0u64, 0u64, Vec::new(), false);
    let mut last_finish = measure_from;
    for task in tasks {
        let result = task.await??;
        total.add(&result.histogram)?;
        ok += result.ok;
        errors += result.errors;
        exhausted |= result.exhausted;
        last_finish = last_finish.max(result.finished.min(until));
        for sample in result.samples {
            if samples.len() < KEPT_ERROR_SAMPLES {
                samples.push(sample);
            }
        }
    }
    let seconds = last_finish.saturating_duration_since(measure_from).as_secs_f64();
    let requests = ok + errors;
    let quantile = |q: f64| if requests == 0 { 0.0 } else { millis(total.value_at_quantile(q)) };
    Ok(Measurement {
        requests,
        errors,
        seconds,
        throughput: if seconds > 0.0 { ok as f64 / seconds } else { 0.0 },
        p50_ms: quantile(0.50),
        p90_ms: quantile(0.90),
        p99_ms: quantile(0.99),
        max_ms: if requests == 0 { 0.0 } else { millis(total.max()) },
        error_samples: samples,
        exhausted,
    })
}
