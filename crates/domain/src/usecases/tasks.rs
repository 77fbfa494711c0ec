//! The task runner: carries out the resource tasks that changes queued (releases, quota
//! settings). Each task re-checks the store before it acts, so one run late, twice, or
//! after a newer order took the resource over, never undoes what that order set up:
//!
//! - a release does nothing while an open order holds the resource's name;
//! - a quota setting sets the project's quota in the region to what the order holding it
//!   provides, or resets it when no order does.
//!
//! A quota the platform refuses to set for the order holding it ends that order with its
//! charge refunded in full (it never had its quota), unless a payment of the order (or of
//! the order replacing it) is out: ending it then would have that payment taken for an
//! ended order, so the task waits for the answer. A quota is never set for an order whose
//! first payment is out. Any other failure is retried with back-off (10 s doubling to an
//! hour) until the platform answers.

use chrono::{DateTime, Utc};

use crate::change::ChangeBuilder;
use crate::closing::{Closing, Refund};
use crate::error::{Error, Result};
use crate::notification::{Notification, NotificationKind};
use crate::order::{Order, OrderStatus};
use crate::provisioning::{NewTask, QueuedTask, Resource, TaskAction};
use crate::retry::Backoff;

use super::UseCases;

/// Tasks read per round.
const BATCH: u32 = 100;

/// What one round of tasks did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskTally {
    /// Tasks finished, a refused quota included (its order was ended and refunded).
    pub done: u64,
    /// Failed this time; each runs again after its back-off.
    pub failed: u64,
}

/// How one task ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TaskRun {
    Done,
    /// The quota could not be set for this order, which was ended and refunded.
    Refunded(Box<Order>, String),
    Failed(String),
    /// Another runner has it, or it is done.
    NotRun,
}

impl UseCases {
    /// Runs the tasks due now (up to 100, oldest first). Run by the background job every
    /// few seconds.
    ///
    /// Errors: `Unavailable`, `Internal` (reading the queue). A failed task is no error: it
    /// is counted, logged and run again later.
    pub async fn run_tasks(&self) -> Result<TaskTally> {
        let now = self.ports.clock.now();
        let due = self.ports.tasks.due(now, BATCH, None).await?;
        let mut tally = TaskTally::default();
        for task in due {
            match self.run_task(task).await {
                TaskRun::Done | TaskRun::Refunded(..) => tally.done += 1,
                TaskRun::Failed(_) => tally.failed += 1,
                TaskRun::NotRun => {}
            }
        }
        Ok(tally)
    }

    /// Runs the tasks a request queued itself, right after its commit; what they did.
    pub(super) async fn run_own_tasks(&self, ids: Vec<u64>) -> Vec<TaskRun> {
        if ids.is_empty() {
            return Vec::new();
        }
        let now = self.ports.clock.now();
        let queued = match self.ports.tasks.due(now, BATCH, Some(ids)).await {
            Ok(queued) => queued,
            Err(e) => {
                log::warn!("queued resource tasks left for the background job: {e}");
                return Vec::new();
            }
        };
        let mut runs = Vec::with_capacity(queued.len());
        for task in queued {
            runs.push(self.run_task(task).await);
        }
        runs
    }

    async fn run_task(&self, task: QueuedTask) -> TaskRun {
        let now = self.ports.clock.now();
        let attempts = task.attempts.saturating_add(1);
        let retry_at = Backoff::PROMPT.next_attempt(now, attempts);
        match self
            .ports
            .tasks
            .claim(task.id, task.attempts, retry_at)
            .await
        {
            Ok(true) => {}
            Ok(false) => return TaskRun::NotRun,
            Err(e) => return TaskRun::Failed(e.to_string()),
        }
        let resource = &task.resource;
        let outcome = match task.action {
            TaskAction::Release => self.release(resource).await.map(|()| TaskRun::Done),
            TaskAction::SyncQuota => self.sync_quota(resource, now).await,
        };
        let (run, finished) = match outcome {
            Ok(run) => (run, true),
            Err(e) => (TaskRun::Failed(e.to_string()), false),
        };
        let recorded = if finished {
            self.ports.tasks.done(task.id, now).await
        } else {
            self.ports.tasks.failed(task.id, describe(&run)).await
        };
        match &run {
            TaskRun::Failed(why) => log::warn!(
                "order {}: {} of its {:?} in {} failed (attempt {attempts}), retried at \
                 {retry_at}: {why}",
                resource.order_id,
                task.action.label(),
                resource.kind,
                resource.region
            ),
            _ => log::info!(
                "order {}: {} of its {:?} done",
                resource.order_id,
                task.action.label(),
                resource.kind
            ),
        }
        if let Err(e) = recorded {
            log::warn!(
                "task {} ran but could not be recorded, it runs again: {e}",
                task.id
            );
        }
        run
    }

    /// Releases the resource unless an open order holds it.
    async fn release(&self, resource: &Resource) -> Result<()> {
        if let Some(holder) = self.ports.orders.holder(resource).await? {
            log::info!(
                "order {}: its {:?} is held by order {}, not released",
                resource.order_id,
                resource.kind,
                holder.id
            );
            return Ok(());
        }
        self.ports.provisioning.release(resource).await
    }

    /// Sets the project's quota in the region to what the order holding it provides, or
    /// resets it. A refusal to set it ends that order, refunded.
    async fn sync_quota(&self, resource: &Resource, now: DateTime<Utc>) -> Result<TaskRun> {
        let Some(holder) = self.ports.orders.holder(resource).await? else {
            self.ports.provisioning.release(resource).await?;
            return Ok(TaskRun::Done);
        };
        if holder.status == OrderStatus::Pending {
            // Its quota is set once its first payment is taken (a task of that change); a
            // decline ends it and resets the quota. Until then this waits and runs again.
            return Err(Error::Conflict(format!(
                "order {} holds the quota but waits for its first payment",
                holder.id
            )));
        }
        let Some(wanted) = Resource::of(&holder) else {
            return Err(Error::Internal(format!(
                "order {} holds a quota but provides none",
                holder.id
            )));
        };
        match self.ports.provisioning.provision(&wanted).await {
            Ok(()) => Ok(TaskRun::Done),
            Err(Error::ProvisioningFailed(why)) => {
                let ended = self.refund_unprovisioned(&holder, &why, now).await?;
                Ok(TaskRun::Refunded(Box::new(ended), why))
            }
            Err(e) => Err(e),
        }
    }

    /// Ends `order`, whose quota the platform refused to set, at its start with everything
    /// it paid given back (it never had what it paid for), and queues the quota's reset to
    /// what remains.
    async fn refund_unprovisioned(
        &self,
        order: &Order,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Order> {
        let history = self.ports.usages.for_order(&order.id).await?;
        let closing = Closing::of(
            order,
            &history,
            order.start_time,
            Refund::Unused,
            &self.policy.calendar,
        )?;
        let refunded = closing.refunded;
        let ended = closing.order.clone();
        let mut change = ChangeBuilder::new();
        closing.write(order, &mut change)?;
        change.event(Notification::about(
            &ended,
            NotificationKind::OrderEnded,
            now,
            refunded
                .checked_neg()
                .ok_or_else(|| Error::Internal("refund overflowed".into()))?,
            format!("ended, {refunded} refunded: the platform refused its quota ({why})"),
        ));
        if let Some(resource) = Resource::of(&ended) {
            change.task(NewTask::after_change(resource, now));
        }
        // The quota's reset, and a refund kept by a charge service, are the background
        // jobs': this runs inside a task (or a settlement) already.
        self.commit(change.seal()?).await?;
        log::warn!(
            "order {}: its quota was refused ({why}); ended and {refunded} refunded",
            order.id
        );
        Ok(ended)
    }
}

fn describe(run: &TaskRun) -> String {
    match run {
        TaskRun::Failed(why) => why.clone(),
        TaskRun::Done | TaskRun::NotRun => String::new(),
        TaskRun::Refunded(order, why) => format!("order {} refunded: {why}", order.id),
    }
}
