//! Writing a change: the one transaction in which everything that moves money, or follows
//! from it, is stored. The domain decided every amount and sealed the change (its rows
//! continue each order's numbering, its payments pay its rows, the ledger moves by what
//! they say); this module only applies it, in the change's order, and keeps the guards only
//! the database can enforce:
//!
//! 1. the request's idempotency key first, so a repeated request is told apart before
//!    anything else of it can refuse it;
//! 2. orders as listed: inserts (the unique keys refuse a second holder of a resource name
//!    or of a project's quota in a region) and updates guarded by the version they were
//!    decided from; then the resources the change creates in the embedded provisioning's
//!    records (its unique key refuses a name a live resource holds), and those it releases
//!    there (see `Change::release_in_store`);
//! 3. consumption rows, then payments (one multi-row `INSERT` each; the unique keys refuse
//!    a row or a payment number written twice);
//! 4. payment updates, guarded by the state they were decided from;
//! 5. events, with one webhook delivery per configured endpoint (the outbox);
//! 6. resource tasks queued (their ids are returned), then tasks cancelled (only if they
//!    have not run);
//! 7. the ledger's movements, guarded by the balance they require, and the list totals
//!    the change moves (see `rows::list_total`): last, because every change of a project
//!    locks the same balance and totals until it commits.
//!
//! Any refusal fails the whole transaction: nothing is written. The renewal engine writes a
//! batch's change with this same code ([`write`]), its hundreds of order updates and
//! balance movements batched ([`Statements::Batched`]); so does the settler for the answers
//! that arrive together ([`ChangeStore::commit_each`]: their changes merged into one, and
//! each written alone if that one is refused).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::Connection;

use domain::change::{Change, OrderWrite, PaymentUpdate};
use domain::idempotency::IdempotencyRecord;
use domain::notification::Notification;
use domain::order::{Order, OrderStatus};
use domain::payment::LedgerMove;
use domain::ports::ChangeStore;
use domain::{Error, Money, Result};

use crate::backend::{self, DbConnection, DbTime, Isolation};
use crate::database::Database;
use crate::error::{classify, violates_key, Failure, RepoError};
use crate::mapping::{self, new_task, order_update, payment_update, row_id, to_db_time};
use crate::repos::resources;
use crate::rows::balance::{self, Moved, Movement};
use crate::rows::consumption::NewConsumptionRow;
use crate::rows::idempotency::{self, NewIdempotencyRow};
use crate::rows::list_total::{self, Deltas, Key};
use crate::rows::notification::NewNotificationRow;
use crate::rows::order::{
    self, NewOrderRow, OrderUpdate, ACTIVE_QUOTA_KEY, ACTIVE_RESOURCE_NAME_KEY,
};
use crate::rows::payment::{self as payment_rows, NewPaymentRow};
use crate::rows::task::{self, CancelledAt};
use crate::rows::webhook_delivery::{self, NewDeliveryRow};
use crate::rows::{consumption, notification};
use crate::telemetry;

/// [`ChangeStore`] on the database.
#[derive(Clone, Debug)]
pub struct ChangeWriter {
    db: Database,
    /// The configured webhooks' names: each event is delivered to every one.
    endpoints: Arc<[String]>,
}

impl ChangeWriter {
    /// Every event a change records is also queued for delivery to each of
    /// `webhook_endpoints` (webhook names), in the change's transaction.
    pub fn new(db: Database, webhook_endpoints: Vec<String>) -> Self {
        Self {
            db,
            endpoints: webhook_endpoints.into(),
        }
    }
}

/// At READ COMMITTED on MariaDB: every guard is a locking `UPDATE` or a unique key, which
/// see the latest committed rows at any level; the plain reads that explain a refusal (an
/// order's version, a balance) then see them too, and no gap lock of REPEATABLE READ makes
/// two changes inserting into the same index range deadlock.
#[async_trait]
impl ChangeStore for ChangeWriter {
    async fn commit(&self, change: Change) -> Result<Vec<u64>> {
        if change.is_empty() {
            return Ok(Vec::new());
        }
        let endpoints = Arc::clone(&self.endpoints);
        let change = Arc::new(change);
        let written = Arc::clone(&change);
        let tasks = self
            .db
            .write_at(Isolation::ReadCommitted, move |conn| {
                write(conn, &written, &endpoints, Statements::OnePerItem)
            })
            .await?;
        telemetry::change_committed(&change);
        Ok(tasks)
    }

    /// The changes as one, batched (see `Statements::Batched`), in one transaction; if
    /// that is refused, each alone in a second one (see `write_each`).
    async fn commit_each(&self, changes: Vec<Change>) -> Result<Vec<Result<Vec<u64>>>> {
        let changes: Arc<[Change]> = changes.into();
        if changes.len() > 1 {
            match Change::merge(&changes) {
                Ok(merged) => {
                    let endpoints = Arc::clone(&self.endpoints);
                    let written = self
                        .db
                        .write_at(Isolation::ReadCommitted, move |conn| {
                            write(conn, &merged, &endpoints, Statements::Batched)
                        })
                        .await;
                    match written {
                        Ok(tasks) => {
                            changes.iter().for_each(telemetry::change_committed);
                            return Ok(split_tasks(tasks, &changes));
                        }
                        Err(e @ Error::Unavailable(_)) => return Err(e),
                        Err(e) => log::info!(
                            "{} changes could not be written together, writing each alone: {e}",
                            changes.len()
                        ),
                    }
                }
                Err(e) => log::info!(
                    "{} changes do not make one, writing each alone: {e}",
                    changes.len()
                ),
            }
        }
        let endpoints = Arc::clone(&self.endpoints);
        let written = Arc::clone(&changes);
        let outcomes = self
            .db
            .write_at(Isolation::ReadCommitted, move |conn| {
                write_each(conn, &written, &endpoints)
            })
            .await?;
        for (change, outcome) in changes.iter().zip(&outcomes) {
            if outcome.is_ok() {
                telemetry::change_committed(change);
            }
        }
        Ok(outcomes)
    }
}

/// Writes each of `changes` alone, one per item, in a savepoint of its own, on a
/// connection already in a transaction, so that a change that is refused (say, another
/// settler wrote its payment first) holds back none of the others; contention or a lost
/// store end the transaction and are returned. Returns each change's outcome: the ids of
/// the tasks it queued, or why not.
pub(crate) fn write_each(
    conn: &mut DbConnection,
    changes: &[Change],
    endpoints: &[String],
) -> std::result::Result<Vec<Result<Vec<u64>>>, RepoError> {
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        if change.is_empty() {
            outcomes.push(Ok(Vec::new()));
            continue;
        }
        match conn.transaction(|conn| write(conn, change, endpoints, Statements::OnePerItem)) {
            Ok(tasks) => outcomes.push(Ok(tasks)),
            Err(e) if e.is_unavailable() => return Err(e),
            Err(e) => outcomes.push(Err(e.into())),
        }
    }
    Ok(outcomes)
}

/// The task ids a merged change queued, change by change (it queued them in order).
fn split_tasks(tasks: Vec<u64>, changes: &[Change]) -> Vec<Result<Vec<u64>>> {
    let mut tasks = tasks.into_iter();
    changes
        .iter()
        .map(|change| Ok(tasks.by_ref().take(change.tasks().len()).collect()))
        .collect()
}

/// How the order updates and the balance movements of a change reach the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Statements {
    /// One guarded statement each, in the change's order, so that a refusal names its
    /// order or project (and a key one order frees is free before another takes it).
    OnePerItem,
    /// Where the backend batches updates (MariaDB: a round trip per order dominated a
    /// renewal batch), a run of order updates, and a run of guarded debits of distinct
    /// projects, each go in one statement per 500; any refusal among them fails the write
    /// without saying which. For the renewal engine, which then writes each decision alone,
    /// one per item, to learn which.
    Batched,
}

/// Writes `change` on a connection already in a transaction (which the caller rolls back
/// on an error); returns the ids of the tasks it queued, in its order.
pub(crate) fn write(
    conn: &mut DbConnection,
    change: &Change,
    endpoints: &[String],
    statements: Statements,
) -> std::result::Result<Vec<u64>, RepoError> {
    let at = change_time(change);
    let batched = statements == Statements::Batched && backend::batches_updates(conn);
    if let Some(record) = change.idempotency_record() {
        record_key(conn, record)?;
    }
    write_orders(conn, change.orders(), batched)?;
    for created in change.resources() {
        resources::record(conn, created, to_db_time(at))?;
    }
    for released in change.released() {
        resources::release(conn, released, to_db_time(at))?;
    }
    let rows = change
        .rows()
        .iter()
        .map(NewConsumptionRow::try_from)
        .collect::<Result<Vec<_>>>()?;
    consumption::insert_all(conn, &rows)
        .map_err(|e| duplicate_as_conflict(e, "a row of the change is already written"))?;
    let payments = change
        .payments()
        .iter()
        .map(NewPaymentRow::try_from)
        .collect::<Result<Vec<_>>>()?;
    payment_rows::insert_all(conn, &payments)
        .map_err(|e| duplicate_as_conflict(e, "a payment of the change is already recorded"))?;
    for update in change.payment_updates() {
        update_payment(conn, update)?;
    }
    write_events(conn, change.events(), endpoints)?;
    let mut queued = Vec::with_capacity(change.tasks().len());
    for queued_task in change.tasks() {
        let id = task::insert(conn, &new_task(queued_task, at))?;
        queued.push(row_id("DF_RESOURCE_TASK", "new", id)?);
    }
    for &id in change.cancelled_tasks() {
        let row = mapping::queue_id("task", id)?;
        if !task::cancel(conn, row, CancelledAt::At(to_db_time(at)))? {
            return Err(Error::Conflict(format!(
                "task {id} already ran (or is done); its resource may exist"
            ))
            .into());
        }
    }
    // Every change of a project updates the same balance and totals, and each such row
    // stays locked until the commit: written last, they are held for the least time.
    move_ledger(conn, change.ledger(), to_db_time(at), batched)?;
    list_total::apply(conn, &totals(change))?;
    Ok(queued)
}

/// What `change` adds to the list totals: one order more for each insert in its status,
/// an update moving its order from the status it was decided from to its new one, one
/// row more for each row.
fn totals(change: &Change) -> Deltas<'_> {
    let mut deltas = Deltas::default();
    for write in change.orders() {
        let order = write.order();
        // An order's plan type and order type never change: an update moves it between
        // totals of the same kind.
        let key = |status: OrderStatus| {
            Key::order(
                order.project.as_str(),
                status.code(),
                order.region.as_str(),
                order.plan_type.as_str(),
                order.order_type().code(),
            )
        };
        if let OrderWrite::Update {
            expected_status, ..
        } = write
        {
            deltas.add(key(*expected_status), -1);
        }
        deltas.add(key(order.status), 1);
    }
    for row in change.rows() {
        deltas.add(Key::usage(row.project.as_str(), row.region.as_str()), 1);
    }
    for event in change.events() {
        deltas.add(
            Key::notification(event.project.as_str(), event.region.as_str()),
            1,
        );
    }
    deltas
}

/// When the change happened, for the balances it moves and the tasks it queues: the latest
/// creation time of its payments and time of its events — not its rows', since a renewed
/// period may start days ahead — or, with neither, of its rows. A change with none of them
/// (a bare ledger check, a task cancelled) has no time of its own, so the adapter's clock
/// dates it.
fn change_time(change: &Change) -> DateTime<Utc> {
    let payments = change.payments().iter().map(|payment| payment.created_at);
    let events = change.events().iter().map(|event| event.time);
    payments
        .chain(events)
        .max()
        .or_else(|| change.rows().iter().map(|row| row.time).max())
        .unwrap_or_else(Utc::now)
}

/// A unique violation where the change expected none: someone else wrote it first.
fn duplicate_as_conflict(error: diesel::result::Error, what: &str) -> RepoError {
    if classify(&error) == Failure::Duplicate {
        RepoError::Domain(Error::Conflict(format!("{what}: {error}")))
    } else {
        error.into()
    }
}

/// Records the request's idempotency key; a key already recorded is `DuplicateRequest`.
pub(crate) fn record_key(
    conn: &mut DbConnection,
    record: &IdempotencyRecord,
) -> std::result::Result<(), RepoError> {
    match idempotency::insert(conn, &NewIdempotencyRow::from(record)) {
        Ok(()) => Ok(()),
        Err(e) if classify(&e) == Failure::Duplicate => Err(Error::DuplicateRequest(format!(
            "idempotency key {:?} of project {} was already used",
            record.request.key.as_str(),
            record.request.project
        ))
        .into()),
        Err(e) => Err(e.into()),
    }
}

fn write_orders(
    conn: &mut DbConnection,
    writes: &[OrderWrite],
    batched: bool,
) -> std::result::Result<(), RepoError> {
    let mut updates: Vec<(&Order, u32)> = Vec::new();
    for write in writes {
        match write {
            OrderWrite::Update {
                expected_version,
                order,
                ..
            } => updates.push((order, *expected_version)),
            OrderWrite::Insert(order) => {
                update_orders(conn, &updates, batched)?;
                updates.clear();
                insert_order(conn, order)?;
            }
        }
    }
    update_orders(conn, &updates, batched)
}

fn insert_order(conn: &mut DbConnection, new: &Order) -> std::result::Result<(), RepoError> {
    let row = NewOrderRow::try_from(new)?;
    order::insert(conn, &row).map_err(|e| {
        if classify(&e) == Failure::Duplicate && !held_key(&e) {
            RepoError::Domain(Error::Conflict(format!("order {} already exists", new.id)))
        } else {
            order_key_error(e, new)
        }
    })
}

/// Whether a unique violation is one of the keys an order holds by its state.
fn held_key(error: &diesel::result::Error) -> bool {
    violates_key(error, ACTIVE_RESOURCE_NAME_KEY) || violates_key(error, ACTIVE_QUOTA_KEY)
}

/// A violation of a key the order holds by its state, in business words.
fn order_key_error(error: diesel::result::Error, order: &Order) -> RepoError {
    if violates_key(&error, ACTIVE_RESOURCE_NAME_KEY) {
        let name = order
            .resource_name
            .as_ref()
            .map_or_else(String::new, |name| name.as_str().to_owned());
        RepoError::Domain(Error::DuplicateResourceName(name))
    } else if violates_key(&error, ACTIVE_QUOTA_KEY) {
        RepoError::Domain(Error::Conflict(format!(
            "project {} already has an open quota order in region {}",
            order.project, order.region
        )))
    } else {
        error.into()
    }
}

/// Writes the orders' updates, each guarded by the version it was decided from: batched
/// (see [`Statements::Batched`]) or one by one.
fn update_orders(
    conn: &mut DbConnection,
    updates: &[(&Order, u32)],
    batched: bool,
) -> std::result::Result<(), RepoError> {
    if updates.is_empty() {
        return Ok(());
    }
    let rows = updates
        .iter()
        .map(|(order, expected)| order_update(order, *expected))
        .collect::<Result<Vec<OrderUpdate<'_>>>>()?;
    if batched && rows.len() > 1 {
        let written = backend::update_orders(conn, &rows)?;
        if written == rows.len() {
            return Ok(());
        }
        return Err(Error::Conflict(format!(
            "{} of {} orders changed meanwhile",
            rows.len() - written,
            rows.len()
        ))
        .into());
    }
    for ((order, expected), row) in updates.iter().zip(&rows) {
        update_order(conn, order, *expected, row)?;
    }
    Ok(())
}

fn update_order(
    conn: &mut DbConnection,
    order: &Order,
    expected: u32,
    row: &OrderUpdate<'_>,
) -> std::result::Result<(), RepoError> {
    match order::update(conn, row) {
        Ok(true) => Ok(()),
        Ok(false) => Err(match order::version_of(conn, order.id.as_str())? {
            None => Error::NotFound(format!("order {}", order.id)),
            Some(version) => Error::Conflict(format!(
                "order {} changed meanwhile (version {version}, expected {expected})",
                order.id
            )),
        }
        .into()),
        Err(e) => Err(order_key_error(e, order)),
    }
}

fn update_payment(
    conn: &mut DbConnection,
    update: &PaymentUpdate,
) -> std::result::Result<(), RepoError> {
    if payment_rows::update(conn, &payment_update(update, None)?)? {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "payment {} is no longer {}",
        update.id,
        update.expected.label()
    ))
    .into())
}

/// Applies the ledger's movements in order: batched (see [`Statements::Batched`]) where a
/// run of them each takes money under a guard from another project (a renewal batch has
/// one per project), else one by one, which names the project short and creates missing
/// balances.
fn move_ledger(
    conn: &mut DbConnection,
    moves: &[LedgerMove],
    at: DbTime,
    batched: bool,
) -> std::result::Result<(), RepoError> {
    let mut rest = moves;
    while !rest.is_empty() {
        let run = if batched { batchable_run(rest) } else { 0 };
        if run > 1 {
            let movements: Vec<Movement<'_>> = rest[..run].iter().map(movement).collect();
            let taken = backend::take_all(conn, &movements, at)?;
            if taken != movements.len() {
                return Err(Error::Conflict(format!(
                    "{} of {} balances no longer cover what the batch takes from them",
                    movements.len() - taken,
                    movements.len()
                ))
                .into());
            }
            rest = &rest[run..];
            continue;
        }
        move_balance(conn, &rest[0], at)?;
        rest = &rest[1..];
    }
    Ok(())
}

/// How many movements from the start of `moves` may share one batched statement: those
/// that take money under a guard, each of another project.
fn batchable_run(moves: &[LedgerMove]) -> usize {
    let mut projects = HashSet::new();
    moves
        .iter()
        .take_while(|m| {
            m.amount.is_positive() && m.requires.is_some() && projects.insert(&m.project)
        })
        .count()
}

fn movement(movement: &LedgerMove) -> Movement<'_> {
    Movement {
        project: movement.project.as_str(),
        amount: movement.amount.minor(),
        requires: movement.requires.map(Money::minor),
    }
}

/// Applies one movement: a guard that refuses is `InsufficientBalance` with what the
/// balance holds; a balance that would leave the column's range is `Internal`.
fn move_balance(
    conn: &mut DbConnection,
    each: &LedgerMove,
    at: DbTime,
) -> std::result::Result<(), RepoError> {
    match balance::apply(conn, movement(each), at)? {
        Moved::Done => Ok(()),
        Moved::Short { available } => Err(Error::InsufficientBalance {
            needed: each.requires.unwrap_or(each.amount),
            available: Money::from_minor(available),
        }
        .into()),
        Moved::Overflow => Err(Error::Internal(format!(
            "moving {} would take the balance of project {} out of range",
            each.amount, each.project
        ))
        .into()),
    }
}

/// Stores the events. Without webhooks, one statement for all of them, so a renewal
/// batch's hundreds of events cost one round trip; with webhooks, one per event (its
/// deliveries need its id) and one for all deliveries, each due when its event happened.
fn write_events(
    conn: &mut DbConnection,
    events: &[Notification],
    endpoints: &[String],
) -> std::result::Result<(), RepoError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewNotificationRow<'_>> = events.iter().map(NewNotificationRow::from).collect();
    if endpoints.is_empty() {
        return Ok(notification::insert_all(conn, &rows)?);
    }
    let mut deliveries = Vec::with_capacity(rows.len() * endpoints.len());
    for (row, event) in rows.iter().zip(events) {
        let id = notification::insert(conn, row)?;
        deliveries.extend(endpoints.iter().map(|endpoint| NewDeliveryRow {
            notification_id: id,
            endpoint,
            attempts: 0,
            next_attempt_at: to_db_time(event.time),
        }));
    }
    Ok(webhook_delivery::insert_all(conn, &deliveries)?)
}
