//! DF_IDEMPOTENCY_KEY rows and their queries.

use diesel::prelude::*;

use crate::backend::{execute_cached, DbConnection, DbTime};
use crate::schema::idempotency_key::{self, dsl};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = idempotency_key)]
pub(crate) struct IdempotencyRow {
    pub fingerprint: String,
    pub result: String,
    pub created_at: DbTime,
    pub status: Option<i16>,
    pub body: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = idempotency_key)]
pub(crate) struct NewIdempotencyRow<'a> {
    pub account_id: &'a str,
    pub idem_key: &'a str,
    pub fingerprint: &'a str,
    pub result: &'a str,
    pub created_at: DbTime,
}

/// Records the key; a unique violation if the project already used it.
pub(crate) fn insert(conn: &mut DbConnection, row: &NewIdempotencyRow<'_>) -> QueryResult<()> {
    execute_cached(
        conn,
        diesel::insert_into(idempotency_key::table).values(row),
    )
    .map(drop)
}

pub(crate) fn find(
    conn: &mut DbConnection,
    project: &str,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_key::table
        .filter(dsl::account_id.eq(project))
        .filter(dsl::idem_key.eq(key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()
}

/// Keeps the answer given to the keyed request; a key not recorded is left alone.
pub(crate) fn answer(
    conn: &mut DbConnection,
    project: &str,
    key: &str,
    status: i16,
    body: &str,
) -> QueryResult<()> {
    diesel::update(
        idempotency_key::table
            .filter(dsl::account_id.eq(project))
            .filter(dsl::idem_key.eq(key)),
    )
    .set((dsl::status.eq(Some(status)), dsl::body.eq(Some(body))))
    .execute(conn)
    .map(drop)
}

/// Deletes the keys recorded before `before`; returns how many.
pub(crate) fn forget(conn: &mut DbConnection, before: DbTime) -> QueryResult<usize> {
    diesel::delete(idempotency_key::table.filter(dsl::created_at.lt(before))).execute(conn)
}
