//! The renewal engine's store: claim a batch of due orders, read the balances the rules
//! need, let the rules decide the whole batch, and write its change, all in one
//! transaction, with the same code as every other change ([`changes::write`]).
//!
//! Exactly once, without a coordinator: every order update is guarded by the version it
//! was decided from, the (order, consume id) and (order, payment number) keys are unique,
//! and every movement of the ledger is guarded by the balance it requires. The claim's row
//! locks (MariaDB `FOR UPDATE SKIP LOCKED`, the balances `FOR UPDATE`; SQLite's single
//! writer) only keep concurrent runs off each other's orders to save work: a store built
//! [`RenewalStore::without_claim_locks`] claims with plain reads, and two runs deciding the
//! same order then write it once — the loser's update finds another version.
//!
//! Failures stay with their order: a claimed row that cannot be read is reported and
//! skipped (the cursor still moves past it), and if the batch's change cannot be written,
//! the batch is rolled back to a savepoint and each decision is written alone, in a
//! savepoint of its own: one that lost to a concurrent change is reported `Skipped`, one
//! that fails otherwise is reported failed, and the others are written.
//!
//! Cost per batch on MariaDB: one claim, one balance read, one `UPDATE` per 500 orders,
//! one `INSERT` each for rows, payments and events, one guarded `UPDATE` per 500 projects.
//!
//! Isolation: READ COMMITTED on MariaDB. Every row the batch decides on is read with a
//! locking read (the claim, the balances), which sees the latest committed data at any
//! level; REPEATABLE READ would add gap locks on the claimed index range, blocking order
//! inserts into it and inviting deadlocks with concurrent runs, for no gain. Without claim
//! locks the reads see committed data too, and the guards catch what changed since.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::Connection;

use domain::change::Change;
use domain::idempotency::IdempotencyRecord;
use domain::ids::{OrderId, PlanId, ProjectId};
use domain::order::Order;
use domain::ports::{BatchOutcome, RenewalRepository};
use domain::renewal::{
    BatchPlan, RenewalBatch, RenewalCursor, RenewalDecision, RenewalOutcome, RenewalQueue,
    RenewalRules,
};
use domain::{Error, Money, Result};

use crate::backend::{self, Claim, DbConnection, DbTime, Isolation, Locking};
use crate::database::Database;
use crate::error::{corrupt, RepoError};
use crate::mapping::{from_db_time, mode_code, to_db_time};
use crate::repos::changes::{self, Statements};
use crate::rows::order::{self, OrderRow};
use crate::telemetry;

/// [`RenewalRepository`] on the database.
#[derive(Clone, Debug)]
pub struct RenewalStore {
    db: Database,
    /// The configured webhooks' names: each event a batch records is delivered to every one.
    endpoints: Arc<[String]>,
    locking: Locking,
}

impl RenewalStore {
    /// Claims lock the claimed orders and the balances read (where the database can), so
    /// concurrent runs take disjoint batches.
    pub fn new(db: Database, webhook_endpoints: Vec<String>) -> Self {
        Self {
            db,
            endpoints: webhook_endpoints.into(),
            locking: Locking::Rows,
        }
    }

    /// Claims and balance reads lock nothing: for databases that ignore `SKIP LOCKED`
    /// (TiDB) or lack `GET_LOCK`-style coordination (Galera). Runs may then decide the same
    /// orders; the version guards and unique keys still write each cycle once, and the
    /// losing run reports those orders `Skipped`.
    pub fn without_claim_locks(mut self) -> Self {
        self.locking = Locking::None;
        self
    }
}

#[async_trait]
impl RenewalRepository for RenewalStore {
    async fn due_plans(&self, queue: RenewalQueue, due_by: DateTime<Utc>) -> Result<Vec<PlanId>> {
        self.db
            .read(move |conn| {
                let plans = order::due_plans(
                    conn,
                    mode_code(queue.mode),
                    queue.status.code(),
                    to_db_time(due_by),
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
        let endpoints = Arc::clone(&self.endpoints);
        let locking = self.locking;
        let outcome = self
            .db
            .write_at(Isolation::ReadCommitted, move |conn| {
                renew(conn, &batch, rules.as_ref(), &endpoints, locking)
            })
            .await?;
        telemetry::decisions_committed(&outcome.decisions);
        Ok(outcome)
    }

    async fn renew_order(
        &self,
        order: &OrderId,
        rules: Arc<dyn RenewalRules>,
        key: Option<IdempotencyRecord>,
    ) -> Result<Option<RenewalDecision>> {
        let id = order.clone();
        let endpoints = Arc::clone(&self.endpoints);
        let locking = self.locking;
        let decision = self
            .db
            .write_at(Isolation::ReadCommitted, move |conn| {
                renew_one(conn, &id, rules.as_ref(), &endpoints, locking, key.as_ref())
            })
            .await?;
        telemetry::decisions_committed(decision.as_slice());
        Ok(decision)
    }
}

/// Orders that could not be read or written, each with why (see [`BatchOutcome::failed`]).
type Failed = Vec<(String, String)>;

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
    endpoints: &[String],
    locking: Locking,
) -> std::result::Result<BatchOutcome, RepoError> {
    let (after_deadline, after_order_id) = match &batch.after {
        Some(cursor) => (to_db_time(cursor.deadline), cursor.order_id.as_str()),
        None => (first_cursor(), ""),
    };
    let claimed = backend::claim(
        conn,
        &Claim {
            mode: mode_code(batch.queue.mode),
            status: batch.queue.status.code(),
            due_by: to_db_time(batch.due_by),
            after_deadline,
            after_order_id,
            limit: i64::from(batch.limit),
            locking,
        },
    )?;
    let Some(next) = cursor_after(&claimed)? else {
        return Ok(BatchOutcome::default());
    };
    let (orders, mut failed) = read_claimed(conn, &claimed)?;
    let balances = read_balances(conn, &rules.balances_needed(&orders), locking)?;
    let decisions = rules.decide_batch(&orders, &balances);
    let (decisions, unwritten) = write_decisions(conn, decisions, endpoints)?;
    failed.extend(unwritten);
    Ok(BatchOutcome {
        decisions,
        failed,
        next: Some(next),
    })
}

/// Where the next batch starts: after the last claimed order, from its raw id and deadline
/// (`None` when nothing was claimed), so that a row the domain cannot read never stops the
/// cursor. An id that is not an order id (it has characters other than letters, digits, `-`
/// and `_`) cannot be a cursor; the last claimed id that is serves, and only a batch made
/// of such rows fails.
fn cursor_after(
    claimed: &[(String, DbTime)],
) -> std::result::Result<Option<RenewalCursor>, RepoError> {
    if claimed.is_empty() {
        return Ok(None);
    }
    claimed
        .iter()
        .rev()
        .find_map(|(id, deadline)| {
            Some(RenewalCursor {
                deadline: from_db_time(*deadline),
                order_id: OrderId::parse(id).ok()?,
            })
        })
        .map(Some)
        .ok_or_else(|| {
            RepoError::Domain(Error::Internal(format!(
                "no claimed order has a readable ORDER_ID, the first is {:?}",
                claimed.first().map(|(id, _)| id.as_str())
            )))
        })
}

/// The claimed orders the domain can read, in claim order, and the others with why. The
/// rows are read in one query; if one of them cannot even be decoded (a time the column's
/// type cannot hold), they are read one by one, so that only that one is reported.
fn read_claimed(
    conn: &mut DbConnection,
    claimed: &[(String, DbTime)],
) -> std::result::Result<(Vec<Order>, Failed), RepoError> {
    let ids: Vec<&str> = claimed.iter().map(|(id, _)| id.as_str()).collect();
    let mut rows: Vec<(String, std::result::Result<OrderRow, String>)> =
        match order::find_all(conn, &ids) {
            Ok(rows) => rows
                .into_iter()
                .map(|row| (row.order_id.clone(), Ok(row)))
                .collect(),
            Err(diesel::result::Error::DeserializationError(_)) => {
                let mut one_by_one = Vec::with_capacity(ids.len());
                for id in &ids {
                    match order::find(conn, id) {
                        Ok(Some(row)) => one_by_one.push(((*id).to_owned(), Ok(row))),
                        Ok(None) => {}
                        Err(diesel::result::Error::DeserializationError(e)) => {
                            one_by_one.push(((*id).to_owned(), Err(e.to_string())));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                one_by_one
            }
            Err(e) => return Err(e.into()),
        };
    let position: HashMap<&str, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    rows.sort_by_key(|(id, _)| position.get(id.as_str()).copied());
    let mut orders = Vec::with_capacity(rows.len());
    let mut failed = Vec::new();
    for (id, row) in rows {
        match row.map_err(|why| {
            corrupt("DF_PURCHASE_ORDER", &format!("ORDER_ID={id:?}"), why).to_string()
        }) {
            Ok(row) => match Order::try_from(row) {
                Ok(order) => orders.push(order),
                Err(e) => failed.push((id, e.to_string())),
            },
            Err(why) => failed.push((id, why)),
        }
    }
    Ok((orders, failed))
}

/// The balances of `projects` (locked with [`Locking::Rows`] on MariaDB); a project
/// without a balance row is absent, which the rules read as zero.
fn read_balances(
    conn: &mut DbConnection,
    projects: &[ProjectId],
    locking: Locking,
) -> std::result::Result<BTreeMap<ProjectId, Money>, RepoError> {
    let names: Vec<&str> = projects.iter().map(ProjectId::as_str).collect();
    let mut balances = BTreeMap::new();
    for (project, amount) in backend::read_balances(conn, &names, locking)? {
        let project = ProjectId::parse(&project)
            .map_err(|e| corrupt("DF_BALANCE", &format!("ACCOUNT_ID={project:?}"), e))?;
        balances.insert(project, Money::from_minor(amount));
    }
    Ok(balances)
}

/// Writes the batch's change in a savepoint; if it fails for anything but contention or a
/// lost store, writes each decision alone instead (see the module's doc). Returns the
/// decisions as written and the orders that could not be.
fn write_decisions(
    conn: &mut DbConnection,
    decisions: Vec<RenewalDecision>,
    endpoints: &[String],
) -> std::result::Result<(Vec<RenewalDecision>, Failed), RepoError> {
    match BatchPlan::of(decisions.clone()) {
        Ok(plan) if plan.change.is_empty() => return Ok((plan.decisions, Vec::new())),
        Ok(plan) => match conn
            .transaction(|conn| changes::write(conn, &plan.change, endpoints, Statements::Batched))
        {
            Ok(_) => {
                let written = plan
                    .decisions
                    .into_iter()
                    .map(|decision| as_written(decision, &plan.change))
                    .collect();
                return Ok((written, Vec::new()));
            }
            Err(e) if e.is_unavailable() => return Err(e),
            Err(e) => log::warn!(
                "a renewal batch of {} orders could not be written whole, writing its \
                 orders one by one: {e:?}",
                plan.decisions.len()
            ),
        },
        Err(e) => log::warn!(
            "a renewal batch's decisions do not make one change, writing them one by one: {e}"
        ),
    }
    let mut written = Vec::with_capacity(decisions.len());
    let mut failed = Vec::new();
    for decision in decisions {
        let id = decision.before.id.as_str().to_owned();
        let change = match decision.change() {
            Ok(change) => change,
            Err(e) => {
                failed.push((id, e.to_string()));
                continue;
            }
        };
        if change.is_empty() {
            written.push(decision);
            continue;
        }
        match conn
            .transaction(|conn| changes::write(conn, &change, endpoints, Statements::OnePerItem))
        {
            Ok(_) => written.push(as_written(decision, &change)),
            Err(RepoError::Domain(Error::Conflict(why))) => written.push(skipped(decision, &why)),
            Err(e) if e.is_unavailable() => return Err(e),
            Err(e) => failed.push((id, Error::from(e).to_string())),
        }
    }
    Ok((written, failed))
}

/// The decision with its order as `change` wrote it: its `after` carries the version the
/// decision was made from, and the write moved it on.
fn as_written(mut decision: RenewalDecision, change: &Change) -> RenewalDecision {
    if let Some(order) = change.order(&decision.before.id) {
        decision.after = order.clone();
    }
    decision
}

/// A decision that lost to a concurrent change of its order: nothing of it was written, so
/// it is reported as the order left untouched, to be looked at again by the next run.
fn skipped(decision: RenewalDecision, why: &str) -> RenewalDecision {
    RenewalDecision {
        after: decision.before.clone(),
        rows: Vec::new(),
        payments: Vec::new(),
        ledger: None,
        events: Vec::new(),
        tasks: Vec::new(),
        outcome: RenewalOutcome::Skipped(format!("changed meanwhile: {why}")),
        cycles: 0,
        before: decision.before,
    }
}

/// A manual renewal: the order (locked with [`Locking::Rows`], waiting for a run that holds
/// it), decided by the same rules and written with its key, recorded first. Not filtered
/// by due-ness: the rules say `NotDue` for an order with nothing due or held by a payment
/// or a switch.
fn renew_one(
    conn: &mut DbConnection,
    id: &OrderId,
    rules: &dyn RenewalRules,
    endpoints: &[String],
    locking: Locking,
    key: Option<&IdempotencyRecord>,
) -> std::result::Result<Option<RenewalDecision>, RepoError> {
    let Some(row) = backend::claim_one(conn, id.as_str(), locking)? else {
        return Ok(None);
    };
    let orders = [Order::try_from(row)?];
    let balances = read_balances(conn, &rules.balances_needed(&orders), locking)?;
    let decision = rules
        .decide_batch(&orders, &balances)
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(format!("the rules decided nothing for order {id}")))?;
    let mut change = decision.change()?;
    if let Some(record) = key {
        change = change.with_idempotency(record.clone())?;
    }
    changes::write(conn, &change, endpoints, Statements::OnePerItem)?;
    Ok(Some(as_written(decision, &change)))
}
