//! DF_PURCHASE_ORDER rows and their queries.

use diesel::prelude::*;

use domain::filter::TimeRange;
use domain::ids::Region;
use domain::order::OrderStatus;
use domain::order_type::OrderType;
use domain::ports::OrderFilter;

use super::{bounded_count, list_total, Window};
use crate::backend::{execute_cached, load_direct, DbConnection, DbTime, MultiBackend};
use crate::mapping::to_db_time;
use crate::schema::purchase_order::{self, dsl};

/// Marker of the duplicate-name key in unique-violation messages (MySQL names the key,
/// SQLite lists its columns; both contain this).
pub(crate) const ACTIVE_RESOURCE_NAME_KEY: &str = "ACTIVE_RESOURCE_NAME";
/// Marker of the one-quota-order-per-region key, likewise.
pub(crate) const ACTIVE_QUOTA_KEY: &str = "ACTIVE_QUOTA";

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
    pub cycle: i16,
    pub price: i64,
    pub keeper: i16,
    pub start_time: DbTime,
    pub end_time: Option<DbTime>,
    pub deadline_time: DbTime,
    pub last_consume_id: i32,
    pub renew_retries: i32,
    pub last_warned_at: Option<DbTime>,
    pub version: i32,
    pub payment_seq: i32,
    pub awaiting_payment: Option<i32>,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
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
    pub cycle: i16,
    pub keeper: i16,
    pub start_time: DbTime,
    pub creator: &'a str,
    pub resource_name: Option<&'a str>,
    pub replaces: Option<&'a str>,
    #[diesel(embed)]
    pub state: OrderState<'a>,
}

/// The columns a change may write of an existing order: everything but what the order was
/// opened with (its identity, plan, quantities, start, creator, name, cycle, keeper and the
/// order it replaces), and the two unique-key columns that follow from its state.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = purchase_order, treat_none_as_null = true)]
pub(crate) struct OrderState<'a> {
    pub status: i16,
    pub end_time: Option<DbTime>,
    pub deadline_time: DbTime,
    pub last_consume_id: i32,
    pub renew_retries: i32,
    pub last_warned_at: Option<DbTime>,
    pub price: i64,
    pub version: i32,
    pub payment_seq: i32,
    pub awaiting_payment: Option<i32>,
    pub replaced_by: Option<&'a str>,
    pub active_resource_name: Option<&'a str>,
    pub active_quota: Option<&'a str>,
}

/// An order's new state, written only if the order still has `expected_version`.
#[derive(Debug)]
pub(crate) struct OrderUpdate<'a> {
    pub order_id: &'a str,
    pub expected_version: i32,
    pub state: OrderState<'a>,
}

pub(crate) fn insert(conn: &mut DbConnection, row: &NewOrderRow<'_>) -> QueryResult<()> {
    execute_cached(conn, diesel::insert_into(purchase_order::table).values(row)).map(drop)
}

/// Writes the update if the order still has its expected version; returns whether it did.
pub(crate) fn update(conn: &mut DbConnection, update: &OrderUpdate<'_>) -> QueryResult<bool> {
    execute_cached(
        conn,
        diesel::update(
            purchase_order::table
                .filter(dsl::order_id.eq(update.order_id))
                .filter(dsl::version.eq(update.expected_version)),
        )
        .set(&update.state),
    )
    .map(|rows| rows == 1)
}

/// The order, read on the backend's own connection (a get's one statement: see
/// `backend::load_direct`).
pub(crate) fn find(conn: &mut DbConnection, order_id: &str) -> QueryResult<Option<OrderRow>> {
    Ok(load_direct!(
        conn,
        purchase_order::table
            .filter(dsl::order_id.eq(order_id))
            .select(OrderRow::as_select())
            .limit(1),
    )?
    .pop())
}

/// The orders of `ids` (those that exist), in no particular order.
pub(crate) fn find_all(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<OrderRow>> {
    purchase_order::table
        .filter(dsl::order_id.eq_any(ids))
        .select(OrderRow::as_select())
        .load(conn)
}

/// The order's version, if it exists: what tells a stale update from a missing order.
pub(crate) fn version_of(conn: &mut DbConnection, order_id: &str) -> QueryResult<Option<i32>> {
    purchase_order::table
        .filter(dsl::order_id.eq(order_id))
        .select(dsl::version)
        .first(conn)
        .optional()
}

/// The status of `filter` when it is one of the console's everyday lists: one status, with
/// or without a region, and nothing else. Those are read by [`page`]; the other filters
/// the totals cover by [`page_summed`], and the rest by [`page_counted`].
pub(crate) fn everyday_status(filter: &OrderFilter) -> Option<OrderStatus> {
    let everyday = filter.plan_type.is_none() && filter.order_type.is_none() && filter.is_counted();
    filter.status.filter(|_| everyday)
}

/// A page of an everyday list ([`everyday_status`]) in `status`, newest start first (the id breaks ties,
/// so pages never overlap or skip), with the total of the whole list: one statement, the
/// page read in the order of the (project, [region,] status, start) index and the total a
/// subquery of DF_LIST_TOTAL, so neither grows with the project. A page past the end has
/// no row to carry the total: it is then read alone. Each shape is a statement of a type
/// of its own, not boxed (see [`list_total::all_regions`]).
pub(crate) fn page(
    conn: &mut DbConnection,
    filter: &OrderFilter,
    status: OrderStatus,
    window: Window,
) -> QueryResult<(Vec<OrderRow>, i64)> {
    let project = filter.project.as_str();
    let status = status.code();
    let theirs = purchase_order::table
        .filter(dsl::account_id.eq(project))
        .filter(dsl::status.eq(status));
    let newest_first = (dsl::start_time.desc(), dsl::id.desc());
    Ok(match filter.region.as_ref().map(Region::as_str) {
        None => page_with_total!(
            conn,
            theirs.order(newest_first),
            window,
            OrderRow,
            list_total::all_regions(project, list_total::ORDERS, status),
            Option<i64>
        ),
        Some(region) => page_with_total!(
            conn,
            theirs.filter(dsl::region.eq(region)).order(newest_first),
            window,
            OrderRow,
            list_total::in_region(project, list_total::ORDERS, status, region),
            Option<i64>
        ),
    })
}

/// A page of a list the totals cover that is not an everyday one (every status, a plan
/// type, an order type), as [`page`]: the total first, summed from DF_LIST_TOTAL, and the
/// page only when it is not past the end. The indexes cannot order every mix of these
/// filters, so a page of a mix that picks nothing would read through the project's orders
/// looking for a first row; the total says there is none first. Call it in one snapshot,
/// so that the page and the total agree.
pub(crate) fn page_summed(
    conn: &mut DbConnection,
    filter: &OrderFilter,
    window: Window,
) -> QueryResult<(Vec<OrderRow>, i64)> {
    let total: Option<i64> = list_total::orders(filter).get_result(conn)?;
    let total = total.unwrap_or_default();
    if window.offset >= total {
        return Ok((Vec::new(), total));
    }
    Ok((matching_page(conn, filter, window)?, total))
}

/// The page of [`matching`] at `window`, newest start first.
fn matching_page(
    conn: &mut DbConnection,
    filter: &OrderFilter,
    window: Window,
) -> QueryResult<Vec<OrderRow>> {
    matching(filter)
        .order((dsl::start_time.desc(), dsl::id.desc()))
        .limit(window.limit)
        .offset(window.offset)
        .select(OrderRow::as_select())
        .load(conn)
}

/// A page of the orders `filter` picks, as [`page`], for a filter the totals do not cover
/// (a creation time range, a search word), with how many orders it picks counted up to
/// one past [`domain::page::COUNT_CAP`] (see [`bounded_count`]): never more rows than
/// that are read to count, however large the project. A page that is not full, or the
/// first page, tells the count without another statement. First, though, the kept total of the filter's other conditions: when none of
/// the project's orders passes those, there is no page to look for (which would read
/// through the time range or the project). Call it in one snapshot, so that the page and
/// the count agree.
pub(crate) fn page_counted(
    conn: &mut DbConnection,
    filter: &OrderFilter,
    window: Window,
) -> QueryResult<(Vec<OrderRow>, u64)> {
    let kept_conditions = OrderFilter {
        created: TimeRange::default(),
        search: None,
        ..filter.clone()
    };
    let kept: Option<i64> = list_total::orders(&kept_conditions).get_result(conn)?;
    if kept.unwrap_or_default() == 0 {
        return Ok((Vec::new(), 0));
    }
    let rows = matching_page(conn, filter, window)?;
    let counted = bounded_count(rows.len(), window, |most| {
        matching(filter)
            .select(dsl::id)
            .limit(most)
            .load::<i64>(conn)
            .map(|ids| ids.len())
    })?;
    Ok((rows, counted))
}

/// Every condition of `filter` on DF_PURCHASE_ORDER, boxed: its shapes are too many for a
/// statement type each. A search word is a prefix range on the order id, the resource
/// name and the plan id (each with an index); a range, not `LIKE`, so that `%` and `_`
/// are plain characters and both backends use the index. A word without an upper bound
/// is made only of U+10FFFF, which no id or name holds (they are ASCII): its range is
/// empty.
fn matching(filter: &OrderFilter) -> purchase_order::BoxedQuery<'_, MultiBackend> {
    let mut query = purchase_order::table
        .filter(dsl::account_id.eq(filter.project.as_str()))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(dsl::status.eq(status.code()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(dsl::region.eq(region.as_str()));
    }
    if let Some(plan_type) = &filter.plan_type {
        query = query.filter(dsl::plan_type.eq(plan_type.as_str()));
    }
    query = match filter.order_type {
        None => query,
        Some(OrderType::New) => query.filter(dsl::replaces.is_null()),
        Some(OrderType::Switch) => query.filter(dsl::replaces.is_not_null()),
    };
    if let Some(start) = filter.created.start {
        query = query.filter(dsl::start_time.ge(to_db_time(start)));
    }
    if let Some(end) = filter.created.end {
        query = query.filter(dsl::start_time.lt(to_db_time(end)));
    }
    if let Some(word) = &filter.search {
        let low = word.as_str().to_owned();
        let high = word.upper_bound().unwrap_or_else(|| low.clone());
        query = query.filter(
            dsl::order_id
                .ge(low.clone())
                .and(dsl::order_id.lt(high.clone()))
                .or(dsl::resource_name
                    .ge(low.clone())
                    .and(dsl::resource_name.lt(high.clone())))
                .or(dsl::plan_id.ge(low).and(dsl::plan_id.lt(high))),
        );
    }
    query
}

/// Every order of the project, oldest first.
pub(crate) fn of_project(conn: &mut DbConnection, project: &str) -> QueryResult<Vec<OrderRow>> {
    purchase_order::table
        .filter(dsl::account_id.eq(project))
        .order(dsl::id.asc())
        .select(OrderRow::as_select())
        .load(conn)
}

/// The order of the project holding the quota of `region` (the unique key allows one).
pub(crate) fn quota_holder(
    conn: &mut DbConnection,
    project: &str,
    region: &str,
) -> QueryResult<Option<OrderRow>> {
    purchase_order::table
        .filter(dsl::account_id.eq(project))
        .filter(dsl::active_quota.eq(region))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

/// Where a resource name is unique: its project, region and plan type.
#[derive(Debug)]
pub(crate) struct HeldName<'a> {
    pub project: &'a str,
    pub region: &'a str,
    pub plan_type: &'a str,
    pub name: &'a str,
}

/// The order holding `held`'s name (the unique key allows one).
pub(crate) fn name_holder(
    conn: &mut DbConnection,
    held: &HeldName<'_>,
) -> QueryResult<Option<OrderRow>> {
    purchase_order::table
        .filter(dsl::account_id.eq(held.project))
        .filter(dsl::region.eq(held.region))
        .filter(dsl::plan_type.eq(held.plan_type))
        .filter(dsl::active_resource_name.eq(held.name))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()
}

/// Distinct project ids of orders after `after`, in id order, at most `limit`.
pub(crate) fn projects(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    purchase_order::table
        .filter(dsl::account_id.gt(after))
        .select(dsl::account_id)
        .distinct()
        .order(dsl::account_id.asc())
        .limit(limit)
        .load(conn)
}

/// The distinct plans of a queue's orders due by `due_by` that no payment or switch holds
/// (the ones a claim could take).
pub(crate) fn due_plans(
    conn: &mut DbConnection,
    mode: i16,
    status: i16,
    due_by: DbTime,
) -> QueryResult<Vec<String>> {
    purchase_order::table
        .filter(dsl::charging_mode.eq(mode))
        .filter(dsl::status.eq(status))
        .filter(dsl::deadline_time.le(due_by))
        .filter(dsl::awaiting_payment.is_null())
        .filter(dsl::replaced_by.is_null())
        .select(dsl::plan_id)
        .distinct()
        .load(conn)
}
