//! An in-memory store: every repository port over one shared state, with the guards the
//! database enforces (order versions, payment states, unique resource names and quotas,
//! unique idempotency keys, guarded ledger movements) and nothing more. A change is applied
//! to a copy of the state and swapped in only when all of it applied, so a failing change
//! writes nothing. Faults are injected in front of it (see `faults`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::change::PaymentUpdate;
use crate::change::{Change, OrderWrite};
use crate::consumption::Consumption;
use crate::error::{Error, Result};
use crate::idempotency::{Idempotency, IdempotencyKey, Remembered};
use crate::ids::{OrderId, PlanId, ProjectId, Region};
use crate::ledger::{Balance, NewRecharge, Recharge};
use crate::money::Money;
use crate::notification::Notification;
use crate::order::{Order, OrderStatus};
use crate::page::{Page, PageRequest};
use crate::payment::{LedgerMove, MoneyKeeper, Payment, PaymentId, PaymentState};
use crate::ports::{
    BatchOutcome, BooksRepository, ChangeStore, ConsumptionRepository, IdempotencyStore,
    LedgerRepository, NotificationFilter, NotificationRepository, OrderFilter, OrderRepository,
    PaymentRepository, RechargeFilter, RenewalRepository, TaskQueue, UsageFilter,
};
use crate::provisioning::{NewTask, QueuedTask, Resource, ResourceKind};
use crate::reconcile::ProjectBooks;
use crate::renewal::{
    BatchPlan, RenewalBatch, RenewalCursor, RenewalDecision, RenewalOutcome, RenewalQueue,
    RenewalRules,
};

#[derive(Clone, Debug)]
struct Task {
    task: NewTask,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    done: bool,
    last_error: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct State {
    orders: BTreeMap<OrderId, Order>,
    rows: Vec<Consumption>,
    payments: BTreeMap<PaymentId, Payment>,
    balances: BTreeMap<ProjectId, Money>,
    recharges: Vec<Recharge>,
    notifications: Vec<Notification>,
    resources: Vec<Resource>,
    released: Vec<Resource>,
    tasks: BTreeMap<u64, Task>,
    keys: BTreeMap<(ProjectId, String), Remembered>,
}

/// The store; clones share it.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every order, by id.
    pub fn orders(&self) -> Vec<Order> {
        self.state().orders.values().cloned().collect()
    }

    /// Every row.
    pub fn rows(&self) -> Vec<Consumption> {
        self.state().rows.clone()
    }

    /// Every payment.
    pub fn payments(&self) -> Vec<Payment> {
        self.state().payments.values().cloned().collect()
    }

    /// Every notification, in the order written.
    pub fn notifications(&self) -> Vec<Notification> {
        self.state().notifications.clone()
    }

    /// The resources changes created, the store keeping them (names are unique already
    /// among the open orders holding them), in the order written.
    pub fn resources(&self) -> Vec<Resource> {
        self.state().resources.clone()
    }

    /// The resources changes released, the store keeping them, in the order written.
    pub fn released(&self) -> Vec<Resource> {
        self.state().released.clone()
    }

    /// The tasks not done: (resource's order, action).
    pub fn open_tasks(&self) -> Vec<NewTask> {
        self.state()
            .tasks
            .values()
            .filter(|t| !t.done)
            .map(|t| t.task.clone())
            .collect()
    }

    /// The project's local balance (zero if never funded).
    pub fn balance_of(&self, project: &ProjectId) -> Money {
        self.state()
            .balances
            .get(project)
            .copied()
            .unwrap_or(Money::ZERO)
    }

    /// Puts an order in the store as it is (a fixture).
    pub fn put(&self, order: Order) {
        self.state().orders.insert(order.id.clone(), order);
    }

    /// Puts a row in the store as it is (a fixture).
    pub fn put_row(&self, row: Consumption) {
        self.state().rows.push(row);
    }

    /// Changes a project's balance behind the service's back, recording nothing (what
    /// `serviceusage reconcile` must catch).
    pub fn tamper_with_balance(&self, project: &ProjectId, amount: Money) {
        self.state().balances.insert(project.clone(), amount);
    }

    /// Sets a project's balance (a fixture), recording the difference as a recharge (an
    /// operator's adjustment, negative when it lowers the balance) so the books add up.
    pub fn fund(&self, project: &ProjectId, amount: Money) {
        let mut state = self.state();
        let before = state.balances.get(project).copied().unwrap_or(Money::ZERO);
        let adjustment = amount.checked_sub(before).unwrap_or(Money::ZERO);
        let id = i64::try_from(state.recharges.len()).unwrap_or(i64::MAX) + 1;
        state.recharges.push(Recharge {
            id,
            project: project.clone(),
            amount: adjustment,
            comment: Some("fixture".into()),
            operator: crate::ids::UserName::parse("fixture").unwrap_or_else(|_| unreachable!()),
            time: DateTime::<Utc>::MIN_UTC,
        });
        state.balances.insert(project.clone(), amount);
    }

    fn commit_to(&self, change: &Change) -> Result<Vec<u64>> {
        let mut state = self.state();
        let mut next = state.clone();
        let ids = apply(&mut next, change)?;
        *state = next;
        Ok(ids)
    }
}

fn apply(state: &mut State, change: &Change) -> Result<Vec<u64>> {
    if let Some(record) = change.idempotency_record() {
        let key = (
            record.request.project.clone(),
            record.request.key.as_str().to_owned(),
        );
        if state.keys.contains_key(&key) {
            return Err(Error::DuplicateRequest(record.request.key.to_string()));
        }
        state.keys.insert(
            key,
            Remembered {
                fingerprint: record.request.fingerprint.clone(),
                result: record.result.clone(),
                at: record.at,
                answer: None,
            },
        );
    }
    for write in change.orders() {
        match write {
            OrderWrite::Insert(order) => {
                if state.orders.contains_key(&order.id) {
                    return Err(Error::Internal(format!("order {} exists", order.id)));
                }
                check_holds(state, order)?;
                state.orders.insert(order.id.clone(), order.clone());
            }
            OrderWrite::Update {
                expected_version,
                order,
                ..
            } => {
                let current = state
                    .orders
                    .get(&order.id)
                    .ok_or_else(|| Error::NotFound(format!("order {}", order.id)))?;
                if current.version != *expected_version {
                    return Err(Error::Conflict(format!(
                        "order {} changed meanwhile",
                        order.id
                    )));
                }
                state.orders.remove(&order.id);
                check_holds(state, order)?;
                state.orders.insert(order.id.clone(), order.clone());
            }
        }
    }
    state.resources.extend(change.resources().iter().cloned());
    state.released.extend(change.released().iter().cloned());
    for row in change.rows() {
        if state
            .rows
            .iter()
            .any(|r| r.order_id == row.order_id && r.consume_id == row.consume_id)
        {
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
    state.notifications.extend(change.events().iter().cloned());
    let mut ids = Vec::new();
    for task in change.tasks() {
        let id = state.tasks.keys().next_back().map_or(1, |last| last + 1);
        state.tasks.insert(
            id,
            Task {
                task: task.clone(),
                attempts: 0,
                next_attempt_at: task.due_at,
                done: false,
                last_error: None,
            },
        );
        ids.push(id);
    }
    for id in change.cancelled_tasks() {
        match state.tasks.get_mut(id) {
            Some(task) if task.attempts == 0 && !task.done => task.done = true,
            _ => return Err(Error::Conflict(format!("task {id} already ran"))),
        }
    }
    Ok(ids)
}

/// The unique keys on resource names and quotas.
fn check_holds(state: &State, order: &Order) -> Result<()> {
    if !order.holds_resource() {
        return Ok(());
    }
    for other in state.orders.values().filter(|o| o.holds_resource()) {
        let same_place = other.project == order.project && other.region == order.region;
        if order.holds_quota() && other.holds_quota() && same_place {
            return Err(Error::Conflict(format!(
                "project {} already has an open quota order in region {}",
                order.project, order.region
            )));
        }
        if let (Some(mine), Some(theirs)) = (&order.resource_name, &other.resource_name) {
            if same_place && other.plan_type == order.plan_type && mine == theirs {
                return Err(Error::DuplicateResourceName(mine.to_string()));
            }
        }
    }
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

fn move_balance(state: &mut State, movement: &LedgerMove) -> Result<()> {
    let current = state.balances.get(&movement.project).copied();
    let available = current.unwrap_or(Money::ZERO);
    if let Some(requires) = movement.requires {
        if available < requires {
            return Err(Error::InsufficientBalance {
                needed: requires,
                available,
            });
        }
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

fn page<T: Clone>(items: Vec<T>, request: PageRequest) -> Page<T> {
    let total = items.len() as u64;
    let offset = usize::try_from(request.offset()).unwrap_or(usize::MAX);
    let limit = request.limit() as usize;
    Page::exact(total, items.into_iter().skip(offset).take(limit).collect())
}

#[async_trait]
impl OrderRepository for MemoryStore {
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
        let page = page(orders, request);
        Ok(if filter.is_counted() {
            page
        } else {
            Page::counted(page.total, page.items)
        })
    }

    async fn holder(&self, resource: &Resource) -> Result<Option<Order>> {
        Ok(self
            .state()
            .orders
            .values()
            .filter(|o| o.project == resource.project && o.region == resource.region)
            .find(|o| match resource.kind {
                ResourceKind::Quota => o.holds_quota(),
                ResourceKind::Volume | ResourceKind::ServiceInstance => {
                    o.holds_resource()
                        && o.plan_type == resource.plan_type
                        && o.resource_name.is_some()
                        && o.resource_name == resource.name
                }
            })
            .cloned())
    }
}

#[async_trait]
impl ChangeStore for MemoryStore {
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
impl ConsumptionRepository for MemoryStore {
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
        rows.reverse();
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
impl LedgerRepository for MemoryStore {
    async fn balance(&self, project: &ProjectId) -> Result<Balance> {
        let state = self.state();
        Ok(Balance {
            project: project.clone(),
            amount: state.balances.get(project).copied().unwrap_or(Money::ZERO),
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
            let slot = (key.project.clone(), key.key.as_str().to_owned());
            if state.keys.contains_key(&slot) {
                return Err(Error::DuplicateRequest(key.key.to_string()));
            }
            state.keys.insert(
                slot,
                Remembered {
                    fingerprint: key.fingerprint.clone(),
                    result: format!("recharge:{id}"),
                    at: recharge.time,
                    answer: None,
                },
            );
        }
        state.balances.insert(recharge.project.clone(), amount);
        let recorded = Recharge {
            id,
            project: recharge.project.clone(),
            amount: recharge.amount,
            comment: recharge.comment,
            operator: recharge.operator,
            time: recharge.time,
        };
        state.recharges.push(recorded.clone());
        Ok((
            recorded,
            Balance {
                project: recharge.project,
                amount,
                updated_at: Some(recharge.time),
            },
        ))
    }

    async fn find_recharge(&self, project: &ProjectId, id: i64) -> Result<Option<Recharge>> {
        Ok(self
            .state()
            .recharges
            .iter()
            .find(|r| r.id == id && r.project == *project)
            .cloned())
    }

    async fn list_recharges(
        &self,
        filter: &RechargeFilter,
        request: PageRequest,
    ) -> Result<Page<Recharge>> {
        let mut recharges: Vec<Recharge> = self
            .state()
            .recharges
            .iter()
            .filter(|r| filter.matches(r))
            .cloned()
            .collect();
        recharges.reverse();
        let page = page(recharges, request);
        Ok(if filter.created.is_open() {
            page
        } else {
            Page::counted(page.total, page.items)
        })
    }

    async fn open_account(&self, recharge: NewRecharge) -> Result<bool> {
        if self.state().balances.contains_key(&recharge.project) {
            return Ok(false);
        }
        self.recharge(recharge, None).await.map(|_| true)
    }
}

impl MemoryStore {
    fn claim(&self, batch: &RenewalBatch) -> Vec<Order> {
        let mut due: Vec<Order> = self
            .state()
            .orders
            .values()
            .filter(|o| o.mode == batch.queue.mode && o.status == batch.queue.status)
            .filter(|o| o.deadline_time <= batch.due_by && !o.is_held())
            .filter(|o| {
                batch.after.as_ref().is_none_or(|after| {
                    (o.deadline_time, o.id.as_str()) > (after.deadline, after.order_id.as_str())
                })
            })
            .cloned()
            .collect();
        due.sort_by(|a, b| (a.deadline_time, &a.id).cmp(&(b.deadline_time, &b.id)));
        due.truncate(batch.limit as usize);
        due
    }

    fn balances_of(&self, projects: &[ProjectId]) -> BTreeMap<ProjectId, Money> {
        let state = self.state();
        projects
            .iter()
            .filter_map(|p| state.balances.get(p).map(|b| (p.clone(), *b)))
            .collect()
    }
}

#[async_trait]
impl RenewalRepository for MemoryStore {
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
        let claimed = self.claim(&batch);
        let Some(last) = claimed.last() else {
            return Ok(BatchOutcome::default());
        };
        let next = Some(RenewalCursor {
            deadline: last.deadline_time,
            order_id: last.id.clone(),
        });
        let balances = self.balances_of(&rules.balances_needed(&claimed));
        let decisions = rules.decide_batch(&claimed, &balances);
        let plan = BatchPlan::of(decisions)?;
        match self.commit_to(&plan.change) {
            Ok(_) => Ok(BatchOutcome {
                decisions: plan.decisions,
                failed: Vec::new(),
                next,
            }),
            Err(Error::Unavailable(why)) => Err(Error::Unavailable(why)),
            Err(_) => Ok(self.one_by_one(plan.decisions, next)),
        }
    }

    async fn renew_order(
        &self,
        order: &OrderId,
        rules: Arc<dyn RenewalRules>,
        key: Option<crate::idempotency::IdempotencyRecord>,
    ) -> Result<Option<RenewalDecision>> {
        let Some(claimed) = self.state().orders.get(order).cloned() else {
            return Ok(None);
        };
        let balances = self.balances_of(&rules.balances_needed(std::slice::from_ref(&claimed)));
        let decisions = rules.decide_batch(std::slice::from_ref(&claimed), &balances);
        let mut plan = BatchPlan::of(decisions)?;
        let change = match key {
            Some(key) => plan.change.with_idempotency(key)?,
            None => plan.change,
        };
        self.commit_to(&change)?;
        Ok(plan.decisions.pop())
    }
}

impl MemoryStore {
    /// Writes each decision alone after its batch failed: conflicts are skipped, other
    /// failures reported.
    fn one_by_one(
        &self,
        decisions: Vec<RenewalDecision>,
        next: Option<RenewalCursor>,
    ) -> BatchOutcome {
        let mut outcome = BatchOutcome {
            next,
            ..BatchOutcome::default()
        };
        for mut decision in decisions {
            let written = decision.change().and_then(|change| self.commit_to(&change));
            match written {
                Ok(_) => outcome.decisions.push(decision),
                Err(Error::Conflict(why)) => {
                    decision.outcome = RenewalOutcome::Skipped(format!("changed meanwhile: {why}"));
                    outcome.decisions.push(decision);
                }
                Err(e) => outcome
                    .failed
                    .push((decision.before.id.to_string(), e.to_string())),
            }
        }
        outcome
    }
}

#[async_trait]
impl PaymentRepository for MemoryStore {
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
        Ok(self
            .state()
            .payments
            .values()
            .filter(|p| p.project == *project)
            .filter(|p| PaymentState::UNSETTLED.contains(&p.state))
            .cloned()
            .collect())
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
impl NotificationRepository for MemoryStore {
    async fn list(
        &self,
        filter: NotificationFilter,
        request: PageRequest,
    ) -> Result<Page<Notification>> {
        let mut events: Vec<Notification> = self
            .state()
            .notifications
            .iter()
            .filter(|n| n.project == filter.project)
            .filter(|n| filter.order.as_ref().is_none_or(|o| *o == n.order_id))
            .cloned()
            .collect();
        events.reverse();
        Ok(page(events, request))
    }
}

#[async_trait]
impl TaskQueue for MemoryStore {
    async fn enqueue(&self, task: NewTask) -> Result<u64> {
        let mut state = self.state();
        let id = state.tasks.keys().next_back().map_or(1, |last| last + 1);
        let due = task.due_at;
        state.tasks.insert(
            id,
            Task {
                task,
                attempts: 0,
                next_attempt_at: due,
                done: false,
                last_error: None,
            },
        );
        Ok(id)
    }

    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        only: Option<Vec<u64>>,
    ) -> Result<Vec<QueuedTask>> {
        Ok(self
            .state()
            .tasks
            .iter()
            .filter(|(_, t)| !t.done && t.next_attempt_at <= now)
            .filter(|(id, _)| only.as_ref().is_none_or(|ids| ids.contains(id)))
            .take(limit as usize)
            .map(|(id, t)| QueuedTask {
                id: *id,
                resource: t.task.resource.clone(),
                action: t.task.action,
                attempts: t.attempts,
            })
            .collect())
    }

    async fn claim(&self, id: u64, attempts: u32, retry_at: DateTime<Utc>) -> Result<bool> {
        let mut state = self.state();
        match state.tasks.get_mut(&id) {
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
        if let Some(task) = self.state().tasks.get_mut(&id) {
            task.last_error = Some(error);
        }
        Ok(())
    }

    async fn due_at(&self, id: u64, at: DateTime<Utc>) -> Result<()> {
        if let Some(task) = self.state().tasks.get_mut(&id) {
            if !task.done {
                task.next_attempt_at = at;
            }
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

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn find(&self, project: &ProjectId, key: &IdempotencyKey) -> Result<Option<Remembered>> {
        Ok(self
            .state()
            .keys
            .get(&(project.clone(), key.as_str().to_owned()))
            .cloned())
    }

    async fn answer(
        &self,
        project: &ProjectId,
        key: &IdempotencyKey,
        status: u16,
        body: String,
    ) -> Result<()> {
        if let Some(remembered) = self
            .state()
            .keys
            .get_mut(&(project.clone(), key.as_str().to_owned()))
        {
            remembered.answer = Some((status, body));
        }
        Ok(())
    }

    async fn forget(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state();
        let count = state.keys.len();
        state.keys.retain(|_, r| r.at >= before);
        Ok((count - state.keys.len()) as u64)
    }
}

#[async_trait]
impl BooksRepository for MemoryStore {
    async fn projects(&self, after: Option<ProjectId>, limit: u32) -> Result<Vec<ProjectId>> {
        let state = self.state();
        let mut projects: Vec<ProjectId> = state
            .balances
            .keys()
            .cloned()
            .chain(state.orders.values().map(|o| o.project.clone()))
            .chain(state.recharges.iter().map(|r| r.project.clone()))
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

impl MemoryStore {
    /// Whether the order exists and has this status.
    pub fn status_of(&self, id: &OrderId) -> Option<OrderStatus> {
        self.state().orders.get(id).map(|o| o.status)
    }
}
