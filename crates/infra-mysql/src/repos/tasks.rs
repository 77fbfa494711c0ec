//! The queue of resource tasks (releases, quota settings). Changes queue them in their own
//! transaction (see `changes`); this store queues the one kind that comes before any
//! change (a safety-net release), hands due tasks to the runner and records each run.
//! Claiming is a compare-and-set on the attempts, so two runners never run one attempt
//! twice, and a task once claimed can no longer be cancelled.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use domain::ports::TaskQueue;
use domain::provisioning::{NewTask, QueuedTask};
use domain::{Error, Result};

use crate::database::Database;
use crate::mapping::{clip, new_task, queue_id, row_id, to_db_time};
use crate::rows::task::{self, CancelledAt, ERROR_CHARS};
use crate::telemetry;

/// [`TaskQueue`] on the database.
#[derive(Clone, Debug)]
pub struct TaskStore {
    db: Database,
}

impl TaskStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl TaskQueue for TaskStore {
    /// Queued as of its due time: the task carries no other time, and the store has no
    /// clock.
    async fn enqueue(&self, queued: NewTask) -> Result<u64> {
        self.db
            .write(move |conn| {
                let id = task::insert(conn, &new_task(&queued, queued.due_at))?;
                Ok(row_id("DF_RESOURCE_TASK", "new", id)?)
            })
            .await
    }

    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        only: Option<Vec<u64>>,
    ) -> Result<Vec<QueuedTask>> {
        let only = only
            .map(|ids| {
                ids.into_iter()
                    .map(|id| queue_id("task", id))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        self.db
            .read(move |conn| {
                Ok(
                    task::due(conn, to_db_time(now), i64::from(limit), only.as_deref())?
                        .into_iter()
                        .map(QueuedTask::try_from)
                        .collect::<Result<Vec<_>>>()?,
                )
            })
            .await
    }

    async fn claim(&self, id: u64, attempts: u32, retry_at: DateTime<Utc>) -> Result<bool> {
        let id = queue_id("task", id)?;
        let Ok(attempts) = i32::try_from(attempts) else {
            return Err(Error::Internal(format!(
                "task {id}: {attempts} attempts exceed the INT column"
            )));
        };
        self.db
            .write(move |conn| Ok(task::claim(conn, id, attempts, to_db_time(retry_at))?))
            .await
    }

    async fn done(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        let id = queue_id("task", id)?;
        self.db
            .write(move |conn| Ok(task::done(conn, id, to_db_time(at))?))
            .await?;
        telemetry::task_ran(true);
        Ok(())
    }

    /// The error is kept cut to the column's 1,024 characters.
    async fn failed(&self, id: u64, error: String) -> Result<()> {
        let id = queue_id("task", id)?;
        self.db
            .write(move |conn| Ok(task::failed(conn, id, clip(&error, ERROR_CHARS))?))
            .await?;
        telemetry::task_ran(false);
        Ok(())
    }

    async fn due_at(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        let id = queue_id("task", id)?;
        self.db
            .write(move |conn| Ok(task::due_at(conn, id, to_db_time(at))?))
            .await
    }

    /// Marked done as of when it was queued: the store has no clock of its own.
    async fn cancel(&self, id: u64) -> Result<bool> {
        let id = queue_id("task", id)?;
        self.db
            .write(move |conn| Ok(task::cancel(conn, id, CancelledAt::Created)?))
            .await
    }
}
