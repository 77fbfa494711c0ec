//! Forgetting idempotency keys once they are old enough: a client retrying after that is
//! making a new request (Stripe keeps keys a day; deployments choose at least that).

use chrono::TimeDelta;

use crate::error::Result;

use super::UseCases;

impl UseCases {
    /// Forgets the keys recorded more than `kept_for` ago; returns how many.
    /// Errors: `Unavailable`, `Internal`.
    pub async fn forget_keys(&self, kept_for: TimeDelta) -> Result<u64> {
        let now = self.ports.clock.now();
        let before = now.checked_sub_signed(kept_for).unwrap_or(now);
        self.ports.idempotency.forget(before).await
    }
}
