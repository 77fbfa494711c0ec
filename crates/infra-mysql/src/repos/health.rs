//! Whether the database answers.

use async_trait::async_trait;
use diesel::RunQueryDsl;

use domain::ports::StoreHealth;
use domain::Result;

use crate::database::Database;

/// [`StoreHealth`] on the database: `SELECT 1` on a pooled connection.
#[derive(Clone, Debug)]
pub struct HealthStore {
    db: Database,
}

impl HealthStore {
    pub fn new(db: Database) -> Self {
        Self { db }
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
}
