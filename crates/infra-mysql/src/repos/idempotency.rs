//! What the store remembers of requests made under idempotency keys. Keys are recorded by
//! the changes (and recharges) they name, in the same transaction; this store reads them,
//! keeps the answer given, and forgets old ones.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use domain::idempotency::{IdempotencyKey, Remembered};
use domain::ids::ProjectId;
use domain::ports::IdempotencyStore;
use domain::{Error, Result};

use crate::database::Database;
use crate::mapping::{remembered, to_db_time};
use crate::rows::idempotency;

/// [`IdempotencyStore`] on the database.
#[derive(Clone, Debug)]
pub struct IdempotencyKeys {
    db: Database,
}

impl IdempotencyKeys {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl IdempotencyStore for IdempotencyKeys {
    async fn find(&self, project: &ProjectId, key: &IdempotencyKey) -> Result<Option<Remembered>> {
        let (project, key) = (project.clone(), key.clone());
        self.db
            .read(move |conn| {
                let row = idempotency::find(conn, project.as_str(), key.as_str())?;
                let name = format!("ACCOUNT_ID={project:?} IDEM_KEY={:?}", key.as_str());
                Ok(row.map(|row| remembered(&name, row)).transpose()?)
            })
            .await
    }

    /// A key not recorded (forgotten meanwhile, or its change rolled back) keeps nothing.
    async fn answer(
        &self,
        project: &ProjectId,
        key: &IdempotencyKey,
        status: u16,
        body: String,
    ) -> Result<()> {
        let status = i16::try_from(status)
            .map_err(|_| Error::Internal(format!("HTTP status {status} out of range")))?;
        let (project, key) = (project.clone(), key.clone());
        self.db
            .write(move |conn| {
                Ok(idempotency::answer(
                    conn,
                    project.as_str(),
                    key.as_str(),
                    status,
                    &body,
                )?)
            })
            .await
    }

    async fn forget(&self, before: DateTime<Utc>) -> Result<u64> {
        self.db
            .write(move |conn| {
                let forgotten = idempotency::forget(conn, to_db_time(before))?;
                Ok(u64::try_from(forgotten).unwrap_or(u64::MAX))
            })
            .await
    }
}
