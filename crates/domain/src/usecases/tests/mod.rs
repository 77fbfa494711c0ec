//! Use cases against mocked ports. A mock without an expectation panics when called, so a
//! test that sets none for a port also proves the use case never touched it; `never()` is
//! spelled out where that is the point of the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authenticate;
mod balances;
mod cancel_order;
mod cancel_remote;
mod create_order;
mod create_remote;
mod deliver_credits;
mod get_order;
mod list_orders;
mod list_plans;
mod list_usages;
mod release;
mod renew;
mod renew_charged;
mod switch_order;
mod switch_remote;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{BillingPolicy, Ports, UseCases};
use crate::consumption::{Consumption, ConsumptionKind};
use crate::cycle::Cycle;
use crate::error::{Error, Result};
use crate::ids::{OrderId, PlanId, PlanType, ProjectId, Quantity, Region, UserName};
use crate::money::Money;
use crate::notification::{Notification, NotificationKind};
use crate::order::{Order, OrderStatus};
use crate::payment::{MoneyKeeper, Payment, PaymentDirection};
use crate::plan::{ChargingMode, Plan};
use crate::ports::{
    MockCharging, MockClock, MockConsumptionRepository, MockCreditQueue, MockIdGenerator,
    MockIdentity, MockLedgerRepository, MockNotificationRepository, MockNotifier,
    MockOrderRepository, MockPlanCatalog, MockProvisioning, MockReleaseQueue,
    MockRenewalRepository,
};
use crate::principal::Principal;

/// One mock per port; tests set expectations, then build the use cases.
#[derive(Default)]
pub(super) struct Mocks {
    pub orders: MockOrderRepository,
    pub usages: MockConsumptionRepository,
    pub ledger: MockLedgerRepository,
    pub renewals: MockRenewalRepository,
    pub notifier: MockNotifier,
    pub notifications: MockNotificationRepository,
    pub plans: MockPlanCatalog,
    pub identity: MockIdentity,
    /// `None`: the store keeps every region's money, so no payment leaves it.
    pub charging: Option<MockCharging>,
    /// `None`: no credit is ever due.
    pub credits: Option<MockCreditQueue>,
    /// `None`: every resource is created and released without trouble.
    pub provisioning: Option<MockProvisioning>,
    /// `None`: a failed release is queued without trouble, and nothing is due for retry.
    pub releases: Option<MockReleaseQueue>,
    pub clock: MockClock,
    pub ids: MockIdGenerator,
}

impl Mocks {
    /// Callers are members of [`project`] and of no other project.
    pub fn new() -> Self {
        let mut mocks = Self::default();
        mocks
            .identity
            .expect_is_member()
            .returning(|_, asked| Ok(*asked == project()));
        mocks
    }

    /// The clock reads `now`.
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.clock.expect_now().return_const(now);
        self
    }

    /// The order repository holds `order` (and only it).
    pub fn holding(mut self, order: Order) -> Self {
        self.orders
            .expect_find()
            .returning(move |id| Ok((*id == order.id).then(|| order.clone())));
        self
    }

    /// The catalog serves these plans; others are unknown.
    pub fn serving_plans(mut self, plans: Vec<Plan>) -> Self {
        self.plans
            .expect_get()
            .returning(move |id| Ok(plans.iter().find(|p| p.id == *id).cloned()));
        self
    }

    /// The notifier accepts every event, appending them to `sent`.
    pub fn notifying_into(mut self, sent: &Sent) -> Self {
        let sent = Arc::clone(sent);
        self.notifier.expect_notify().returning(move |events| {
            sent.lock().unwrap().extend(events);
            Ok(())
        });
        self
    }

    /// The notifier accepts every event.
    pub fn notifying(self) -> Self {
        self.notifying_into(&Sent::default())
    }

    /// A charge service keeps [`region`]'s money (other regions stay the store's).
    /// Deductions are answered by `deduct`, credits by `credit`; each is journaled in
    /// `calls` as "deduct {reason} {amount}" or "credit {reason} {amount}".
    pub fn charged_remotely(
        mut self,
        calls: &Calls,
        mut deduct: impl FnMut(&Payment) -> Result<()> + Send + 'static,
        mut credit: impl FnMut(&Payment) -> Result<()> + Send + 'static,
    ) -> Self {
        let mut charging = MockCharging::new();
        charging.expect_keeper().returning(|asked| {
            if *asked == region() {
                MoneyKeeper::ChargeService
            } else {
                MoneyKeeper::Store
            }
        });
        charging
            .expect_charged_regions()
            .returning(|| vec![region()]);
        let journal = Arc::clone(calls);
        charging.expect_deduct().returning(move |payment| {
            assert_eq!(payment.direction, PaymentDirection::Deduction);
            note(
                &journal,
                format!("deduct {} {}", payment.reason, payment.amount),
            );
            deduct(payment)
        });
        let journal = Arc::clone(calls);
        charging.expect_credit().returning(move |payment| {
            assert_eq!(payment.direction, PaymentDirection::Credit);
            note(
                &journal,
                format!("credit {} {}", payment.reason, payment.amount),
            );
            credit(payment)
        });
        self.charging = Some(charging);
        self
    }

    /// Provisioning answers with `provision` and `release`, journaled in `calls` as
    /// "provision {order}" and "release {order}".
    pub fn provisioning_into(
        mut self,
        calls: &Calls,
        mut provision: impl FnMut(&Order) -> Result<()> + Send + 'static,
        mut release: impl FnMut(&Order) -> Result<()> + Send + 'static,
    ) -> Self {
        let mut provisioning = MockProvisioning::new();
        let journal = Arc::clone(calls);
        provisioning.expect_provision().returning(move |order| {
            note(&journal, format!("provision {}", order.id));
            provision(order)
        });
        let journal = Arc::clone(calls);
        provisioning.expect_release().returning(move |order| {
            note(&journal, format!("release {}", order.id));
            release(order)
        });
        self.provisioning = Some(provisioning);
        self
    }

    /// Failed releases are queued, journaled in `calls` as "enqueue {order} {at}".
    pub fn queueing_releases_into(mut self, calls: &Calls) -> Self {
        let mut releases = MockReleaseQueue::new();
        let journal = Arc::clone(calls);
        releases.expect_enqueue().returning(move |order, at| {
            note(
                &journal,
                format!("enqueue {} {}", order.id, at.to_rfc3339()),
            );
            Ok(())
        });
        self.releases = Some(releases);
        self
    }

    /// The credit queue is asked for due credits exactly `times` times (nothing is due).
    pub fn delivering(mut self, times: usize) -> Self {
        let mut credits = MockCreditQueue::new();
        credits
            .expect_due()
            .times(times)
            .returning(|_, _| Ok(Vec::new()));
        self.credits = Some(credits);
        self
    }

    pub fn build(self) -> UseCases {
        self.build_with(BillingPolicy::default())
    }

    pub fn build_with(self, policy: BillingPolicy) -> UseCases {
        UseCases::new(
            Ports {
                orders: Arc::new(self.orders),
                usages: Arc::new(self.usages),
                ledger: Arc::new(self.ledger),
                renewals: Arc::new(self.renewals),
                notifier: Arc::new(self.notifier),
                notifications: Arc::new(self.notifications),
                plans: Arc::new(self.plans),
                identity: Arc::new(self.identity),
                charging: Arc::new(self.charging.unwrap_or_else(store_kept)),
                credits: Arc::new(self.credits.unwrap_or_else(nothing_due)),
                provisioning: Arc::new(self.provisioning.unwrap_or_else(provisioning_works)),
                releases: Arc::new(self.releases.unwrap_or_else(releases_queued)),
                clock: Arc::new(self.clock),
                ids: Arc::new(self.ids),
            },
            policy,
        )
    }
}

/// The store keeps every region's money: no region is the charge service's, and no payment
/// may be sent.
fn store_kept() -> MockCharging {
    let mut charging = MockCharging::new();
    charging.expect_keeper().return_const(MoneyKeeper::Store);
    charging.expect_charged_regions().return_const(Vec::new());
    charging.expect_deduct().never();
    charging.expect_credit().never();
    charging
}

/// A credit queue with nothing due.
fn nothing_due() -> MockCreditQueue {
    let mut credits = MockCreditQueue::new();
    credits.expect_due().returning(|_, _| Ok(Vec::new()));
    credits
}

/// A release queue that takes every failed release and has nothing due.
fn releases_queued() -> MockReleaseQueue {
    let mut releases = MockReleaseQueue::new();
    releases.expect_enqueue().returning(|_, _| Ok(()));
    releases.expect_pending().returning(|_, _| Ok(Vec::new()));
    releases
}

/// Provisioning that succeeds at everything.
fn provisioning_works() -> MockProvisioning {
    let mut provisioning = MockProvisioning::new();
    provisioning.expect_provision().returning(|_| Ok(()));
    provisioning.expect_release().returning(|_| Ok(()));
    provisioning
}

/// The outward calls of a test in order, as text: payments, provisioning, and the store
/// writes a test chooses to journal.
pub(super) type Calls = Arc<Mutex<Vec<String>>>;

/// Writes `line` in the journal: the fakes' one way of saying what they were asked.
pub(super) fn note(journal: &Calls, line: String) {
    journal.lock().unwrap().push(line);
}

pub(super) fn calls(journal: &Calls) -> Vec<String> {
    journal.lock().unwrap().clone()
}

/// A charge service or platform that does what it is asked.
pub(super) fn works<T>(_: &T) -> Result<()> {
    Ok(())
}

/// A charge service declining for want of balance (its code 1309).
pub(super) fn declines(_: &Payment) -> Result<()> {
    Err(Error::PaymentDeclined("code 1309".into()))
}

/// A platform service that times out.
pub(super) fn times_out<T>(_: &T) -> Result<()> {
    Err(Error::DependencyUnavailable("timed out".into()))
}

/// A charge service that refuses the request itself.
pub(super) fn refuses<T>(_: &T) -> Result<()> {
    Err(Error::Internal("400 bad request".into()))
}

/// Every event handed to the notifier, in order.
pub(super) type Sent = Arc<Mutex<Vec<Notification>>>;

/// The kinds and orders of the events sent.
pub(super) fn sent_events(sent: &Sent) -> Vec<(NotificationKind, String)> {
    sent.lock()
        .unwrap()
        .iter()
        .map(|e| (e.kind, e.order_id.to_string()))
        .collect()
}

/// Holds what a mock was called with, for assertions after the call.
pub(super) struct Captured<T>(Arc<Mutex<Option<T>>>);

impl<T> Default for Captured<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Captured<T> {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(None)))
    }

    /// A handle to move into a mock's `returning` closure.
    pub fn handle(&self) -> Self {
        Self(Arc::clone(&self.0))
    }

    pub fn put(&self, value: T) {
        *self.0.lock().unwrap() = Some(value);
    }

    pub fn take(&self) -> T {
        self.0
            .lock()
            .unwrap()
            .take()
            .expect("the mock was not called")
    }
}

pub(super) fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn money(text: &str) -> Money {
    text.parse().unwrap()
}

/// The project the callers of these tests belong to.
pub(super) fn project() -> ProjectId {
    ProjectId::parse("demo").unwrap()
}

/// A project no caller belongs to.
pub(super) fn other_project() -> ProjectId {
    ProjectId::parse("other").unwrap()
}

pub(super) fn region() -> Region {
    Region::parse("cn-north-1").unwrap()
}

/// A member of [`project`].
pub(super) fn member() -> Principal {
    Principal {
        user: UserName::parse("alice").unwrap(),
        admin: false,
        credential: None,
    }
}

pub(super) fn admin() -> Principal {
    Principal {
        user: UserName::parse("root").unwrap(),
        admin: true,
        credential: None,
    }
}

/// A prepaid monthly plan at 99.00 that takes no resource name.
pub(super) fn prepaid_plan() -> Plan {
    Plan {
        id: PlanId::parse("quota-2c4g").unwrap(),
        plan_type: PlanType::parse("resources").unwrap(),
        region: region(),
        mode: ChargingMode::Prepaid,
        price: money("99"),
        cycle: Cycle::Month,
        requires_resource_name: false,
        description: "2 CPU cores / 4 GB RAM".into(),
    }
}

pub(super) fn order_id() -> OrderId {
    OrderId::parse("order-1").unwrap()
}

/// A consuming order of [`project`], paid for January 2017 with one row.
pub(super) fn consuming_order() -> Order {
    let plan = prepaid_plan();
    Order {
        id: order_id(),
        project: project(),
        region: plan.region,
        plan_id: plan.id,
        plan_type: plan.plan_type,
        mode: plan.mode,
        quantities: Quantity::ONE,
        start_time: utc("2017-01-01T00:00:00Z"),
        end_time: None,
        deadline_time: utc("2017-02-01T00:00:00Z"),
        status: OrderStatus::Consuming,
        creator: member().user,
        resource_name: None,
        last_consume_id: 1,
        renew_retries: 0,
        last_warned_at: None,
    }
}

/// A consumption row of [`consuming_order`].
pub(super) fn charge_row(
    consume_id: u32,
    amount: &str,
    from: &str,
    until: &str,
    kind: ConsumptionKind,
) -> Consumption {
    let order = consuming_order();
    Consumption {
        order_id: order.id,
        consume_id,
        project: order.project,
        region: order.region,
        plan_id: order.plan_id,
        amount: money(amount),
        time: utc(from),
        covered_until: utc(until),
        kind,
    }
}

/// Noon on Jan 11 2017: 10.5 days into the 31-day period January, 20.5 days unused.
pub(super) const NOON_JAN_11: &str = "2017-01-11T12:00:00Z";
/// What [`january_row`] gives back at [`NOON_JAN_11`]: 100.00 × 20.5 / 31 = 66.12903…,
/// rounded up.
pub(super) const JANUARY_REFUND: i64 = 661_291;
/// The moment the create tests order at.
pub(super) const JAN_31: &str = "2017-01-31T10:00:00Z";

/// Row 1 of [`consuming_order`]: January 2017 paid 100.00.
pub(super) fn january_row() -> Consumption {
    charge_row(
        1,
        "100",
        "2017-01-01T00:00:00Z",
        "2017-02-01T00:00:00Z",
        ConsumptionKind::New,
    )
}

/// The id the switch tests' replacing order gets.
pub(super) fn new_id() -> OrderId {
    OrderId::parse("order-2").unwrap()
}

/// The member's cancel of [`order_id`].
pub(super) fn cancel_request() -> crate::usecases::CancelOrderRequest {
    crate::usecases::CancelOrderRequest {
        project: project(),
        order_id: order_id(),
    }
}

/// The member's switch of [`order_id`] to one of `plan`.
pub(super) fn switch_request(plan: &Plan) -> crate::usecases::CreateOrderRequest {
    crate::usecases::CreateOrderRequest {
        project: project(),
        plan_id: plan.id.clone(),
        quantities: Quantity::ONE,
        region: None,
        resource_name: None,
        replaces: Some(order_id()),
        dry_run: false,
    }
}

/// The payment reason of [`order_id`]'s row `consume_id`.
pub(super) fn reason(consume_id: u32) -> crate::payment::PaymentReason {
    crate::payment::PaymentReason {
        order: order_id(),
        consume_id,
    }
}

/// What a renewal run heard through its progress callback: queue, batch number, tally.
pub(super) type Heard = Vec<(
    crate::renewal::RenewalQueue,
    u64,
    crate::usecases::RenewalTally,
)>;

/// A renewal run at `now` with batches of `batch_size`; returns the report and each
/// progress call, for the renewal tests of both money keepers.
pub(super) async fn renew_due_at(
    mocks: Mocks,
    now: &str,
    batch_size: u32,
) -> Result<(crate::usecases::RenewalReport, Heard)> {
    let policy = BillingPolicy {
        renewal: crate::renewal::RenewalSettings {
            batch_size,
            ..crate::renewal::RenewalSettings::default()
        },
        ..BillingPolicy::default()
    };
    let use_cases = mocks.at(utc(now)).build_with(policy);
    let mut heard = Vec::new();
    let report = use_cases
        .renew_due(
            &mut |queue, number, tally: &crate::usecases::RenewalTally| {
                heard.push((queue, number, *tally))
            },
        )
        .await?;
    Ok((report, heard))
}

/// A prepaid volume plan at 99.00 a month: it takes a resource name.
pub(super) fn volume_plan() -> Plan {
    Plan {
        id: PlanId::parse("volume-10g").unwrap(),
        plan_type: PlanType::parse("volume").unwrap(),
        requires_resource_name: true,
        ..prepaid_plan()
    }
}

/// The member's new order of one `plan`, named `data-1` when the plan takes a name.
pub(super) fn create_request(plan: &Plan) -> crate::usecases::CreateOrderRequest {
    crate::usecases::CreateOrderRequest {
        project: project(),
        plan_id: plan.id.clone(),
        quantities: Quantity::ONE,
        region: None,
        resource_name: plan
            .requires_resource_name
            .then(|| crate::ids::ResourceName::parse("data-1").unwrap()),
        replaces: None,
        dry_run: false,
    }
}
