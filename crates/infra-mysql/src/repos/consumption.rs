//! Consumption history, read side (rows are written by the order transactions).

use async_trait::async_trait;

use domain::consumption::Consumption;
use domain::ids::OrderId;
use domain::page::{Page, PageRequest};
use domain::ports::{ConsumptionRepository, UsageFilter};
use domain::Result;

use crate::database::Database;
use crate::rows::{consumption, Window};

/// Orders per `WHERE ORDER_ID IN (…)`: a page of records at the largest, far below every
/// placeholder limit.
const ORDERS_PER_READ: usize = 1_000;

/// [`ConsumptionRepository`] on the database.
#[derive(Clone, Debug)]
pub struct ConsumptionStore {
    db: Database,
}

impl ConsumptionStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ConsumptionRepository for ConsumptionStore {
    async fn list(&self, filter: UsageFilter, page: PageRequest) -> Result<Page<Consumption>> {
        self.db
            .read(move |conn| {
                let (rows, total) = consumption::page(conn, &filter, Window::of(page))?;
                let items = rows
                    .into_iter()
                    .map(Consumption::try_from)
                    .collect::<Result<Vec<_>>>()?;
                Ok(Page::exact(u64::try_from(total).unwrap_or_default(), items))
            })
            .await
    }

    /// One statement for up to `ORDERS_PER_READ` orders.
    async fn for_orders(&self, orders: &[OrderId]) -> Result<Vec<Consumption>> {
        let ids: Vec<String> = orders.iter().map(|id| id.as_str().to_owned()).collect();
        self.db
            .read(move |conn| {
                let mut rows = Vec::new();
                for chunk in ids.chunks(ORDERS_PER_READ) {
                    let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
                    for row in consumption::for_orders(conn, &chunk)? {
                        rows.push(Consumption::try_from(row)?);
                    }
                }
                Ok(rows)
            })
            .await
    }

    async fn for_order(&self, order: &OrderId) -> Result<Vec<Consumption>> {
        let order = order.clone();
        self.db
            .read(move |conn| {
                Ok(consumption::for_order(conn, order.as_str())?
                    .into_iter()
                    .map(Consumption::try_from)
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }
}
