//! DF_RESOURCE_TASK rows and their queries. A task is due while DONE_AT is NULL and its
//! next attempt has come; ATTEMPTS counts the runs claimed, so a task with none may still
//! be cancelled and a claim is a compare-and-set on it.

use diesel::prelude::*;

use crate::backend::{self, execute_cached, DbConnection, DbTime};
use crate::schema::resource_task::{self, dsl};

/// LAST_ERROR is a VARCHAR(1024) on MySQL; strict mode refuses anything longer.
pub(crate) const ERROR_CHARS: usize = 1024;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = resource_task)]
pub(crate) struct TaskRow {
    pub id: i64,
    pub order_id: String,
    pub account_id: String,
    pub region: String,
    pub plan_id: String,
    pub plan_type: String,
    pub kind: String,
    pub resource_name: Option<String>,
    pub creator: String,
    pub action: i16,
    pub attempts: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = resource_task)]
pub(crate) struct NewTaskRow<'a> {
    pub order_id: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    pub plan_id: &'a str,
    pub plan_type: &'a str,
    pub kind: &'a str,
    pub resource_name: Option<&'a str>,
    pub creator: &'a str,
    pub action: i16,
    pub created_at: DbTime,
    pub attempts: i32,
    pub next_attempt_at: DbTime,
}

/// Queues the task and returns its id. One statement per task: a multi-row insert tells
/// only its first id, and MySQL's interleaved auto-increment does not promise the rest.
pub(crate) fn insert(conn: &mut DbConnection, row: &NewTaskRow<'_>) -> QueryResult<i64> {
    execute_cached(conn, diesel::insert_into(resource_task::table).values(row))?;
    backend::last_insert_id(conn)
}

/// Tasks not done whose next attempt is at or before `now`, oldest first; only those of
/// `only` when given.
pub(crate) fn due(
    conn: &mut DbConnection,
    now: DbTime,
    limit: i64,
    only: Option<&[i64]>,
) -> QueryResult<Vec<TaskRow>> {
    let mut query = resource_task::table
        .filter(dsl::done_at.is_null())
        .filter(dsl::next_attempt_at.le(now))
        .into_boxed();
    if let Some(ids) = only {
        query = query.filter(dsl::id.eq_any(ids));
    }
    query
        .order(dsl::id.asc())
        .limit(limit)
        .select(TaskRow::as_select())
        .load(conn)
}

/// Counts a run and pushes the next attempt to `retry_at`, if the task still has
/// `attempts` runs and is not done; returns whether it did.
pub(crate) fn claim(
    conn: &mut DbConnection,
    id: i64,
    attempts: i32,
    retry_at: DbTime,
) -> QueryResult<bool> {
    diesel::update(
        resource_task::table
            .filter(dsl::id.eq(id))
            .filter(dsl::attempts.eq(attempts))
            .filter(dsl::done_at.is_null()),
    )
    .set((
        dsl::attempts.eq(dsl::attempts + 1),
        dsl::next_attempt_at.eq(retry_at),
    ))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// Marks the task done; one already done keeps its first time.
pub(crate) fn done(conn: &mut DbConnection, id: i64, at: DbTime) -> QueryResult<()> {
    diesel::update(
        resource_task::table
            .filter(dsl::id.eq(id))
            .filter(dsl::done_at.is_null()),
    )
    .set(dsl::done_at.eq(Some(at)))
    .execute(conn)
    .map(drop)
}

/// Records why the last run failed.
pub(crate) fn failed(conn: &mut DbConnection, id: i64, error: &str) -> QueryResult<()> {
    diesel::update(resource_task::table.filter(dsl::id.eq(id)))
        .set(dsl::last_error.eq(Some(error)))
        .execute(conn)
        .map(drop)
}

/// Makes a task not done due at `at`.
pub(crate) fn due_at(conn: &mut DbConnection, id: i64, at: DbTime) -> QueryResult<()> {
    diesel::update(
        resource_task::table
            .filter(dsl::id.eq(id))
            .filter(dsl::done_at.is_null()),
    )
    .set(dsl::next_attempt_at.eq(at))
    .execute(conn)
    .map(drop)
}

/// How a cancelled task is dated.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CancelledAt {
    /// The time of the change that cancels it.
    At(DbTime),
    /// When it was queued: the store has no clock of its own.
    Created,
}

/// Cancels a task that has not run (no run claimed, not done): it is done, dated as
/// `at` says. Returns whether it did.
pub(crate) fn cancel(conn: &mut DbConnection, id: i64, at: CancelledAt) -> QueryResult<bool> {
    let target = resource_task::table
        .filter(dsl::id.eq(id))
        .filter(dsl::attempts.eq(0))
        .filter(dsl::done_at.is_null());
    let rows = match at {
        CancelledAt::At(at) => {
            execute_cached(conn, diesel::update(target).set(dsl::done_at.eq(Some(at))))?
        }
        CancelledAt::Created => diesel::update(target)
            .set(dsl::done_at.eq(dsl::created_at.nullable()))
            .execute(conn)?,
    };
    Ok(rows == 1)
}
