//! DF_RESOURCE rows and their queries.

use diesel::prelude::*;

use crate::backend::{execute_cached, DbConnection, DbTime};
use crate::schema::resource::{self, dsl};

/// Marker of the duplicate-name key in unique-violation messages (MySQL names the key,
/// SQLite lists its columns; both contain this, and neither does for the primary key).
pub(crate) const ACTIVE_NAME_KEY: &str = "ACTIVE_NAME";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = resource)]
pub(crate) struct ResourceRow {
    pub order_id: String,
    pub account_id: String,
    pub region: String,
    pub kind: String,
    pub name: Option<String>,
    pub created_at: DbTime,
    pub released_at: Option<DbTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = resource)]
pub(crate) struct NewResourceRow<'a> {
    pub order_id: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    pub kind: &'a str,
    pub name: Option<&'a str>,
    pub active_name: Option<&'a str>,
    pub created_at: DbTime,
}

pub(crate) fn insert(conn: &mut DbConnection, row: &NewResourceRow<'_>) -> QueryResult<()> {
    execute_cached(conn, diesel::insert_into(resource::table).values(row)).map(drop)
}

pub(crate) fn find(conn: &mut DbConnection, order_id: &str) -> QueryResult<Option<ResourceRow>> {
    resource::table
        .filter(dsl::order_id.eq(order_id))
        .select(ResourceRow::as_select())
        .first(conn)
        .optional()
}

/// Releases the order's resource if it is not released yet, freeing its name.
pub(crate) fn release(conn: &mut DbConnection, order_id: &str, at: DbTime) -> QueryResult<()> {
    diesel::update(
        resource::table
            .filter(dsl::order_id.eq(order_id))
            .filter(dsl::released_at.is_null()),
    )
    .set((
        dsl::released_at.eq(Some(at)),
        dsl::active_name.eq(None::<&str>),
    ))
    .execute(conn)
    .map(drop)
}

/// Releases the live resource holding `name` for the project, region and kind, whichever
/// order recorded it: a switch carries a volume or instance over to the new order without
/// recording it again, so the order that ends it may not be the one that created it.
pub(crate) fn release_named(
    conn: &mut DbConnection,
    held: &NamedResource<'_>,
    at: DbTime,
) -> QueryResult<()> {
    diesel::update(
        resource::table
            .filter(dsl::account_id.eq(held.account_id))
            .filter(dsl::region.eq(held.region))
            .filter(dsl::kind.eq(held.kind))
            .filter(dsl::active_name.eq(held.name)),
    )
    .set((
        dsl::released_at.eq(Some(at)),
        dsl::active_name.eq(None::<&str>),
    ))
    .execute(conn)
    .map(drop)
}

/// Releases every live quota of the project in the region, whichever order recorded it:
/// a quota is one setting of the project's, which a release resets.
pub(crate) fn release_quotas(
    conn: &mut DbConnection,
    account_id: &str,
    region: &str,
    kind: &str,
    at: DbTime,
) -> QueryResult<()> {
    diesel::update(
        resource::table
            .filter(dsl::account_id.eq(account_id))
            .filter(dsl::region.eq(region))
            .filter(dsl::kind.eq(kind))
            .filter(dsl::released_at.is_null()),
    )
    .set(dsl::released_at.eq(Some(at)))
    .execute(conn)
    .map(drop)
}

/// A resource's name where it is unique: its project, region and kind.
pub(crate) struct NamedResource<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
}
