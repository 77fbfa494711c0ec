//! Making due now what the service would try again later. A black-box test cannot wait out
//! the back-off of a payment whose outcome was unknown, or of a resource task that failed
//! (10 s, then 20 s, 40 s …): it moves their next attempt into the past, as the passing of
//! time would. Nothing else changes: the service's settler and task runner then find them
//! due and decide for themselves, as they would later.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{on_backend, Db, Result};
use crate::schema::{payment, resource_task};

/// STATE of the payments the settler still sends: pending, owed.
const OPEN: [i16; 2] = [0, 3];

/// An instant before any the service writes.
fn long_ago() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(946_684_800, 0)
        .map(|t| t.naive_utc())
        .unwrap_or(NaiveDateTime::MIN)
}

/// Every open payment (pending or owed) becomes due now; returns how many.
pub fn payments_due_now(db: &mut Db) -> Result<usize> {
    let at = long_ago();
    Ok(on_backend!(&mut *db, |c| diesel::update(
        payment::table.filter(payment::state.eq_any(OPEN))
    )
    .set(payment::next_attempt_at.eq(at))
    .execute(c))?)
}

/// Every resource task not done yet becomes due now; returns how many.
pub fn tasks_due_now(db: &mut Db) -> Result<usize> {
    let at = long_ago();
    Ok(on_backend!(&mut *db, |c| diesel::update(
        resource_task::table.filter(resource_task::done_at.is_null())
    )
    .set(resource_task::next_attempt_at.eq(at))
    .execute(c))?)
}

/// How many resource tasks are not done yet.
pub fn tasks_left(db: &mut Db) -> Result<i64> {
    Ok(on_backend!(&mut *db, |c| resource_task::table
        .filter(resource_task::done_at.is_null())
        .count()
        .get_result(c))?)
}
