//! DF_WEBHOOK_DELIVERY rows and their queries.

use diesel::prelude::*;

use crate::backend::{self, DbConnection, DbTime};
use crate::rows::notification::NotificationRow;
use crate::schema::notification;
use crate::schema::webhook_delivery::{self, dsl};

/// LAST_ERROR is a VARCHAR(1024) on MySQL; strict mode refuses anything longer.
pub(crate) const ERROR_CHARS: usize = 1024;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_delivery)]
pub(crate) struct DeliveryRow {
    pub id: i64,
    pub notification_id: i64,
    pub endpoint: String,
    pub attempts: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_delivery)]
pub(crate) struct NewDeliveryRow<'a> {
    pub notification_id: i64,
    pub endpoint: &'a str,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
}

/// Rows per INSERT statement: 4 parameters each stays far below either backend's limit.
const ROWS_PER_INSERT: usize = 1_000;

pub(crate) fn insert_all(conn: &mut DbConnection, rows: &[NewDeliveryRow<'_>]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        backend::insert_deliveries(conn, chunk)?;
    }
    Ok(())
}

/// Pending deliveries (neither delivered nor given up) whose next attempt is at or before
/// `now`, oldest first, each with its notification.
pub(crate) fn due(
    conn: &mut DbConnection,
    now: DbTime,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, NotificationRow)>> {
    webhook_delivery::table
        .inner_join(notification::table)
        .filter(dsl::delivered_at.is_null())
        .filter(dsl::gave_up_at.is_null())
        .filter(dsl::next_attempt_at.le(now))
        .order(dsl::id.asc())
        .limit(limit)
        .select((DeliveryRow::as_select(), NotificationRow::as_select()))
        .load(conn)
}

/// Marks a pending delivery delivered; a finished one keeps its outcome.
pub(crate) fn delivered(conn: &mut DbConnection, id: i64, at: DbTime) -> QueryResult<()> {
    diesel::update(
        webhook_delivery::table
            .filter(dsl::id.eq(id))
            .filter(dsl::delivered_at.is_null())
            .filter(dsl::gave_up_at.is_null()),
    )
    .set(dsl::delivered_at.eq(Some(at)))
    .execute(conn)
    .map(drop)
}

/// Counts a failed attempt of a pending delivery. With a next attempt it stays pending;
/// without one it is given up, dated when its last attempt was due (the store has no clock,
/// and that attempt is what failed).
pub(crate) fn failed(
    conn: &mut DbConnection,
    id: i64,
    next_attempt: Option<DbTime>,
    error: &str,
) -> QueryResult<()> {
    let pending = webhook_delivery::table
        .filter(dsl::id.eq(id))
        .filter(dsl::delivered_at.is_null())
        .filter(dsl::gave_up_at.is_null());
    let attempt = (
        dsl::attempts.eq(dsl::attempts + 1),
        dsl::last_error.eq(Some(error)),
    );
    match next_attempt {
        Some(at) => diesel::update(pending)
            .set((attempt, dsl::next_attempt_at.eq(at)))
            .execute(conn),
        None => diesel::update(pending)
            .set((attempt, dsl::gave_up_at.eq(dsl::next_attempt_at.nullable())))
            .execute(conn),
    }
    .map(drop)
}
