//! Faults injected in front of any store: the next commits (of changes and of renewal
//! batches) may fail before writing, or write and then lose their answer — what a database
//! that goes away, or a connection dropped at COMMIT, does to a request or a run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::change::Change;
use crate::error::{Error, Result};
use crate::idempotency::IdempotencyRecord;
use crate::ids::{OrderId, PlanId};
use crate::ports::{BatchOutcome, ChangeStore, RenewalRepository};
use crate::renewal::{RenewalBatch, RenewalDecision, RenewalQueue, RenewalRules};

/// A fault to inject into the next commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The commit fails with this error and writes nothing.
    Fail(Error),
    /// The commit writes everything, then answers with this error (the answer was lost).
    LoseAnswer(Error),
}

/// The faults waiting for the next commits; clones share them.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<VecDeque<Fault>>>);

impl Faults {
    /// The next commits meet these faults, in order.
    pub fn inject(&self, fault: Fault) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(fault);
    }

    /// Drops the faults not met yet.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn next(&self) -> Option<Fault> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
    }

    /// Runs `commit` through the next fault, if any.
    async fn through<T, F>(&self, commit: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        match self.next() {
            Some(Fault::Fail(e)) => Err(e),
            Some(Fault::LoseAnswer(e)) => commit.await.and(Err(e)),
            None => commit.await,
        }
    }
}

/// A change store whose commits meet [`Faults`].
pub struct FaultyChanges {
    /// The store the commits reach when no fault is due.
    pub inner: Arc<dyn ChangeStore>,
    /// The faults to meet, shared with the test.
    pub faults: Faults,
}

#[async_trait]
impl ChangeStore for FaultyChanges {
    async fn commit(&self, change: Change) -> Result<Vec<u64>> {
        self.faults.through(self.inner.commit(change)).await
    }

    /// One fault for the whole call, as for a renewal batch: the changes are written
    /// together.
    async fn commit_each(&self, changes: Vec<Change>) -> Result<Vec<Result<Vec<u64>>>> {
        self.faults.through(self.inner.commit_each(changes)).await
    }
}

/// A renewal store whose batches meet [`Faults`] (the claims and reads do not).
pub struct FaultyRenewals {
    /// The store the batches reach when no fault is due.
    pub inner: Arc<dyn RenewalRepository>,
    /// The faults to meet, shared with the test.
    pub faults: Faults,
}

#[async_trait]
impl RenewalRepository for FaultyRenewals {
    async fn due_plans(&self, queue: RenewalQueue, due_by: DateTime<Utc>) -> Result<Vec<PlanId>> {
        self.inner.due_plans(queue, due_by).await
    }

    async fn renew_batch(
        &self,
        batch: RenewalBatch,
        rules: Arc<dyn RenewalRules>,
    ) -> Result<BatchOutcome> {
        self.faults
            .through(self.inner.renew_batch(batch, rules))
            .await
    }

    async fn renew_order(
        &self,
        order: &OrderId,
        rules: Arc<dyn RenewalRules>,
        key: Option<IdempotencyRecord>,
    ) -> Result<Option<RenewalDecision>> {
        self.faults
            .through(self.inner.renew_order(order, rules, key))
            .await
    }
}
