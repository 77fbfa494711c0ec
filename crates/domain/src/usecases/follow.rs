//! What a request does right after its commit with what its change recorded: it sends the
//! charge-service payments it recorded itself and runs the resource tasks it queued, so
//! the answer reflects them more often than not. Whatever it cannot finish stays recorded
//! for the background jobs; a request never touches what other requests or runs recorded.

use crate::change::Change;
use crate::error::Result;
use crate::payment::Payment;

use super::settle::Settled;
use super::tasks::TaskRun;
use super::UseCases;

/// A committed change's follow-up work: the open payments and the tasks it recorded.
#[derive(Clone, Debug, Default)]
pub(super) struct Committed {
    pub payments: Vec<Payment>,
    pub tasks: Vec<u64>,
}

impl UseCases {
    /// Commits `change`; returns what it recorded for after the commit.
    ///
    /// Errors: those of [`crate::ports::ChangeStore::commit`].
    pub(super) async fn commit(&self, change: Change) -> Result<Committed> {
        let change = self.releasing_in_store(change);
        let payments = open_payments(&change);
        let tasks = self.ports.changes.commit(change).await?;
        Ok(Committed { payments, tasks })
    }

    /// Commits each of `changes` as [`UseCases::commit`] would (together where the store
    /// can); returns each one's follow-up work or why it was not written.
    ///
    /// Errors: those of [`crate::ports::ChangeStore::commit_each`].
    pub(super) async fn commit_each(&self, changes: Vec<Change>) -> Result<Vec<Result<Committed>>> {
        let changes: Vec<Change> = changes
            .into_iter()
            .map(|change| self.releasing_in_store(change))
            .collect();
        let payments: Vec<Vec<Payment>> = changes.iter().map(open_payments).collect();
        let written = self.ports.changes.commit_each(changes).await?;
        Ok(written
            .into_iter()
            .zip(payments)
            .map(|(tasks, payments)| tasks.map(|tasks| Committed { payments, tasks }))
            .collect())
    }

    /// `change` with the releases of resources the store keeps made part of it (see
    /// [`Change::release_in_store`]): nothing is left to run after the commit for those.
    fn releasing_in_store(&self, change: Change) -> Change {
        change.release_in_store(|resource| self.ports.provisioning.kept_in_store(resource))
    }

    /// Sends the payments `committed` recorded that no order waits for (refunds, settlements
    /// of used service): best effort, what is not settled now is the settler's.
    pub(super) async fn settle_recorded(&self, committed: &Committed) {
        for payment in committed.payments.iter().filter(|p| !p.deferred) {
            match self.settle_now(payment.clone()).await {
                Settled::Taken | Settled::NotSent => {}
                other => log::info!(
                    "order {}: payment {} left for the settler: {other:?}",
                    payment.id.order,
                    payment.id
                ),
            }
        }
    }

    /// Runs the tasks `committed` queued; what they did.
    pub(super) async fn run_recorded(&self, committed: &Committed) -> Vec<TaskRun> {
        self.run_own_tasks(committed.tasks.clone()).await
    }
}

/// The payments `change` records that are still to be sent.
fn open_payments(change: &Change) -> Vec<Payment> {
    change
        .payments()
        .iter()
        .filter(|p| p.state.is_open())
        .cloned()
        .collect()
}
