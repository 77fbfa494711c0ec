//! Prometheus metrics: one recorder per process, installed by [`install`] before anything is
//! measured (the first thing `Application::build` does) and rendered by `GET /metrics`.
//! Every crate emits through the `metrics` facade where the event happens — the HTTP
//! middleware here, the change writer and the pool in infra-mysql, each remote call in
//! infra-http, the jobs on their use cases' reports — and nothing is read from the
//! database when the metrics are scraped. `crates/domain` knows nothing of it.
//! `docs/operations.md` lists every metric.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

pub mod backlog;
pub mod http;
pub mod jobs;
pub mod orders;

pub use backlog::Backlog;
pub use http::record_request;

/// Latency buckets of every `_seconds` histogram, for a fast API: 0.5 ms to 5 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// A renewal run takes from milliseconds (nothing due) to minutes (a month's catch-up).
const RUN_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
/// How often histogram samples are folded into their buckets when nobody scrapes, so an
/// unscraped process does not keep every sample.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder on the first call and returns its handle; later calls
/// (a second application in one test process) return the same handle. If some other
/// recorder was installed first, the handle renders an empty page, and the log says why.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = builder()
            .unwrap_or_else(|error| {
                log::warn!("metrics: default histogram buckets ({error})");
                PrometheusBuilder::new()
            })
            .build_recorder();
        let handle = recorder.handle();
        match metrics::set_global_recorder(recorder) {
            Ok(()) => {
                describe();
                infra_mysql::describe_metrics();
                infra_http::describe_metrics();
                spawn_upkeep(handle.clone());
            }
            Err(error) => log::warn!("metrics: another recorder is installed: {error}"),
        }
        handle
    })
}

fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets(LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(jobs::RENEWAL_RUN_SECONDS.into()), RUN_BUCKETS)
}

/// Folds histogram samples on a thread of its own, for the life of the process.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        log::warn!("metrics: no upkeep thread, samples fold only when scraped: {error}");
    }
}

/// The help lines of the api's own metrics.
fn describe() {
    http::describe();
    jobs::describe();
    backlog::describe();
    orders::describe();
}
