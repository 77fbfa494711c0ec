//! DF_PAYMENT rows and their queries.

use diesel::prelude::*;

use crate::backend::{self, execute_cached, DbConnection, DbTime};
use crate::schema::payment::{self, dsl};

/// LAST_ERROR is a VARCHAR(1024) on MySQL; strict mode refuses anything longer.
pub(crate) const ERROR_CHARS: usize = 1024;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = payment)]
pub(crate) struct PaymentRow {
    pub id: i64,
    pub order_id: String,
    pub seq: i32,
    pub account_id: String,
    pub region: String,
    pub keeper: i16,
    pub direction: i16,
    pub amount: i64,
    pub consume_id: i32,
    pub row_kind: i16,
    pub period_from: DbTime,
    pub period_until: DbTime,
    pub deferred: bool,
    pub state: i16,
    pub created_at: DbTime,
    pub settled_at: Option<DbTime>,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
    pub last_error: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = payment)]
pub(crate) struct NewPaymentRow<'a> {
    pub order_id: &'a str,
    pub seq: i32,
    pub account_id: &'a str,
    pub region: &'a str,
    pub keeper: i16,
    pub direction: i16,
    pub amount: i64,
    pub consume_id: i32,
    pub row_kind: i16,
    pub period_from: DbTime,
    pub period_until: DbTime,
    pub deferred: bool,
    pub state: i16,
    pub created_at: DbTime,
    pub settled_at: Option<DbTime>,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
    pub last_error: Option<&'a str>,
}

/// A payment's new state and attempt record.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = payment, treat_none_as_null = true)]
pub(crate) struct PaymentState<'a> {
    pub state: i16,
    pub settled_at: Option<DbTime>,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
    pub last_error: Option<&'a str>,
}

/// [`PaymentState`] for one payment, written only if it still has `expected_state` (and,
/// when given, `expected_attempts`).
#[derive(Debug)]
pub(crate) struct PaymentUpdate<'a> {
    pub order_id: &'a str,
    pub seq: i32,
    pub expected_state: i16,
    pub expected_attempts: Option<i32>,
    pub state: PaymentState<'a>,
}

/// Rows per INSERT statement: 18 parameters each stays below SQLite's 32,766 and MySQL's
/// 65,535 placeholders.
const ROWS_PER_INSERT: usize = 1_000;

/// Inserts the payments with as few statements as the placeholder limits allow.
pub(crate) fn insert_all(conn: &mut DbConnection, rows: &[NewPaymentRow<'_>]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        backend::insert_payments(conn, chunk)?;
    }
    Ok(())
}

/// Writes the update if its guard holds; returns whether it did.
pub(crate) fn update(conn: &mut DbConnection, update: &PaymentUpdate<'_>) -> QueryResult<bool> {
    let target = payment::table
        .filter(dsl::order_id.eq(update.order_id))
        .filter(dsl::seq.eq(update.seq))
        .filter(dsl::state.eq(update.expected_state));
    let written = match update.expected_attempts {
        Some(attempts) => execute_cached(
            conn,
            diesel::update(target.filter(dsl::attempts.eq(attempts))).set(&update.state),
        )?,
        None => execute_cached(conn, diesel::update(target).set(&update.state))?,
    };
    Ok(written == 1)
}

pub(crate) fn find(
    conn: &mut DbConnection,
    order_id: &str,
    seq: i32,
) -> QueryResult<Option<PaymentRow>> {
    payment::table
        .filter(dsl::order_id.eq(order_id))
        .filter(dsl::seq.eq(seq))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()
}

/// What the settler reads: payments in one of `states` kept by `keeper`, due at `now`,
/// outside the `paused` regions, the longest due first (earliest next attempt, then the
/// earliest recorded), at most `limit`.
#[derive(Debug)]
pub(crate) struct Due<'a> {
    pub states: [i16; 2],
    pub keeper: i16,
    pub now: DbTime,
    pub paused: Vec<&'a str>,
    pub limit: i64,
}

/// One range of the due index (STATE, NEXT_ATTEMPT_AT, ID) per state, read in the index's
/// order and cut at the limit, then merged: the read touches only the rows it returns.
/// (One `STATE IN (…) … ORDER BY ID` read every payment ever recorded on MariaDB, which
/// walked the primary key to avoid a sort, once per settler round.)
pub(crate) fn due(conn: &mut DbConnection, due: &Due<'_>) -> QueryResult<Vec<PaymentRow>> {
    let mut rows = Vec::new();
    for state in due.states {
        let mut query = payment::table
            .filter(dsl::state.eq(state))
            .filter(dsl::next_attempt_at.le(due.now))
            .filter(dsl::keeper.eq(due.keeper))
            .into_boxed();
        if !due.paused.is_empty() {
            query = query.filter(dsl::region.ne_all(&due.paused));
        }
        rows.extend(
            query
                .order((dsl::next_attempt_at.asc(), dsl::id.asc()))
                .limit(due.limit)
                .select(PaymentRow::as_select())
                .load(conn)?,
        );
    }
    rows.sort_by_key(|row| (row.next_attempt_at.0, row.id));
    rows.truncate(usize::try_from(due.limit).unwrap_or(0));
    Ok(rows)
}

/// The project's payments in one of `states`, oldest first.
pub(crate) fn of_project_in(
    conn: &mut DbConnection,
    project: &str,
    states: &[i16],
) -> QueryResult<Vec<PaymentRow>> {
    payment::table
        .filter(dsl::account_id.eq(project))
        .filter(dsl::state.eq_any(states))
        .order(dsl::id.asc())
        .select(PaymentRow::as_select())
        .load(conn)
}

/// Every payment of the project, oldest first.
pub(crate) fn of_project(conn: &mut DbConnection, project: &str) -> QueryResult<Vec<PaymentRow>> {
    payment::table
        .filter(dsl::account_id.eq(project))
        .order(dsl::id.asc())
        .select(PaymentRow::as_select())
        .load(conn)
}
