//! DF_CREDIT_QUEUE rows and their queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::backend::DbConnection;
use crate::schema::credit_queue::{self, dsl};

/// LAST_ERROR is a VARCHAR(1024) on MySQL; strict mode refuses anything longer.
pub(crate) const ERROR_CHARS: usize = 1024;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = credit_queue)]
pub(crate) struct CreditRow {
    pub id: i64,
    pub order_id: String,
    pub consume_id: i32,
    pub account_id: String,
    pub region: String,
    pub amount: i64,
    pub attempts: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = credit_queue)]
pub(crate) struct NewCreditRow<'a> {
    pub order_id: &'a str,
    pub consume_id: i32,
    pub account_id: &'a str,
    pub region: &'a str,
    pub amount: i64,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
}

pub(crate) fn insert(conn: &mut DbConnection, row: &NewCreditRow<'_>) -> QueryResult<()> {
    diesel::insert_into(credit_queue::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Undelivered credits whose next attempt is at or before `now`, oldest first.
pub(crate) fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<CreditRow>> {
    credit_queue::table
        .filter(dsl::delivered_at.is_null())
        .filter(dsl::next_attempt_at.le(now))
        .order(dsl::id.asc())
        .limit(limit)
        .select(CreditRow::as_select())
        .load(conn)
}

/// Marks the credit delivered; a credit already delivered keeps its first delivery time.
pub(crate) fn delivered(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        credit_queue::table
            .filter(dsl::id.eq(id))
            .filter(dsl::delivered_at.is_null()),
    )
    .set(dsl::delivered_at.eq(Some(at)))
    .execute(conn)
    .map(drop)
}

/// Counts a failed attempt of an undelivered credit and schedules the next one.
pub(crate) fn failed(
    conn: &mut DbConnection,
    id: i64,
    next_attempt: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(
        credit_queue::table
            .filter(dsl::id.eq(id))
            .filter(dsl::delivered_at.is_null()),
    )
    .set((
        dsl::attempts.eq(dsl::attempts + 1),
        dsl::next_attempt_at.eq(next_attempt),
        dsl::last_error.eq(Some(error)),
    ))
    .execute(conn)
    .map(drop)
}
