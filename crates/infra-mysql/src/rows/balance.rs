//! DF_BALANCE rows and their queries. Every movement is a single conditional `UPDATE`, so
//! two concurrent transactions can never both spend the same money nor overflow the
//! column: the database evaluates the condition under the row lock. The amounts come
//! decided; nothing here computes money.

use diesel::prelude::*;

use crate::backend::{execute_cached, DbConnection, DbTime};
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

/// Project ids with a balance after `after`, in id order, at most `limit`.
pub(crate) fn projects(
    conn: &mut DbConnection,
    after: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    balance::table
        .filter(dsl::account_id.gt(after))
        .select(dsl::account_id)
        .order(dsl::account_id.asc())
        .limit(limit)
        .load(conn)
}

/// One movement of a balance: take `amount` (a negative one gives), guarded by the least
/// balance it `requires` before it, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Movement<'a> {
    pub project: &'a str,
    pub amount: i64,
    pub requires: Option<i64>,
}

/// How a movement went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moved {
    Done,
    /// The guard refused it: the balance (zero for a project without one) is below what
    /// the movement requires. Nothing changed.
    Short {
        available: i64,
    },
    /// The balance would leave the column's range. Nothing changed.
    Overflow,
}

impl Movement<'_> {
    /// The balances from which the movement stays inside the column's range.
    fn safe_range(&self) -> (i64, i64) {
        if self.amount >= 0 {
            // amount ≥ 0, so MIN + amount cannot overflow.
            (i64::MIN + self.amount, i64::MAX)
        } else {
            (i64::MIN, i64::MAX + self.amount)
        }
    }

    /// The least balance the guarded `UPDATE` accepts: the guard, and the column's range.
    pub(crate) fn floor(&self) -> i64 {
        let (low, _) = self.safe_range();
        self.requires.map_or(low, |requires| requires.max(low))
    }
}

/// Applies the movement. A project without a balance has zero: a movement its guard
/// allows from zero creates the row (an unguarded charge creates it negative: arrears).
/// A zero amount with a guard is the check alone: it locks the row (MySQL) and changes
/// nothing.
pub(crate) fn apply(
    conn: &mut DbConnection,
    movement: Movement<'_>,
    at: DbTime,
) -> QueryResult<Moved> {
    if movement.amount == 0 {
        return check(conn, movement);
    }
    if shift(conn, movement, at)? {
        return Ok(Moved::Done);
    }
    match find(conn, movement.project)? {
        Some(row) => Ok(refused(movement, row.amount)),
        None => create(conn, movement, at),
    }
}

/// Why a guarded update wrote nothing to an existing balance of `available`.
fn refused(movement: Movement<'_>, available: i64) -> Moved {
    match movement.requires {
        Some(requires) if available < requires => Moved::Short { available },
        _ => Moved::Overflow,
    }
}

/// Creates the balance of a project that had none at zero less `amount`, if the guard
/// allows it from zero.
fn create(conn: &mut DbConnection, movement: Movement<'_>, at: DbTime) -> QueryResult<Moved> {
    if movement.requires.is_some_and(|requires| requires > 0) {
        return Ok(Moved::Short { available: 0 });
    }
    let Some(start) = 0_i64.checked_sub(movement.amount) else {
        return Ok(Moved::Overflow);
    };
    match insert(conn, movement.project, start, at) {
        Ok(()) => Ok(Moved::Done),
        // A concurrent transaction created the row between our look and our insert; it is
        // committed now, so the guarded update sees it.
        Err(e) if classify(&e) == Failure::Duplicate => {
            if shift(conn, movement, at)? {
                return Ok(Moved::Done);
            }
            let available = find(conn, movement.project)?.map_or(0, |row| row.amount);
            Ok(refused(movement, available))
        }
        Err(e) => Err(e),
    }
}

/// The guarded `UPDATE` alone (no row is created); returns whether it wrote.
pub(crate) fn shift(
    conn: &mut DbConnection,
    movement: Movement<'_>,
    at: DbTime,
) -> QueryResult<bool> {
    let (_, ceiling) = movement.safe_range();
    execute_cached(
        conn,
        diesel::update(
            balance::table
                .filter(dsl::account_id.eq(movement.project))
                .filter(dsl::amount.ge(movement.floor()))
                .filter(dsl::amount.le(ceiling)),
        )
        .set((
            dsl::amount.eq(dsl::amount - movement.amount),
            dsl::update_time.eq(at),
        )),
    )
    .map(|rows| rows == 1)
}

/// The check of a guarded movement of zero: an `UPDATE` that changes nothing, so that the
/// row is locked until commit where the database locks rows, as a debit's would be.
fn check(conn: &mut DbConnection, movement: Movement<'_>) -> QueryResult<Moved> {
    let Some(requires) = movement.requires else {
        return Ok(Moved::Done);
    };
    let matched = execute_cached(
        conn,
        diesel::update(
            balance::table
                .filter(dsl::account_id.eq(movement.project))
                .filter(dsl::amount.ge(requires)),
        )
        .set(dsl::amount.eq(dsl::amount)),
    )?;
    if matched == 1 {
        return Ok(Moved::Done);
    }
    let available = find(conn, movement.project)?.map_or(0, |row| row.amount);
    Ok(if available >= requires {
        Moved::Done
    } else {
        Moved::Short { available }
    })
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
