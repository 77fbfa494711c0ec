//! DF_CONSUMING_HISTORY rows and their queries.

use diesel::prelude::*;

use domain::ids::Region;
use domain::ports::UsageFilter;

use super::{list_total, Window};
use crate::backend::{self, DbConnection, DbTime, MultiBackend};
use crate::schema::consuming_history::{self, dsl};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = consuming_history)]
pub(crate) struct ConsumptionRow {
    pub id: i64,
    pub order_id: String,
    pub consume_id: i32,
    pub consuming: i64,
    pub consume_time: DbTime,
    pub deadline_time: DbTime,
    pub account_id: String,
    pub region: String,
    pub plan_id: String,
    pub kind: i16,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = consuming_history)]
pub(crate) struct NewConsumptionRow<'a> {
    pub order_id: &'a str,
    pub consume_id: i32,
    pub consuming: i64,
    pub consume_time: DbTime,
    pub deadline_time: DbTime,
    pub account_id: &'a str,
    pub region: &'a str,
    pub plan_id: &'a str,
    pub kind: i16,
}

/// Rows per INSERT statement: 9 parameters each keeps a statement far below SQLite's
/// 32,766 and MySQL's 65,535 placeholders.
const ROWS_PER_INSERT: usize = 1_000;

/// Inserts the rows with as few statements as the placeholder limits allow.
pub(crate) fn insert_all(
    conn: &mut DbConnection,
    rows: &[NewConsumptionRow<'_>],
) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        backend::insert_consumption(conn, chunk)?;
    }
    Ok(())
}

/// One order's rows (in a region, if given), boxed: their total counts rows of the same
/// table (see `page_with_total`).
fn of_order<'a>(
    filter: &'a UsageFilter,
    order: &'a str,
) -> consuming_history::BoxedQuery<'a, MultiBackend> {
    let mut query = consuming_history::table
        .filter(dsl::account_id.eq(filter.project.as_str()))
        .filter(dsl::order_id.eq(order))
        .into_boxed();
    if let Some(region) = &filter.region {
        query = query.filter(dsl::region.eq(region.as_str()));
    }
    query
}

/// A page of the rows `filter` picks, newest time first (among rows of the same time, the
/// newest row first), with the total of the whole list, in one statement: the page read in
/// the order of the (project, [region,] time, id) index; the total a subquery of
/// DF_LIST_TOTAL, or for one order's rows their count over the order's key (an order has
/// a row per cycle, however large its project). A page past the end has no row to carry
/// the total: it is then read alone. The project's pages, with or without a region, are
/// statements of types of their own, not boxed (see [`list_total::all_regions`]).
pub(crate) fn page(
    conn: &mut DbConnection,
    filter: &UsageFilter,
    window: Window,
) -> QueryResult<(Vec<ConsumptionRow>, i64)> {
    let project = filter.project.as_str();
    let theirs = consuming_history::table.filter(dsl::account_id.eq(project));
    let newest_first = (dsl::consume_time.desc(), dsl::id.desc());
    Ok(
        match (&filter.order, filter.region.as_ref().map(Region::as_str)) {
            (None, None) => page_with_total!(
                conn,
                theirs.order(newest_first),
                window,
                ConsumptionRow,
                list_total::usages(project),
                Option<i64>
            ),
            (None, Some(region)) => page_with_total!(
                conn,
                theirs.filter(dsl::region.eq(region)).order(newest_first),
                window,
                ConsumptionRow,
                list_total::usages_in(project, region),
                Option<i64>
            ),
            (Some(order), _) => page_with_total!(
                boxed,
                conn,
                of_order(filter, order.as_str()).order(newest_first),
                window,
                ConsumptionRow,
                of_order(filter, order.as_str()).count(),
                i64
            ),
        },
    )
}

pub(crate) fn for_order(
    conn: &mut DbConnection,
    order_id: &str,
) -> QueryResult<Vec<ConsumptionRow>> {
    consuming_history::table
        .filter(dsl::order_id.eq(order_id))
        .order(dsl::consume_id.asc())
        .select(ConsumptionRow::as_select())
        .load(conn)
}

/// Every row of these orders, by order and sequence number.
pub(crate) fn for_orders(
    conn: &mut DbConnection,
    order_ids: &[&str],
) -> QueryResult<Vec<ConsumptionRow>> {
    consuming_history::table
        .filter(dsl::order_id.eq_any(order_ids))
        .order((dsl::order_id.asc(), dsl::consume_id.asc()))
        .select(ConsumptionRow::as_select())
        .load(conn)
}

/// Every row of the project, in insertion order.
pub(crate) fn of_project(
    conn: &mut DbConnection,
    project: &str,
) -> QueryResult<Vec<ConsumptionRow>> {
    consuming_history::table
        .filter(dsl::account_id.eq(project))
        .order(dsl::id.asc())
        .select(ConsumptionRow::as_select())
        .load(conn)
}
