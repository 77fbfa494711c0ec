//! A change: everything one business step writes, decided by the domain and written by the
//! store in one transaction. Orders (new ones, and updates guarded by the version they were
//! decided from), consumption rows, the payments that move money for them and the local
//! ledger's movements, and what the change causes: events, resource tasks, the resources
//! the store itself keeps, the request's idempotency key. Nothing a change causes depends
//! on a second transaction after it.
//!
//! A change is built with [`ChangeBuilder`] and sealed with [`ChangeBuilder::seal`], which
//! checks what the store must be able to trust: rows continue each order's numbering,
//! payments pay rows of this change (or wait for them), every payment is positive and the
//! local ledger moves by exactly what its payments say. The store then only applies it,
//! keeping the guards only the database can enforce (versions, unique keys, balances).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::consumption::Consumption;
use crate::error::{Error, Result};
use crate::idempotency::IdempotencyRecord;
use crate::ids::{OrderId, ProjectId};
use crate::money::Money;
use crate::notification::Notification;
use crate::order::{Order, OrderStatus};
use crate::payment::{LedgerMove, MoneyKeeper, Payment, PaymentId, PaymentState};
use crate::provisioning::{NewTask, Resource, TaskAction};

/// One order written by a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderWrite {
    /// A new order.
    Insert(Order),
    /// The order's new state, written only if the order still has `expected_version`.
    Update {
        /// The version the change was decided from; another writer in between makes the store
        /// refuse the whole change (`Conflict`).
        expected_version: u32,
        /// The last consume id before the change, from which its rows are numbered.
        expected_last_consume_id: u32,
        /// The status at `expected_version`: a store that keeps totals by status moves the
        /// order from it.
        expected_status: OrderStatus,
        /// The order as the change leaves it, with the next version.
        order: Order,
    },
}

impl OrderWrite {
    /// The order as the change leaves it.
    pub fn order(&self) -> &Order {
        match self {
            OrderWrite::Insert(order) | OrderWrite::Update { order, .. } => order,
        }
    }

    fn first_consume_id(&self) -> u32 {
        match self {
            OrderWrite::Insert(_) => 1,
            OrderWrite::Update {
                expected_last_consume_id,
                ..
            } => expected_last_consume_id.saturating_add(1),
        }
    }
}

/// A payment's new state, written only if it still has `expected`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentUpdate {
    /// The payment to update.
    pub id: PaymentId,
    /// The state the update was decided from; the store refuses it if another settler moved it.
    pub expected: PaymentState,
    /// The new state.
    pub state: PaymentState,
    /// When it settled, was declined or found disputed; `None` while it is still open.
    pub settled_at: Option<DateTime<Utc>>,
    /// The payment's attempts after this update (see [`Payment::attempts`]).
    pub attempts: u32,
    /// When the settler may send it next.
    pub next_attempt_at: DateTime<Utc>,
    /// Why this attempt did not settle it, for operators.
    pub last_error: Option<String>,
}

/// A change being put together.
#[derive(Clone, Debug, Default)]
pub struct ChangeBuilder {
    change: Change,
}

/// A sealed change: what the store writes in one transaction, in this order — the
/// idempotency record (so a repeated request is told apart before anything else can refuse
/// it), order updates and inserts (as listed), the resources it creates, then those it
/// releases, rows, new payments, payment updates, events, tasks (queued, then cancelled),
/// ledger movements (last: every change of a project moves the same balance, which the
/// store holds locked from then until the commit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    orders: Vec<OrderWrite>,
    rows: Vec<Consumption>,
    payments: Vec<Payment>,
    payment_updates: Vec<PaymentUpdate>,
    ledger: Vec<LedgerMove>,
    events: Vec<Notification>,
    resources: Vec<Resource>,
    released: Vec<Resource>,
    tasks: Vec<NewTask>,
    cancelled_tasks: Vec<u64>,
    idempotency: Option<IdempotencyRecord>,
}

impl ChangeBuilder {
    /// An empty change.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new order.
    pub fn insert(&mut self, order: Order) -> &mut Self {
        self.change.orders.push(OrderWrite::Insert(order));
        self
    }

    /// `before` becomes `after`, guarded by `before`'s version; `after` gets the next
    /// version.
    ///
    /// Errors: `Internal` when the two are different orders or the version overflows.
    pub fn update(&mut self, before: &Order, mut after: Order) -> Result<&mut Self> {
        if before.id != after.id || before.project != after.project {
            return Err(Error::Internal(format!(
                "order {} cannot become order {}",
                before.id, after.id
            )));
        }
        after.version = before
            .version
            .checked_add(1)
            .ok_or_else(|| Error::Internal(format!("order {} has too many versions", before.id)))?;
        self.change.orders.push(OrderWrite::Update {
            expected_version: before.version,
            expected_last_consume_id: before.last_consume_id,
            expected_status: before.status,
            order: after,
        });
        Ok(self)
    }

    /// A consumption row; it must continue its order's numbering (checked by
    /// [`ChangeBuilder::seal`]).
    pub fn row(&mut self, row: Consumption) -> &mut Self {
        self.change.rows.push(row);
        self
    }

    /// A new payment; it must pay a row of this change or be the one its order waits for.
    pub fn payment(&mut self, payment: Payment) -> &mut Self {
        self.change.payments.push(payment);
        self
    }

    /// A recorded payment moves on (settled, declined, owed), guarded by its state.
    pub fn payment_update(&mut self, update: PaymentUpdate) -> &mut Self {
        self.change.payment_updates.push(update);
        self
    }

    /// A movement of the local ledger; the change's movements must add up to its local
    /// payments.
    pub fn ledger(&mut self, movement: LedgerMove) -> &mut Self {
        self.change.ledger.push(movement);
        self
    }

    /// An event about an order, written with the change (the outbox).
    pub fn event(&mut self, event: Notification) -> &mut Self {
        self.change.events.push(event);
        self
    }

    /// Creates the resource of an order the change inserts, where the store keeps it (see
    /// [`crate::ports::Provisioning::kept_in_store`]); the store refuses the whole change
    /// when another live resource holds its name (`DuplicateResourceName`).
    pub fn create_resource(&mut self, resource: Resource) -> &mut Self {
        self.change.resources.push(resource);
        self
    }

    /// A resource task (a release, a quota setting), queued with the change so it cannot be
    /// lost.
    pub fn task(&mut self, task: NewTask) -> &mut Self {
        self.change.tasks.push(task);
        self
    }

    /// Cancels a queued task that has not run yet (a release queued before its resource
    /// was created); the store refuses the whole change if it has.
    pub fn cancel_task(&mut self, id: u64) -> &mut Self {
        self.change.cancelled_tasks.push(id);
        self
    }

    /// The request's idempotency record, written first so a repeat is told apart before
    /// anything else can refuse it.
    pub fn idempotency(&mut self, record: IdempotencyRecord) -> &mut Self {
        self.change.idempotency = Some(record);
        self
    }

    /// The order as this change leaves it, if the change writes it.
    pub fn order(&self, id: &OrderId) -> Option<&Order> {
        self.change.order(id)
    }

    /// Checks the change and seals it.
    ///
    /// Errors: `Internal` (a bug upstream; writing it would corrupt the books).
    pub fn seal(self) -> Result<Change> {
        self.change.check()?;
        Ok(self.change)
    }
}

impl Change {
    /// The change with the idempotency record of the request that causes it (a batch built
    /// by the renewal rules, written for one keyed request).
    ///
    /// Errors: `Internal` when it already has one.
    pub fn with_idempotency(mut self, record: IdempotencyRecord) -> Result<Change> {
        if self.idempotency.is_some() {
            return Err(Error::Internal("two idempotency keys in one change".into()));
        }
        self.idempotency = Some(record);
        Ok(self)
    }

    /// `changes` as one, for a store that writes several in one transaction: each part
    /// holds the changes' parts in their order, and the whole is checked as one change.
    ///
    /// Errors: `Internal` when two of them write the same order or update the same
    /// payment (their guards could not both hold), or carry idempotency records.
    pub fn merge(changes: &[Change]) -> Result<Change> {
        let mut merged = Change::default();
        let mut orders = std::collections::BTreeSet::new();
        let mut payments = std::collections::BTreeSet::new();
        for change in changes {
            for write in &change.orders {
                if !orders.insert(&write.order().id) {
                    return Err(Error::Internal(format!(
                        "order {} is written by two of the changes",
                        write.order().id
                    )));
                }
            }
            for update in &change.payment_updates {
                if !payments.insert(&update.id) {
                    return Err(Error::Internal(format!(
                        "payment {} is updated by two of the changes",
                        update.id
                    )));
                }
            }
            if let Some(record) = &change.idempotency {
                merged = merged.with_idempotency(record.clone())?;
            }
            merged.orders.extend(change.orders.iter().cloned());
            merged.rows.extend(change.rows.iter().cloned());
            merged.payments.extend(change.payments.iter().cloned());
            merged
                .payment_updates
                .extend(change.payment_updates.iter().cloned());
            merged.ledger.extend(change.ledger.iter().cloned());
            merged.events.extend(change.events.iter().cloned());
            merged.resources.extend(change.resources.iter().cloned());
            merged.released.extend(change.released.iter().cloned());
            merged.tasks.extend(change.tasks.iter().cloned());
            merged
                .cancelled_tasks
                .extend(change.cancelled_tasks.iter().copied());
        }
        merged.check()?;
        Ok(merged)
    }

    /// The orders it writes, in order.
    pub fn orders(&self) -> &[OrderWrite] {
        &self.orders
    }

    /// The consumption rows it writes.
    pub fn rows(&self) -> &[Consumption] {
        &self.rows
    }

    /// The payments it records.
    pub fn payments(&self) -> &[Payment] {
        &self.payments
    }

    /// The recorded payments it moves on.
    pub fn payment_updates(&self) -> &[PaymentUpdate] {
        &self.payment_updates
    }

    /// The local ledger's movements.
    pub fn ledger(&self) -> &[LedgerMove] {
        &self.ledger
    }

    /// The events it records.
    pub fn events(&self) -> &[Notification] {
        &self.events
    }

    /// The resources the change creates in the store (see [`ChangeBuilder::create_resource`]).
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resources the change releases in the store (see [`Change::release_in_store`]).
    pub fn released(&self) -> &[Resource] {
        &self.released
    }

    /// Releases in the change itself the resources whose release it queues as a task and
    /// that `kept` says the store keeps (see [`crate::ports::Provisioning::kept_in_store`]):
    /// the release is then part of the change's one transaction, not a task claimed, run
    /// and marked done in three more after the commit.
    pub fn release_in_store(mut self, kept: impl Fn(&Resource) -> bool) -> Change {
        let (released, queued): (Vec<NewTask>, Vec<NewTask>) = std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|task| task.action == TaskAction::Release && kept(&task.resource));
        self.tasks = queued;
        self.released
            .extend(released.into_iter().map(|task| task.resource));
        self
    }

    /// The resource tasks it queues.
    pub fn tasks(&self) -> &[NewTask] {
        &self.tasks
    }

    /// Queued tasks it cancels; the store refuses the change if one has run.
    pub fn cancelled_tasks(&self) -> &[u64] {
        &self.cancelled_tasks
    }

    /// The request it answers, if it was keyed.
    pub fn idempotency_record(&self) -> Option<&IdempotencyRecord> {
        self.idempotency.as_ref()
    }

    /// Whether the change writes nothing.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.rows.is_empty()
            && self.payments.is_empty()
            && self.payment_updates.is_empty()
            && self.ledger.is_empty()
            && self.events.is_empty()
            && self.resources.is_empty()
            && self.released.is_empty()
            && self.tasks.is_empty()
            && self.cancelled_tasks.is_empty()
            && self.idempotency.is_none()
    }

    /// The order as this change leaves it, if the change writes it.
    pub fn order(&self, id: &OrderId) -> Option<&Order> {
        self.orders
            .iter()
            .map(OrderWrite::order)
            .find(|order| order.id == *id)
    }

    /// The payments' and ledger movements' money the change takes from each project in the
    /// local ledger (negative: gives).
    pub fn ledger_totals(&self) -> BTreeMap<ProjectId, Money> {
        let mut totals = BTreeMap::new();
        for movement in &self.ledger {
            let total = totals
                .entry(movement.project.clone())
                .or_insert(Money::ZERO);
            *total = total.checked_add(movement.amount).unwrap_or(Money::MAX);
        }
        totals
    }

    fn check(&self) -> Result<()> {
        let bug = |what: String| Err(Error::Internal(format!("change refused: {what}")));
        let mut rows_of: BTreeMap<&OrderId, Vec<&Consumption>> = BTreeMap::new();
        for row in &self.rows {
            rows_of.entry(&row.order_id).or_default().push(row);
        }
        for write in &self.orders {
            let order = write.order();
            let mut expected = write.first_consume_id();
            for row in rows_of.get(&order.id).into_iter().flatten() {
                if row.project != order.project {
                    return bug(format!(
                        "row #{} of order {} names project {}",
                        row.consume_id, order.id, row.project
                    ));
                }
                if row.consume_id != expected {
                    return bug(format!(
                        "row #{} of order {} should be #{expected}",
                        row.consume_id, order.id
                    ));
                }
                expected = expected.saturating_add(1);
            }
            if order.last_consume_id != expected.saturating_sub(1) {
                return bug(format!(
                    "order {} ends at row #{} but its rows end at #{}",
                    order.id,
                    order.last_consume_id,
                    expected.saturating_sub(1)
                ));
            }
        }
        let orders: BTreeMap<&OrderId, &Order> = self
            .orders
            .iter()
            .map(|write| (&write.order().id, write.order()))
            .collect();
        if let Some(row) = self
            .rows
            .iter()
            .find(|row| !orders.contains_key(&row.order_id))
        {
            return bug(format!(
                "row of order {} which it does not write",
                row.order_id
            ));
        }
        if let Some(resource) = self.resources.iter().find(|resource| {
            !self.orders.iter().any(
                |write| matches!(write, OrderWrite::Insert(order) if order.id == resource.order_id),
            )
        }) {
            return bug(format!(
                "resource of order {} which it does not open",
                resource.order_id
            ));
        }
        let rows: BTreeMap<(&OrderId, u32), &Consumption> = self
            .rows
            .iter()
            .map(|row| ((&row.order_id, row.consume_id), row))
            .collect();
        for payment in &self.payments {
            Self::check_payment(payment, &orders, &rows)?;
        }
        let mut ledger_payments: BTreeMap<ProjectId, Money> = BTreeMap::new();
        for payment in self
            .payments
            .iter()
            .filter(|p| p.keeper == MoneyKeeper::LocalLedger)
        {
            let total = ledger_payments
                .entry(payment.project.clone())
                .or_insert(Money::ZERO);
            *total = total.checked_add(payment.signed()).unwrap_or(Money::MAX);
        }
        ledger_payments.retain(|_, total| !total.is_zero());
        let mut moves = self.ledger_totals();
        moves.retain(|_, total| !total.is_zero());
        if ledger_payments != moves {
            return bug(format!(
                "the ledger moves {moves:?} but its payments say {ledger_payments:?}"
            ));
        }
        Ok(())
    }

    fn check_payment(
        payment: &Payment,
        orders: &BTreeMap<&OrderId, &Order>,
        rows: &BTreeMap<(&OrderId, u32), &Consumption>,
    ) -> Result<()> {
        let bug = |what: String| {
            Err(Error::Internal(format!(
                "change refused: payment {}: {what}",
                payment.id
            )))
        };
        if !payment.amount.is_positive() {
            return bug(format!("amount {}", payment.amount));
        }
        let Some(order) = orders.get(&payment.id.order) else {
            return bug("its order is not written by the change".into());
        };
        if payment.project != order.project || payment.keeper != order.terms.keeper {
            return bug(format!(
                "project {} kept by {} for an order of project {} kept by {}",
                payment.project,
                payment.keeper.label(),
                order.project,
                order.terms.keeper.label()
            ));
        }
        if payment.id.seq > order.payment_seq {
            return bug(format!(
                "numbered past the order's last payment #{}",
                order.payment_seq
            ));
        }
        if payment.keeper == MoneyKeeper::LocalLedger
            && (payment.deferred || payment.state != PaymentState::Settled)
        {
            return bug("the local ledger settles in the change's transaction".into());
        }
        if payment.deferred {
            if order.awaiting_payment != Some(payment.id.seq) {
                return bug("deferred, but its order does not wait for it".into());
            }
            if payment.consume_id != order.last_consume_id.saturating_add(1) {
                return bug(format!(
                    "deferred row #{} is not the order's next",
                    payment.consume_id
                ));
            }
            return Ok(());
        }
        match rows.get(&(&payment.id.order, payment.consume_id)) {
            Some(row) if row.amount == payment.signed() => Ok(()),
            Some(row) => bug(format!(
                "pays {} for a row of {}",
                payment.signed(),
                row.amount
            )),
            None => bug(format!(
                "row #{} is not written by the change",
                payment.consume_id
            )),
        }
    }
}

#[cfg(test)]
mod tests;
