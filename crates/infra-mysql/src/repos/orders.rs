//! Orders, read side: one order, a project's list, and who holds a resource now. Orders
//! are written by changes (see `changes`).

use async_trait::async_trait;

use domain::ids::OrderId;
use domain::order::Order;
use domain::page::{Page, PageRequest};
use domain::ports::{OrderFilter, OrderRepository};
use domain::provisioning::{Resource, ResourceKind};
use domain::Result;

use crate::database::Database;
use crate::error::RepoError;
use crate::rows::order::{self, HeldName, OrderRow};
use crate::rows::Window;

/// Ids per `WHERE ORDER_ID IN (…)`: a renewal batch's size, well below every placeholder
/// limit.
const ORDERS_PER_READ: usize = 500;

/// Rows as orders; a corrupt row fails the whole read.
fn orders(rows: Vec<OrderRow>) -> Result<Vec<Order>> {
    rows.into_iter().map(Order::try_from).collect()
}

/// [`OrderRepository`] on the database.
#[derive(Clone, Debug)]
pub struct OrderStore {
    db: Database,
}

impl OrderStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl OrderRepository for OrderStore {
    async fn find(&self, id: &OrderId) -> Result<Option<Order>> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                order::find(conn, id.as_str())?
                    .map(Order::try_from)
                    .transpose()
                    .map_err(RepoError::from)
            })
            .await
    }

    async fn find_all(&self, ids: &[OrderId]) -> Result<Vec<Order>> {
        let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        self.db
            .read(move |conn| {
                let mut orders = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(ORDERS_PER_READ) {
                    let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
                    for row in order::find_all(conn, &chunk)? {
                        orders.push(Order::try_from(row)?);
                    }
                }
                Ok(orders)
            })
            .await
    }

    /// An everyday list (one status, perhaps a region) is one statement outside a
    /// transaction; any other filter reads its total (kept or bounded) and its page in one
    /// snapshot, so that the two agree.
    async fn list(&self, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>> {
        let window = Window::of(page);
        if let Some(status) = order::everyday_status(&filter) {
            return self
                .db
                .read(move |conn| {
                    let (rows, total) = order::page(conn, &filter, status, window)?;
                    Ok(Page::exact(
                        u64::try_from(total).unwrap_or_default(),
                        orders(rows)?,
                    ))
                })
                .await;
        }
        self.db
            .snapshot(move |conn| {
                if filter.is_counted() {
                    let (rows, total) = order::page_summed(conn, &filter, window)?;
                    Ok(Page::exact(
                        u64::try_from(total).unwrap_or_default(),
                        orders(rows)?,
                    ))
                } else {
                    let (rows, counted) = order::page_counted(conn, &filter, window)?;
                    Ok(Page::counted(counted, orders(rows)?))
                }
            })
            .await
    }

    /// Read through the unique keys that hold resources: ACTIVE_QUOTA for a quota,
    /// ACTIVE_RESOURCE_NAME for a named volume or instance (an unnamed one has no holder).
    async fn holder(&self, resource: &Resource) -> Result<Option<Order>> {
        let resource = resource.clone();
        self.db
            .read(move |conn| {
                let row = match (&resource.kind, &resource.name) {
                    (ResourceKind::Quota, _) => order::quota_holder(
                        conn,
                        resource.project.as_str(),
                        resource.region.as_str(),
                    )?,
                    (ResourceKind::Volume | ResourceKind::ServiceInstance, Some(name)) => {
                        order::name_holder(
                            conn,
                            &HeldName {
                                project: resource.project.as_str(),
                                region: resource.region.as_str(),
                                plan_type: resource.plan_type.as_str(),
                                name: name.as_str(),
                            },
                        )?
                    }
                    (ResourceKind::Volume | ResourceKind::ServiceInstance, None) => None,
                };
                row.map(Order::try_from)
                    .transpose()
                    .map_err(RepoError::from)
            })
            .await
    }
}
