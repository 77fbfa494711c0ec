//! Whether the database answers, and whether its schema is current.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use diesel::prelude::*;

use domain::ports::StoreHealth;
use domain::Result;

use crate::backend;
use crate::database::Database;
use crate::error::RepoError;

// Where diesel records the migrations it applied. Read here as a plain table: asking
// diesel's harness would first create it, which a deployment whose tables someone else
// upgrades may not allow.
diesel::table! {
    __diesel_schema_migrations (version) {
        version -> VarChar,
    }
}

/// [`StoreHealth`] on the database: `SELECT 1` on a pooled connection; the migrations
/// recorded against those embedded in the build.
#[derive(Clone, Debug)]
pub struct HealthStore {
    db: Database,
    /// Set once the schema was found current: migrations are never taken back, so later
    /// checks need no query.
    current: Arc<AtomicBool>,
}

impl HealthStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            current: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[async_trait]
impl StoreHealth for HealthStore {
    async fn ping(&self) -> Result<()> {
        self.db
            .read(|conn| {
                diesel::sql_query("SELECT 1").execute(conn)?;
                Ok(())
            })
            .await
    }

    /// A database whose migrations table does not exist yet fails the query: not current.
    async fn schema_current(&self) -> Result<bool> {
        if self.current.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let current = self
            .db
            .read(|conn| {
                let expected = backend::embedded_migrations(conn).map_err(RepoError::from)?;
                let applied: Vec<String> = match __diesel_schema_migrations::table
                    .select(__diesel_schema_migrations::version)
                    .load(conn)
                {
                    Ok(applied) => applied,
                    Err(e) => {
                        log::debug!("no migrations recorded yet: {e}");
                        return Ok(false);
                    }
                };
                Ok(expected.iter().all(|version| applied.contains(version)))
            })
            .await?;
        if current {
            self.current.store(true, Ordering::Relaxed);
        }
        Ok(current)
    }
}
