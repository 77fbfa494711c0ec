//! What `serviceusage reconcile` checks, read from the store: the projects that have money
//! or orders, and one project's books read in one snapshot (one read transaction).

use async_trait::async_trait;

use domain::consumption::Consumption;
use domain::ids::ProjectId;
use domain::order::Order;
use domain::payment::Payment;
use domain::ports::BooksRepository;
use domain::reconcile::ProjectBooks;
use domain::{Money, Result};

use crate::database::Database;
use crate::error::corrupt;
use crate::rows::{balance, consumption, order, payment, recharge};

/// [`BooksRepository`] on the database.
#[derive(Clone, Debug)]
pub struct BooksStore {
    db: Database,
}

impl BooksStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl BooksRepository for BooksStore {
    /// The first `limit` ids after `after` of each table, merged: the first `limit` of
    /// their union are among them.
    async fn projects(&self, after: Option<ProjectId>, limit: u32) -> Result<Vec<ProjectId>> {
        self.db
            .read(move |conn| {
                let after = after.as_ref().map_or("", ProjectId::as_str);
                let limit = i64::from(limit);
                let mut ids = balance::projects(conn, after, limit)?;
                ids.extend(order::projects(conn, after, limit)?);
                ids.extend(recharge::projects(conn, after, limit)?);
                ids.sort_unstable();
                ids.dedup();
                ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                Ok(ids
                    .iter()
                    .map(|id| {
                        ProjectId::parse(id)
                            .map_err(|e| corrupt("DF_BALANCE", &format!("ACCOUNT_ID={id:?}"), e))
                    })
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }

    async fn books(&self, project: &ProjectId) -> Result<ProjectBooks> {
        let project = project.clone();
        self.db
            .snapshot(move |conn| {
                let id = project.as_str();
                let balance = balance::find(conn, id)?.map(|row| Money::from_minor(row.amount));
                let recharges = recharge::amounts(conn, id)?
                    .into_iter()
                    .map(Money::from_minor)
                    .collect();
                let orders = order::of_project(conn, id)?
                    .into_iter()
                    .map(Order::try_from)
                    .collect::<Result<Vec<_>>>()?;
                let rows = consumption::of_project(conn, id)?
                    .into_iter()
                    .map(Consumption::try_from)
                    .collect::<Result<Vec<_>>>()?;
                let payments = payment::of_project(conn, id)?
                    .into_iter()
                    .map(Payment::try_from)
                    .collect::<Result<Vec<_>>>()?;
                Ok(ProjectBooks {
                    project: Some(project.clone()),
                    balance,
                    recharges,
                    orders,
                    rows,
                    payments,
                })
            })
            .await
    }
}
