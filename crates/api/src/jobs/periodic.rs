//! The loop every background job of the server runs in: one run at start, then one every
//! interval, never two at once in one process, stopped with the server.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::log_context::Scoped;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{interval, timeout, MissedTickBehavior};

/// How long the server waits, once stopped, for a run in progress to finish before
/// abandoning it. Every job's work is safe to abandon: a renewal batch rolls back, an
/// undelivered credit or webhook stays queued.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// What a job does on each tick.
#[async_trait(?Send)]
pub trait Periodic: 'static {
    /// One run. It logs its own failures: the loop goes on whatever happened.
    async fn run_once(&self);
}

/// A started job; [`RunningJob::stop`] ends it.
pub struct RunningJob {
    name: &'static str,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts `job` on the current actix runtime: a run now, then one every `every`.
pub fn spawn<P: Periodic>(name: &'static str, every: Duration, job: P) -> RunningJob {
    let (stop, stopped) = watch::channel(false);
    let task = actix_web::rt::spawn(run(name, job, every, stopped));
    RunningJob { name, stop, task }
}

/// Each run logs under its own id, `<name>-<n>` (`renewal-1`, `renewal-2`…), as a request
/// does under its request id.
async fn run<P: Periodic>(
    name: &'static str,
    job: P,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticks = interval(every);
    // A run longer than the interval delays the next one instead of causing a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut runs: u64 = 0;
    loop {
        // The run itself is not raced against the stop signal: it is cut short only when
        // the grace period of `stop` runs out.
        tokio::select! {
            _ = ticks.tick() => {
                runs += 1;
                Scoped::new(Arc::from(format!("{name}-{runs}")), job.run_once()).await;
            }
            _ = stopped.changed() => return,
        }
    }
}

impl RunningJob {
    /// Lets a run in progress finish (for at most `STOP_GRACE`) and ends the loop.
    pub async fn stop(self) {
        // The receiver lives as long as the loop; if the loop is gone there is nothing to stop.
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if timeout(STOP_GRACE, self.task).await.is_err() {
            log::warn!(
                "{} run still busy {}s after stop; abandoned",
                self.name,
                STOP_GRACE.as_secs()
            );
            abort.abort();
        }
    }
}
