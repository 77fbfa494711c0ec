//! Writing orders straight into the service's database, as the service itself would have
//! written them when they were created: the order (status consuming, LAST_CONSUME_ID 1 for
//! a prepaid order with its first cycle paid, 0 for a postpaid one), its row #1 (kind new,
//! covering the first cycle), and a balance and recharge that account for that charge.
//! Fast enough for the benchmark's 100,000 orders: multi-row inserts with bound
//! parameters, in transactions of a few thousand orders.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::calendar::{cycle_end, renewals_due};
use crate::catalog::{Plan, PREPAID, PREPAID_PLANS};
use crate::db::{on_backend, Db, Result};
use crate::rng::Rng;
use crate::schema::{balance, consuming_history, purchase_order, recharge};

/// The service's renewal margin (`renewal.margin_days` in config/default.toml).
pub const MARGIN_DAYS: i64 = 7;
/// STATUS of a consuming order.
pub const CONSUMING: i16 = 5;
/// Rows per INSERT: 15 parameters an order, well under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;
/// Orders per transaction when seeding in bulk.
const ORDERS_PER_TRANSACTION: usize = 5_000;

/// An order as created at `start` (its first cycle paid if prepaid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub order_id: String,
    pub project: String,
    pub plan: Plan,
    pub quantities: i32,
    pub start: NaiveDateTime,
    pub resource_name: Option<String>,
}

impl NewOrder {
    /// End of the first cycle: paid-until (prepaid) or the first settlement (postpaid).
    pub fn deadline(&self) -> NaiveDateTime {
        cycle_end(self.start, self.plan.months, 1)
    }

    /// One cycle's price for this order.
    pub fn cycle_price(&self) -> i64 {
        self.plan.price * i64::from(self.quantities)
    }

    /// What opening the order charged: a prepaid order pays its first cycle.
    pub fn first_charge(&self) -> i64 {
        if self.plan.mode == PREPAID {
            self.cycle_price()
        } else {
            0
        }
    }

    /// Rows a prepaid order has once renewed with enough balance at `now`: row #1 plus one
    /// per cycle end within the margin.
    pub fn rows_after_renewal_at(&self, now: NaiveDateTime) -> u32 {
        1 + renewals_due(
            self.start,
            self.plan.months,
            now + TimeDelta::days(MARGIN_DAYS),
        )
    }
}

#[derive(Insertable)]
#[diesel(table_name = purchase_order, treat_none_as_default_value = false)]
struct OrderInsert<'a> {
    order_id: &'a str,
    account_id: &'a str,
    region: &'a str,
    plan_id: &'a str,
    plan_type: &'a str,
    charging_mode: i16,
    quantities: i32,
    start_time: NaiveDateTime,
    deadline_time: NaiveDateTime,
    last_consume_id: i32,
    renew_retries: i32,
    status: i16,
    creator: &'a str,
    resource_name: Option<&'a str>,
    active_resource_name: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = consuming_history)]
struct RowInsert<'a> {
    order_id: &'a str,
    consume_id: i32,
    consuming: i64,
    consume_time: NaiveDateTime,
    deadline_time: NaiveDateTime,
    account_id: &'a str,
    region: &'a str,
    plan_id: &'a str,
    kind: i16,
}

impl<'a> From<&'a NewOrder> for OrderInsert<'a> {
    fn from(order: &'a NewOrder) -> Self {
        Self {
            order_id: &order.order_id,
            account_id: &order.project,
            region: order.plan.region,
            plan_id: order.plan.id,
            plan_type: order.plan.plan_type,
            charging_mode: order.plan.mode,
            quantities: order.quantities,
            start_time: order.start,
            deadline_time: order.deadline(),
            last_consume_id: i32::from(order.plan.mode == PREPAID),
            renew_retries: 0,
            status: CONSUMING,
            creator: "seed",
            resource_name: order.resource_name.as_deref(),
            active_resource_name: order.resource_name.as_deref(),
        }
    }
}

/// Row #1 of a prepaid order: kind new (0), at the start, covering the first cycle.
fn first_row(order: &NewOrder) -> Option<RowInsert<'_>> {
    (order.plan.mode == PREPAID).then(|| RowInsert {
        order_id: &order.order_id,
        consume_id: 1,
        consuming: order.first_charge(),
        consume_time: order.start,
        deadline_time: order.deadline(),
        account_id: &order.project,
        region: order.plan.region,
        plan_id: order.plan.id,
        kind: 0,
    })
}

/// Inserts the orders and their first rows (no balance change: the caller accounts for it).
pub fn insert_orders(db: &mut Db, orders: &[NewOrder]) -> Result<()> {
    for chunk in orders.chunks(ROWS_PER_INSERT) {
        let order_rows: Vec<OrderInsert<'_>> = chunk.iter().map(OrderInsert::from).collect();
        let first_rows: Vec<RowInsert<'_>> = chunk.iter().filter_map(first_row).collect();
        on_backend!(&mut *db, |c| {
            diesel::insert_into(purchase_order::table)
                .values(&order_rows)
                .execute(c)
        })?;
        if !first_rows.is_empty() {
            on_backend!(&mut *db, |c| {
                diesel::insert_into(consuming_history::table)
                    .values(&first_rows)
                    .execute(c)
            })?;
        }
    }
    Ok(())
}

/// Money that reached a project: one recharge of `recharged`, leaving `balance`.
#[derive(Clone, Debug)]
pub struct Funding {
    pub project: String,
    pub balance: i64,
    pub recharged: i64,
}

/// Writes each project's balance row and the recharge that explains it.
pub fn fund(db: &mut Db, fundings: &[Funding], at: NaiveDateTime) -> Result<()> {
    for chunk in fundings.chunks(ROWS_PER_INSERT) {
        let balances: Vec<_> = chunk
            .iter()
            .map(|f| {
                (
                    balance::account_id.eq(f.project.as_str()),
                    balance::amount.eq(f.balance),
                    balance::update_time.eq(at),
                )
            })
            .collect();
        let recharges: Vec<_> = chunk
            .iter()
            .map(|f| {
                (
                    recharge::account_id.eq(f.project.as_str()),
                    recharge::amount.eq(f.recharged),
                    recharge::comment.eq(Some("seeded")),
                    recharge::operator.eq("seed"),
                    recharge::create_time.eq(at),
                )
            })
            .collect();
        on_backend!(&mut *db, |c| {
            diesel::insert_into(balance::table)
                .values(&balances)
                .execute(c)
        })?;
        on_backend!(&mut *db, |c| {
            diesel::insert_into(recharge::table)
                .values(&recharges)
                .execute(c)
        })?;
    }
    Ok(())
}

/// Opens one order now, paying its first cycle from the project's balance the way the
/// service does (guarded debit, all in one transaction). `false`, and nothing written,
/// when the balance does not cover it.
pub fn open_order(db: &mut Db, order: &NewOrder) -> Result<bool> {
    let charge = order.first_charge();
    let at = order.start;
    db.transaction(|db| {
        let debited = on_backend!(&mut *db, |c| {
            diesel::update(
                balance::table
                    .filter(balance::account_id.eq(order.project.as_str()))
                    .filter(balance::amount.ge(charge)),
            )
            .set((
                balance::amount.eq(balance::amount - charge),
                balance::update_time.eq(at),
            ))
            .execute(c)
        })?;
        if debited == 0 {
            return Ok(false);
        }
        insert_orders(db, std::slice::from_ref(order))?;
        Ok(true)
    })
}

/// A bulk of due prepaid orders for the renewal tests and the benchmark.
#[derive(Clone, Debug)]
pub struct DueOrders {
    pub orders: usize,
    pub projects: usize,
    /// What each project has left after its orders' first cycles, in ten-thousandths.
    pub balance: i64,
    /// The renewal run's clock: every order's deadline is at most `now` + the margin.
    pub now: NaiveDateTime,
    /// How far back the earliest deadline lies; beyond a month, orders owe several cycles.
    pub overdue_days: i64,
    pub seed: u64,
}

/// Generates the orders (deterministic for a seed): prepaid demo plans, quantities 1–3,
/// order `i` in project `i mod projects`, deadlines spread from `overdue_days` before `now`
/// to just inside the margin.
pub fn due_orders(spec: &DueOrders) -> Vec<NewOrder> {
    let mut rng = Rng::new(spec.seed);
    let window = (spec.overdue_days + MARGIN_DAYS) * 86_400;
    let latest = spec.now + TimeDelta::days(MARGIN_DAYS) - TimeDelta::seconds(1);
    (0..spec.orders)
        .map(|i| {
            let plan = PREPAID_PLANS[rng.index(PREPAID_PLANS.len())];
            let offset = i64::try_from(rng.below(u64::try_from(window).unwrap_or(1))).unwrap_or(0);
            let mut start = (spec.now - TimeDelta::days(spec.overdue_days)
                + TimeDelta::seconds(offset))
            .checked_sub_months(Months::new(plan.months))
            .unwrap_or(spec.now);
            while cycle_end(start, plan.months, 1) > latest {
                start -= TimeDelta::days(1);
            }
            NewOrder {
                order_id: format!("due-{i:07}"),
                project: format!("p{:05}", i % spec.projects.max(1)),
                plan,
                quantities: i32::try_from(1 + rng.below(3)).unwrap_or(1),
                start,
                resource_name: plan.needs_resource_name.then(|| format!("r-{i:07}")),
            }
        })
        .collect()
}

/// Seeds [`due_orders`] with funded projects; returns the orders written.
pub fn seed_due(db: &mut Db, spec: &DueOrders) -> Result<Vec<NewOrder>> {
    let orders = due_orders(spec);
    let mut charged: BTreeMap<&str, i64> = BTreeMap::new();
    for order in &orders {
        *charged.entry(order.project.as_str()).or_default() += order.first_charge();
    }
    let fundings: Vec<Funding> = charged
        .iter()
        .map(|(project, charged)| Funding {
            project: (*project).to_owned(),
            balance: spec.balance,
            recharged: spec.balance + charged,
        })
        .collect();
    let earliest = orders.iter().map(|o| o.start).min().unwrap_or(spec.now);
    db.transaction(|db| fund(db, &fundings, earliest))?;
    for chunk in orders.chunks(ORDERS_PER_TRANSACTION) {
        db.transaction(|db| insert_orders(db, chunk))?;
    }
    Ok(orders)
}
