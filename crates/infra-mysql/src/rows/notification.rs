//! DF_NOTIFICATION rows and their queries.

use diesel::prelude::*;

use domain::ports::NotificationFilter;

use super::{list_total, Window};
use crate::backend::{self, DbConnection, DbTime, MultiBackend};
use crate::schema::notification::{self, dsl};

/// MESSAGE is a VARCHAR(1024) on MySQL; strict mode refuses anything longer.
pub(crate) const MESSAGE_CHARS: usize = 1024;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = notification)]
pub(crate) struct NotificationRow {
    pub id: i64,
    pub account_id: String,
    pub region: String,
    pub order_id: String,
    pub kind: String,
    pub amount: Option<i64>,
    pub message: String,
    pub create_time: DbTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notification)]
pub(crate) struct NewNotificationRow<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub order_id: &'a str,
    pub kind: &'a str,
    pub amount: Option<i64>,
    pub message: &'a str,
    pub create_time: DbTime,
}

/// Rows per INSERT statement: 7 parameters each stays far below either backend's limit.
const ROWS_PER_INSERT: usize = 1_000;

/// Inserts the rows in one statement (more only beyond [`ROWS_PER_INSERT`]).
pub(crate) fn insert_all(
    conn: &mut DbConnection,
    rows: &[NewNotificationRow<'_>],
) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        backend::insert_notifications(conn, chunk)?;
    }
    Ok(())
}

/// Inserts one notification and returns its id, which its webhook deliveries reference.
/// (A multi-row insert tells only its first id, and MySQL's interleaved auto-increment mode
/// does not promise the others follow it.)
pub(crate) fn insert(conn: &mut DbConnection, row: &NewNotificationRow<'_>) -> QueryResult<i64> {
    diesel::insert_into(notification::table)
        .values(row)
        .execute(conn)?;
    backend::last_insert_id(conn)
}

/// One order's notifications, boxed: their total counts rows of the same table (see
/// `page_with_total`).
fn of_order<'a>(project: &'a str, order: &'a str) -> notification::BoxedQuery<'a, MultiBackend> {
    notification::table
        .filter(dsl::account_id.eq(project))
        .filter(dsl::order_id.eq(order))
        .into_boxed()
}

/// A page of the notifications `filter` picks, newest first (the id is the insertion
/// order), with the total of the whole list, in one statement: the page read in the order
/// of the (project, [order,] id) index; the total a subquery of DF_LIST_TOTAL, or for one
/// order's notifications their count over the order's key (an order has a few per cycle,
/// however large its project). A page past the end has no row to carry the total: it is
/// then read alone. The project's page is a statement of a type of its own, not boxed
/// (see [`list_total::all_regions`]).
pub(crate) fn page(
    conn: &mut DbConnection,
    filter: &NotificationFilter,
    window: Window,
) -> QueryResult<(Vec<NotificationRow>, i64)> {
    let project = filter.project.as_str();
    Ok(match &filter.order {
        None => page_with_total!(
            conn,
            notification::table
                .filter(dsl::account_id.eq(project))
                .order(dsl::id.desc()),
            window,
            NotificationRow,
            list_total::notifications(project),
            Option<i64>
        ),
        Some(order) => page_with_total!(
            boxed,
            conn,
            of_order(project, order.as_str()).order(dsl::id.desc()),
            window,
            NotificationRow,
            of_order(project, order.as_str()).count(),
            i64
        ),
    })
}
