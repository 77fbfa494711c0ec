//! The ports: what the domain needs from the outside world. Repositories persist orders,
//! consumption, payments, the ledger and the queues; gateways answer questions about plans,
//! callers, time and identifiers, and move money and resources on the platform. Every
//! method documents its error contract; adapters must honour it.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::change::{Change, PaymentUpdate};
use crate::consumption::Consumption;
use crate::error::Result;
use crate::filter::{SearchWord, TimeRange};
use crate::idempotency::{Idempotency, IdempotencyKey, IdempotencyRecord, Remembered};
use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Region};
use crate::ledger::{Balance, NewRecharge, Recharge};
use crate::notification::Notification;
use crate::order::{Order, OrderStatus};
use crate::order_type::OrderType;
use crate::page::{Page, PageRequest};
use crate::payment::{Payment, PaymentId};
use crate::plan::Plan;
use crate::principal::Principal;
use crate::provisioning::{NewTask, QueuedTask, Resource};
use crate::reconcile::ProjectBooks;
use crate::renewal::{RenewalBatch, RenewalCursor, RenewalDecision, RenewalQueue, RenewalRules};

/// Which orders a list returns: every condition given must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderFilter {
    /// Whose orders.
    pub project: ProjectId,
    /// Only orders in this status; `None` for every status.
    pub status: Option<OrderStatus>,
    /// Only this region's orders; `None` for every region.
    pub region: Option<Region>,
    /// Only orders of plans of this type (51idc's resource type).
    pub plan_type: Option<PlanType>,
    /// Only orders that came to be this way.
    pub order_type: Option<OrderType>,
    /// Only orders created (started) in this range.
    pub created: TimeRange,
    /// Only orders whose id, resource name or plan id starts with this word.
    pub search: Option<SearchWord>,
}

impl OrderFilter {
    /// The project's orders in one status, with no other condition.
    pub fn in_status(project: ProjectId, status: OrderStatus) -> Self {
        Self {
            project,
            status: Some(status),
            region: None,
            plan_type: None,
            order_type: None,
            created: TimeRange::default(),
            search: None,
        }
    }

    /// Whether the filter holds only conditions the stores keep totals by (status, region,
    /// plan type, order type), so that a list's total is exact without counting its rows.
    pub fn is_counted(&self) -> bool {
        self.created.is_open() && self.search.is_none()
    }

    /// Whether `order` passes the filter.
    pub fn matches(&self, order: &Order) -> bool {
        order.project == self.project
            && self.status.is_none_or(|status| order.status == status)
            && self
                .region
                .as_ref()
                .is_none_or(|region| order.region == *region)
            && self
                .plan_type
                .as_ref()
                .is_none_or(|plan_type| order.plan_type == *plan_type)
            && self
                .order_type
                .is_none_or(|order_type| order.order_type() == order_type)
            && self.created.contains(&order.start_time)
            && self.search.as_ref().is_none_or(|word| {
                word.prefixes(order.id.as_str())
                    || word.prefixes(order.plan_id.as_str())
                    || order
                        .resource_name
                        .as_ref()
                        .is_some_and(|name| word.prefixes(name.as_str()))
            })
    }
}

/// Which recharges a list returns (51idc's recharge record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RechargeFilter {
    /// Whose recharges.
    pub project: ProjectId,
    /// Only those recorded in this range.
    pub created: TimeRange,
}

impl RechargeFilter {
    /// Every recharge of the project.
    pub fn of(project: ProjectId) -> Self {
        Self {
            project,
            created: TimeRange::default(),
        }
    }

    /// Whether `recharge` passes the filter.
    pub fn matches(&self, recharge: &Recharge) -> bool {
        recharge.project == self.project && self.created.contains(&recharge.time)
    }
}

/// Which consumption rows a list returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageFilter {
    /// Whose rows.
    pub project: ProjectId,
    /// Only this order's rows; `None` for every order.
    pub order: Option<OrderId>,
    /// Only this region's rows; `None` for every region.
    pub region: Option<Region>,
}

/// Orders, as they are read.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// The order with this id, or `None`. Errors: `Unavailable`, `Internal`.
    async fn find(&self, id: &OrderId) -> Result<Option<Order>>;

    /// The orders of these ids that exist, in no particular order, read at once (the
    /// settler reads the orders a round of answers moves on). Errors: `Unavailable`,
    /// `Internal`.
    async fn find_all(&self, ids: &[OrderId]) -> Result<Vec<Order>>;

    /// A page of the orders the filter passes, newest start first (the id breaks ties).
    /// The total is exact when the filter [is counted](OrderFilter::is_counted), else
    /// counted up to [`crate::page::COUNT_CAP`]. Errors: `Unavailable`, `Internal`.
    async fn list(&self, filter: OrderFilter, page: PageRequest) -> Result<Page<Order>>;

    /// The order that holds `resource` now (see [`Order::holds_resource`]): for a quota,
    /// the project's quota order in the region; for a volume or instance, the order of the
    /// project, region and plan type holding its name. `None` when no order does.
    /// Errors: `Unavailable`, `Internal`.
    async fn holder(&self, resource: &Resource) -> Result<Option<Order>>;
}

/// Writes changes: the one way anything that moves money, or follows from it, is stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Writes the whole change in one transaction, or nothing. Returns the ids of the tasks
    /// it queued, in the change's order (so the request can run them itself).
    /// Errors: `Conflict` (an updated order or payment no longer has the state the change
    /// was decided from, a task to cancel has already run, or a project's quota is held by
    /// another order), `NotFound` (an updated order does not exist),
    /// `InsufficientBalance` (a guarded ledger movement found less than it requires),
    /// `DuplicateResourceName`, `DuplicateRequest` (the idempotency key is already
    /// recorded), `Unavailable`, `Internal`.
    async fn commit(&self, change: Change) -> Result<Vec<u64>>;

    /// Writes each change as [`ChangeStore::commit`] would, each whole or not at all, and
    /// none held back by another's refusal; a store may write them together (one
    /// transaction when none refuses) where that is cheaper. Returns each change's outcome,
    /// in order, with the errors of `commit`.
    /// Errors (of the whole call, when it is not known what was written): `Unavailable`,
    /// `Internal`.
    async fn commit_each(&self, changes: Vec<Change>) -> Result<Vec<Result<Vec<u64>>>>;
}

/// What one renewal batch did: every decision written (or not), the orders that could not
/// be read or written, and where the batch stopped (`None` when nothing was left to claim).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Every decision of the batch, in the order claimed: written, or skipped.
    pub decisions: Vec<RenewalDecision>,
    /// Orders claimed but unreadable (a corrupt row), or whose write failed on its own:
    /// skipped, each with why. The others of the batch are written.
    pub failed: Vec<(String, String)>,
    /// Where to continue the queue; `None` when nothing was left to claim.
    pub next: Option<RenewalCursor>,
}

/// The renewal engine's store: claiming due orders without a coordinator.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RenewalRepository: Send + Sync {
    /// The distinct plans of the queue's orders due by `due_by`, so a run can ask the
    /// catalog once per plan. Errors: `Unavailable`, `Internal`.
    async fn due_plans(&self, queue: RenewalQueue, due_by: DateTime<Utc>) -> Result<Vec<PlanId>>;

    /// In one transaction: claim the batch's orders (skipping those another transaction
    /// holds, where the database can), read the balances `rules` needs, let `rules` decide
    /// the batch and write its change. Correctness rests on the change's guards, not on the
    /// claim: a claim that locks nothing still charges no cycle twice. An order that cannot
    /// be read, or whose own write fails, is skipped (see [`BatchOutcome::failed`]) and the
    /// others are written. Errors: `Unavailable` (after retrying deadlocks and lock waits),
    /// `Internal`.
    async fn renew_batch(
        &self,
        batch: RenewalBatch,
        rules: Arc<dyn RenewalRules>,
    ) -> Result<BatchOutcome>;

    /// [`RenewalRepository::renew_batch`] for one order (a manual renewal), recording
    /// `key` with its change; `None` when the order is not there. Errors: as `renew_batch`,
    /// and those of [`ChangeStore::commit`] for the order's change.
    async fn renew_order(
        &self,
        order: &OrderId,
        rules: Arc<dyn RenewalRules>,
        key: Option<IdempotencyRecord>,
    ) -> Result<Option<RenewalDecision>>;
}

/// Payments, as the settler and the balance read them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentRepository: Send + Sync {
    /// Up to `limit` open payments (pending or owed) kept by a charge service whose next
    /// attempt is due at `now`, in the regions not `paused`, the longest due first
    /// (earliest next attempt, then the earliest recorded).
    /// Errors: `Unavailable`, `Internal`.
    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        paused: Vec<Region>,
    ) -> Result<Vec<Payment>>;

    /// One payment. Errors: `Unavailable`, `Internal`.
    async fn find(&self, id: &PaymentId) -> Result<Option<Payment>>;

    /// The project's payments that are owed or disputed (arrears the charge services hold
    /// against it, and what an operator must look at). Errors: `Unavailable`, `Internal`.
    async fn unsettled(&self, project: &ProjectId) -> Result<Vec<Payment>>;

    /// Records an attempt that did not settle the payment (its state unchanged or owed),
    /// guarded by `update.expected` and the attempts the caller read. Returns whether it
    /// did (false: another settler moved it). Errors: `Unavailable`, `Internal`.
    async fn attempted(&self, update: PaymentUpdate, attempts_before: u32) -> Result<bool>;
}

/// Which notifications a list returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationFilter {
    /// Whose notifications.
    pub project: ProjectId,
    /// Only this order's; `None` for every order.
    pub order: Option<OrderId>,
}

/// The notifications kept for projects to read (written by changes, with their webhook
/// deliveries).
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

/// A charge service: balances kept outside the store. Pure I/O: every payment is sent
/// under its id ([`PaymentId`]), which the service must take at most once per direction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Charging: Send + Sync {
    /// Takes `payment.amount` from the project's balance. A repeat of a taken payment
    /// succeeds without taking it again, once the service confirms the same amount.
    /// Errors: `PaymentDeclined` (insufficient balance; nothing taken),
    /// `PaymentMismatch` (the service holds another amount under this id),
    /// `DependencyUnavailable` (outcome unknown: send it again),
    /// `Internal` (the service refused the request itself).
    async fn deduct(&self, payment: &Payment) -> Result<()>;

    /// Gives `payment.amount` back; a repeat succeeds without giving it twice.
    /// Errors: `PaymentMismatch`, `DependencyUnavailable`, `Internal`.
    async fn credit(&self, payment: &Payment) -> Result<()>;
}

/// Resource tasks (releases, quota settings), queued by changes and run by the task runner.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TaskQueue: Send + Sync {
    /// Queues one task on its own (a release queued before its resource is created);
    /// returns its id. Errors: `Unavailable`, `Internal`.
    async fn enqueue(&self, task: NewTask) -> Result<u64>;

    /// Up to `limit` tasks not done whose next attempt is due at `now`, oldest first; or,
    /// with `only`, those of these ids (a request runs what it queued).
    /// Errors: `Unavailable`, `Internal`.
    async fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        only: Option<Vec<u64>>,
    ) -> Result<Vec<QueuedTask>>;

    /// Claims a due task for one run: counts the attempt and pushes its next attempt to
    /// `retry_at`, only if it still has `attempts` runs and is not done; returns whether it
    /// did. A claimed task can no longer be cancelled. Errors: `Unavailable`, `Internal`.
    async fn claim(&self, id: u64, attempts: u32, retry_at: DateTime<Utc>) -> Result<bool>;

    /// Marks the task done. Errors: `Unavailable`, `Internal`.
    async fn done(&self, id: u64, at: DateTime<Utc>) -> Result<()>;

    /// Records why the claimed run failed (it runs again at its `retry_at`).
    /// Errors: `Unavailable`, `Internal`.
    async fn failed(&self, id: u64, error: String) -> Result<()>;

    /// Makes a task not yet run due at `at` (a release queued as a safety net, needed now).
    /// Errors: `Unavailable`, `Internal`.
    async fn due_at(&self, id: u64, at: DateTime<Utc>) -> Result<()>;

    /// Cancels a task that has not run; returns whether it did.
    /// Errors: `Unavailable`, `Internal`.
    async fn cancel(&self, id: u64) -> Result<bool>;
}

/// Creates and releases the platform resources orders provide (see
/// [`crate::provisioning::ResourceKind`]). The adapter reads what it needs (sizes, service
/// names) from the resource's plan itself.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Provisioning: Send + Sync {
    /// Creates the resource (sets the quota to what its plan provides). Idempotent for the
    /// same order. Errors: `DuplicateResourceName` (the platform already has another
    /// resource of that name), `ProvisioningFailed` (refused), `DependencyUnavailable`
    /// (outcome unknown), `Internal`.
    async fn provision(&self, resource: &Resource) -> Result<()>;

    /// Releases the resource (resets the quota). Releasing what is already gone succeeds.
    /// Errors: `ProvisioningFailed`, `DependencyUnavailable`, `Internal`.
    async fn release(&self, resource: &Resource) -> Result<()>;

    /// Whether the resource is a record in the store the changes are written to (the
    /// embedded provisioning), not a platform's: the change that opens its order then
    /// creates it in its own transaction (see
    /// [`crate::change::ChangeBuilder::create_resource`]), so nothing is created ahead of
    /// the order nor left behind when the order is not written.
    fn kept_in_store(&self, resource: &Resource) -> bool;
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

    /// Every row of these orders (a page of consumption records), each order's in
    /// sequence order; a store reads them at once where it can.
    /// Errors: `Unavailable`, `Internal`.
    async fn for_orders(&self, orders: &[OrderId]) -> Result<Vec<Consumption>> {
        let mut rows = Vec::new();
        for order in orders {
            rows.extend(self.for_order(order).await?);
        }
        Ok(rows)
    }
}

/// The local ledger of balances and recharges.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LedgerRepository: Send + Sync {
    /// The project's balance (negative: arrears); zero (with no update time) for a project
    /// never funded. Errors: `Unavailable`, `Internal`.
    async fn balance(&self, project: &ProjectId) -> Result<Balance>;

    /// In one transaction: record the recharge and credit the balance (arrears first), and
    /// record `key` with the result `recharge:{id}`. Returns both.
    /// Errors: `InvalidParameter` (the balance would overflow), `DuplicateRequest`,
    /// `Unavailable`, `Internal`.
    async fn recharge(
        &self,
        recharge: NewRecharge,
        key: Option<Idempotency>,
    ) -> Result<(Recharge, Balance)>;

    /// One recharge of the project. Errors: `Unavailable`, `Internal`.
    async fn find_recharge(&self, project: &ProjectId, id: i64) -> Result<Option<Recharge>>;

    /// A page of the recharges the filter passes, newest first. The total is exact without
    /// a time range, else counted up to [`crate::page::COUNT_CAP`].
    /// Errors: `Unavailable`, `Internal`.
    async fn list_recharges(
        &self,
        filter: &RechargeFilter,
        page: PageRequest,
    ) -> Result<Page<Recharge>>;

    /// Records `recharge` only if the project has no ledger entry yet; returns whether it
    /// did. Used to fund demo projects from configuration without funding them twice.
    /// Errors: `Unavailable`, `Internal`.
    async fn open_account(&self, recharge: NewRecharge) -> Result<bool>;
}

/// What the store remembers of requests made under idempotency keys.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The request recorded under the project's key, if any.
    /// Errors: `Unavailable`, `Internal`.
    async fn find(&self, project: &ProjectId, key: &IdempotencyKey) -> Result<Option<Remembered>>;

    /// Keeps the answer given to the keyed request (best effort: a lost answer is rebuilt
    /// from the request's result). Errors: `Unavailable`, `Internal`.
    async fn answer(
        &self,
        project: &ProjectId,
        key: &IdempotencyKey,
        status: u16,
        body: String,
    ) -> Result<()>;

    /// Forgets keys recorded before `before`; returns how many.
    /// Errors: `Unavailable`, `Internal`.
    async fn forget(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// Everything `serviceusage reconcile` checks, read from the store.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BooksRepository: Send + Sync {
    /// Projects with a balance, an order or a recharge, in id order, after `after`, at
    /// most `limit`. Errors: `Unavailable`, `Internal`.
    async fn projects(&self, after: Option<ProjectId>, limit: u32) -> Result<Vec<ProjectId>>;

    /// One project's books, read in one snapshot. Errors: `Unavailable`, `Internal`.
    async fn books(&self, project: &ProjectId) -> Result<ProjectBooks>;
}

/// Whether the store answers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// Errors: `Unavailable` when the store does not answer.
    async fn ping(&self) -> Result<()>;

    /// Whether the store's schema has every change this build expects (another process
    /// may still be applying them). Errors: `Unavailable` when the store does not answer.
    async fn schema_current(&self) -> Result<bool>;
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

    /// The main account `project` is a sub-account of, as far as the principal may learn
    /// it (see [`crate::account`]); `None` for a main account, or where the identity keeps
    /// no relation (the default). Errors: `Unavailable`.
    async fn main_account(
        &self,
        _principal: &Principal,
        _project: &ProjectId,
    ) -> Result<Option<ProjectId>> {
        Ok(None)
    }

    /// The sub-accounts of `project`, a main account, as far as the principal may learn
    /// them; empty for none, or where the identity keeps no relation (the default).
    /// Errors: `Unavailable`.
    async fn sub_accounts(
        &self,
        _principal: &Principal,
        _project: &ProjectId,
    ) -> Result<Vec<ProjectId>> {
        Ok(Vec::new())
    }
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
