//! DF_RECHARGE rows and their queries.

use diesel::prelude::*;

use domain::filter::TimeRange;

use super::list_total::{self, Deltas, Key};
use super::{bounded_count, Window};
use crate::backend::{self, DbConnection, DbTime};
use crate::mapping::to_db_time;
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

/// Inserts the recharge, counts it in its project's total (so call it in a transaction),
/// and returns its id.
pub(crate) fn insert(conn: &mut DbConnection, row: &NewRechargeRow<'_>) -> QueryResult<i64> {
    diesel::insert_into(recharge::table)
        .values(row)
        .execute(conn)?;
    let id = backend::last_insert_id(conn)?;
    let mut deltas = Deltas::default();
    deltas.add(Key::recharge(row.account_id), 1);
    list_total::apply(conn, &deltas)?;
    Ok(id)
}

/// A page of the project's recharges, newest first, with their total, in one statement:
/// the page read in the order of the (project, id) index, the total a subquery of
/// DF_LIST_TOTAL. A page past the end has no row to carry the total: it is then read
/// alone.
pub(crate) fn page(
    conn: &mut DbConnection,
    project: &str,
    window: Window,
) -> QueryResult<(Vec<RechargeRow>, i64)> {
    Ok(page_with_total!(
        conn,
        recharge::table
            .filter(dsl::account_id.eq(project))
            .order(dsl::id.desc()),
        window,
        RechargeRow,
        list_total::recharges(project),
        Option<i64>
    ))
}

/// A page of the project's recharges recorded in `created`, newest first, and how many
/// there are, counted up to one past [`domain::page::COUNT_CAP`] (the totals are kept per project, not
/// per time): the page read over the (project, time) index, the count only when the page
/// is full or past the end. Call it in one snapshot, so that the page and the count agree.
pub(crate) fn page_in(
    conn: &mut DbConnection,
    project: &str,
    created: &TimeRange,
    window: Window,
) -> QueryResult<(Vec<RechargeRow>, u64)> {
    let in_range = || {
        let mut query = recharge::table
            .filter(dsl::account_id.eq(project))
            .into_boxed();
        if let Some(start) = created.start {
            query = query.filter(dsl::create_time.ge(to_db_time(start)));
        }
        if let Some(end) = created.end {
            query = query.filter(dsl::create_time.lt(to_db_time(end)));
        }
        query
    };
    let rows: Vec<RechargeRow> = in_range()
        .order(dsl::id.desc())
        .limit(window.limit)
        .offset(window.offset)
        .select(RechargeRow::as_select())
        .load(conn)?;
    let counted = bounded_count(rows.len(), window, |most| {
        in_range()
            .select(dsl::id)
            .limit(most)
            .load::<i64>(conn)
            .map(|ids| ids.len())
    })?;
    Ok((rows, counted))
}

/// Whether the project was ever recharged.
pub(crate) fn any(conn: &mut DbConnection, project: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        recharge::table.filter(dsl::account_id.eq(project)),
    ))
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
