//! DF_CREDIT_QUEUE rows and their queries.

use diesel::prelude::*;

use crate::backend::{DbConnection, DbTime};
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
    pub created_at: DbTime,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
}

pub(crate) fn insert(conn: &mut DbConnection, row: &NewCreditRow<'_>) -> QueryResult<()> {
    diesel::insert_into(credit_queue::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Undelivered credits whose next attempt is at or before `now`, oldest first.
pub(crate) fn due(conn: &mut DbConnection, now: DbTime, limit: i64) -> QueryResult<Vec<CreditRow>> {
    credit_queue::table
        .filter(dsl::delivered_at.is_null())
        .filter(dsl::next_attempt_at.le(now))
        .order(dsl::id.asc())
        .limit(limit)
        .select(CreditRow::as_select())
        .load(conn)
}

retry_queue_updates!(credit_queue, delivered_at);
