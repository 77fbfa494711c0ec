//! The loop every background job of the server runs in: one run at start, then one every
//! interval, never two at once in one process, stopped with the server. A run has a
//! limit: one that exceeds it (a connection hung on a dead network, a remote call that
//! never ends) is abandoned and logged, and the next tick starts afresh, so nothing can
//! wedge a job for good. Abandoning is safe for the same reason stopping is: a renewal
//! batch not committed rolls back, an undelivered payment or webhook stays queued. (Work
//! already handed to a blocking database thread finishes there, bounded by the
//! connection's statement timeout; its outcome is dropped.)

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

/// Starts `job` on the current actix runtime: a run now, then one every `every`, each
/// abandoned once it has taken `limit`.
pub fn spawn<P: Periodic>(
    name: &'static str,
    every: Duration,
    limit: Duration,
    job: P,
) -> RunningJob {
    let (stop, stopped) = watch::channel(false);
    let task = actix_web::rt::spawn(run(name, job, every, limit, stopped));
    RunningJob { name, stop, task }
}

/// Each run logs under its own id, `<name>-<n>` (`renewal-1`, `renewal-2`…), as a request
/// does under its request id.
async fn run<P: Periodic>(
    name: &'static str,
    job: P,
    every: Duration,
    limit: Duration,
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
                let run = Scoped::new(Arc::from(format!("{name}-{runs}")), job.run_once());
                if timeout(limit, run).await.is_err() {
                    log::error!(
                        "{name} run still busy after {}s; abandoned, the next one starts afresh",
                        limit.as_secs()
                    );
                }
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// A job whose first run never ends (a connection hung for good) and whose later runs
    /// return at once; counts the runs started.
    struct HangsOnce(Rc<Cell<u32>>);

    #[async_trait(?Send)]
    impl Periodic for HangsOnce {
        async fn run_once(&self) {
            let run = self.0.get() + 1;
            self.0.set(run);
            if run == 1 {
                std::future::pending::<()>().await;
            }
        }
    }

    #[actix_web::test]
    async fn a_run_past_its_limit_is_abandoned_and_the_next_tick_runs_again() {
        let runs = Rc::new(Cell::new(0));
        let job = spawn(
            "test",
            Duration::from_millis(10),
            Duration::from_millis(30),
            HangsOnce(runs.clone()),
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        job.stop().await;
        assert!(runs.get() >= 3, "{} runs", runs.get());
    }
}
