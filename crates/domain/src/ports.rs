//! The ports: what the domain needs from the outside world. Repositories persist orders,
//! consumption and the ledger; gateways answer questions about plans, callers, time and
//! identifiers. Every method documents its error contract; adapters must honour it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::consumption::Consumption;
use crate::error::Result;
use std::sync::Arc;

use crate::ids::{OrderId, PlanId, ProjectId, Region};
use crate::ledger::{Balance, NewRecharge, Recharge};
use crate::notification::Notification;
use crate::order::{Order, OrderStatus};
use crate::page::{Page, PageRequest};
use crate::payment::{MoneyKeeper, Payment, RegionScope};
use crate::plan::Plan;
use crate::principal::Principal;
use crate::renewal::{RenewalBatch, RenewalCursor, RenewalDecision, RenewalQueue, RenewalRules};

/// Which orders a list returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderFilter {
    pub project: ProjectId,
    pub status: OrderStatus,
    pub region: Option<Region>,
}

/// Which consumption rows a list returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageFilter {
    pub project: ProjectId,
    pub order: Option<OrderId>,
    pub region: Option<Region>,
}

/// A new order and the charge that opens it, written as one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderOpening {
    pub order: Order,
    /// The first consumption row; `None` when nothing is charged up front (postpaid). Its
    /// amount is debited from the project's balance in the same transaction when the
    /// store keeps the money.
    pub first_charge: Option<Consumption>,
    /// `Store`: the store debits its ledger. `ChargeService`: the caller has already taken
    /// the money; the store writes the rows and leaves its ledger alone.
    pub keeper: MoneyKeeper,
}

/// The end of an order and its closing rows, written as one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderClosing {
    pub order_id: OrderId,
    /// The order's `last_consume_id` the caller computed the refund from; if it moved, the
    /// closing is refused, so a refund is never computed from stale rows.
    pub expected_last_consume_id: u32,
    pub end_time: DateTime<Utc>,
    /// Charges for usage not yet paid (a postpaid order's cycles up to the end), numbered
    /// from `expected_last_consume_id + 1`; their sum is debited from the balance.
    pub settlement: Vec<Consumption>,
    /// The end row, numbered after the settlement rows; minus its amount is credited back
    /// to the project's balance.
    pub end_row: Consumption,
    /// `Store`: the store moves the settlement and the refund in its ledger.
    /// `ChargeService`: the store leaves its ledger alone; money owed back goes in `credit`.
    pub keeper: MoneyKeeper,
    /// Only with `ChargeService`: a credit the store queues (see [`CreditQueue`]) in the
    /// same transaction, so the charge service is paid back even if the process dies right
    /// after the commit.
    pub credit: Option<Payment>,
}

/// Orders, and the atomic units that move money with them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// The order with this id, or `None`. Errors: `Unavailable`, `Internal`.
    async fn find(&self, id: &OrderId) -> Result<Option<Order>>;

    /// A page of the project's orders with this status, newest start first.
    /// Errors: `Unavailable`, `Internal`.
    async fn list(&self, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>>;

    /// In one transaction: debit the first charge from the project's balance, insert the
    /// order and insert the first consumption row. Nothing is written on error.
    /// Errors: `InsufficientBalance` (balance below the charge), `DuplicateResourceName`
    /// (a not-ended order of the same project, region and plan type holds the name),
    /// `Unavailable`, `Internal`.
    async fn open(&self, opening: OrderOpening) -> Result<()>;

    /// In one transaction: end the order (status, end time, last consume id), debit the
    /// settlement, credit the refund and insert the settlement rows and the end row.
    /// Returns the ended order. Nothing is written on error.
    /// Errors: `NotFound`, `Conflict` (already ended, or `last_consume_id` moved),
    /// `InsufficientBalance` (the balance does not cover the settlement), `Unavailable`,
    /// `Internal`.
    async fn close(&self, closing: OrderClosing) -> Result<Order>;

    /// In one transaction: close the old order (as [`OrderRepository::close`]) and open the
    /// new one (as [`OrderRepository::open`]); the balance moves by the net of the refund,
    /// the settlement and the new charge, and must cover it. Returns the ended old order.
    /// Nothing is written on error. Errors: those of `close` and `open`.
    async fn switch(&self, closing: OrderClosing, opening: OrderOpening) -> Result<Order>;
}

/// What one renewal batch did: every claimed order's decision, written or not, and where
/// the batch stopped (`None` when nothing was left to claim).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchOutcome {
    pub decisions: Vec<RenewalDecision>,
    pub next: Option<RenewalCursor>,
}

/// The renewal engine's store: claiming due orders without a coordinator.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RenewalRepository: Send + Sync {
    /// The distinct plans of the queue's orders in `regions` due by `due_by`, so a run can
    /// ask the catalog once per plan. Errors: `Unavailable`, `Internal`.
    async fn due_plans(
        &self,
        queue: RenewalQueue,
        due_by: DateTime<Utc>,
        regions: RegionScope,
    ) -> Result<Vec<PlanId>>;

    /// Up to `batch.limit` orders of the batch (queue, regions, due by, after the cursor),
    /// in (deadline, id) order, without claiming them: used where money moves through a
    /// charge service, which cannot happen inside a store transaction.
    /// Errors: `Unavailable`, `Internal`.
    async fn due_orders(&self, batch: RenewalBatch) -> Result<Vec<Order>>;

    /// In one transaction: write the decision's rows and the order's new state, only if
    /// the order still has the decision's `before` state (status and last consume id);
    /// never touches the store's ledger (the money already moved through the charge
    /// service). Returns false, writing nothing, when the order had changed (another run
    /// recorded it first). Errors: `Unavailable`, `Internal`.
    async fn record(&self, decision: RenewalDecision) -> Result<bool>;

    /// In one transaction: claim the batch's orders, skipping those another transaction
    /// holds; lock their projects' balances; call `rules` for each order in (deadline, id)
    /// order with what its project's balance still holds; write each decision that changes
    /// something — rows, order state (refused unless the order still has the decision's
    /// `before` state), balance debit. Replicas and retries never charge a cycle twice: a
    /// claimed order is held until commit and the (order, consume id) key is unique.
    /// Errors: `Unavailable` (after retrying deadlocks and lock waits), `Internal`.
    async fn renew_batch(
        &self,
        batch: RenewalBatch,
        rules: Arc<dyn RenewalRules>,
    ) -> Result<BatchOutcome>;
}

/// Which notifications a list returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationFilter {
    pub project: ProjectId,
    pub order: Option<OrderId>,
}

/// Where events about orders go once the change they describe is committed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends (or records) the events, in order. Errors: `Unavailable`, `Internal`; callers
    /// log them and go on, since the change itself is already committed.
    async fn notify(&self, events: Vec<Notification>) -> Result<()>;
}

/// The notifications kept for projects to read.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    /// A page of the project's notifications, newest first. Errors: `Unavailable`, `Internal`.
    async fn list(
        &self,
        filter: NotificationFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>>;
}

/// A charge service: balances kept outside the store. Every payment is named by its
/// [`crate::payment::PaymentReason`]; the adapter must make sure (and document how) that a
/// payment with a reason and direction already taken is not taken again.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Charging: Send + Sync {
    /// Who keeps the region's balances. Regions the charge service does not keep are the
    /// store's ledger's, and their money never goes through this port.
    fn keeper(&self, region: &Region) -> MoneyKeeper;

    /// The regions kept by the charge service (the renewal engine renews them one order
    /// at a time, charging before it records).
    fn charged_regions(&self) -> Vec<Region>;

    /// Takes `payment.amount` from the project's balance (`payment.direction` is
    /// `Deduction`). A repeat of a taken payment succeeds without taking it again.
    /// Errors: `PaymentDeclined` (insufficient balance; nothing taken),
    /// `DependencyUnavailable` (outcome unknown: retry with the same payment),
    /// `Internal` (the service refused the request itself).
    async fn deduct(&self, payment: &Payment) -> Result<()>;

    /// Gives `payment.amount` back (`payment.direction` is `Credit`); a repeat succeeds
    /// without giving it twice. Errors: `DependencyUnavailable`, `Internal`.
    async fn credit(&self, payment: &Payment) -> Result<()>;
}

/// A credit waiting to be delivered to the charge service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedCredit {
    pub id: u64,
    pub payment: Payment,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// Credits owed by the charge service, queued in the store with the rows that record them
/// and delivered at least once (the reason makes a repeat harmless).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CreditQueue: Send + Sync {
    /// Up to `limit` undelivered credits whose next attempt is due at `now`, oldest first.
    /// Errors: `Unavailable`, `Internal`.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<QueuedCredit>>;

    /// Marks the credit delivered. Errors: `Unavailable`, `Internal`.
    async fn delivered(&self, id: u64, at: DateTime<Utc>) -> Result<()>;

    /// Records a failed attempt and when to try next. Errors: `Unavailable`, `Internal`.
    async fn failed(&self, id: u64, next_attempt: DateTime<Utc>, error: String) -> Result<()>;
}

/// A release waiting to be tried again, with the order whose resource it frees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedRelease {
    pub id: u64,
    /// The order as the store has it now: what the platform adapter needs to find the
    /// resource (project, region, plan, name).
    pub order: Order,
    /// Failed retries so far (the first, synchronous release is not counted).
    pub attempts: u32,
}

/// Releases that failed when their order ended, kept in the store so a platform that was
/// down does not leave a resource behind that no order pays for. Each is retried until
/// it succeeds (releasing what is already gone succeeds, so a repeat is harmless).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReleaseQueue: Send + Sync {
    /// Queues the release of the order's resource, due at `at`. An order already queued
    /// and not yet released keeps its entry (its release is already owed); one released
    /// before is owed again. Errors: `NotFound` (the store has no such order: an order
    /// never written cannot be queued, since its resource is found through it),
    /// `Unavailable`, `Internal`.
    async fn enqueue(&self, order: &Order, at: DateTime<Utc>) -> Result<()>;

    /// Up to `limit` releases not yet done whose next attempt is due at `now`, oldest
    /// first. Errors: `Unavailable`, `Internal`.
    async fn pending(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<QueuedRelease>>;

    /// Marks the release done. Errors: `Unavailable`, `Internal`.
    async fn done(&self, id: u64, at: DateTime<Utc>) -> Result<()>;

    /// Records a failed attempt and when to try next. Errors: `Unavailable`, `Internal`.
    async fn failed(&self, id: u64, next_attempt: DateTime<Utc>, error: String) -> Result<()>;
}

/// Creates and releases the platform resources orders provide (see
/// [`crate::provisioning::ResourceKind`]). The adapter reads what it needs (sizes, service
/// names) from the order's plan itself.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Provisioning: Send + Sync {
    /// Creates the order's resource (sets the quota). Idempotent for the same order.
    /// Errors: `DuplicateResourceName` (the platform already has another resource of that
    /// name), `ProvisioningFailed` (refused or failed), `DependencyUnavailable`, `Internal`.
    async fn provision(&self, order: &Order) -> Result<()>;

    /// Releases the order's resource (resets the quota). Releasing what is already gone
    /// succeeds. Errors: `ProvisioningFailed`, `DependencyUnavailable`, `Internal`.
    async fn release(&self, order: &Order) -> Result<()>;
}

/// Consumption history.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ConsumptionRepository: Send + Sync {
    /// A page of rows, newest time first (ties: newest row first).
    /// Errors: `Unavailable`, `Internal`.
    async fn list(&self, filter: UsageFilter, page: PageRequest) -> Result<Page<Consumption>>;

    /// Every row of one order in sequence order. Errors: `Unavailable`, `Internal`.
    async fn for_order(&self, order: &OrderId) -> Result<Vec<Consumption>>;
}

/// The local ledger of balances and recharges.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LedgerRepository: Send + Sync {
    /// The project's balance; zero (with no update time) for a project never funded.
    /// Errors: `Unavailable`, `Internal`.
    async fn balance(&self, project: &ProjectId) -> Result<Balance>;

    /// In one transaction: record the recharge and credit the balance. Returns both.
    /// Errors: `InvalidParameter` (the balance would overflow), `Unavailable`, `Internal`.
    async fn recharge(&self, recharge: NewRecharge) -> Result<(Recharge, Balance)>;

    /// A page of the project's recharges, newest first. Errors: `Unavailable`, `Internal`.
    async fn list_recharges(
        &self,
        project: &ProjectId,
        page: PageRequest,
    ) -> Result<Page<Recharge>>;

    /// Records `recharge` only if the project has no ledger entry yet; returns whether it
    /// did. Used to fund demo projects from configuration without funding them twice.
    /// Errors: `Unavailable`, `Internal`.
    async fn open_account(&self, recharge: NewRecharge) -> Result<bool>;
}

/// Whether the store answers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Errors: `Unavailable` when the store does not answer.
    async fn ping(&self) -> Result<()>;
}

/// The plan catalog.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PlanCatalog: Send + Sync {
    /// The plan, or `None` if the catalog has no such plan. Errors: `PlanCatalogUnavailable`.
    async fn get(&self, id: &PlanId) -> Result<Option<Plan>>;

    /// Every plan, or those of one region. Errors: `PlanCatalogUnavailable`.
    async fn list(&self, region: Option<Region>) -> Result<Vec<Plan>>;
}

/// Who a caller is and which projects they belong to.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Identity: Send + Sync {
    /// The principal a bearer token stands for. Errors: `Unauthenticated` for an unknown or
    /// invalid token, `Unavailable` when the identity service cannot be asked.
    async fn authenticate(&self, token: &str) -> Result<Principal>;

    /// Whether the principal is a member of the project. Errors: `Unavailable`.
    async fn is_member(&self, principal: &Principal, project: &ProjectId) -> Result<bool>;
}

/// The current time; a port so tests (and `--now`) can move it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC, at microsecond precision (what the store keeps).
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh identifiers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new, unguessable order id.
    fn order_id(&self) -> OrderId;
}
