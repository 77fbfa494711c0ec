//! The webhook outbox: deliveries queued with their notifications (see `notifications`),
//! handed to the delivery job and marked as each attempt went. A delivery is pending until
//! it is delivered or given up; the job decides the back-off and when to give up.

use chrono::{DateTime, Utc};

use domain::notification::Notification;
use domain::Result;

use crate::database::Database;
use crate::mapping::{clip, queue_id, to_db_time};
use crate::rows::webhook_delivery::{self, ERROR_CHARS};

/// One pending delivery of a notification to a webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The delivery's own id: what receivers deduplicate on.
    pub id: u64,
    /// The configured webhook's name.
    pub endpoint: String,
    pub notification_id: u64,
    pub notification: Notification,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// The outbox on the database.
#[derive(Clone, Debug)]
pub struct WebhookOutboxStore {
    db: Database,
}

impl WebhookOutboxStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Up to `limit` pending deliveries whose next attempt is due at `now`, oldest first.
    /// Errors: `Unavailable`, `Internal`.
    pub async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<WebhookDelivery>> {
        self.db
            .read(move |conn| {
                Ok(
                    webhook_delivery::due(conn, to_db_time(now), i64::from(limit))?
                        .into_iter()
                        .map(WebhookDelivery::try_from)
                        .collect::<Result<Vec<_>>>()?,
                )
            })
            .await
    }

    /// Marks the delivery delivered (a finished one keeps its outcome).
    /// Errors: `Unavailable`, `Internal`.
    pub async fn delivered(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        let id = queue_id("delivery", id)?;
        self.db
            .write(move |conn| Ok(webhook_delivery::delivered(conn, id, to_db_time(at))?))
            .await
    }

    /// Records a failed attempt: retried at `next_attempt`, or given up when `None`.
    /// The error is kept (cut to the column's 1,024 characters) for operators.
    /// Errors: `Unavailable`, `Internal`.
    pub async fn failed(
        &self,
        id: u64,
        next_attempt: Option<DateTime<Utc>>,
        error: String,
    ) -> Result<()> {
        let id = queue_id("delivery", id)?;
        self.db
            .write(move |conn| {
                Ok(webhook_delivery::failed(
                    conn,
                    id,
                    next_attempt.map(to_db_time),
                    clip(&error, ERROR_CHARS),
                )?)
            })
            .await
    }
}
