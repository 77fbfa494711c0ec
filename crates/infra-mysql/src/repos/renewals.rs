//! The renewal engine's store: claim a batch of due orders, let the rules decide each, and
//! write every decision in the same transaction.
//!
//! Exactly once, without a coordinator: the claim holds the orders until commit (MariaDB
//! `FOR UPDATE SKIP LOCKED`; SQLite's single writer), each order update is guarded by the
//! state the decision was made from (order id + last consume id + status), and the
//! (order, consume id) key is unique. A guard that fails means something changed an order
//! this transaction holds: the batch fails as `Internal` and rolls back whole.
//!
//! Cost per batch on MariaDB: one claim, one balance lock, one UPDATE per changed order,
//! one multi-row INSERT for all rows and one guarded debit per project.
//!
//! Isolation: READ COMMITTED on MariaDB. Every row the batch decides on is read with a
//! locking read (the claim, the balances), which sees the latest committed data at any
//! level; REPEATABLE READ would add gap locks on the claimed index range, blocking order
//! inserts into it and inviting deadlocks with concurrent runs, for no gain.
//!
//! Regions whose money a charge service keeps cannot renew inside a store transaction (the
//! charge is a remote call): their orders are read without a claim (`due_orders`), charged
//! one by one by the caller, and each decision is then written alone (`record`), guarded by
//! its `before` state exactly like a batch's, so a decision recorded twice (two runs, or a
//! retry) is written once. Batches select their regions with a `REGION [NOT] IN` filter
//! beside the renewal index's range, which keeps the (deadline, id) order of every scope.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::Connection;

use domain::ids::PlanId;
use domain::order::Order;
use domain::payment::RegionScope;
use domain::ports::{BatchOutcome, RenewalRepository};
use domain::renewal::{RenewalBatch, RenewalCursor, RenewalDecision, RenewalQueue, RenewalRules};
use domain::{Error, Money, Result};

use crate::backend::{self, Claim, DbConnection, DbTime, Isolation};
use crate::database::Database;
use crate::error::{classify, corrupt, Failure, RepoError, StoreError};
use crate::mapping::{mode_code, to_db_sequence, to_db_time};
use crate::rows::consumption::NewConsumptionRow;
use crate::rows::order::{OrderRow, Regions, RenewOrder};
use crate::rows::{consumption, order};

/// [`RenewalRepository`] on the database.
#[derive(Clone, Debug)]
pub struct RenewalStore {
    db: Database,
}

impl RenewalStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RenewalRepository for RenewalStore {
    async fn due_orders(&self, batch: RenewalBatch) -> Result<Vec<Order>> {
        self.db
            .read(move |conn| select(conn, &batch, backend::peek))
            .await
    }

    async fn record(&self, decision: RenewalDecision) -> Result<bool> {
        check(&decision.before, &decision)?;
        self.db.write(move |conn| record(conn, &decision)).await
    }

    async fn due_plans(
        &self,
        queue: RenewalQueue,
        due_by: DateTime<Utc>,
        regions: RegionScope,
    ) -> Result<Vec<PlanId>> {
        self.db
            .read(move |conn| {
                let Some(regions) = Regions::of(&regions) else {
                    return Ok(Vec::new());
                };
                let plans = order::due_plans(
                    conn,
                    mode_code(queue.mode),
                    queue.status.code(),
                    to_db_time(due_by),
                    &regions,
                )?;
                Ok(plans
                    .iter()
                    .map(|plan| {
                        PlanId::parse(plan).map_err(|e| {
                            corrupt("DF_PURCHASE_ORDER", &format!("PLAN_ID={plan:?}"), e)
                        })
                    })
                    .collect::<Result<Vec<_>>>()?)
            })
            .await
    }

    async fn renew_batch(
        &self,
        batch: RenewalBatch,
        rules: Arc<dyn RenewalRules>,
    ) -> Result<BatchOutcome> {
        self.db
            .write_at(Isolation::ReadCommitted, move |conn| {
                renew(conn, &batch, rules.as_ref())
            })
            .await
    }
}

/// A cursor that precedes every order: the Unix epoch, long before the service's first
/// order, and the empty id.
fn first_cursor() -> DbTime {
    DbTime(
        NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .unwrap_or(NaiveDateTime::MIN),
    )
}

fn renew(
    conn: &mut DbConnection,
    batch: &RenewalBatch,
    rules: &dyn RenewalRules,
) -> std::result::Result<BatchOutcome, RepoError> {
    let claimed = claim(conn, batch)?;
    let Some(last) = claimed.last() else {
        return Ok(BatchOutcome {
            decisions: Vec::new(),
            next: None,
        });
    };
    let next = Some(RenewalCursor {
        deadline: last.deadline_time,
        order_id: last.id.clone(),
    });
    let mut balances = lock_balances(conn, &claimed)?;
    let mut debits: BTreeMap<String, Money> = BTreeMap::new();
    let mut decisions = Vec::with_capacity(claimed.len());
    for order in &claimed {
        let project = order.project.as_str();
        let available = balances.get(project).copied().unwrap_or(Money::ZERO);
        let decision = rules.decide(order, available);
        check(order, &decision)?;
        let debit = decision.debit();
        if debit.is_positive() {
            let left = available
                .checked_sub(debit)
                .filter(|left| !left.is_negative());
            let Some(left) = left else {
                return Err(RepoError::Domain(Error::Internal(format!(
                    "renewal of order {} debits {debit} but project {project} has {available}",
                    order.id
                ))));
            };
            balances.insert(project.to_owned(), left);
            let total = debits.entry(project.to_owned()).or_insert(Money::ZERO);
            *total = total.checked_add(debit).unwrap_or(Money::MAX);
        }
        decisions.push(decision);
    }
    write(conn, &decisions, &debits)?;
    Ok(BatchOutcome { decisions, next })
}

fn claim(
    conn: &mut DbConnection,
    batch: &RenewalBatch,
) -> std::result::Result<Vec<Order>, RepoError> {
    select(conn, batch, backend::claim)
}

/// The batch's orders as `load` reads them (claiming or not): the queue's, in the batch's
/// regions, due, after the cursor, in (deadline, id) order, at most the limit.
fn select(
    conn: &mut DbConnection,
    batch: &RenewalBatch,
    load: fn(&mut DbConnection, &Claim<'_>) -> diesel::QueryResult<Vec<OrderRow>>,
) -> std::result::Result<Vec<Order>, RepoError> {
    let Some(regions) = Regions::of(&batch.regions) else {
        return Ok(Vec::new());
    };
    let (after_deadline, after_order_id) = match &batch.after {
        Some(cursor) => (to_db_time(cursor.deadline), cursor.order_id.as_str()),
        None => (first_cursor(), ""),
    };
    let rows = load(
        conn,
        &Claim {
            mode: mode_code(batch.queue.mode),
            status: batch.queue.status.code(),
            regions,
            due_by: to_db_time(batch.due_by),
            after_deadline,
            after_order_id,
            limit: i64::from(batch.limit),
        },
    )?;
    Ok(rows
        .into_iter()
        .map(Order::try_from)
        .collect::<Result<Vec<_>>>()?)
}

/// The claimed orders' projects' balances, locked; a project without a row has zero.
fn lock_balances(
    conn: &mut DbConnection,
    claimed: &[Order],
) -> std::result::Result<BTreeMap<String, Money>, RepoError> {
    let mut projects: Vec<&str> = claimed.iter().map(|o| o.project.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    Ok(backend::lock_balances(conn, &projects)?
        .into_iter()
        .map(|(project, amount)| (project, Money::from_minor(amount)))
        .collect())
}

/// The rules' side of the contract: a decision about this order, rows that continue the
/// sequence of its `before` state and charge, a new state that names the last row. A
/// violation is a bug in the rules; writing it would corrupt the ledger. Whether `before`
/// is still the order's state is the guarded UPDATE's job.
fn check(order: &Order, decision: &RenewalDecision) -> Result<()> {
    let bug = |what: String| {
        Err(Error::Internal(format!(
            "renewal of order {}: {what}",
            order.id
        )))
    };
    if decision.before.id != order.id
        || decision.after.id != order.id
        || decision.after.project != order.project
    {
        return bug(format!("its new state is order {}", decision.after.id));
    }
    let mut previous = decision.before.last_consume_id;
    for row in &decision.rows {
        if row.order_id != order.id || row.project != order.project {
            return bug(format!(
                "row #{} belongs to order {}",
                row.consume_id, row.order_id
            ));
        }
        if Some(row.consume_id) != previous.checked_add(1) {
            return bug(format!(
                "row #{} does not follow #{previous}",
                row.consume_id
            ));
        }
        if row.amount.is_negative() {
            return bug(format!("row #{} refunds {}", row.consume_id, row.amount));
        }
        previous = row.consume_id;
    }
    if decision.after.last_consume_id != previous {
        return bug(format!(
            "last consume id {} but the last row is #{previous}",
            decision.after.last_consume_id
        ));
    }
    Ok(())
}

/// Writes every decision that changes something: order updates (guarded), all rows in
/// one statement, one debit per project (guarded: the batch's total must still be there).
fn write(
    conn: &mut DbConnection,
    decisions: &[RenewalDecision],
    debits: &BTreeMap<String, Money>,
) -> std::result::Result<(), RepoError> {
    let mut rows: Vec<NewConsumptionRow<'_>> = Vec::new();
    let mut changes = Vec::new();
    for decision in decisions.iter().filter(|d| d.changes()) {
        changes.push(renewed_order(decision)?);
        for row in &decision.rows {
            rows.push(NewConsumptionRow::try_from(row)?);
        }
    }
    let written = backend::renew_orders(conn, &changes)?;
    if written != changes.len() {
        return Err(RepoError::Domain(Error::Internal(format!(
            "{} of {} claimed orders changed while claimed; the batch is rolled back",
            changes.len() - written,
            changes.len()
        ))));
    }
    consumption::insert_all(conn, &rows)?;
    // The run's instant, which its events carry; a debit always comes with an event.
    let at = decisions
        .iter()
        .flat_map(|d| d.events.iter().map(|event| event.time))
        .chain(
            decisions
                .iter()
                .flat_map(|d| d.rows.iter().map(|row| row.time)),
        )
        .max()
        .map(to_db_time);
    let Some(at) = at else {
        return Ok(());
    };
    let debits: Vec<(&str, i64)> = debits
        .iter()
        .map(|(project, total)| (project.as_str(), total.minor()))
        .collect();
    if backend::debit_all(conn, &debits, at)? != debits.len() {
        return Err(RepoError::Domain(Error::Internal(
            "a balance no longer covers what its locked row allowed; the batch is rolled back"
                .into(),
        )));
    }
    Ok(())
}

/// One decision whose money a charge service already moved: the order's new state, guarded
/// by its `before` state, then the rows. The pair runs in a savepoint, so that a row
/// meeting the unique (order, consume id) key undoes the order update too: both mean that
/// another run recorded the decision first.
fn record(
    conn: &mut DbConnection,
    decision: &RenewalDecision,
) -> std::result::Result<bool, RepoError> {
    let change = renewed_order(decision)?;
    let rows = decision
        .rows
        .iter()
        .map(NewConsumptionRow::try_from)
        .collect::<Result<Vec<_>>>()?;
    let written = conn.transaction(|conn| {
        if !order::renew(conn, &change)? {
            return Ok(false);
        }
        consumption::insert_all(conn, &rows)?;
        Ok(true)
    });
    match written {
        Err(RepoError::Store(StoreError::Query(e))) if classify(&e) == Failure::Duplicate => {
            Ok(false)
        }
        outcome => outcome,
    }
}

fn renewed_order(decision: &RenewalDecision) -> std::result::Result<RenewOrder<'_>, RepoError> {
    let (before, after) = (&decision.before, &decision.after);
    Ok(RenewOrder {
        order_id: before.id.as_str(),
        expected_last_consume_id: to_db_sequence(before.last_consume_id)?,
        expected_status: before.status.code(),
        status: after.status.code(),
        deadline_time: to_db_time(after.deadline_time),
        end_time: after.end_time.map(to_db_time),
        last_consume_id: to_db_sequence(after.last_consume_id)?,
        renew_retries: i32::try_from(after.renew_retries).unwrap_or(i32::MAX),
        last_warned_at: after.last_warned_at.map(to_db_time),
    })
}
