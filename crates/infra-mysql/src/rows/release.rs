//! DF_RELEASE_QUEUE rows and their queries.

use diesel::prelude::*;

use crate::backend::{DbConnection, DbTime};
use crate::rows::order::OrderRow;
use crate::schema::purchase_order;
use crate::schema::release_queue::{self, dsl};

/// LAST_ERROR is a VARCHAR(1024) on MySQL; strict mode refuses anything longer.
pub(crate) const ERROR_CHARS: usize = 1024;

/// Marker of the one-entry-per-order key in unique-violation messages (MySQL names the
/// key, SQLite lists its columns; both contain this).
pub(crate) const ORDER_KEY: &str = "RELEASE_QUEUE";

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = release_queue)]
pub(crate) struct ReleaseRow {
    pub id: i64,
    pub attempts: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = release_queue)]
pub(crate) struct NewReleaseRow<'a> {
    pub order_id: &'a str,
    pub created_at: DbTime,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
}

pub(crate) fn insert(conn: &mut DbConnection, row: &NewReleaseRow<'_>) -> QueryResult<()> {
    diesel::insert_into(release_queue::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The order's entry, done or not: `(id, done)`.
pub(crate) fn find(conn: &mut DbConnection, order_id: &str) -> QueryResult<Option<(i64, bool)>> {
    release_queue::table
        .filter(dsl::order_id.eq(order_id))
        .select((dsl::id, dsl::done_at.is_not_null()))
        .first(conn)
        .optional()
}

/// Owes a done release again, due at `at`, with its attempts counted afresh.
pub(crate) fn reopen(conn: &mut DbConnection, id: i64, at: DbTime) -> QueryResult<()> {
    diesel::update(release_queue::table.filter(dsl::id.eq(id)))
        .set((
            dsl::done_at.eq(None::<DbTime>),
            dsl::attempts.eq(0),
            dsl::next_attempt_at.eq(at),
            dsl::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}

/// Releases not done whose next attempt is at or before `now`, oldest first, each with
/// its order's row.
pub(crate) fn pending(
    conn: &mut DbConnection,
    now: DbTime,
    limit: i64,
) -> QueryResult<Vec<(ReleaseRow, OrderRow)>> {
    release_queue::table
        .inner_join(purchase_order::table.on(purchase_order::dsl::order_id.eq(dsl::order_id)))
        .filter(dsl::done_at.is_null())
        .filter(dsl::next_attempt_at.le(now))
        .order(dsl::id.asc())
        .limit(limit)
        .select((ReleaseRow::as_select(), OrderRow::as_select()))
        .load(conn)
}

retry_queue_updates!(release_queue, done_at);
