//! The embedded provisioning: instead of asking the platform, an order's resource is
//! recorded in DF_RESOURCE, with the platform's one rule that matters to billing enforced
//! here too: a live volume or service instance name is unique within its project, region
//! and kind. So a deployment without a platform (`make run`, tests) behaves like one. A
//! resource is described without its order (see [`Resource`]), so one whose order was
//! never written is recorded and released all the same.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use domain::ids::{OrderId, ProjectId, Region, ResourceName};
use domain::ports::{Clock, Provisioning};
use domain::provisioning::{Resource, ResourceKind};
use domain::{Error, Result};

use crate::backend::{DbConnection, DbTime};
use crate::database::Database;
use crate::error::{classify, violates_key, Failure, RepoError};
use crate::mapping::{kind_label, to_db_time};
use crate::rows::resource::{self, NamedResource, NewResourceRow, ACTIVE_NAME_KEY};

/// A resource as the embedded provisioning recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionedResource {
    pub order_id: OrderId,
    pub project: ProjectId,
    pub region: Region,
    pub kind: ResourceKind,
    pub name: Option<ResourceName>,
    pub created_at: DateTime<Utc>,
    /// `None` while the resource lives.
    pub released_at: Option<DateTime<Utc>>,
}

/// [`Provisioning`] recorded in the database. Times come from the clock, so a moved clock
/// (`--now`, tests) dates the records consistently with the orders.
#[derive(Clone)]
pub struct ResourceStore {
    db: Database,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ResourceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceStore")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl ResourceStore {
    pub fn new(db: Database, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// The resource recorded for the order, released or not. Errors: `Unavailable`,
    /// `Internal`.
    pub async fn find(&self, order: &OrderId) -> Result<Option<ProvisionedResource>> {
        let order = order.clone();
        self.db
            .read(move |conn| {
                resource::find(conn, order.as_str())?
                    .map(ProvisionedResource::try_from)
                    .transpose()
                    .map_err(RepoError::from)
            })
            .await
    }
}

#[async_trait]
impl Provisioning for ResourceStore {
    async fn provision(&self, resource: &Resource) -> Result<()> {
        let at = to_db_time(self.clock.now());
        let resource = resource.clone();
        self.db
            .write(move |conn| provision(conn, &resource, at))
            .await
    }

    /// Releases the order's record and what it held (see the module's `release`, which a
    /// change that ends an order runs too).
    async fn release(&self, resource: &Resource) -> Result<()> {
        let at = to_db_time(self.clock.now());
        let resource = resource.clone();
        self.db
            .write(move |conn| Ok(release(conn, &resource, at)?))
            .await
    }

    /// The records are this database's: the change that opens an order records its
    /// resource (see `record`).
    fn kept_in_store(&self, _resource: &Resource) -> bool {
        true
    }
}

/// Releases the order's record and, for a named resource, the live one holding its name (a
/// switch carries a volume or instance over to the new order without recording it again);
/// for a quota, every live quota record of the project in the region (the quota is one
/// setting of the project's, which a release resets). A task runs it, or the change that
/// ends the order (see `changes`).
pub(crate) fn release(
    conn: &mut DbConnection,
    resource: &Resource,
    at: DbTime,
) -> diesel::QueryResult<()> {
    let kind = kind_label(resource.kind);
    resource::release(conn, resource.order_id.as_str(), at)?;
    if resource.kind == ResourceKind::Quota {
        resource::release_quotas(
            conn,
            resource.project.as_str(),
            resource.region.as_str(),
            kind,
            at,
        )?;
    } else if let Some(name) = &resource.name {
        let held = NamedResource {
            account_id: resource.project.as_str(),
            region: resource.region.as_str(),
            kind,
            name: name.as_str(),
        };
        resource::release_named(conn, &held, at)?;
    }
    Ok(())
}

/// Records the order's resource unless it already has one (a repeat of the same order).
fn provision(
    conn: &mut DbConnection,
    wanted: &Resource,
    at: DbTime,
) -> std::result::Result<(), RepoError> {
    if resource::find(conn, wanted.order_id.as_str())?.is_some() {
        return Ok(());
    }
    record(conn, wanted, at)
}

/// Records a new resource: `DuplicateResourceName` when a live one of the project, region
/// and kind holds its name; nothing when the same order recorded it concurrently.
pub(crate) fn record(
    conn: &mut DbConnection,
    wanted: &Resource,
    at: DbTime,
) -> std::result::Result<(), RepoError> {
    let name = wanted.name.as_ref().map(ResourceName::as_str);
    let row = NewResourceRow {
        order_id: wanted.order_id.as_str(),
        account_id: wanted.project.as_str(),
        region: wanted.region.as_str(),
        kind: kind_label(wanted.kind),
        name,
        active_name: name,
        created_at: at,
    };
    match resource::insert(conn, &row) {
        Ok(()) => Ok(()),
        Err(e) if violates_key(&e, ACTIVE_NAME_KEY) => Err(RepoError::Domain(
            Error::DuplicateResourceName(name.unwrap_or_default().to_owned()),
        )),
        // The same order, provisioned concurrently: that one recorded it.
        Err(e) if classify(&e) == Failure::Duplicate => Ok(()),
        Err(e) => Err(e.into()),
    }
}
