//! The store: every repository port over one in-memory state. A change is applied to a copy
//! of the state, swapped in only once all of it applied — what a database transaction gives
//! an adapter — so a refused change writes nothing. The store keeps only the guards a
//! database keeps with its constraints (order versions, one row per number, unique payment
//! ids and resource names, the ledger movements' `requires`); every amount and every rule
//! comes decided from the domain.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::change::{Change, OrderWrite, PaymentUpdate};
use domain::consumption::Consumption;
use domain::idempotency::{Idempotency, IdempotencyKey, IdempotencyRecord, Remembered};
use domain::ids::{OrderId, PlanId, ProjectId, Region};
use domain::ledger::{Balance, NewRecharge, Recharge};
use domain::notification::Notification;
use domain::order::Order;
use domain::page::{Page, PageRequest};
use domain::payment::{LedgerMove, MoneyKeeper, Payment, PaymentId, PaymentState};
use domain::ports::{
    BatchOutcome, BooksRepository, ChangeStore, ConsumptionRepository, IdempotencyStore,
    LedgerRepository, NotificationFilter, NotificationRepository, OrderFilter, OrderRepository,
    PaymentRepository, RechargeFilter, RenewalRepository, TaskQueue, UsageFilter,
};
use domain::provisioning::{NewTask, QueuedTask, Resource, ResourceKind};
use domain::reconcile::ProjectBooks;
use domain::renewal::{
    BatchPlan, RenewalBatch, RenewalCursor, RenewalDecision, RenewalQueue, RenewalRules,
};
use domain::{Error, Money, Result};

#[derive(Clone, Debug)]
struct Task {
    task: NewTask,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    done: bool,
}

#[derive(Clone, Debug, Default)]
struct State {
    orders: BTreeMap<OrderId, Order>,
    rows: Vec<Consumption>,
    payments: BTreeMap<PaymentId, Payment>,
    balances: BTreeMap<ProjectId, Money>,
    recharges: Vec<Recharge>,
    events: Vec<Notification>,
    tasks: BTreeMap<u64, Task>,
    keys: BTreeMap<(ProjectId, String), Remembered>,
}

/// The store; clones share it, as the ports of one database share it.
#[derive(Clone, Debug, Default)]
pub struct Store(Arc<Mutex<State>>);

impl Store {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The transaction: all of `change` or nothing.
    fn commit_to(&self, change: &Change) -> Result<Vec<u64>> {
        let mut state = self.state();
        let mut next = state.clone();
        let tasks = apply(&mut next, change)?;
        *state = next;
        Ok(tasks)
    }

    fn balances_of(&self, projects: &[ProjectId]) -> BTreeMap<ProjectId, Money> {
        let state = self.state();
        projects
            .iter()
            .filter_map(|p| state.balances.get(p).map(|b| (p.clone(), *b)))
            .collect()
    }
}

fn apply(state: &mut State, change: &Change) -> Result<Vec<u64>> {
    if let Some(record) = change.idempotency_record() {
        remember(state, &record.request, &record.result, record.at)?;
    }
    for write in change.orders() {
        let order = match write {
            OrderWrite::Insert(order) if state.orders.contains_key(&order.id) => {
                return Err(Error::Internal(format!("order {} exists", order.id)));
            }
            OrderWrite::Insert(order) => order,
            OrderWrite::Update {
                expected_version,
                order,
                ..
            } => {
                let current = state
                    .orders
                    .remove(&order.id)
                    .ok_or_else(|| Error::NotFound(format!("order {}", order.id)))?;
                if current.version != *expected_version {
                    return Err(Error::Conflict(format!("order {} changed", order.id)));
                }
                order
            }
        };
        check_unique_resource(state, order)?;
        state.orders.insert(order.id.clone(), order.clone());
    }
    for row in change.rows() {
        let taken = state
            .rows
            .iter()
            .any(|r| r.order_id == row.order_id && r.consume_id == row.consume_id);
        if taken {
            return Err(Error::Conflict(format!(
                "row #{} of order {} exists",
                row.consume_id, row.order_id
            )));
        }
        state.rows.push(row.clone());
    }
    for payment in change.payments() {
        if state.payments.contains_key(&payment.id) {
            return Err(Error::Conflict(format!("payment {} exists", payment.id)));
        }
        state.payments.insert(payment.id.clone(), payment.clone());
    }
    for update in change.payment_updates() {
        update_payment(state, update, None)?;
    }
    for movement in change.ledger() {
        move_balance(state, movement)?;
    }
    state.events.extend(change.events().iter().cloned());
    let queued = change
        .tasks()
        .iter()
        .map(|task| queue(state, task.clone()))
        .collect();
    for id in change.cancelled_tasks() {
        match state.tasks.get_mut(id) {
            Some(task) if task.attempts == 0 && !task.done => task.done = true,
            _ => return Err(Error::Conflict(format!("task {id} already ran"))),
        }
    }
    Ok(queued)
}

/// The unique keys: one open quota order per project and region, one open order per
/// resource name (of a project, region and plan type).
fn check_unique_resource(state: &State, order: &Order) -> Result<()> {
    if !order.holds_resource() {
        return Ok(());
    }
    let holders = state.orders.values().filter(|o| o.holds_resource());
    for other in holders.filter(|o| o.project == order.project && o.region == order.region) {
        if order.holds_quota() && other.holds_quota() {
            return Err(Error::Conflict(format!(
                "project {} already has a quota order in {}",
                order.project, order.region
            )));
        }
        if let (Some(mine), Some(theirs)) = (&order.resource_name, &other.resource_name) {
            if mine == theirs && order.plan_type == other.plan_type {
                return Err(Error::DuplicateResourceName(mine.to_string()));
            }
        }
    }
    Ok(())
}

fn remember(
    state: &mut State,
    request: &Idempotency,
    result: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let slot = (request.project.clone(), request.key.as_str().to_owned());
    if state.keys.contains_key(&slot) {
        return Err(Error::DuplicateRequest(request.key.to_string()));
    }
    let remembered = Remembered {
        fingerprint: request.fingerprint.clone(),
        result: result.to_owned(),
        at,
        answer: None,
    };
    state.keys.insert(slot, remembered);
    Ok(())
}

fn update_payment(state: &mut State, update: &PaymentUpdate, attempts: Option<u32>) -> Result<()> {
    let payment = state
        .payments
        .get_mut(&update.id)
        .ok_or_else(|| Error::NotFound(format!("payment {}", update.id)))?;
    if payment.state != update.expected || attempts.is_some_and(|a| a != payment.attempts) {
        return Err(Error::Conflict(format!("payment {} moved", update.id)));
    }
    payment.state = update.state;
    payment.settled_at = update.settled_at;
    payment.attempts = update.attempts;
    payment.next_attempt_at = update.next_attempt_at;
    payment.last_error = update.last_error.clone();
    Ok(())
}

/// The one guard the ledger keeps: a movement with `requires` happens only on a balance
/// that holds at least that much.
fn move_balance(state: &mut State, movement: &LedgerMove) -> Result<()> {
    let available = state
        .balances
        .get(&movement.project)
        .copied()
        .unwrap_or(Money::ZERO);
    if let Some(needed) = movement.requires.filter(|needed| available < *needed) {
        return Err(Error::InsufficientBalance { needed, available });
    }
    if movement.amount.is_zero() {
        return Ok(());
    }
    let after = available
        .checked_sub(movement.amount)
        .ok_or_else(|| Error::Internal("balance overflowed".into()))?;
    state.balances.insert(movement.project.clone(), after);
    Ok(())
}

fn queue(state: &mut State, task: NewTask) -> u64 {
    let id = state.tasks.keys().next_back().map_or(1, |last| last + 1);
    let next_attempt_at = task.due_at;
    let queued = Task {
        task,
        attempts: 0,
        next_attempt_at,
        done: false,
    };
    state.tasks.insert(id, queued);
    id
}

fn page<T>(items: Vec<T>, request: PageRequest) -> Page<T> {
    let offset = usize::try_from(request.offset()).unwrap_or(usize::MAX);
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(offset)
        .take(request.limit() as usize)
        .collect();
    Page::exact(total, items)
}

#[async_trait]
impl OrderRepository for Store {
    async fn find(&self, id: &OrderId) -> Result<Option<Order>> {
        Ok(self.state().orders.get(id).cloned())
    }

    async fn find_all(&self, ids: &[OrderId]) -> Result<Vec<Order>> {
        let state = self.state();
        Ok(ids
            .iter()
            .filter_map(|id| state.orders.get(id).cloned())
            .collect())
    }

    async fn list(&self, filter: OrderFilter, request: PageRequest) -> Result<Page<Order>> {
        let mut orders: Vec<Order> = self
            .state()
            .orders
            .values()
            .filter(|o| filter.matches(o))
            .cloned()
            .collect();
        orders.sort_by_key(|o| std::cmp::Reverse(o.start_time));
        Ok(page(orders, request))
    }

    async fn holder(&self, resource: &Resource) -> Result<Option<Order>> {
        let state = self.state();
        let mut holders = state.orders.values().filter(|o| {
            o.project == resource.project && o.region == resource.region && o.holds_resource()
        });
        Ok(match resource.kind {
            ResourceKind::Quota => holders.find(|o| o.holds_quota()),
            ResourceKind::Volume | ResourceKind::ServiceInstance => holders.find(|o| {
                o.plan_type == resource.plan_type
                    && o.resource_name.is_some()
                    && o.resource_name == resource.name
            }),
        }
        .cloned())
    }
}

#[async_trait]
impl ChangeStore for Store {
    async fn commit(&self, change: Change) -> Result<Vec<u64>> {
        self.commit_to(&change)
    }

    async fn commit_each(&self, changes: Vec<Change>) -> Result<Vec<Result<Vec<u64>>>> {
        Ok(changes
            .iter()
            .map(|change| self.commit_to(change))
            .collect())
    }
}

#[async_trait]
impl ConsumptionRepository for Store {
    async fn list(&self, filter: UsageFilter, request: PageRequest) -> Result<Page<Consumption>> {
        let mut rows: Vec<Consumption> = self
            .state()
            .rows
            .iter()
            .filter(|r| r.project == filter.project)
            .filter(|r| filter.order.as_ref().is_none_or(|o| *o == r.order_id))
            .filter(|r| filter.region.as_ref().is_none_or(|g| *g == r.region))
            .cloned()
            .collect();
        // Newest time first, ties newest row first: the rows are kept in the order written.
        rows.reverse();
        rows.sort_by_key(|r| std::cmp::Reverse(r.time));
        Ok(page(rows, request))
    }

    async fn for_order(&self, order: &OrderId) -> Result<Vec<Consumption>> {
        let mut rows: Vec<Consumption> = self
            .state()
            .rows
            .iter()
            .filter(|r| r.order_id == *order)
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.consume_id);
        Ok(rows)
    }
}

#[async_trait]
impl LedgerRepository for Store {
    async fn balance(&self, project: &ProjectId) -> Result<Balance> {
        Ok(Balance {
            project: project.clone(),
            amount: self
                .balances_of(std::slice::from_ref(project))
                .remove(project)
                .unwrap_or(Money::ZERO),
            updated_at: None,
        })
    }

    async fn recharge(
        &self,
        recharge: NewRecharge,
        key: Option<Idempotency>,
    ) -> Result<(Recharge, Balance)> {
        let mut state = self.state();
        let id = i64::try_from(state.recharges.len()).unwrap_or(i64::MAX) + 1;
        let amount = state
            .balances
            .get(&recharge.project)
            .copied()
            .unwrap_or(Money::ZERO)
            .checked_add(recharge.amount)
            .ok_or_else(|| Error::invalid("the balance would overflow"))?;
        if let Some(key) = &key {
            remember(&mut state, key, &format!("recharge:{id}"), recharge.time)?;
        }
        state.balances.insert(recharge.project.clone(), amount);
        let recorded = Recharge {
            id,
            project: recharge.project,
            amount: recharge.amount,
            comment: recharge.comment,
            operator: recharge.operator,
            time: recharge.time,
        };
        state.recharges.push(recorded.clone());
        let balance = Balance {
            project: recorded.project.clone(),
            amount,
            updated_at: Some(recorded.time),
        };
        Ok((recorded, balance))
    }

    async fn find_recharge(&self, project: &ProjectId, id: i64) -> Result<Option<Recharge>> {
        let state = self.state();
        let found = state
            .recharges
            .iter()
            .find(|r| r.id == id && r.project == *project);
        Ok(found.cloned())
    }

    async fn list_recharges(
        &self,
        filter: &RechargeFilter,
        request: PageRequest,
    ) -> Result<Page<Recharge>> {
        let state = self.state();
        let mine = state.recharges.iter().rev().filter(|r| filter.matches(r));
        Ok(page(mine.cloned().collect(), request))
    }

    async fn open_account(&self, recharge: NewRecharge) -> Result<bool> {
        if self.state().balances.contains_key(&recharge.project) {
            return Ok(false);
        }
        self.recharge(recharge, None).await.map(|_| true)
    }
}

/// Claiming, deciding and writing a batch happen under one lock: in memory, the claim is
/// the lock. A database adapter claims with `FOR UPDATE SKIP LOCKED` instead, and still
/// relies on the change's guards.
#[async_trait]
impl RenewalRepository for Store {
    async fn due_plans(&self, queue: RenewalQueue, due_by: DateTime<Utc>) -> Result<Vec<PlanId>> {
        let mut plans: Vec<PlanId> = self
            .state()
            .orders
            .values()
            .filter(|o| o.mode == queue.mode && o.status == queue.status)
            .filter(|o| o.deadline_time <= due_by)
            .map(|o| o.plan_id.clone())
            .collect();
        plans.sort();
        plans.dedup();
        Ok(plans)
    }

    async fn renew_batch(
        &self,
        batch: RenewalBatch,
        rules: Arc<dyn RenewalRules>,
    ) -> Result<BatchOutcome> {
        let mut claimed: Vec<Order> = self
            .state()
            .orders
            .values()
            .filter(|o| o.mode == batch.queue.mode && o.status == batch.queue.status)
            .filter(|o| o.deadline_time <= batch.due_by && !o.is_held())
            .filter(|o| {
                batch.after.as_ref().is_none_or(|after| {
                    (o.deadline_time, &o.id) > (after.deadline, &after.order_id)
                })
            })
            .cloned()
            .collect();
        claimed.sort_by(|a, b| (a.deadline_time, &a.id).cmp(&(b.deadline_time, &b.id)));
        claimed.truncate(batch.limit as usize);
        let Some(last) = claimed.last() else {
            return Ok(BatchOutcome::default());
        };
        let next = Some(RenewalCursor {
            deadline: last.deadline_time,
            order_id: last.id.clone(),
        });
        let balances = self.balances_of(&rules.balances_needed(&claimed));
        let plan = BatchPlan::of(rules.decide_batch(&claimed, &balances))?;
        if self.commit_to(&plan.change).is_ok() {
            return Ok(BatchOutcome {
                decisions: plan.decisions,
                failed: Vec::new(),
                next,
            });
        }
        // The batch was refused as a whole: each order alone, so one cannot block the rest.
        let mut outcome = BatchOutcome {
            next,
            ..BatchOutcome::default()
        };
        for decision in plan.decisions {
            match decision.change().and_then(|change| self.commit_to(&change)) {
                Ok(_) => outcome.decisions.push(decision),
                Err(e) => outcome
                    .failed
                    .push((decision.before.id.to_string(), e.to_string())),
            }
        }
        Ok(outcome)
    }

    async fn renew_order(
        &self,
        order: &OrderId,
        rules: Arc<dyn RenewalRules>,
        key: Option<IdempotencyRecord>,
    ) -> Result<Option<RenewalDecision>> {
        let Some(claimed) = self.state().orders.get(order).cloned() else {
            return Ok(None);
        };
        let claimed = std::slice::from_ref(&claimed);
        let balances = self.balances_of(&rules.balances_needed(claimed));
        let mut plan = BatchPlan::of(rules.decide_batch(claimed, &balances))?;
        let change = match key {
            Some(key) => plan.change.with_idempotency(key)?,
            None => plan.change,
        };
        self.commit_to(&change)?;
        Ok(plan.decisions.pop())
    }
}

#[async_trait]
impl PaymentRepository for Store {
    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        paused: Vec<Region>,
    ) -> Result<Vec<Payment>> {
        let mut due: Vec<Payment> = self
            .state()
            .payments
            .values()
            .filter(|p| p.keeper == MoneyKeeper::ChargeService && p.state.is_open())
            .filter(|p| p.next_attempt_at <= now && !paused.contains(&p.region))
            .cloned()
            .collect();
        due.sort_by_key(|p| (p.next_attempt_at, p.created_at));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn find(&self, id: &PaymentId) -> Result<Option<Payment>> {
        Ok(self.state().payments.get(id).cloned())
    }

    async fn unsettled(&self, project: &ProjectId) -> Result<Vec<Payment>> {
        let state = self.state();
        let unsettled = state
            .payments
            .values()
            .filter(|p| p.project == *project && PaymentState::UNSETTLED.contains(&p.state));
        Ok(unsettled.cloned().collect())
    }

    async fn attempted(&self, update: PaymentUpdate, attempts_before: u32) -> Result<bool> {
        match update_payment(&mut self.state(), &update, Some(attempts_before)) {
            Ok(()) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl NotificationRepository for Store {
    async fn list(
        &self,
        filter: NotificationFilter,
        request: PageRequest,
    ) -> Result<Page<Notification>> {
        let state = self.state();
        let events = state.events.iter().rev().filter(|n| {
            n.project == filter.project && filter.order.as_ref().is_none_or(|o| *o == n.order_id)
        });
        Ok(page(events.cloned().collect(), request))
    }
}

#[async_trait]
impl IdempotencyStore for Store {
    async fn find(&self, project: &ProjectId, key: &IdempotencyKey) -> Result<Option<Remembered>> {
        let slot = (project.clone(), key.as_str().to_owned());
        Ok(self.state().keys.get(&slot).cloned())
    }

    async fn answer(
        &self,
        project: &ProjectId,
        key: &IdempotencyKey,
        status: u16,
        body: String,
    ) -> Result<()> {
        let slot = (project.clone(), key.as_str().to_owned());
        if let Some(remembered) = self.state().keys.get_mut(&slot) {
            remembered.answer = Some((status, body));
        }
        Ok(())
    }

    async fn forget(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state();
        let count = state.keys.len();
        state.keys.retain(|_, remembered| remembered.at >= before);
        Ok((count - state.keys.len()) as u64)
    }
}

#[async_trait]
impl BooksRepository for Store {
    async fn projects(&self, after: Option<ProjectId>, limit: u32) -> Result<Vec<ProjectId>> {
        let state = self.state();
        let mut projects: Vec<ProjectId> = state
            .balances
            .keys()
            .cloned()
            .chain(state.orders.values().map(|o| o.project.clone()))
            .filter(|p| after.as_ref().is_none_or(|a| p > a))
            .collect();
        projects.sort();
        projects.dedup();
        projects.truncate(limit as usize);
        Ok(projects)
    }

    async fn books(&self, project: &ProjectId) -> Result<ProjectBooks> {
        let state = self.state();
        Ok(ProjectBooks {
            project: Some(project.clone()),
            balance: state.balances.get(project).copied(),
            recharges: state
                .recharges
                .iter()
                .filter(|r| r.project == *project)
                .map(|r| r.amount)
                .collect(),
            orders: state
                .orders
                .values()
                .filter(|o| o.project == *project)
                .cloned()
                .collect(),
            rows: state
                .rows
                .iter()
                .filter(|r| r.project == *project)
                .cloned()
                .collect(),
            payments: state
                .payments
                .values()
                .filter(|p| p.project == *project)
                .cloned()
                .collect(),
        })
    }
}

#[async_trait]
impl TaskQueue for Store {
    async fn enqueue(&self, task: NewTask) -> Result<u64> {
        Ok(queue(&mut self.state(), task))
    }

    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        only: Option<Vec<u64>>,
    ) -> Result<Vec<QueuedTask>> {
        let state = self.state();
        let due = state
            .tasks
            .iter()
            .filter(|(_, t)| !t.done && t.next_attempt_at <= now)
            .filter(|(id, _)| only.as_ref().is_none_or(|ids| ids.contains(id)))
            .take(limit as usize);
        Ok(due
            .map(|(id, t)| QueuedTask {
                id: *id,
                resource: t.task.resource.clone(),
                action: t.task.action,
                attempts: t.attempts,
            })
            .collect())
    }

    async fn claim(&self, id: u64, attempts: u32, retry_at: DateTime<Utc>) -> Result<bool> {
        match self.state().tasks.get_mut(&id) {
            Some(task) if task.attempts == attempts && !task.done => {
                task.attempts += 1;
                task.next_attempt_at = retry_at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn done(&self, id: u64, _at: DateTime<Utc>) -> Result<()> {
        if let Some(task) = self.state().tasks.get_mut(&id) {
            task.done = true;
        }
        Ok(())
    }

    async fn failed(&self, id: u64, error: String) -> Result<()> {
        // A database keeps the error beside the task for operators; here the log has it.
        log::warn!("task {id} failed: {error}");
        Ok(())
    }

    async fn due_at(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        if let Some(task) = self.state().tasks.get_mut(&id).filter(|t| !t.done) {
            task.next_attempt_at = at;
        }
        Ok(())
    }

    async fn cancel(&self, id: u64) -> Result<bool> {
        match self.state().tasks.get_mut(&id) {
            Some(task) if task.attempts == 0 && !task.done => {
                task.done = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
