//! The queue of credits owed back by charge services. Credits enter it inside the order
//! transactions that write their rows (see `orders`); this store hands them to the delivery
//! loop and records how each attempt went.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use domain::ports::{CreditQueue, QueuedCredit};
use domain::Result;

use crate::database::Database;
use crate::mapping::{clip, queue_id, to_db_time};
use crate::rows::credit::{self, ERROR_CHARS};

/// [`CreditQueue`] on the database.
#[derive(Clone, Debug)]
pub struct CreditStore {
    db: Database,
}

impl CreditStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CreditQueue for CreditStore {
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<QueuedCredit>> {
        self.db
            .read(move |conn| {
                Ok(credit::due(conn, to_db_time(now), i64::from(limit))?
                    .into_iter()
                    .map(QueuedCredit::try_from)
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }

    async fn delivered(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        let id = queue_id("credit", id)?;
        self.db
            .write(move |conn| Ok(credit::finished(conn, id, to_db_time(at))?))
            .await
    }

    async fn failed(&self, id: u64, next_attempt: DateTime<Utc>, error: String) -> Result<()> {
        let id = queue_id("credit", id)?;
        self.db
            .write(move |conn| {
                Ok(credit::failed(
                    conn,
                    id,
                    to_db_time(next_attempt),
                    clip(&error, ERROR_CHARS),
                )?)
            })
            .await
    }
}
