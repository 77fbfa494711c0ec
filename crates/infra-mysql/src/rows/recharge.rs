//! DF_RECHARGE rows and their queries.

use diesel::prelude::*;

use super::Window;
use crate::backend::{self, DbConnection, DbTime};
use crate::schema::recharge::{self, dsl};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = recharge)]
pub(crate) struct RechargeRow {
    pub id: i64,
    pub account_id: String,
    pub amount: i64,
    pub comment: Option<String>,
    pub operator: String,
    pub create_time: DbTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = recharge)]
pub(crate) struct NewRechargeRow<'a> {
    pub account_id: &'a str,
    pub amount: i64,
    pub comment: Option<&'a str>,
    pub operator: &'a str,
    pub create_time: DbTime,
}

/// Inserts the recharge and returns its id.
pub(crate) fn insert(conn: &mut DbConnection, row: &NewRechargeRow<'_>) -> QueryResult<i64> {
    diesel::insert_into(recharge::table)
        .values(row)
        .execute(conn)?;
    backend::last_insert_id(conn)
}

/// Newest first.
pub(crate) fn list(
    conn: &mut DbConnection,
    project: &str,
    window: Window,
) -> QueryResult<Vec<RechargeRow>> {
    recharge::table
        .filter(dsl::account_id.eq(project))
        .order(dsl::id.desc())
        .limit(window.limit)
        .offset(window.offset)
        .select(RechargeRow::as_select())
        .load(conn)
}

pub(crate) fn count(conn: &mut DbConnection, project: &str) -> QueryResult<i64> {
    recharge::table
        .filter(dsl::account_id.eq(project))
        .count()
        .get_result(conn)
}

/// The project's recharge `id`.
pub(crate) fn find(
    conn: &mut DbConnection,
    project: &str,
    id: i64,
) -> QueryResult<Option<RechargeRow>> {
    recharge::table
        .filter(dsl::account_id.eq(project))
        .filter(dsl::id.eq(id))
        .select(RechargeRow::as_select())
        .first(conn)
        .optional()
}

/// The amounts of the project's recharges (summed by the caller: SQL's SUM of a BIGINT is
/// a DECIMAL on MySQL, which this crate does not read).
pub(crate) fn amounts(conn: &mut DbConnection, project: &str) -> QueryResult<Vec<i64>> {
    recharge::table
        .filter(dsl::account_id.eq(project))
        .select(dsl::amount)
        .load(conn)
}

/// Distinct project ids of recharges after `after`, in id order, at most `limit`.
pub(crate) fn projects(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    recharge::table
        .filter(dsl::account_id.gt(after))
        .select(dsl::account_id)
        .distinct()
        .order(dsl::account_id.asc())
        .limit(limit)
        .load(conn)
}
