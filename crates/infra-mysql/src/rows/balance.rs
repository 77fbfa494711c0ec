//! DF_BALANCE rows and their queries. Every change is a single conditional `UPDATE`, so two
//! concurrent transactions can never both spend the same money nor overflow the column:
//! the database evaluates the condition under the row lock.

use diesel::prelude::*;

use crate::backend::{DbConnection, DbTime};
use crate::error::{classify, Failure};
use crate::schema::balance::{self, dsl};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = balance)]
pub(crate) struct BalanceRow {
    pub account_id: String,
    pub amount: i64,
    pub update_time: DbTime,
}

pub(crate) fn find(conn: &mut DbConnection, project: &str) -> QueryResult<Option<BalanceRow>> {
    balance::table
        .filter(dsl::account_id.eq(project))
        .select(BalanceRow::as_select())
        .first(conn)
        .optional()
}

/// Takes `amount` (> 0) if the balance covers it; returns whether it did. A project without
/// a balance row has nothing to take from.
pub(crate) fn debit(
    conn: &mut DbConnection,
    project: &str,
    amount: i64,
    at: DbTime,
) -> QueryResult<bool> {
    diesel::update(
        balance::table
            .filter(dsl::account_id.eq(project))
            .filter(dsl::amount.ge(amount)),
    )
    .set((
        dsl::amount.eq(dsl::amount - amount),
        dsl::update_time.eq(at),
    ))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// What crediting did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credit {
    Done,
    /// The balance would exceed the column's range; nothing changed.
    WouldOverflow,
}

/// Adds `amount` (> 0), creating the row for a project that had none.
pub(crate) fn credit(
    conn: &mut DbConnection,
    project: &str,
    amount: i64,
    at: DbTime,
) -> QueryResult<Credit> {
    // amount > 0, so this cannot overflow; a balance above it cannot take `amount` more.
    let ceiling = i64::MAX - amount;
    let add = |conn: &mut DbConnection| {
        diesel::update(
            balance::table
                .filter(dsl::account_id.eq(project))
                .filter(dsl::amount.le(ceiling)),
        )
        .set((
            dsl::amount.eq(dsl::amount + amount),
            dsl::update_time.eq(at),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
    };
    if add(conn)? {
        return Ok(Credit::Done);
    }
    if find(conn, project)?.is_some() {
        return Ok(Credit::WouldOverflow);
    }
    match insert(conn, project, amount, at) {
        Ok(()) => Ok(Credit::Done),
        // A concurrent transaction created the row between our look and our insert; it is
        // committed now, so adding to it works.
        Err(e) if classify(&e) == Failure::Duplicate => {
            if add(conn)? {
                Ok(Credit::Done)
            } else {
                Ok(Credit::WouldOverflow)
            }
        }
        Err(e) => Err(e),
    }
}

/// Creates the project's balance row; a unique violation if it already has one.
pub(crate) fn insert(
    conn: &mut DbConnection,
    project: &str,
    amount: i64,
    at: DbTime,
) -> QueryResult<()> {
    diesel::insert_into(balance::table)
        .values((
            dsl::account_id.eq(project),
            dsl::amount.eq(amount),
            dsl::update_time.eq(at),
        ))
        .execute(conn)
        .map(drop)
}
