//! DF_LIST_TOTAL: the totals the list pages show, kept per project so that a page never
//! counts the project's rows. Orders are counted per status, region, plan type and order
//! type (new or switch), consumption rows
//! and notifications per region, recharges (which have no region) under the region `""`;
//! every change adds what it inserts and moves what it changes, in its own transaction
//! (see `changes`; a recharge's insert adds its own, see `recharge`), so a total is exact
//! at every commit. A
//! list without a region sums its project's few regions. A later filter that takes few
//! values becomes another key column under the same rule (see docs/architecture.md).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use domain::ports::OrderFilter;

use crate::backend::{self, DbConnection, MultiBackend};
use crate::schema::list_total::{self, dsl};

/// The orders' totals, by status and region.
pub(crate) const ORDERS: &str = "orders";
/// The consumption rows' totals, by region.
pub(crate) const USAGES: &str = "usages";
/// The notifications' totals, by region.
const NOTIFICATIONS: &str = "notifications";
/// The recharges' totals.
const RECHARGES: &str = "recharges";
/// The STATUS key of totals of rows that have none.
const NO_STATUS: i16 = 0;
/// The REGION key of totals of rows that have none.
const NO_REGION: &str = "";
/// The PLAN_TYPE key of totals of rows other than orders.
const NO_PLAN_TYPE: &str = "";
/// The ORDER_TYPE key of totals of rows other than orders.
const NO_ORDER_TYPE: i16 = 0;

diesel::define_sql_function! {
    /// `SUM` of a BIGINT column as a BIGINT (diesel's `sum` is NUMERIC; MySQL answers a
    /// DECIMAL, which diesel reads as an integer all the same).
    #[sql_name = "SUM"]
    #[aggregate]
    fn sum_of(x: BigInt) -> Nullable<BigInt>;
}

/// One total: whose, of which list, for which status and region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Insertable)]
#[diesel(table_name = list_total)]
pub(crate) struct Key<'a> {
    pub account_id: &'a str,
    pub list: &'static str,
    pub status: i16,
    pub region: &'a str,
    pub plan_type: &'a str,
    pub order_type: i16,
}

impl<'a> Key<'a> {
    /// The total of the orders of a project in this status, region, plan type and order
    /// type.
    pub(crate) fn order(
        account_id: &'a str,
        status: i16,
        region: &'a str,
        plan_type: &'a str,
        order_type: i16,
    ) -> Self {
        Key {
            account_id,
            list: ORDERS,
            status,
            region,
            plan_type,
            order_type,
        }
    }

    fn other(account_id: &'a str, list: &'static str, region: &'a str) -> Self {
        Key {
            account_id,
            list,
            status: NO_STATUS,
            region,
            plan_type: NO_PLAN_TYPE,
            order_type: NO_ORDER_TYPE,
        }
    }

    pub(crate) fn usage(account_id: &'a str, region: &'a str) -> Self {
        Self::other(account_id, USAGES, region)
    }

    pub(crate) fn notification(account_id: &'a str, region: &'a str) -> Self {
        Self::other(account_id, NOTIFICATIONS, region)
    }

    pub(crate) fn recharge(account_id: &'a str) -> Self {
        Self::other(account_id, RECHARGES, NO_REGION)
    }
}

/// What a change adds to the totals, in key order: the order in which the upsert locks
/// their rows, so two changes moving the same totals never wait for each other in a cycle.
#[derive(Debug, Default)]
pub(crate) struct Deltas<'a>(BTreeMap<Key<'a>, i64>);

impl<'a> Deltas<'a> {
    pub(crate) fn add(&mut self, key: Key<'a>, delta: i64) {
        *self.0.entry(key).or_default() += delta;
    }

    /// The totals that move, with how much.
    fn moved(&self) -> Vec<(Key<'a>, i64)> {
        self.0
            .iter()
            .filter(|(_, delta)| **delta != 0)
            .map(|(key, delta)| (*key, *delta))
            .collect()
    }
}

/// Totals per upsert: seven parameters each stays far below either backend's limit.
const TOTALS_PER_STATEMENT: usize = 1_000;

/// Adds the deltas to their totals, creating the ones missing (one statement for a
/// request's change).
pub(crate) fn apply(conn: &mut DbConnection, deltas: &Deltas<'_>) -> QueryResult<()> {
    for chunk in deltas.moved().chunks(TOTALS_PER_STATEMENT) {
        backend::add_totals(conn, chunk)?;
    }
    Ok(())
}

/// A total to add to, as the SQLite upsert inserts it.
#[derive(Debug, Insertable)]
#[diesel(table_name = list_total)]
pub(crate) struct TotalRow<'a> {
    #[diesel(embed)]
    pub key: Key<'a>,
    pub total: i64,
}

/// The total of one project's list of `list` for one `status` (orders), over all its
/// regions; `None` when nothing was ever counted there.
///
/// Each total is a query of a type of its own ([`in_region`] the other), never a boxed
/// one, so that the page statement holding it is typed statically too: diesel finds such a
/// statement in its cache by its type, where a boxed one has its SQL written out again on
/// every page only to be looked up (a twentieth of the CPU of a page of orders).
#[diesel::dsl::auto_type]
pub(crate) fn all_regions<'a>(account_id: &'a str, list: &'static str, status: i16) -> _ {
    list_total::table
        .filter(dsl::account_id.eq(account_id))
        .filter(dsl::list.eq(list))
        .filter(dsl::status.eq(status))
        .select(sum_of(dsl::total))
}

/// [`all_regions`] in one region.
#[diesel::dsl::auto_type]
pub(crate) fn in_region<'a>(
    account_id: &'a str,
    list: &'static str,
    status: i16,
    region: &'a str,
) -> _ {
    list_total::table
        .filter(dsl::account_id.eq(account_id))
        .filter(dsl::list.eq(list))
        .filter(dsl::status.eq(status))
        .filter(dsl::region.eq(region))
        .select(sum_of(dsl::total))
}

/// The orders' total of any filter the totals cover (see [`OrderFilter::is_counted`]),
/// boxed: the sum of the project's totals of the filter's status, region, plan type and
/// order type, each when given.
pub(crate) fn orders(
    filter: &OrderFilter,
) -> list_total::BoxedQuery<'_, MultiBackend, Nullable<BigInt>> {
    let mut query = list_total::table
        .filter(dsl::account_id.eq(filter.project.as_str()))
        .filter(dsl::list.eq(ORDERS))
        .select(sum_of(dsl::total))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(dsl::status.eq(status.code()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(dsl::region.eq(region.as_str()));
    }
    if let Some(plan_type) = &filter.plan_type {
        query = query.filter(dsl::plan_type.eq(plan_type.as_str()));
    }
    if let Some(order_type) = filter.order_type {
        query = query.filter(dsl::order_type.eq(order_type.code()));
    }
    query
}

/// A project's consumption rows in every region.
pub(crate) fn usages(account_id: &str) -> all_regions<'_> {
    all_regions(account_id, USAGES, NO_STATUS)
}

/// A project's consumption rows in one region.
pub(crate) fn usages_in<'a>(account_id: &'a str, region: &'a str) -> in_region<'a> {
    in_region(account_id, USAGES, NO_STATUS, region)
}

/// All of a project's notifications.
pub(crate) fn notifications(account_id: &str) -> all_regions<'_> {
    all_regions(account_id, NOTIFICATIONS, NO_STATUS)
}

/// A project's recharges.
pub(crate) fn recharges(account_id: &str) -> in_region<'_> {
    in_region(account_id, RECHARGES, NO_STATUS, NO_REGION)
}
