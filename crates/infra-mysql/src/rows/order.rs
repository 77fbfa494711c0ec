//! DF_PURCHASE_ORDER rows and their queries.

use diesel::prelude::*;

use domain::ids::Region;
use domain::order::OrderStatus;
use domain::payment::RegionScope;
use domain::ports::OrderFilter;

use super::Window;
use crate::backend::{DbConnection, DbTime, MultiBackend};
use crate::schema::purchase_order::{self, dsl};

/// Marker of the duplicate-name key in unique-violation messages (MySQL names the key,
/// SQLite lists its columns; both contain this).
pub(crate) const ACTIVE_RESOURCE_NAME_KEY: &str = "ACTIVE_RESOURCE_NAME";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = purchase_order)]
pub(crate) struct OrderRow {
    pub id: i64,
    pub order_id: String,
    pub account_id: String,
    pub region: String,
    pub plan_id: String,
    pub plan_type: String,
    pub charging_mode: i16,
    pub quantities: i32,
    pub start_time: DbTime,
    pub end_time: Option<DbTime>,
    pub deadline_time: DbTime,
    pub last_consume_id: i32,
    pub renew_retries: i32,
    pub last_warned_at: Option<DbTime>,
    pub status: i16,
    pub creator: String,
    pub resource_name: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = purchase_order)]
pub(crate) struct NewOrderRow<'a> {
    pub order_id: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    pub plan_id: &'a str,
    pub plan_type: &'a str,
    pub charging_mode: i16,
    pub quantities: i32,
    pub start_time: DbTime,
    pub end_time: Option<DbTime>,
    pub deadline_time: DbTime,
    pub last_consume_id: i32,
    pub renew_retries: i32,
    pub last_warned_at: Option<DbTime>,
    pub status: i16,
    pub creator: &'a str,
    pub resource_name: Option<&'a str>,
    pub active_resource_name: Option<&'a str>,
}

/// What ending an order writes, guarded by what the caller saw.
#[derive(Debug)]
pub(crate) struct EndOrder<'a> {
    pub order_id: &'a str,
    pub expected_last_consume_id: i32,
    pub end_time: DbTime,
    pub last_consume_id: i32,
}

pub(crate) fn insert(conn: &mut DbConnection, row: &NewOrderRow<'_>) -> QueryResult<()> {
    diesel::insert_into(purchase_order::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn find(conn: &mut DbConnection, order_id: &str) -> QueryResult<Option<OrderRow>> {
    purchase_order::table
        .filter(dsl::order_id.eq(order_id))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

fn filtered<'a>(filter: &'a OrderFilter) -> purchase_order::BoxedQuery<'a, MultiBackend> {
    let mut query = purchase_order::table
        .filter(dsl::account_id.eq(filter.project.as_str()))
        .filter(dsl::status.eq(filter.status.code()))
        .into_boxed();
    if let Some(region) = &filter.region {
        query = query.filter(dsl::region.eq(region.as_str()));
    }
    query
}

/// Newest start first; the id breaks ties so pages never overlap or skip.
pub(crate) fn list(
    conn: &mut DbConnection,
    filter: &OrderFilter,
    window: Window,
) -> QueryResult<Vec<OrderRow>> {
    filtered(filter)
        .order((dsl::start_time.desc(), dsl::id.desc()))
        .limit(window.limit)
        .offset(window.offset)
        .select(OrderRow::as_select())
        .load(conn)
}

pub(crate) fn count(conn: &mut DbConnection, filter: &OrderFilter) -> QueryResult<i64> {
    filtered(filter).count().get_result(conn)
}

/// Ends the order if it is not ended and its last consume id is still the expected one;
/// frees its resource name. Returns whether it did.
pub(crate) fn end(conn: &mut DbConnection, change: &EndOrder<'_>) -> QueryResult<bool> {
    let ended = OrderStatus::Ended.code();
    diesel::update(
        purchase_order::table
            .filter(dsl::order_id.eq(change.order_id))
            .filter(dsl::status.ne(ended))
            .filter(dsl::last_consume_id.eq(change.expected_last_consume_id)),
    )
    .set((
        dsl::status.eq(ended),
        dsl::end_time.eq(Some(change.end_time)),
        dsl::last_consume_id.eq(change.last_consume_id),
        dsl::active_resource_name.eq(None::<&str>),
    ))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// A renewal decision's new state for one order, guarded by the state it was decided from.
#[derive(Debug)]
pub(crate) struct RenewOrder<'a> {
    pub order_id: &'a str,
    pub expected_last_consume_id: i32,
    pub expected_status: i16,
    pub status: i16,
    pub deadline_time: DbTime,
    pub end_time: Option<DbTime>,
    pub last_consume_id: i32,
    pub renew_retries: i32,
    pub last_warned_at: Option<DbTime>,
}

/// Writes the new state if the order still has the expected one; an ended order also
/// frees its resource name. Returns whether it did. Two fixed statement shapes, so each
/// stays one cached prepared statement.
pub(crate) fn renew(conn: &mut DbConnection, change: &RenewOrder<'_>) -> QueryResult<bool> {
    let target = purchase_order::table
        .filter(dsl::order_id.eq(change.order_id))
        .filter(dsl::last_consume_id.eq(change.expected_last_consume_id))
        .filter(dsl::status.eq(change.expected_status));
    let state = (
        dsl::status.eq(change.status),
        dsl::deadline_time.eq(change.deadline_time),
        dsl::end_time.eq(change.end_time),
        dsl::last_consume_id.eq(change.last_consume_id),
        dsl::renew_retries.eq(change.renew_retries),
        dsl::last_warned_at.eq(change.last_warned_at),
    );
    let updated = if change.status == OrderStatus::Ended.code() {
        diesel::update(target)
            .set((state, dsl::active_resource_name.eq(None::<&str>)))
            .execute(conn)?
    } else {
        diesel::update(target).set(state).execute(conn)?
    };
    Ok(updated == 1)
}

/// Which regions a query covers, as SQL says it: a residual `REGION [NOT] IN (…)` beside
/// the index range, so the renewal index still serves every scope.
#[derive(Debug)]
pub(crate) enum Regions<'a> {
    All,
    Only(Vec<&'a str>),
    Except(Vec<&'a str>),
}

impl<'a> Regions<'a> {
    /// `None` for a scope that covers no region (an empty `Only`): nothing to query. An
    /// empty `Except` covers every region.
    pub(crate) fn of(scope: &'a RegionScope) -> Option<Self> {
        let names = |regions: &'a [Region]| regions.iter().map(Region::as_str).collect();
        match scope {
            RegionScope::Only(regions) if regions.is_empty() => None,
            RegionScope::Only(regions) => Some(Regions::Only(names(regions))),
            RegionScope::Except(regions) if !regions.is_empty() => {
                Some(Regions::Except(names(regions)))
            }
            RegionScope::All | RegionScope::Except(_) => Some(Regions::All),
        }
    }
}

/// The distinct plans of a queue's orders in `regions` due by `due_by`.
pub(crate) fn due_plans(
    conn: &mut DbConnection,
    mode: i16,
    status: i16,
    due_by: DbTime,
    regions: &Regions<'_>,
) -> QueryResult<Vec<String>> {
    let query = purchase_order::table
        .filter(dsl::charging_mode.eq(mode))
        .filter(dsl::status.eq(status))
        .filter(dsl::deadline_time.le(due_by))
        .into_boxed();
    let query = match regions {
        Regions::All => query,
        Regions::Only(names) => query.filter(dsl::region.eq_any(names)),
        Regions::Except(names) => query.filter(dsl::region.ne_all(names)),
    };
    query.select(dsl::plan_id).distinct().load(conn)
}
