//! Retrying the releases of platform resources that failed when their order ended. The
//! order is settled by then, so a failed release does not fail the request or run that
//! ended it; instead it is queued in the store (see [`UseCases::release_resource`]) and
//! tried again here, backing off like credits (10 s, 20 s, 40 s … at most an hour), until
//! the platform answers. Otherwise a volume, instance or quota could stay on the platform
//! with no order paying for it.

use crate::error::Result;

use super::deliver_credits::next_attempt;
use super::UseCases;

/// Releases asked for per call: enough to drain a normal backlog in one tick, few enough
/// that one call stays short.
const BATCH: u32 = 100;

/// What one retry round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReleaseTally {
    /// Resources the platform released (or no longer had).
    pub released: u64,
    /// Releases that failed again; each waits for its next attempt.
    pub failed: u64,
}

impl UseCases {
    /// Tries again the queued releases due now (up to 100, oldest first). Each one that
    /// succeeds is marked done; each failure is recorded with its next attempt at now +
    /// min(10 s × 2^attempts so far, 1 h). Run on every background tick.
    ///
    /// Errors: `Unavailable`, `Internal` (the store). A failed release is no error: it is
    /// counted, logged and retried later.
    pub async fn retry_releases(&self) -> Result<ReleaseTally> {
        let now = self.ports.clock.now();
        let pending = self.ports.releases.pending(now, BATCH).await?;
        let mut tally = ReleaseTally::default();
        for queued in pending {
            let order = &queued.order;
            match self.ports.provisioning.release(order).await {
                Ok(()) => {
                    log::info!(
                        "order {}: resource released on retry {}",
                        order.id,
                        u64::from(queued.attempts) + 1
                    );
                    self.ports.releases.done(queued.id, now).await?;
                    tally.released += 1;
                }
                Err(e) => {
                    let next = next_attempt(now, queued.attempts);
                    log::warn!(
                        "order {}: resource of project {} in {} not released, retry {}; \
                         next at {next}: {e}",
                        order.id,
                        order.project,
                        order.region,
                        u64::from(queued.attempts) + 1
                    );
                    self.ports
                        .releases
                        .failed(queued.id, next, e.to_string())
                        .await?;
                    tally.failed += 1;
                }
            }
        }
        Ok(tally)
    }
}
