//! The queue of platform releases to retry. A release that failed when its order ended is
//! queued here by order id; the retry loop reads each entry with its order's current row
//! (what the platform adapter needs to find the resource) and records how each attempt
//! went.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use domain::order::Order;
use domain::ports::{QueuedRelease, ReleaseQueue};
use domain::{Error, Result};

use crate::database::Database;
use crate::error::{violates_key, RepoError};
use crate::mapping::{clip, queue_id, queued_release, to_db_time};
use crate::rows::order;
use crate::rows::release::{self, NewReleaseRow, ERROR_CHARS, ORDER_KEY};

/// [`ReleaseQueue`] on the database.
#[derive(Clone, Debug)]
pub struct ReleaseStore {
    db: Database,
}

impl ReleaseStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ReleaseQueue for ReleaseStore {
    async fn enqueue(&self, order: &Order, at: DateTime<Utc>) -> Result<()> {
        let id = order.id.clone();
        let at = to_db_time(at);
        self.db
            .write(move |conn| {
                if order::find(conn, id.as_str())?.is_none() {
                    return Err(RepoError::from(Error::NotFound(format!(
                        "order {id} is not in the store; its release cannot be queued"
                    ))));
                }
                match release::find(conn, id.as_str())? {
                    Some((_, false)) => Ok(()),
                    Some((entry, true)) => Ok(release::reopen(conn, entry, at)?),
                    None => {
                        let row = NewReleaseRow {
                            order_id: id.as_str(),
                            created_at: at,
                            attempts: 0,
                            next_attempt_at: at,
                        };
                        match release::insert(conn, &row) {
                            // Another replica queued it between the read and the insert:
                            // the release is owed either way.
                            Err(e) if violates_key(&e, ORDER_KEY) => Ok(()),
                            other => Ok(other?),
                        }
                    }
                }
            })
            .await
    }

    async fn pending(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<QueuedRelease>> {
        self.db
            .read(move |conn| {
                Ok(release::pending(conn, to_db_time(now), i64::from(limit))?
                    .into_iter()
                    .map(queued_release)
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }

    async fn done(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        let id = queue_id("release", id)?;
        self.db
            .write(move |conn| Ok(release::finished(conn, id, to_db_time(at))?))
            .await
    }

    async fn failed(&self, id: u64, next_attempt: DateTime<Utc>, error: String) -> Result<()> {
        let id = queue_id("release", id)?;
        self.db
            .write(move |conn| {
                Ok(release::failed(
                    conn,
                    id,
                    to_db_time(next_attempt),
                    clip(&error, ERROR_CHARS),
                )?)
            })
            .await
    }
}
