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
