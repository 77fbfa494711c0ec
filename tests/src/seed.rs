//! Writing orders straight into the service's database, as the service itself would have
//! written them when they were created: the order (status consuming, LAST_CONSUME_ID 1 for
//! a prepaid order with its first cycle paid, 0 for a postpaid one) with its terms (cycle,
//! price, who keeps its money, its payment number, the quota it holds), its row #1 (kind
//! new, covering the first cycle) and that row's settled payment, both counted in the
//! list totals, and, where the local ledger keeps the money, a balance and recharge that
//! account for that charge. Like the
//! service, at most one open quota order per project and region.
//! Fast enough for the benchmark's 100,000 orders: multi-row inserts with bound
//! parameters, in transactions of a few thousand orders.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::calendar::{cycle_end, renewals_due};
use crate::catalog::{Plan, PREPAID, PREPAID_PLANS, VOLUME};
use crate::db::{on_backend, Db, Error, Result};
use crate::rng::Rng;
use crate::schema::{balance, consuming_history, order_terms, payment, purchase_order, recharge};

/// The service's renewal margin (`renewal.margin_days` in config/default.toml).
pub const MARGIN_DAYS: i64 = 7;
/// STATUS of a consuming order.
pub const CONSUMING: i16 = 5;
/// Rows per INSERT: 15 parameters an order, well under both backends' limits.
const ROWS_PER_INSERT: usize = 1_000;
/// Orders per transaction when seeding in bulk.
const ORDERS_PER_TRANSACTION: usize = 5_000;

/// Who keeps an order's money, fixed when it opens (KEEPER).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keeper {
    /// The service's own balances (DF_BALANCE).
    #[default]
    LocalLedger,
    /// The region's charge service (`charging = "remote"`).
    ChargeService,
}

impl Keeper {
    /// The KEEPER (and DF_PAYMENT.KEEPER) code.
    pub fn code(self) -> i16 {
        match self {
            Keeper::LocalLedger => 0,
            Keeper::ChargeService => 1,
        }
    }
}

/// An order as created at `start` (its first cycle paid if prepaid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub order_id: String,
    pub project: String,
    pub plan: Plan,
    pub quantities: i32,
    pub start: NaiveDateTime,
    pub resource_name: Option<String>,
    pub keeper: Keeper,
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

    /// Whether the order's plan sets its project's quota (one open order per region may).
    pub fn is_quota(&self) -> bool {
        is_quota(&self.plan)
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

/// Whether orders of `plan` set their project's quota in its region.
pub fn is_quota(plan: &Plan) -> bool {
    matches!(plan.plan_type, "cpuquota" | "quota" | "resources")
}

#[derive(Insertable)]
#[diesel(table_name = payment)]
struct PaymentInsert<'a> {
    order_id: &'a str,
    seq: i32,
    account_id: &'a str,
    region: &'a str,
    keeper: i16,
    direction: i16,
    amount: i64,
    consume_id: i32,
    row_kind: i16,
    period_from: NaiveDateTime,
    period_until: NaiveDateTime,
    deferred: bool,
    state: i16,
    created_at: NaiveDateTime,
    settled_at: Option<NaiveDateTime>,
    next_attempt_at: NaiveDateTime,
}

/// The payment of row #1, settled by the local ledger when the order opened: payment #1, a
/// deduction of the first charge. None for an order that paid nothing up front.
fn first_payment(order: &NewOrder) -> Option<PaymentInsert<'_>> {
    (order.first_charge() > 0).then(|| PaymentInsert {
        order_id: &order.order_id,
        seq: 1,
        account_id: &order.project,
        region: order.plan.region,
        keeper: order.keeper.code(),
        direction: 0,
        amount: order.first_charge(),
        consume_id: 1,
        row_kind: 0,
        period_from: order.start,
        period_until: order.deadline(),
        deferred: false,
        state: 1,
        created_at: order.start,
        settled_at: Some(order.start),
        next_attempt_at: order.start,
    })
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

/// Inserts the orders with their terms, their first rows and those rows' payments (no
/// balance change: the caller accounts for it). A second open quota order of a project
/// and region is refused by the service's unique key, as the service would refuse it.
pub fn insert_orders(db: &mut Db, orders: &[NewOrder]) -> Result<()> {
    for chunk in orders.chunks(ROWS_PER_INSERT) {
        let order_rows: Vec<OrderInsert<'_>> = chunk.iter().map(OrderInsert::from).collect();
        let first_rows: Vec<RowInsert<'_>> = chunk.iter().filter_map(first_row).collect();
        let payments: Vec<PaymentInsert<'_>> = chunk.iter().filter_map(first_payment).collect();
        on_backend!(&mut *db, |c| {
            diesel::insert_into(purchase_order::table)
                .values(&order_rows)
                .execute(c)
        })?;
        set_terms(db, chunk)?;
        if !first_rows.is_empty() {
            on_backend!(&mut *db, |c| {
                diesel::insert_into(consuming_history::table)
                    .values(&first_rows)
                    .execute(c)
            })?;
        }
        if !payments.is_empty() {
            on_backend!(&mut *db, |c| {
                diesel::insert_into(payment::table)
                    .values(&payments)
                    .execute(c)
            })?;
        }
        count_in_totals(db, chunk)?;
    }
    Ok(())
}

/// A list total the service keeps (DF_LIST_TOTAL): project, list, status, region and, for
/// orders, plan type (the order type is 0: seeded orders are all bought new).
type TotalKey<'a> = (&'a str, &'a str, i16, &'a str, &'a str);

/// Adds the orders, all consuming, and their rows #1 to the list totals the service keeps
/// beside them (DF_LIST_TOTAL), as its changes do.
fn count_in_totals(db: &mut Db, orders: &[NewOrder]) -> Result<()> {
    let mut totals: BTreeMap<TotalKey<'_>, i64> = BTreeMap::new();
    for order in orders {
        let region = order.plan.region;
        *totals
            .entry((
                &order.project,
                "orders",
                CONSUMING,
                region,
                order.plan.plan_type,
            ))
            .or_default() += 1;
        if first_row(order).is_some() {
            *totals
                .entry((&order.project, "usages", 0, region, ""))
                .or_default() += 1;
        }
    }
    add_totals(db, &totals)
}

/// Adds `totals` to DF_LIST_TOTAL, creating the totals missing.
fn add_totals(db: &mut Db, totals: &BTreeMap<TotalKey<'_>, i64>) -> Result<()> {
    use diesel::sql_types::{BigInt, SmallInt, Text};
    let upsert = match db {
        Db::Mysql(_) => {
            "INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, PLAN_TYPE, TOTAL) \
             VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE TOTAL = TOTAL + VALUES(TOTAL)"
        }
        Db::Sqlite(_) => {
            "INSERT INTO DF_LIST_TOTAL (ACCOUNT_ID, LIST, STATUS, REGION, PLAN_TYPE, TOTAL) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (ACCOUNT_ID, LIST, STATUS, REGION, PLAN_TYPE, ORDER_TYPE) \
             DO UPDATE SET TOTAL = TOTAL + excluded.TOTAL"
        }
    };
    for (&(project, list, status, region, plan_type), &n) in totals {
        on_backend!(&mut *db, |c| diesel::sql_query(upsert)
            .bind::<Text, _>(project)
            .bind::<Text, _>(list)
            .bind::<SmallInt, _>(status)
            .bind::<Text, _>(region)
            .bind::<Text, _>(plan_type)
            .bind::<BigInt, _>(n)
            .execute(c))?;
    }
    Ok(())
}

/// Writes the terms the orders opened with, one statement per plan and keeper (they are the
/// plan's): its cycle and unit price, who keeps the money, payment #1 taken if it charged
/// up front, and the quota held.
fn set_terms(db: &mut Db, orders: &[NewOrder]) -> Result<()> {
    let mut by_plan: BTreeMap<(&str, i16), (Plan, Vec<&str>)> = BTreeMap::new();
    for order in orders {
        by_plan
            .entry((order.plan.id, order.keeper.code()))
            .or_insert_with(|| (order.plan, Vec::new()))
            .1
            .push(&order.order_id);
    }
    for (&(_, keeper), (plan, ids)) in &by_plan {
        let cycle: i16 = if plan.months == 12 { 1 } else { 0 };
        let paid = i32::from(plan.mode == PREPAID && plan.price > 0);
        let quota = is_quota(plan).then_some(plan.region);
        on_backend!(&mut *db, |c| {
            diesel::update(order_terms::table.filter(order_terms::order_id.eq_any(ids)))
                .set((
                    order_terms::cycle.eq(cycle),
                    order_terms::price.eq(plan.price),
                    order_terms::keeper.eq(keeper),
                    order_terms::payment_seq.eq(paid),
                    order_terms::active_quota.eq(quota),
                ))
                .execute(c)
        })?;
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

/// Writes each project's balance row and the recharge that explains it (counted in the
/// project's list total of recharges, as the service counts it).
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
        let mut totals: BTreeMap<TotalKey<'_>, i64> = BTreeMap::new();
        for f in chunk {
            *totals
                .entry((f.project.as_str(), "recharges", 0, "", ""))
                .or_default() += 1;
        }
        add_totals(db, &totals)?;
    }
    Ok(())
}

/// Opens one order now, paying its first cycle from the project's balance the way the
/// service does (guarded debit, all in one transaction). `false`, and nothing written,
/// when the balance does not cover it (a postpaid order needs one cycle of credit: the
/// balance, with the default credit limit of 0) or, for a quota order, when the project
/// already has an open quota order in the region.
pub fn open_order(db: &mut Db, order: &NewOrder) -> Result<bool> {
    let charge = order.first_charge();
    let needed = if order.plan.mode == PREPAID {
        charge
    } else {
        order.cycle_price()
    };
    let at = order.start;
    let opened = db.transaction(|db| {
        let debited = on_backend!(&mut *db, |c| {
            diesel::update(
                balance::table
                    .filter(balance::account_id.eq(order.project.as_str()))
                    .filter(balance::amount.ge(needed)),
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
    });
    match opened {
        Err(Error::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) if order.is_quota() => Ok(false),
        other => other,
    }
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
    /// Who keeps every order's money. Projects are funded only where the ledger keeps it.
    pub keeper: Keeper,
}

/// Generates the orders (deterministic for a seed): prepaid demo plans, quantities 1–3,
/// order `i` in project `i mod projects`, deadlines spread from `overdue_days` before `now`
/// to just inside the margin. A project gets at most one quota order per region (the
/// service allows no more); a quota plan drawn again for it becomes a volume.
pub fn due_orders(spec: &DueOrders) -> Vec<NewOrder> {
    let mut rng = Rng::new(spec.seed);
    let window = (spec.overdue_days + MARGIN_DAYS) * 86_400;
    let latest = spec.now + TimeDelta::days(MARGIN_DAYS) - TimeDelta::seconds(1);
    let mut quotas: BTreeSet<(usize, &str)> = BTreeSet::new();
    (0..spec.orders)
        .map(|i| {
            let drawn = PREPAID_PLANS[rng.index(PREPAID_PLANS.len())];
            let project = i % spec.projects.max(1);
            let plan = if is_quota(&drawn) && !quotas.insert((project, drawn.region)) {
                VOLUME
            } else {
                drawn
            };
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
                project: format!("p{project:05}"),
                plan,
                quantities: i32::try_from(1 + rng.below(3)).unwrap_or(1),
                start,
                resource_name: plan.needs_resource_name.then(|| format!("r-{i:07}")),
                keeper: spec.keeper,
            }
        })
        .collect()
}

/// Seeds [`due_orders`] with funded projects; returns the orders written.
pub fn seed_due(db: &mut Db, spec: &DueOrders) -> Result<Vec<NewOrder>> {
    let orders = due_orders(spec);
    let mut charged: BTreeMap<&str, i64> = BTreeMap::new();
    for order in orders.iter().filter(|o| o.keeper == Keeper::LocalLedger) {
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
